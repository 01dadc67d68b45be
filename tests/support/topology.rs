//! The standard lab LAN: a router namespace with bridge `br0` and N host
//! namespaces, each linked to the bridge by a veth pair.
//!
//! ```text
//!              router  198.51.100.1/24  2001:db8:100::1/64  (br0)
//!               |  port h1        |  port h2   ...
//!         host 1 (eth0)     host 2 (eth0)      ...
//!   198.51.100.11/24     198.51.100.12/24
//!   2001:db8:100::11/64  2001:db8:100::12/64
//! ```
//!
//! The router forwards (IPv4 and IPv6) with rp_filter off; each host has a
//! default route through the router. VIPs are added per test with
//! [`Host::add_vip`].
//!
//! [`add_client`] adds a client network for traffic through the router,
//! on its own link:
//!
//! ```text
//!   client (eth0) 203.0.113.2/24 ---- router (c1) 203.0.113.1/24
//! ```

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::netlab::{self, Lab};

/// The router's addresses on the LAN.
pub const ROUTER_V4: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
pub const ROUTER_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x100, 0, 0, 0, 0, 1);
/// The router's and the client's address on the client link.
pub const CLIENT_GW_V4: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 1);
pub const CLIENT_V4: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 2);

pub struct StarLan {
    /// The router's namespace.
    pub router: String,
    pub hosts: Vec<Host>,
}

pub struct Host {
    /// 1-based, as in the names (`h1`) and the addresses (`.11`, `::11`).
    pub index: u8,
    pub ns: String,
    pub v4: Ipv4Addr,
    pub v6: Ipv6Addr,
}

impl Host {
    /// Adds a VIP (`"192.0.2.10/32"`, `"2001:db8:10::/128"`) to the host's
    /// `lo`, so that the host accepts traffic for it.
    pub fn add_vip(&self, prefix: &str) {
        netlab::add_addr(&self.ns, "lo", prefix);
    }

    pub fn addrs(&self) -> [IpAddr; 2] {
        [self.v4.into(), self.v6.into()]
    }
}

/// Builds a router and `hosts` hosts (at most 9) in `lab`.
pub fn star(lab: &mut Lab, hosts: u8) -> StarLan {
    assert!((1..=9).contains(&hosts), "the LAN numbers hosts 1 to 9");
    let router = lab.add_netns("r1");
    netlab::sysctl(
        &router,
        &[
            ("net.ipv4.ip_forward", "1"),
            ("net.ipv6.conf.all.forwarding", "1"),
            ("net.ipv4.conf.all.rp_filter", "0"),
            ("net.ipv4.conf.default.rp_filter", "0"),
        ],
    );
    netlab::add_bridge(&router, "br0");
    netlab::add_addr(&router, "br0", &format!("{ROUTER_V4}/24"));
    netlab::add_addr(&router, "br0", &format!("{ROUTER_V6}/64"));

    let hosts = (1..=hosts)
        .map(|index| {
            let ns = lab.add_netns(&format!("h{index}"));
            let v4 = Ipv4Addr::new(198, 51, 100, 10 + index);
            let v6 = Ipv6Addr::new(0x2001, 0xdb8, 0x100, 0, 0, 0, 0, 0x10 + u16::from(index));
            netlab::add_veth_to_bridge(&router, "br0", &format!("h{index}"), &ns, "eth0");
            netlab::add_addr(&ns, "eth0", &format!("{v4}/24"));
            netlab::add_addr(&ns, "eth0", &format!("{v6}/64"));
            netlab::ip(
                &ns,
                &[
                    "-4",
                    "route",
                    "add",
                    "default",
                    "via",
                    &ROUTER_V4.to_string(),
                ],
            );
            netlab::ip(
                &ns,
                &[
                    "-6",
                    "route",
                    "add",
                    "default",
                    "via",
                    &ROUTER_V6.to_string(),
                ],
            );
            Host { index, ns, v4, v6 }
        })
        .collect();
    StarLan { router, hosts }
}

/// The client of [`add_client`].
pub struct Client {
    pub ns: String,
    pub v4: Ipv4Addr,
}

/// Adds a client namespace linked to `lan`'s router by a veth pair (`c1`
/// at the router, `eth0` at the client), with a default route through the
/// router, which already forwards.
pub fn add_client(lab: &mut Lab, lan: &StarLan) -> Client {
    let ns = lab.add_netns("c1");
    netlab::ip(
        &lan.router,
        &[
            "link", "add", "c1", "type", "veth", "peer", "name", "eth0", "netns", &ns,
        ],
    );
    netlab::ip(&lan.router, &["link", "set", "c1", "up"]);
    netlab::ip(&ns, &["link", "set", "eth0", "up"]);
    netlab::add_addr(&lan.router, "c1", &format!("{CLIENT_GW_V4}/24"));
    netlab::add_addr(&ns, "eth0", &format!("{CLIENT_V4}/24"));
    netlab::ip(
        &ns,
        &[
            "-4",
            "route",
            "add",
            "default",
            "via",
            &CLIENT_GW_V4.to_string(),
        ],
    );
    Client { ns, v4: CLIENT_V4 }
}
