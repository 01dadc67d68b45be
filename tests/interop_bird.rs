//! herald against BIRD 2 in network namespaces: every host announcing a
//! VIP becomes one ECMP next hop in the router's kernel table, and a host
//! whose herald stops drops out.
//!
//! Topology and configs: `tests/support` (the same lab as
//! `examples/lab/lab.sh`). Needs root, iproute2 and BIRD 2; skipped without
//! them, except under CI (`CI` set), where that is a failure.

mod support;

use std::net::IpAddr;

use support::bird::{self, Bird};
use support::herald::{self, HeraldSpec, Peer};
use support::netlab::{wait_next_hops, Lab};
use support::specs::{self, HOST_AS, ROUTER_AS};
use support::topology::{self, StarLan, ROUTER_V4, ROUTER_V6};
use support::wait::SETTLE;

const VIP4: &str = "192.0.2.10/32";
const VIP6: &str = "2001:db8:10::/128";

/// Host N's own VIP.
fn host_vip(index: u8) -> String {
    format!("192.0.2.2{index}/32")
}

fn herald_spec(index: u8) -> HeraldSpec {
    HeraldSpec {
        asn: HOST_AS,
        peers: vec![
            Peer {
                name: "r1-v4".into(),
                address: ROUTER_V4.into(),
                asn: ROUTER_AS,
            },
            Peer {
                name: "r1-v6".into(),
                address: ROUTER_V6.into(),
                asn: ROUTER_AS,
            },
        ],
        vips: vec![VIP4.into(), VIP6.into(), host_vip(index)],
        ..HeraldSpec::default()
    }
}

/// Waits until the router's route for `prefix` has exactly the next hops
/// `want` (none: no route at all); panics with the router's and every
/// speaker's state otherwise, at once if a process exited on its own.
fn expect_nexthops(lab: &mut Lab, lan: &StarLan, bird: &Bird, prefix: &str, want: &[IpAddr]) {
    if let Err(why) = wait_next_hops(lab, &lan.router, prefix, want, SETTLE) {
        panic!(
            "{why}\n\n=== birdc show protocols all\n{}\n=== logs\n{}",
            bird.protocols_all(),
            lab.log_tails(30)
        );
    }
}

#[test]
fn bird_installs_one_next_hop_per_host_and_drops_a_stopped_host() {
    if !support::lab_available("interop_bird") {
        return;
    }
    let mut lab = Lab::new();
    let lan = topology::star(&mut lab, 3);
    for host in &lan.hosts {
        host.add_vip(VIP4);
        host.add_vip(VIP6);
        host.add_vip(&host_vip(host.index));
    }
    let bird = bird::start(
        &mut lab,
        &lan.router,
        "bird",
        &bird::ecmp_router_config(&specs::router(&lan, true)),
    );
    let heralds: Vec<_> = lan
        .hosts
        .iter()
        .map(|h| {
            let name = format!("herald-h{}", h.index);
            herald::spawn(&mut lab, &h.ns, &name, &herald_spec(h.index))
        })
        .collect();

    let all_v4: Vec<IpAddr> = lan.hosts.iter().map(|h| h.v4.into()).collect();
    let all_v6: Vec<IpAddr> = lan.hosts.iter().map(|h| h.v6.into()).collect();
    expect_nexthops(&mut lab, &lan, &bird, VIP4, &all_v4);
    expect_nexthops(&mut lab, &lan, &bird, VIP6, &all_v6);
    for h in &lan.hosts {
        expect_nexthops(&mut lab, &lan, &bird, &host_vip(h.index), &[h.v4.into()]);
    }

    // SIGTERM: host 3's herald withdraws its routes and closes its sessions.
    let h3 = &lan.hosts[2];
    assert!(
        lab.terminate(heralds[2]),
        "herald on h3 did not exit within 5 s of SIGTERM\n{}",
        lab.log_tail(heralds[2], 30)
    );
    expect_nexthops(&mut lab, &lan, &bird, VIP4, &all_v4[..2]);
    expect_nexthops(&mut lab, &lan, &bird, VIP6, &all_v6[..2]);
    expect_nexthops(&mut lab, &lan, &bird, &host_vip(h3.index), &[]);
    for h in &lan.hosts[..2] {
        expect_nexthops(&mut lab, &lan, &bird, &host_vip(h.index), &[h.v4.into()]);
    }
}
