//! The short human summary `herald check` prints of a valid configuration.

use std::fmt::Write;

use crate::config::{Config, RouterId};

/// One line for the global settings, one per peer, check and VIP.
pub fn render(config: &Config) -> String {
    let mut out = String::new();
    let router_id = match config.global.router_id {
        RouterId::Auto => "auto".to_string(),
        RouterId::Fixed(id) => id.to_string(),
    };
    // Writing to a String cannot fail.
    let _ = writeln!(
        out,
        "{}: ok: AS {}, router-id {}, {} peer(s), {} VIP(s), {} check(s)",
        config.source.display(),
        config.global.asn,
        router_id,
        config.peers.len(),
        config.vips.len(),
        config.checks.len()
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
        let graceful = match peer.graceful_restart {
            Some(gr) => format!("graceful restart {}s", gr.restart_time),
            None => "no graceful restart".to_string(),
        };
        let bfd = match peer.bfd {
            Some(bfd) => format!(
                ", BFD {:?}/{:?} x{}",
                bfd.min_tx, bfd.min_rx, bfd.multiplier
            ),
            None => String::new(),
        };
        let dead = match peer.dead_host_window() {
            Some(window) => format!("a dead host stays a next hop up to {window:?}"),
            None => "a dead host may stay a next hop for ever".to_string(),
        };
        let _ = writeln!(
            out,
            "peer {}: {} port {} AS {} ({kind}), hold {}s, {}, {graceful}{bfd}; {dead}",
            peer.name,
            peer.address,
            peer.port,
            peer.asn,
            peer.hold_time,
            families.join("+")
        );
    }
    for check in &config.checks {
        let _ = writeln!(
            out,
            "check {}: {} every {:?} (rise {}, fall {}, timeout {:?})",
            check.name,
            check.kind.name(),
            check.interval,
            check.rise,
            check.fall,
            check.timeout
        );
    }
    for vip in &config.vips {
        let names = |indices: &[usize], name: &dyn Fn(usize) -> Option<String>| {
            indices
                .iter()
                .filter_map(|&i| name(i))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let peers = names(&vip.peers, &|i| config.peers.get(i).map(|p| p.name.clone()));
        let checks = names(&vip.checks, &|i| {
            config.checks.get(i).map(|c| c.name.clone())
        });
        let checks = if checks.is_empty() {
            "always announced".to_string()
        } else {
            format!("checks {checks}")
        };
        let _ = writeln!(out, "vip {} -> {peers}; {checks}", vip.prefix);
    }
    out
}
