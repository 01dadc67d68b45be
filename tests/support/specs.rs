//! The lab's usual cast: the router in AS 65000 and hosts in AS 65001, as
//! BIRD and herald configurations.

use std::net::IpAddr;

use super::bird::{Neighbor, RouterSpec};
use super::herald::{HeraldSpec, Peer};
use super::topology::{StarLan, ROUTER_V4, ROUTER_V6};

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
