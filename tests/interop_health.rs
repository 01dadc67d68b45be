//! Health checks against BIRD 2 in network namespaces: a host whose
//! service fails leaves the router's multipath route within the bound its
//! check timers promise, comes back after `rise` successes, and in degrade
//! mode stays in BIRD's table with the worse MED instead.
//!
//! Each host runs a small TCP service on its own loopback (every
//! namespace has one) and herald checks it with a `tcp` check. Needs root,
//! iproute2, BIRD 2 and python3 (for the service); skipped without them,
//! except under CI.

mod support;

use std::net::IpAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use support::bird::{self, Bird};
use support::herald::{self, HeraldSpec};
use support::netlab::{kernel_route, Lab, ProcId};
use support::specs;
use support::topology::{self, Host, StarLan};
use support::wait::{wait_until, SETTLE};

const VIP: &str = "192.0.2.10/32";
const SERVICE_PORT: u16 = 8080;

/// Check timers of these tests, and the longest time a failing service may
/// take to leave the router: herald's worst case (interval + (fall - 1) x
/// fast-interval + fall x timeout = 0.8 s) plus a margin for BIRD and the
/// kernel.
const CHECK: &str = r#"
[[check]]
name = "svc"
kind = "tcp"
address = "127.0.0.1:8080"
interval = "300ms"
fast-interval = "100ms"
timeout = "200ms"
rise = 2
fall = 2
"#;
const WITHDRAW_BOUND: Duration = Duration::from_millis(800 + 2000);

/// A TCP service that accepts and closes connections, for at most
/// 10 minutes (the lab kills it by PID long before).
const SERVICE: &str = "
import socket, sys, time
s = socket.create_server(('127.0.0.1', int(sys.argv[1])))
s.settimeout(0.5)
end = time.time() + 600
while time.time() < end:
    try:
        s.accept()[0].close()
    except socket.timeout:
        pass
";

fn herald_spec(vip_keys: &str) -> HeraldSpec {
    HeraldSpec {
        vip_keys: format!("checks = [\"svc\"]\n{vip_keys}"),
        extra: CHECK.into(),
        ..specs::herald(&[VIP])
    }
}

fn start_service(lab: &mut Lab, host: &Host, generation: u32) -> ProcId {
    let python = support::program("python3");
    let name = format!("service-h{}-{generation}", host.index);
    let port = SERVICE_PORT.to_string();
    lab.spawn(
        &host.ns,
        &name,
        Path::new(&python),
        &["-c", SERVICE, port.as_str()],
    )
}

/// The lab, BIRD, and on each host a service and herald.
struct Setup {
    lab: Lab,
    lan: StarLan,
    bird: Bird,
    services: Vec<ProcId>,
}

fn setup(vip_keys: &str) -> Option<Setup> {
    if !support::lab_available("interop_health") {
        return None;
    }
    if support::find_program("python3").is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "python3 is needed for the test service"
        );
        eprintln!("skipped: interop_health: python3 not found");
        return None;
    }
    let mut lab = Lab::new();
    let lan = topology::star(&mut lab, 3);
    for host in &lan.hosts {
        host.add_vip(VIP);
    }
    let bird = bird::start(
        &mut lab,
        &lan.router,
        "bird",
        &bird::ecmp_router_config(&specs::router(&lan, false)),
    );
    let services = lan
        .hosts
        .iter()
        .map(|h| start_service(&mut lab, h, 0))
        .collect();
    for h in &lan.hosts {
        herald::spawn(
            &mut lab,
            &h.ns,
            &format!("herald-h{}", h.index),
            &herald_spec(vip_keys),
        );
    }
    Some(Setup {
        lab,
        lan,
        bird,
        services,
    })
}

impl Setup {
    fn hops(&self, hosts: &[usize]) -> Vec<IpAddr> {
        let mut hops: Vec<IpAddr> = hosts.iter().map(|&i| self.lan.hosts[i].v4.into()).collect();
        hops.sort();
        hops
    }

    /// Waits (at most `limit`) for the VIP's kernel route to have exactly
    /// `want`; returns how long it took, or panics with the lab's state.
    fn expect(&mut self, want: &[IpAddr], limit: Duration) -> Duration {
        let start = Instant::now();
        let result = wait_until(limit, Duration::from_millis(20), || {
            match kernel_route(&self.lan.router, VIP) {
                Some(got) if got == want => Ok(()),
                got => Err(format!("{VIP}: next hops {got:?}, want {want:?}")),
            }
        });
        if let Err(why) = result {
            panic!(
                "{why}\n\n=== birdc show route all\n{}\n=== logs\n{}",
                self.bird
                    .birdc(&["show", "route", "all"])
                    .unwrap_or_default(),
                self.lab.log_tails(30)
            );
        }
        start.elapsed()
    }
}

#[test]
fn a_failing_service_leaves_the_multipath_route_in_bounded_time_and_returns() {
    let Some(mut s) = setup("") else {
        return;
    };
    let all = s.hops(&[0, 1, 2]);
    s.expect(&all, SETTLE);

    assert!(s.lab.terminate(s.services[1]), "service on h2 did not stop");
    let without_h2 = s.hops(&[0, 2]);
    let took = s.expect(&without_h2, WITHDRAW_BOUND);
    println!("h2's next hop left the router {took:?} after its service stopped");

    let host = &s.lan.hosts[1];
    s.services[1] = start_service(&mut s.lab, host, 1);
    let took = s.expect(&all, SETTLE);
    println!("h2's next hop was back {took:?} after its service restarted");
}

#[test]
fn degrade_mode_keeps_the_route_with_a_worse_med_instead_of_withdrawing() {
    let Some(mut s) = setup("on-down = \"degrade\"\ndegrade-med = 1000\nmed = 10") else {
        return;
    };
    let all = s.hops(&[0, 1, 2]);
    s.expect(&all, SETTLE);

    assert!(s.lab.terminate(s.services[1]), "service on h2 did not stop");
    // The router prefers the lower MED, so the multipath route loses h2...
    let without_h2 = s.hops(&[0, 2]);
    s.expect(&without_h2, WITHDRAW_BOUND);
    // ...but BIRD still holds h2's path, now with MED 1000: no withdraw.
    let h2 = s.lan.hosts[1].v4.to_string();
    let routes = s
        .bird
        .birdc(&["show", "route", "all", "for", VIP])
        .expect("birdc");
    let h2_path = routes
        .split("unicast")
        .find(|block| block.contains(&format!("via {h2}")))
        .unwrap_or_else(|| panic!("BIRD has no path via h2 for {VIP}:\n{routes}"));
    assert!(
        h2_path.contains("BGP.med: 1000"),
        "h2's path should carry MED 1000:\n{routes}"
    );
}
