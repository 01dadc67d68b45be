//! The short human summary `herald check` prints of a valid configuration.

use std::fmt::Write;

use crate::config::{Config, RouterId};

/// One line for the global settings, one per peer, one per VIP.
pub fn render(config: &Config) -> String {
    let mut out = String::new();
    let router_id = match config.global.router_id {
        RouterId::Auto => "auto".to_string(),
        RouterId::Fixed(id) => id.to_string(),
    };
    // Writing to a String cannot fail.
    let _ = writeln!(
        out,
        "{}: ok: AS {}, router-id {}, {} peer(s), {} VIP(s)",
        config.source.display(),
        config.global.asn,
        router_id,
        config.peers.len(),
        config.vips.len()
    );
    for peer in &config.peers {
        let kind = if peer.is_ibgp(config.global.asn) {
            "iBGP"
        } else {
            "eBGP"
        };
        let families: Vec<&str> = [(peer.ipv4, "ipv4"), (peer.ipv6, "ipv6")]
            .into_iter()
            .filter_map(|(on, name)| on.then_some(name))
            .collect();
        let _ = writeln!(
            out,
            "peer {}: {} port {} AS {} ({kind}), hold {}s, {}",
            peer.name,
            peer.address,
            peer.port,
            peer.asn,
            peer.hold_time,
            families.join("+")
        );
    }
    for vip in &config.vips {
        let peers: Vec<&str> = vip
            .peers
            .iter()
            .filter_map(|&i| config.peers.get(i).map(|p| p.name.as_str()))
            .collect();
        let _ = writeln!(out, "vip {} -> {}", vip.prefix, peers.join(", "));
    }
    out
}
