//! The lab's usual cast: the router in AS 65000 and hosts in AS 65001, as
//! BIRD and herald configurations, and [`Fleet`]: that router running BIRD
//! and N hosts running herald, all sharing one VIP.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::bird::{self, Bird, Neighbor, RouterSpec};
use super::flows::FlowReport;
use super::herald::{self, HeraldSpec, Peer};
use super::netlab::{self, wait_next_hops, Lab, ProcId};
use super::route_watch::RouteHistory;
use super::topology::{self, Host, StarLan, ROUTER_V4, ROUTER_V6};
use super::wait::{wait_until, SETTLE};

/// The router's ASN.
pub const ROUTER_AS: u32 = 65000;
/// Every host's ASN (eBGP to the router).
pub const HOST_AS: u32 = 65001;

/// The router with an IPv4 session to every host of `lan`, and an IPv6
/// one too when `ipv6`; protocols are named `hN_v4` / `hN_v6`.
pub fn router(lan: &StarLan, ipv6: bool) -> RouterSpec {
    let mut neighbors = Vec::new();
    for host in &lan.hosts {
        let mut sessions = vec![("v4", IpAddr::from(host.v4))];
        if ipv6 {
            sessions.push(("v6", IpAddr::from(host.v6)));
        }
        for (family, address) in sessions {
            neighbors.push(Neighbor {
                name: format!("h{}_{family}", host.index),
                address,
                asn: HOST_AS,
            });
        }
    }
    RouterSpec {
        router_id: ROUTER_V4.into(),
        asn: ROUTER_AS,
        local_v4: ROUTER_V4.into(),
        local_v6: ROUTER_V6.into(),
        neighbors,
        graceful_restart: false,
        bfd: None,
        hold_time: None,
    }
}

/// A host's herald with one IPv4 session to the router (`r1`), announcing
/// `vips`; the other fields are for the caller to fill.
pub fn herald(vips: &[&str]) -> HeraldSpec {
    HeraldSpec {
        asn: HOST_AS,
        peers: vec![Peer {
            name: "r1".into(),
            address: ROUTER_V4.into(),
            asn: ROUTER_AS,
        }],
        vips: vips.iter().map(|v| v.to_string()).collect(),
        ..HeraldSpec::default()
    }
}

/// A router running BIRD and hosts running herald, every host with the VIP
/// on its `lo` and one IPv4 session to the router (protocols `hN_v4`).
pub struct Fleet {
    pub lab: Lab,
    pub lan: StarLan,
    pub bird: Bird,
    pub bird_config: String,
    pub vip: String,
    /// herald on each host, in host order.
    pub heralds: Vec<ProcId>,
}

impl Fleet {
    /// Builds the fleet: `router` adjusts the router (e.g. turns graceful
    /// restart on), `herald_spec` gives each host's herald; then waits
    /// until the router's kernel route for `vip` has every host.
    pub fn start(
        hosts: u8,
        vip: &str,
        router: impl FnOnce(&mut RouterSpec),
        herald_spec: impl Fn(&Host) -> HeraldSpec,
    ) -> Fleet {
        Fleet::start_with(hosts, vip, router, |lab, h| {
            herald::spawn(lab, &h.ns, &Fleet::name(h.index), &herald_spec(h))
        })
    }

    /// Like [`Fleet::start`], but `spawn` starts each host's herald itself
    /// (another binary, another control socket) and returns it.
    pub fn start_with(
        hosts: u8,
        vip: &str,
        router: impl FnOnce(&mut RouterSpec),
        mut spawn: impl FnMut(&mut Lab, &Host) -> ProcId,
    ) -> Fleet {
        let mut lab = Lab::new();
        let lan = topology::star(&mut lab, hosts);
        for host in &lan.hosts {
            host.add_vip(vip);
        }
        let mut spec = self::router(&lan, false);
        router(&mut spec);
        let bird_config = bird::ecmp_router_config(&spec);
        let bird = bird::start(&mut lab, &lan.router, "bird", &bird_config);
        let heralds = lan.hosts.iter().map(|h| spawn(&mut lab, h)).collect();
        let mut fleet = Fleet {
            lab,
            lan,
            bird,
            bird_config,
            vip: vip.to_string(),
            heralds,
        };
        let all = fleet.hops(&[]);
        fleet.wait_hops(&all, SETTLE);
        fleet
    }

    /// The name (log, config, socket) of host `index`'s herald (1-based).
    pub fn name(index: u8) -> String {
        format!("herald-h{index}")
    }

    /// The LAN address of host `i` (0-based).
    pub fn addr(&self, i: usize) -> IpAddr {
        self.lan.hosts[i].v4.into()
    }

    /// The LAN addresses of every host except those at `except` (0-based).
    pub fn hops(&self, except: &[usize]) -> Vec<IpAddr> {
        (0..self.lan.hosts.len())
            .filter(|i| !except.contains(i))
            .map(|i| self.addr(i))
            .collect()
    }

