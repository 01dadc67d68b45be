//! What herald is doing, as Prometheus metrics.
//!
//! A fleet of hosts announcing VIPs is only manageable if one dashboard can
//! say which sessions are down, which VIPs are withdrawn and which checks
//! flap. [`Metrics`] is a small registry owned by the daemon and handed (as
//! cheap clones) to the tasks that observe something: peer tasks report
//! session states and messages, the health checks report results, the
//! announcer reports VIP states. [`serve`] exposes it over HTTP when the
//! operator configures a listen address; by default nothing listens.
//!
//! There are no global statics: tests build their own registry and the
//! daemon could run two without them mixing.
//!
//! # Metrics
//!
//! | name | type | labels |
//! |---|---|---|
//! | `herald_bfd_packets_total` | counter | `peer`, `direction` (`sent`, `received`) |
//! | `herald_bfd_session_down_total` | counter | `peer`; times the session left Up |
//! | `herald_bfd_session_state` | gauge | `peer`; RFC 5880 codes: 0 AdminDown, 1 Down, 2 Init, 3 Up |
//! | `herald_bgp_messages_total` | counter | `peer`, `direction` (`sent`, `received`), `type` (`OPEN`, `UPDATE`, ...) |
//! | `herald_bgp_peer_established_timestamp_seconds` | gauge | `peer`; only while established |
//! | `herald_bgp_peer_state` | gauge | `peer`; see [`Metrics::peer_state`] for the numbers |
//! | `herald_check_duration_seconds` | histogram | `check`; buckets from 1 ms to 10 s |
//! | `herald_check_healthy` | gauge | `check`; 1 healthy, 0 not |
//! | `herald_check_results_total` | counter | `check`, `result` (`success`, `failure`) |
//! | `herald_vip_damping_penalty` | gauge | `vip` |
//! | `herald_vip_transitions_total` | counter | `vip`, `to` |
//! | `herald_vips` | gauge | `state` (`announced`, `degraded`, `withdrawn`) |
//!
//! The text is Prometheus exposition format 0.0.4, families and series in
//! sorted order so that two scrapes of the same state are byte-identical. A
//! family without any series yet is left out.

mod http;

use std::collections::BTreeMap;
use std::fmt::{Display, Write};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

pub use http::serve;

/// Upper bounds of the check duration histogram, in seconds: from a local
/// TCP connect to the longest sensible check timeout.
const DURATION_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Which way a BGP message went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// From herald to the peer.
    Sent,
    /// From the peer to herald.
    Received,
}

impl Direction {
    fn label(self) -> &'static str {
        match self {
            Direction::Sent => "sent",
            Direction::Received => "received",
        }
    }
}

/// The daemon's metrics registry; clones share the same values.
#[derive(Clone, Debug, Default)]
pub struct Metrics {
    inner: Arc<Mutex<Registry>>,
}

