//! Watching the router's kernel route for one prefix: a thread reads it
//! every 10 ms (`ip -j -n NS route show PREFIX`) and records the set of
//! next hops each time it changes, for a bounded time.
//!
//! All three shapes of a route are read: one next hop (`gateway` on the
//! route), plain multipath (`nexthops: [{gateway}, ...]`, as BIRD installs
//! it) and nexthop objects (`nhid`, as FRR installs them; resolved with
//! `ip nexthop show id N` when the route carries no gateways itself). No
//! route is the empty set.
//!
//! A sample takes a few milliseconds (one `ip` process), so a change is
//! seen within about 10-20 ms of when it happened, and a next hop gone for
//! less than that may be missed: the figures are upper bounds on how fast
//! something happened and lower bounds on how long something lasted.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::program;

/// Time between the starts of two samples.
pub const SAMPLE_EVERY: Duration = Duration::from_millis(10);

/// A set of next hops.
pub type Hops = BTreeSet<IpAddr>;

/// What the sampling thread returns: the changes, the time of the last
/// sample and the number of samples.
type Samples = (Vec<(Duration, Hops)>, Duration, usize);

/// A running watch; [`RouteWatch::stop`] ends it.
pub struct RouteWatch {
    started: Instant,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Samples>,
}

/// What a watch saw.
#[derive(Clone, Debug)]
pub struct RouteHistory {
    /// When the watch began; the times below count from here.
    pub started: Instant,
    /// The first sample, then one entry per change: (when it was seen,
    /// the next hops from then on).
    pub changes: Vec<(Duration, Hops)>,
    /// When the last sample was taken.
    pub end: Duration,
    /// How many samples were taken.
    pub samples: usize,
}

/// How long a next hop was missing from the route.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Absence {
    /// How many times it left.
    pub count: usize,
    /// For how long in all.
    pub total: Duration,
    /// The longest single absence.
    pub longest: Duration,
}

impl RouteWatch {
    /// Starts sampling `prefix` (e.g. `"192.0.2.10/32"`) in namespace
    /// `ns`; the watch ends by itself after `max` (and after at most
    /// `max / 10 ms` samples).
    pub fn start(ns: &str, prefix: &str, max: Duration) -> RouteWatch {
        let stop = Arc::new(AtomicBool::new(false));
        let started = Instant::now();
        let (ns, prefix, flag) = (ns.to_string(), prefix.to_string(), stop.clone());
        let max_samples = (max.as_millis() / SAMPLE_EVERY.as_millis()).max(1) as usize;
        let thread = std::thread::spawn(move || {
            let mut changes: Vec<(Duration, Hops)> = Vec::new();
            let mut end = Duration::ZERO;
            let mut samples = 0;
            let mut next = Instant::now();
            loop {
                // Asked to stop: one last sample, so that the history ends
                // with the route as it is now.
                let last = flag.load(Ordering::Relaxed);
                let Some(hops) = next_hops(&ns, &prefix) else {
                    // The namespace is gone (or `ip` failed): nothing more
                    // to see.
                    break;
                };
                end = started.elapsed();
                samples += 1;
                if changes.last().map(|(_, last)| last) != Some(&hops) {
                    changes.push((end, hops));
                }
                if last || samples >= max_samples || started.elapsed() >= max {
                    break;
                }
                next += SAMPLE_EVERY;
                let now = Instant::now();
                if next > now {
                    std::thread::sleep(next - now);
                } else {
                    next = now;
                }
            }
            (changes, end, samples)
        });
        RouteWatch {
            started,
            stop,
            thread,
        }
    }

    /// When the watch began.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// Ends the watch and returns what it saw.
    pub fn stop(self) -> RouteHistory {
        self.stop.store(true, Ordering::Relaxed);
        let (changes, end, samples) = self.thread.join().unwrap_or_default();
        RouteHistory {
            started: self.started,
            changes,
            end,
            samples,
        }
    }
}