    /// Waits until the router's kernel route for the VIP has exactly the
    /// next hops `want` (none: no route); returns how long that took, or
    /// panics with the router's and every process's state, at once if a
    /// process exited on its own.
    pub fn wait_hops(&mut self, want: &[IpAddr], timeout: Duration) -> Duration {
        let start = Instant::now();
        let (router, vip) = (self.lan.router.clone(), self.vip.clone());
        if let Err(why) = wait_next_hops(&mut self.lab, &router, &vip, want, timeout) {
            panic!("{why}\n{}", self.diagnostics());
        }
        start.elapsed()
    }

    /// Cuts host `i` (0-based) off the router, or reconnects it: both ends
    /// send each other's frames to MAC addresses nobody owns; nothing is
    /// closed and no link changes state, as when a host hangs or its cable
    /// is cut behind a switch. (There is no tc classifier, netem or
    /// nftables on every test machine; the neighbour table always exists.)
    pub fn cut_off(&self, i: usize, cut: bool) {
        let host = &self.lan.hosts[i];
        let (host_addr, router_addr) = (host.v4.to_string(), ROUTER_V4.to_string());
        let ends = [
            (
                self.lan.router.as_str(),
                host_addr.as_str(),
                "br0",
                "02:00:00:00:00:01",
            ),
            (
                host.ns.as_str(),
                router_addr.as_str(),
                "eth0",
                "02:00:00:00:00:02",
            ),
        ];
        for (ns, addr, dev, mac) in ends {
            if cut {
                netlab::ip(
                    ns,
                    &[
                        "neigh",
                        "replace",
                        addr,
                        "lladdr",
                        mac,
                        "dev",
                        dev,
                        "nud",
                        "permanent",
                    ],
                );
            } else {
                netlab::ip(ns, &["neigh", "del", addr, "dev", dev]);
            }
        }
    }

    /// BIRD's graceful restarts of `proto` from its log: (begun, ended by
    /// End-of-RIB, timed out).
    pub fn gr_counts(&self, proto: &str) -> (usize, usize, usize) {
        let log = self.bird.log(&self.lab);
        (
            bird::log_count(&log, proto, "Neighbor graceful restart detected"),
            bird::log_count(&log, proto, "Neighbor graceful restart done"),
            bird::log_count(&log, proto, "Neighbor graceful restart timeout"),
        )
    }

    /// Waits until BIRD has seen `done` graceful restarts of `proto` end
    /// with End-of-RIB and the session is Established; returns how long
    /// that took, or panics with the fleet's state.
    pub fn wait_gr_done(&mut self, proto: &str, done: usize) -> Duration {
        let start = Instant::now();
        let result = wait_until(SETTLE, Duration::from_millis(20), || {
            let counts = self.gr_counts(proto);
            let (state, _) = self.bird.session(proto);
            if counts.1 >= done && state == "Established" {
                Ok(())
            } else {
                Err(format!(
                    "{proto}: {state}, graceful restarts (begun, done, timed out) {counts:?}"
                ))
            }
        });
        if let Err(why) = result {
            panic!("{why}\n{}", self.diagnostics());
        }
        start.elapsed()
    }

    /// What a graceful-restart test checks at its end, after printing the
    /// figures: the next hop of `host` (0-based) never left, the route
    /// never changed, no connection broke and each carried traffic, and
    /// BIRD saw `restarts` graceful restarts of `proto`, each ended by
    /// End-of-RIB.
    pub fn assert_hitless(
        &self,
        host: usize,
        proto: &str,
        restarts: usize,
        report: &FlowReport,
        history: &RouteHistory,
    ) {
        let ms = |d: Duration| d.as_millis();
        let absence = history.absence(self.addr(host));
        let counts = self.gr_counts(proto);
        eprintln!(
            "h{}: next hop absent {} times, {} ms in all (longest {} ms); route sets seen: {} \
             ({} samples); connections broken: {} of {} ({:?}); fewest echoes on a \
             connection: {}; BIRD graceful restarts (begun, done, timed out): {counts:?}",
            host + 1,
            absence.count,
            ms(absence.total),
            ms(absence.longest),
            history.sets().len(),
            history.samples,
            report.resets.len(),
            report.conns.len(),
            report.per_host,
            report.min_echoes_unbroken(),
        );
        assert_eq!(
            absence.count,
            0,
            "the next hop left the route:\n{}",
            history.describe()
        );
        let all: std::collections::BTreeSet<IpAddr> = self.hops(&[]).into_iter().collect();
        assert_eq!(
            history.sets(),
            vec![&all],
            "the route changed:\n{}",
            history.describe()
        );
        assert!(
            report.resets.is_empty(),
            "connections broke: {:?}\n{}",
            report.resets,
            report.summary()
        );
        assert!(
            report.min_echoes_unbroken() >= 10,
            "a connection carried too little traffic to count: {:?}",
            report.conns
        );
        assert_eq!(
            counts,
            (restarts, restarts, 0),
            "BIRD's graceful restarts of {proto} (begun, done, timed out)\n{}",
            self.bird.protocol_all(proto)
        );
    }

    /// BIRD's protocols and every process's state and log tail.
    pub fn diagnostics(&mut self) -> String {
        format!(
            "\n=== birdc show protocols all\n{}\n=== logs\n{}",
            self.bird.protocols_all(),
            self.lab.log_tails(30)
        )
    }
}
