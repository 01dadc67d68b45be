//! What a client sees when herald stops or restarts on one of three hosts
//! that share a VIP behind a real router (BIRD 2 in network namespaces):
//! 48 TCP connections from a client network through the router's ECMP
//! route ([`support::flows`]), and the router's kernel route sampled every
//! 10 ms ([`support::route_watch`]).
//!
//! A Linux router spreads flows over next hops by hash-threshold: when the
//! set of next hops changes, the ranges of the hash that map to each host
//! move, and some connections to hosts that stayed land on another host,
//! which answers with a reset. So a stop, which must withdraw, breaks the
//! stopped host's connections and some of the others'; herald's own
//! restarts (graceful restart, RFC 4724) must not change the set at all.
//!
//! Every test prints its figures (`-- --nocapture`). Needs root, iproute2,
//! BIRD 2 and python3; skipped without them, except under CI.

mod support;

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use support::bird::RouterSpec;
use support::flows::{FlowSpec, Flows};
use support::herald::HeraldSpec;
use support::route_watch::RouteWatch;
use support::specs::{self, Fleet};

const VIP: &str = "192.0.2.10/32";
const VIP_ADDR: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);
/// The longest any route watch here runs.
const WATCH_MAX: Duration = Duration::from_secs(180);

/// Three hosts behind BIRD, herald on each with `herald_keys` in
/// `[global]`, BIRD adjusted by `router`.
fn fleet(test: &str, router: impl FnOnce(&mut RouterSpec), herald_keys: &str) -> Option<Fleet> {
    if !support::lab_available_with(test, &["python3"]) {
        return None;
    }
    Some(Fleet::start(3, VIP, router, |_| HeraldSpec {
        global_keys: herald_keys.to_string(),
        ..specs::herald(&[VIP])
    }))
}

fn gr_on(spec: &mut RouterSpec) {
    spec.graceful_restart = true;
}

fn ms(d: Duration) -> u128 {
    d.as_millis()
}

fn set(hops: &[IpAddr]) -> BTreeSet<IpAddr> {
    hops.iter().copied().collect()
}

/// Panics unless every host of the fleet serves at least one connection.
fn assert_spread(f: &Fleet, flows: &Flows) {
    for host in &f.lan.hosts {
        let name = format!("h{}", host.index);
        assert!(
            flows.per_host().get(&name).copied().unwrap_or(0) >= 1,
            "no connection landed on {name}: {:?}",
            flows.per_host()
        );
    }
    assert!(
        !flows.per_host().contains_key("(none)"),
        "some connections could not be opened: {:?}",
        flows.per_host()
    );
}

#[test]
fn flows_spread_over_every_host_and_none_breaks_while_nothing_changes() {
    let Some(mut f) = fleet("interop_restart", |_| {}, "") else {
        return;
    };
    let watch = RouteWatch::start(&f.lan.router, VIP, WATCH_MAX);
    let flows = Flows::start(&mut f.lab, &f.lan, &FlowSpec::new(VIP_ADDR));
    assert_spread(&f, &flows);
    std::thread::sleep(Duration::from_secs(3));
    let report = flows.finish(&mut f.lab);
    let history = watch.stop();
    eprintln!(
        "steady state: {} connections over {:.1} s, per host {:?}; breaks: {}; \
         fewest echoes on a connection: {}; route samples: {}, changes: {}",
        report.conns.len(),
        report.duration.as_secs_f64(),
        report.per_host,
        report.resets.len(),
        report.min_echoes_unbroken(),
        history.samples,
        history.changes.len() - 1,
    );
    assert!(
        report.resets.is_empty(),
        "connections broke while nothing changed: {:?}\n{}",
        report.resets,
        f.lab.log_tails(20)
    );
    // A line every 50 ms for 3 s: 60 round trips; allow for a slow machine.
    assert!(
        report.min_echoes_unbroken() >= 10,
        "a connection carried too little traffic to count: {:?}",
        report.conns
    );
    assert_eq!(
        history.sets(),
        vec![&set(&f.hops(&[]))],
        "the route changed:\n{}",
        history.describe()
    );
}

#[test]
fn a_stopped_herald_withdraws_at_once_and_the_connections_it_served_break() {
    // Graceful restart is on at the router: a stop must withdraw even so.
    let Some(mut f) = fleet("interop_restart", gr_on, "") else {
        return;
    };
    let h1 = f.addr(0);
    let watch = RouteWatch::start(&f.lan.router, VIP, WATCH_MAX);
    let flows = Flows::start(&mut f.lab, &f.lan, &FlowSpec::new(VIP_ADDR));
    assert_spread(&f, &flows);
    std::thread::sleep(Duration::from_secs(1));

    let stop_t = flows.now();
    let stopped = Instant::now();
    assert!(
        f.lab.terminate(f.heralds[0]),
        "herald on h1 did not exit within 5 s of SIGTERM\n{}",
        f.lab.log_tails(30)
    );
    let exited = stopped.elapsed();
    let rest = f.hops(&[0]);
    f.wait_hops(&rest, Duration::from_secs(10));
    // Let every connection send a few more lines over the new route.
    std::thread::sleep(Duration::from_secs(2));
    let report = flows.finish(&mut f.lab);
    let history = watch.stop();

    let left = history
        .left_after(h1, stopped)
        .unwrap_or_else(|| panic!("h1 never left the route:\n{}", history.describe()));
    let others_served: usize = report
        .per_host
        .iter()
        .filter(|(h, _)| *h != "h1")
        .map(|(_, n)| n)
        .sum();
    let others_broken = report.resets.iter().filter(|b| b.host != "h1").count();
    let last_break = report.resets.iter().map(|b| b.t).max().unwrap_or_default();
    eprintln!(
        "stop of h1's herald: it exited after {} ms; h1's next hop left the router's \
         kernel route {} ms after SIGTERM; connections: {}\
         h1's broken: {} of {}; other hosts' broken by the rehash: {others_broken} of \
         {others_served}; last break {} ms after SIGTERM",
        ms(exited),
        ms(left),
        report.summary(),
        report.broken_on("h1").len(),
        report.served_by("h1"),
        ms(last_break.saturating_sub(stop_t)),
    );

    assert!(
        left < Duration::from_secs(1),
        "h1's next hop stayed {left:?} after SIGTERM:\n{}",
        history.describe()
    );
    assert_eq!(
        history.back_after(h1, stopped + left),
        None,
        "h1's next hop came back:\n{}",
        history.describe()
    );
    for &other in &rest {
        assert_eq!(
            history.absence(other).count,
            0,
            "{other} left the route too:\n{}",
            history.describe()
        );
    }
    assert!(
        report.broken_before(stop_t).is_empty(),
        "connections broke before the stop: {:?}",
        report.broken_before(stop_t)
    );
    // Every connection h1 served broke, with a reset: its packets now go to
    // a host that does not know the connection.
    let h1_broken = report.broken_on("h1");
    assert_eq!(
        h1_broken.len(),
        report.served_by("h1"),
        "h1's connections that did not break: {:?}",
        report
            .conns
            .iter()
            .filter(|c| c.host == "h1" && c.broken.is_none())
            .collect::<Vec<_>>()
    );
    assert!(
        h1_broken.iter().all(|b| b.kind == "reset"),
        "h1's connections broke otherwise than by a reset: {h1_broken:?}"
    );
    // Nothing breaks later: the route changed once.
    assert!(
        last_break < stop_t + left + Duration::from_secs(1),
        "a connection broke more than 1 s after the route changed: {:?}",
        report.resets
    );
}