impl RouteHistory {
    /// The next hops from `at` (on the watch's scale) until the next
    /// change; `None` before the first sample.
    fn hops_at(&self, at: Duration) -> Option<&Hops> {
        self.changes
            .iter()
            .take_while(|(t, _)| *t <= at)
            .last()
            .map(|(_, hops)| hops)
    }

    /// The intervals (start, end) during which `hop` was missing.
    fn gaps(&self, hop: IpAddr) -> Vec<(Duration, Duration)> {
        let mut gaps = Vec::new();
        let mut since: Option<Duration> = None;
        for (t, hops) in &self.changes {
            match (hops.contains(&hop), since) {
                (false, None) => since = Some(*t),
                (true, Some(from)) => {
                    gaps.push((from, *t));
                    since = None;
                }
                _ => {}
            }
        }
        if let Some(from) = since {
            gaps.push((from, self.end.max(from)));
        }
        gaps
    }

    /// Whether `hop` was ever missing, how often and for how long; a gap
    /// still open at the end counts up to the last sample.
    pub fn absence(&self, hop: IpAddr) -> Absence {
        let gaps = self.gaps(hop);
        Absence {
            count: gaps.len(),
            total: gaps.iter().map(|(a, b)| *b - *a).sum(),
            longest: gaps.iter().map(|(a, b)| *b - *a).max().unwrap_or_default(),
        }
    }

    /// How long after `from` the first sample without `hop` was taken
    /// (zero if it was already missing at `from`); `None` if it never left
    /// after `from`.
    pub fn left_after(&self, hop: IpAddr, from: Instant) -> Option<Duration> {
        let from = from.saturating_duration_since(self.started);
        if self.hops_at(from).is_some_and(|h| !h.contains(&hop)) {
            return Some(Duration::ZERO);
        }
        self.changes
            .iter()
            .find(|(t, hops)| *t > from && !hops.contains(&hop))
            .map(|(t, _)| *t - from)
    }

    /// How long after `from` the first sample with `hop` was taken (zero
    /// if it was there at `from`); `None` if it never came back.
    pub fn back_after(&self, hop: IpAddr, from: Instant) -> Option<Duration> {
        let from = from.saturating_duration_since(self.started);
        if self.hops_at(from).is_some_and(|h| h.contains(&hop)) {
            return Some(Duration::ZERO);
        }
        self.changes
            .iter()
            .find(|(t, hops)| *t > from && hops.contains(&hop))
            .map(|(t, _)| *t - from)
    }

    /// Every distinct set of next hops seen, in order of appearance.
    pub fn sets(&self) -> Vec<&Hops> {
        let mut seen: Vec<&Hops> = Vec::new();
        for (_, hops) in &self.changes {
            if !seen.contains(&hops) {
                seen.push(hops);
            }
        }
        seen
    }

    /// The changes, one per line, for messages.
    pub fn describe(&self) -> String {
        let mut out = format!(
            "{} samples over {:.3} s:\n",
            self.samples,
            self.end.as_secs_f64()
        );
        for (t, hops) in &self.changes {
            let list: Vec<String> = hops.iter().map(|h| h.to_string()).collect();
            out.push_str(&format!(
                "  {:8.3} s  [{}]\n",
                t.as_secs_f64(),
                list.join(", ")
            ));
        }
        out
    }
}

/// The next hops of the route for exactly `prefix` in `ns` (empty: no
/// route); `None` if `ip` fails (e.g. the namespace is gone).
pub fn next_hops(ns: &str, prefix: &str) -> Option<Hops> {
    let family = if prefix.contains(':') { "-6" } else { "-4" };
    let routes = ip_json(ns, &[family, "route", "show", prefix])?;
    let mut hops = Hops::new();
    for route in routes.as_array().into_iter().flatten() {
        let before = hops.len();
        collect_gateways(route, &mut hops);
        if hops.len() == before {
            if let Some(id) = route["nhid"].as_u64() {
                nexthop_object(ns, id, &mut hops, 0);
            }
        }
    }
    Some(hops)
}