#[derive(Debug, Default)]
struct Registry {
    /// peer -> (state code, packets sent, packets received, times down).
    bfd: BTreeMap<String, (u8, u64, u64, u64)>,
    /// (peer, direction, type) -> count.
    messages: BTreeMap<(String, &'static str, String), u64>,
    peer_states: BTreeMap<String, u8>,
    established_since: BTreeMap<String, u64>,
    check_durations: BTreeMap<String, Histogram>,
    check_healthy: BTreeMap<String, bool>,
    /// (check, result) -> count.
    check_results: BTreeMap<(String, &'static str), u64>,
    damping_penalties: BTreeMap<String, u32>,
    /// (vip, to) -> count.
    vip_transitions: BTreeMap<(String, String), u64>,
    /// Announced, degraded, withdrawn; `None` until first reported.
    vips: Option<[usize; 3]>,
}

#[derive(Debug, Default)]
struct Histogram {
    /// Observations per bucket, not cumulative; the last is above 10 s.
    buckets: [u64; DURATION_BUCKETS.len() + 1],
    sum: f64,
    count: u64,
}

impl Metrics {
    /// An empty registry.
    pub fn new() -> Metrics {
        Metrics::default()
    }

    /// Records a peer's session state and, while it is established, since
    /// when (seconds since the Unix epoch).
    ///
    /// `state` is the RFC 4271 §8.2.2 state: 0 Idle, 1 Connect, 2 Active,
    /// 3 OpenSent, 4 OpenConfirm, 5 Established.
    pub fn peer_state(&self, peer: &str, state: u8, established_since_unix: Option<u64>) {
        let mut registry = self.lock();
        registry.peer_states.insert(peer.to_owned(), state);
        match established_since_unix {
            Some(since) => registry.established_since.insert(peer.to_owned(), since),
            None => registry.established_since.remove(peer),
        };
    }

    /// Records a BFD session's state (RFC 5880 §4.1 codes: 0 AdminDown,
    /// 1 Down, 2 Init, 3 Up) and its counters.
    pub fn bfd(&self, peer: &str, state: u8, counters: &crate::bfd::Counters) {
        self.lock().bfd.insert(
            peer.to_owned(),
            (
                state,
                counters.packets_sent,
                counters.packets_received,
                counters.went_down,
            ),
        );
    }

    /// Counts one BGP message of type `kind` (`OPEN`, `UPDATE`, ...).
    pub fn message(&self, peer: &str, direction: Direction, kind: &str) {
        *self
            .lock()
            .messages
            .entry((peer.to_owned(), direction.label(), kind.to_owned()))
            .or_default() += 1;
    }

    /// Sets how many VIPs are announced, announced while degraded, and
    /// withdrawn.
    pub fn vips_announced(&self, announced: usize, degraded: usize, withdrawn: usize) {
        self.lock().vips = Some([announced, degraded, withdrawn]);
    }

    /// Records one run of a health check: its outcome and how long it took.
    pub fn check_result(&self, check: &str, success: bool, duration: Duration) {
        let result = if success { "success" } else { "failure" };
        let mut registry = self.lock();
        *registry
            .check_results
            .entry((check.to_owned(), result))
            .or_default() += 1;
        let histogram = registry
            .check_durations
            .entry(check.to_owned())
            .or_default();
        let seconds = duration.as_secs_f64();
        let bucket = DURATION_BUCKETS
            .iter()
            .position(|&bound| seconds <= bound)
            .unwrap_or(DURATION_BUCKETS.len());
        histogram.buckets[bucket] += 1;
        histogram.sum += seconds;
        histogram.count += 1;
    }

    /// Sets a check's verdict after rise/fall.
    pub fn check_healthy(&self, check: &str, healthy: bool) {
        self.lock().check_healthy.insert(check.to_owned(), healthy);
    }

    /// Counts one change of a VIP's state, to state `to`.
    pub fn vip_transition(&self, vip: &str, to: &str) {
        *self
            .lock()
            .vip_transitions
            .entry((vip.to_owned(), to.to_owned()))
            .or_default() += 1;
    }

    /// Sets a VIP's flap damping penalty.
    pub fn damping_penalty(&self, vip: &str, penalty: u32) {
        self.lock()
            .damping_penalties
            .insert(vip.to_owned(), penalty);
    }

    /// The metrics in Prometheus text format 0.0.4.
    pub fn render(&self) -> String {
        let registry = self.lock();
        let mut out = Text::default();

        out.family(
            "herald_bfd_packets_total",
            "counter",
            "BFD Control packets exchanged with a peer, by direction.",
            registry
                .bfd
                .iter()
                .flat_map(|(peer, (_, sent, received, _))| {
                    [
                        (vec![("peer", peer.as_str()), ("direction", "sent")], sent),
                        (
                            vec![("peer", peer.as_str()), ("direction", "received")],
                            received,
                        ),
                    ]
                }),
        );
        out.family(
            "herald_bfd_session_down_total",
            "counter",
            "Times a BFD session left Up.",
            registry
                .bfd
                .iter()
                .map(|(peer, (_, _, _, down))| (vec![("peer", peer.as_str())], down)),
        );
        out.family(
            "herald_bfd_session_state",
            "gauge",
            "BFD session state: 0 AdminDown, 1 Down, 2 Init, 3 Up.",
            registry
                .bfd
                .iter()
                .map(|(peer, (state, ..))| (vec![("peer", peer.as_str())], state)),
        );
        out.family(
            "herald_bgp_messages_total",
            "counter",
            "BGP messages exchanged with a peer, by direction and message type.",
            registry
                .messages
                .iter()
                .map(|((peer, direction, kind), n)| {
                    (
                        vec![
                            ("peer", peer.as_str()),
                            ("direction", direction),
                            ("type", kind),
                        ],
                        n,
                    )
                }),
        );
        out.family(
            "herald_bgp_peer_established_timestamp_seconds",
            "gauge",
            "When the BGP session reached Established, in seconds since the Unix epoch.",
            registry
                .established_since
                .iter()
                .map(|(peer, since)| (vec![("peer", peer.as_str())], since)),
        );
        out.family(
            "herald_bgp_peer_state",
            "gauge",
            "BGP session state: 0 Idle, 1 Connect, 2 Active, 3 OpenSent, 4 OpenConfirm, 5 Established.",
            registry
                .peer_states
                .iter()
                .map(|(peer, state)| (vec![("peer", peer.as_str())], state)),
        );
        out.histograms(
            "herald_check_duration_seconds",
            "How long a health check took to run.",
            &registry.check_durations,
        );
        out.family(
            "herald_check_healthy",
            "gauge",
            "Whether a health check passes after rise/fall (1) or not (0).",
            registry
                .check_healthy
                .iter()
                .map(|(check, &healthy)| (vec![("check", check.as_str())], u8::from(healthy))),
        );
        out.family(
            "herald_check_results_total",
            "counter",
            "Health check runs, by result.",
            registry.check_results.iter().map(|((check, result), n)| {
                (vec![("check", check.as_str()), ("result", result)], n)
            }),
        );
        out.family(
            "herald_vip_damping_penalty",
            "gauge",
            "Flap damping penalty of a VIP.",
            registry
                .damping_penalties
                .iter()
                .map(|(vip, penalty)| (vec![("vip", vip.as_str())], penalty)),
        );
        out.family(
            "herald_vip_transitions_total",
            "counter",
            "Changes of a VIP's state, by the state it changed to.",
            registry
                .vip_transitions
                .iter()
                .map(|((vip, to), n)| (vec![("vip", vip.as_str()), ("to", to.as_str())], n)),
        );
        if let Some([announced, degraded, withdrawn]) = registry.vips {
            out.family(
                "herald_vips",
                "gauge",
                "VIPs configured on this host, by announcement state.",
                [
                    (vec![("state", "announced")], announced),
                    (vec![("state", "degraded")], degraded),
                    (vec![("state", "withdrawn")], withdrawn),
                ],
            );
        }
        out.0
    }

    /// The registry; a panic elsewhere while holding the lock leaves plain
    /// numbers behind, which are still worth reporting.
    fn lock(&self) -> MutexGuard<'_, Registry> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Exposition text under construction.
#[derive(Default)]
struct Text(String);

impl Text {
    /// Writes one family's `# HELP`, `# TYPE` and samples, or nothing when
    /// it has no samples.
    fn family<'a, V: Display>(
        &mut self,
        name: &str,
        kind: &str,
        help: &str,
        samples: impl IntoIterator<Item = (Vec<(&'a str, &'a str)>, V)>,
    ) {
        let mut samples = samples.into_iter().peekable();
        if samples.peek().is_none() {
            return;
        }
        self.header(name, kind, help);
        for (labels, value) in samples {
            self.sample(name, &labels, value);
        }
    }

    fn histograms(&mut self, name: &str, help: &str, histograms: &BTreeMap<String, Histogram>) {
        if histograms.is_empty() {
            return;
        }
        self.header(name, "histogram", help);
        let bucket = format!("{name}_bucket");
        for (check, histogram) in histograms {
            let mut cumulative = 0;
            for (bound, n) in DURATION_BUCKETS.iter().zip(&histogram.buckets) {
                cumulative += n;
                let le = bound.to_string();
                self.sample(&bucket, &[("check", check), ("le", &le)], cumulative);
            }
            self.sample(
                &bucket,
                &[("check", check), ("le", "+Inf")],
                histogram.count,
            );
            self.sample(&format!("{name}_sum"), &[("check", check)], histogram.sum);
            self.sample(
                &format!("{name}_count"),
                &[("check", check)],
                histogram.count,
            );
        }
    }

    fn header(&mut self, name: &str, kind: &str, help: &str) {
        // Writing to a String cannot fail.
        let _ = writeln!(self.0, "# HELP {name} {help}");
        let _ = writeln!(self.0, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl Display) {
        self.0.push_str(name);
        if !labels.is_empty() {
            self.0.push('{');
            for (i, (label, value)) in labels.iter().enumerate() {
                if i > 0 {
                    self.0.push(',');
                }
                self.0.push_str(label);
                self.0.push_str("=\"");
                escape_label_value(&mut self.0, value);
                self.0.push('"');
            }
            self.0.push('}');
        }
        let _ = writeln!(self.0, " {value}");
    }
}

/// Label values escape backslash, double quote and line feed (exposition
/// format 0.0.4); everything else is taken as is.
fn escape_label_value(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}
