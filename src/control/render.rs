//! The human form of `herald status`: a header and fixed-width tables.
//!
//! Plain ASCII only ("ok"/"FAIL", "-" for nothing) so the output survives
//! any terminal, pager or ticket. Scripts should use the JSON instead; this
//! layout may change.

use std::fmt::Write;

use super::protocol::{BfdStatus, CheckStatus, DrainStatus, PeerStatus, StatusReport, VipStatus};
use crate::text::escape_controls;

/// Renders a status report as a header and PEERS, VIPS and CHECKS tables.
pub fn render_status(report: &StatusReport) -> String {
    let mut out = String::new();
    let drain = match report.drain {
        DrainStatus::None => "not draining".to_string(),
        DrainStatus::Draining { remaining_secs } => {
            format!("draining, {} left", human_duration(remaining_secs))
        }
        DrainStatus::Drained => "drained".to_string(),
    };
    // Writing to a String cannot fail.
    let _ = writeln!(
        out,
        "herald {}, pid {}, up {}, {}\nconfig {}",
        clean(&report.version),
        report.pid,
        human_duration(report.uptime_secs),
        drain,
        clean(&report.config)
    );
    section(&mut out, "PEERS", peer_table(&report.peers));
    section(&mut out, "VIPS", vip_table(report));
    section(&mut out, "CHECKS", check_table(&report.checks));
    out
}

/// A duration in seconds, in at most its two largest units: "45s",
/// "12m3s", "5h0m", "3d4h".
pub fn human_duration(secs: u64) -> String {
    let (days, hours, minutes, seconds) = (
        secs / 86_400,
        secs % 86_400 / 3_600,
        secs % 3_600 / 60,
        secs % 60,
    );
    if days > 0 {
        format!("{days}d{hours}h")
    } else if hours > 0 {
        format!("{hours}h{minutes}m")
    } else if minutes > 0 {
        format!("{minutes}m{seconds}s")
    } else {
        format!("{seconds}s")
    }
}

fn peer_table(peers: &[PeerStatus]) -> Vec<Vec<String>> {
    let header = [
        "NAME",
        "ADDRESS",
        "ASN",
        "STATE",
        "UPTIME",
        "HOLD",
        "PREFIXES",
        "BFD",
        "LAST ERROR",
    ];
    let mut rows = vec![header.map(String::from).to_vec()];
    rows.extend(peers.iter().map(|peer| {
        vec![
            clean(&peer.name),
            clean(&peer.address),
            peer.asn.to_string(),
            clean(&peer.state),
            peer.uptime_secs.map_or_else(dash, human_duration),
            peer.hold_time.map_or_else(dash, |h| format!("{h}s")),
            peer.prefixes_announced.to_string(),
            peer.bfd.as_ref().map_or_else(dash, bfd_cell),
            peer.last_error.as_deref().map_or_else(dash, clean),
        ]
    }));
    rows
}

/// A BFD session in a few characters: its state, and the detection time
/// while the peer is known ("up/900ms").
fn bfd_cell(bfd: &BfdStatus) -> String {
    match bfd.detect_time_ms {
        Some(ms) => format!("{}/{ms}ms", clean(&bfd.state)),
        None => clean(&bfd.state),
    }
}

fn vip_table(report: &StatusReport) -> Vec<Vec<String>> {
    let header = [
        "PREFIX", "STATE", "HEALTH", "OVERRIDE", "PEERS", "PENALTY", "CHECKS",
    ];
    let mut rows = vec![header.map(String::from).to_vec()];
    rows.extend(report.vips.iter().map(|vip| vip_row(vip, &report.checks)));
    rows
}

fn vip_row(vip: &VipStatus, checks: &[CheckStatus]) -> Vec<String> {
    let override_ = vip
        .override_
        .as_ref()
        .map_or_else(dash, |o| match &o.reason {
            Some(reason) => format!("{} ({})", clean(&o.action), clean(reason)),
            None => clean(&o.action),
        });
    let peers = if vip.peers.is_empty() {
        dash()
    } else {
        clean(&vip.peers.join(","))
    };
    let penalty = if vip.suppressed {
        format!("{} suppressed", vip.penalty)
    } else {
        vip.penalty.to_string()
    };
    let verdicts: Vec<String> = vip
        .checks
        .iter()
        .map(|name| {
            let verdict = match checks.iter().find(|c| &c.name == name) {
                Some(check) => verdict(check.healthy),
                None => "?",
            };
            format!("{}:{verdict}", clean(name))
        })
        .collect();
    let verdicts = if verdicts.is_empty() {
        dash()
    } else {
        verdicts.join(",")
    };
    vec![
        clean(&vip.prefix),
        clean(&vip.state),
        clean(&vip.health),
        override_,
        peers,
        penalty,
        verdicts,
    ]
}

fn check_table(checks: &[CheckStatus]) -> Vec<Vec<String>> {
    let header = [
        "NAME", "KIND", "VERDICT", "LAST", "ELAPSED", "STREAK", "REASON",
    ];
    let mut rows = vec![header.map(String::from).to_vec()];
    rows.extend(checks.iter().map(|check| {
        vec![
            clean(&check.name),
            clean(&check.kind),
            verdict(check.healthy).to_string(),
            check
                .last_success
                .map_or_else(dash, |ok| verdict(ok).to_string()),
            check
                .last_elapsed_ms
                .map_or_else(dash, |ms| format!("{ms}ms")),
            check.streak.to_string(),
            check.last_reason.as_deref().map_or_else(dash, clean),
        ]
    }));
    rows
}

fn verdict(healthy: bool) -> &'static str {
    if healthy {
        "ok"
    } else {
        "FAIL"
    }
}

fn dash() -> String {
    "-".to_string()
}

/// Keeps free text (reasons, errors) on one line of the table, and the
/// terminal out of its control (see [`escape_controls`]).
fn clean(text: &str) -> String {
    escape_controls(text).into_owned()
}

/// Writes a titled table, columns padded to their widest cell and
/// separated by two spaces; "(none)" if it has only its header.
fn section(out: &mut String, title: &str, rows: Vec<Vec<String>>) {
    let _ = writeln!(out, "\n{title}");
    if rows.len() <= 1 {
        out.push_str("(none)\n");
        return;
    }
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            rows.iter()
                .filter_map(|row| row.get(i))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in &rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            line.push_str(cell);
            let pad = widths[i].saturating_sub(cell.chars().count());
            line.extend(std::iter::repeat_n(' ', pad));
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_show_their_two_largest_units() {
        assert_eq!(human_duration(0), "0s");
        assert_eq!(human_duration(45), "45s");
        assert_eq!(human_duration(12 * 60 + 3), "12m3s");
        assert_eq!(human_duration(5 * 3600 + 59), "5h0m");
        assert_eq!(human_duration(3 * 86_400 + 4 * 3600 + 59 * 60), "3d4h");
    }

    #[test]
    fn columns_line_up_under_their_header() {
        let mut out = String::new();
        let rows = vec![
            vec!["A".to_string(), "B".to_string()],
            vec!["long".to_string(), "x".to_string()],
        ];
        section(&mut out, "T", rows);
        assert_eq!(out, "\nT\nA     B\nlong  x\n");
    }

    #[test]
    fn control_characters_in_free_text_stay_on_one_line() {
        assert_eq!(clean("disk\nreplacement\t"), "disk\\nreplacement\\t");
    }
}