/// The gateways of a route or nexthop object: its own `gateway` and those
/// in its `nexthops` list.
fn collect_gateways(object: &Value, hops: &mut Hops) {
    if let Some(gw) = object["gateway"].as_str().and_then(|g| g.parse().ok()) {
        hops.insert(gw);
    }
    for nh in object["nexthops"].as_array().into_iter().flatten() {
        if let Some(gw) = nh["gateway"].as_str().and_then(|g| g.parse().ok()) {
            hops.insert(gw);
        }
    }
}

/// Resolves nexthop object `id`: a gateway, or a group of other objects.
fn nexthop_object(ns: &str, id: u64, hops: &mut Hops, depth: u32) {
    if depth > 2 {
        return;
    }
    let Some(objects) = ip_json(ns, &["nexthop", "show", "id", &id.to_string()]) else {
        return;
    };
    for object in objects.as_array().into_iter().flatten() {
        collect_gateways(object, hops);
        for member in object["group"].as_array().into_iter().flatten() {
            if let Some(member_id) = member["id"].as_u64() {
                nexthop_object(ns, member_id, hops, depth + 1);
            }
        }
    }
}

fn ip_json(ns: &str, args: &[&str]) -> Option<Value> {
    let out = Command::new(program("ip"))
        .args(["-j", "-n", ns])
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    if text.trim().is_empty() {
        return Some(Value::Array(Vec::new()));
    }
    serde_json::from_str(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hops(list: &[&str]) -> Hops {
        list.iter().map(|h| h.parse().unwrap()).collect()
    }

    fn history(changes: &[(u64, &[&str])], end: u64) -> RouteHistory {
        RouteHistory {
            started: Instant::now(),
            changes: changes
                .iter()
                .map(|(ms, list)| (Duration::from_millis(*ms), hops(list)))
                .collect(),
            end: Duration::from_millis(end),
            samples: 0,
        }
    }

    #[test]
    fn gateways_are_read_from_every_route_shape() {
        let one: Value =
            serde_json::from_str(r#"[{"dst":"192.0.2.10","gateway":"198.51.100.11","dev":"br0"}]"#)
                .unwrap();
        let many: Value = serde_json::from_str(
            r#"[{"dst":"192.0.2.10","nexthops":[{"gateway":"198.51.100.11"},{"gateway":"198.51.100.12"}]}]"#,
        )
        .unwrap();
        let group: Value =
            serde_json::from_str(r#"[{"id":25,"group":[{"id":22},{"id":23}]}]"#).unwrap();
        let mut got = Hops::new();
        collect_gateways(&one[0], &mut got);
        assert_eq!(got, hops(&["198.51.100.11"]));
        let mut got = Hops::new();
        collect_gateways(&many[0], &mut got);
        assert_eq!(got, hops(&["198.51.100.11", "198.51.100.12"]));
        let mut got = Hops::new();
        collect_gateways(&group[0], &mut got);
        assert!(got.is_empty(), "a group names members, not gateways");
    }

    #[test]
    fn absences_are_counted_and_timed() {
        let h = history(
            &[
                (0, &["198.51.100.11", "198.51.100.12"]),
                (100, &["198.51.100.12"]),
                (250, &["198.51.100.11", "198.51.100.12"]),
                (400, &["198.51.100.12"]),
            ],
            450,
        );
        let gone: IpAddr = "198.51.100.11".parse().unwrap();
        let stayed: IpAddr = "198.51.100.12".parse().unwrap();
        assert_eq!(
            h.absence(gone),
            Absence {
                count: 2,
                total: Duration::from_millis(200),
                longest: Duration::from_millis(150),
            }
        );
        assert_eq!(h.absence(stayed), Absence::default());
        let at = |ms| h.started + Duration::from_millis(ms);
        assert_eq!(h.left_after(gone, at(50)), Some(Duration::from_millis(50)));
        assert_eq!(h.left_after(gone, at(120)), Some(Duration::ZERO));
        assert_eq!(h.left_after(stayed, at(0)), None);
        assert_eq!(
            h.back_after(gone, at(120)),
            Some(Duration::from_millis(130))
        );
        assert_eq!(h.sets().len(), 2);
    }
}
