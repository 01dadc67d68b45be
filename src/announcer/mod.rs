//! The announcer owns the desired state: which VIP goes to which peer, in
//! which form (announced, degraded, draining or withdrawn).
//!
//! It is the single owner of every VIP's [`VipState`], of the operator's
//! overrides and of the drain state. Check tasks send it an event only when
//! a check's verdict flips; operators reach it through the control socket.
//! Whatever the cause, a change goes through `Announcer::apply`, which
//! logs each VIP whose announcement changed, runs its hook, and republishes
//! every peer's route set at once. Each peer receives its set on a `watch`
//! channel, which keeps only the latest value: a peer that is busy (or
//! down) never queues stale intermediate states; it converges on the
//! current truth in one diff.
//!
//! What a VIP announces, by precedence:
//!
//! 1. drained host (`herald drain`, after the drain time): withdrawn;
//! 2. operator override (`herald withdraw` / `herald announce`);
//! 3. its checks, damping and on-down action ([`VipState`]).
//!
//! While a drain is in progress every announced route also carries
//! GRACEFUL_SHUTDOWN (RFC 8326).

mod operator;
mod reload;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use tracing::{info, info_span, warn};

use crate::bgp::wire::Family;
use crate::config::{Config, DownAction, Vip};
use crate::control::protocol::{ErrorCode, Request, Response, StatusReport};
use crate::deadline::sleep_opt;
use crate::health::vip_state::{Announce, VipState};
use crate::hooks;
use crate::metrics::Metrics;
use crate::route::{RouteAttrs, RouteSet};
use crate::state_file::{Change, Override, Saved, SavedVip, StateWriter};

pub use reload::Reload;

/// What the announcer is told by the rest of the daemon.
#[derive(Debug)]
pub enum Event {
    /// The verdict of the check named `name` flipped. `generation` tells
    /// which task of that check sent it: a check re-created by a reload
    /// gets a new one, and events of the old task are ignored.
    Check {
        name: String,
        generation: u64,
        healthy: bool,
        reason: String,
    },
    /// An operator request about VIPs (`withdraw`, `announce`, `auto`,
    /// `drain`, `undrain`).
    Operator {
        request: Request,
        reply: oneshot::Sender<Response>,
    },
    /// Fill in the VIP part of a status report.
    Status {
        report: Box<StatusReport>,
        reply: oneshot::Sender<StatusReport>,
    },
    /// A new configuration (see [`Reload`]).
    Reload(Box<Reload>),
}

/// One VIP with its state and the two forms its route can take.
struct Entry {
    vip: Vip,
    /// Names of the VIP's checks, in `vip.checks` order.
    check_names: Vec<String>,
    state: VipState,
    healthy: Arc<RouteAttrs>,
    degraded: Option<Arc<RouteAttrs>>,
}

impl Entry {
    /// The entry of `vip` under the current `verdicts`; `penalty` carries
    /// a damping penalty over from before a restart.
    fn new(
        vip: &Vip,
        config: &Config,
        verdicts: &HashMap<String, Verdict>,
        penalty: Option<(u32, Duration)>,
    ) -> Entry {
        let check_names: Vec<String> = vip
            .checks
            .iter()
            .filter_map(|&i| config.checks.get(i).map(|c| c.name.clone()))
            .collect();
        let initial: Vec<bool> = check_names
            .iter()
            .map(|name| verdicts.get(name).is_some_and(|v| v.healthy))
            .collect();
        let healthy = Arc::new(RouteAttrs::from(vip));
        let degraded = match &vip.on_down {
            DownAction::Withdraw => None,
            DownAction::Degrade(degrade) => Some(Arc::new(healthy.degraded(degrade))),
        };
        let mut state = VipState::new(vip, &initial);
        if let Some((penalty, now)) = penalty {
            state.resume(penalty, now);
        }
        Entry {
            vip: vip.clone(),
            state,
            check_names,
            healthy,
            degraded,
        }
    }
}

/// The current verdict of a check, and which task of it reported it.
#[derive(Clone, Copy, Debug)]
struct Verdict {
    generation: u64,
    healthy: bool,
}

/// A peer as far as the announcer cares.
struct PeerLink {
    name: String,
    ipv4: bool,
    ipv6: bool,
    routes: watch::Sender<Arc<RouteSet>>,
}

/// A VIP's prefix, its route if announced, and the peers it may go to.
type VipRoute<'a> = (IpNet, Option<Arc<RouteAttrs>>, &'a [usize]);

/// Planned maintenance of the whole host (`herald drain`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Drain {
    Off,
    /// Routes carry GRACEFUL_SHUTDOWN until `until`, then are withdrawn.
    Draining {
        until: Instant,
    },
    /// Every route withdrawn; sessions stay up.
    Drained,
}

/// Publisher of every peer's desired routes.
pub struct Announcer {
    entries: Vec<Entry>,
    /// For each check name, the (entry, slot in `vip.checks`) that use it.
    users: HashMap<String, Vec<(usize, usize)>>,
    verdicts: HashMap<String, Verdict>,
    peers: Vec<PeerLink>,
    overrides: BTreeMap<IpNet, Override>,
    state: StateWriter,
    drain: Drain,
    /// Default length of `herald drain`.
    drain_time: Duration,
    metrics: Metrics,
    /// Origin of the monotonic time given to the damping state.
    epoch: Instant,
}

impl Announcer {
    /// Builds every VIP's initial state from the checks' initial verdicts
    /// (every check task starts at generation 0) and the overrides in
    /// `saved`, publishes the initial route sets and returns the receiving
    /// end for each peer, in `config.peers` order.
    ///
    /// With `resume` (a restart, see `daemon::resume`), each check starts
    /// from its saved verdict and each VIP from its saved damping penalty,
    /// so the routes are those announced before the restart. Changes are
    /// saved through `state`.
    pub fn new(
        config: &Config,
        saved: &Saved,
        resume: bool,
        state: StateWriter,
        metrics: Metrics,
    ) -> (Announcer, Vec<watch::Receiver<Arc<RouteSet>>>) {
        let verdicts = config
            .checks
            .iter()
            .map(|c| {
                let verdict = Verdict {
                    generation: 0,
                    healthy: initial_verdict(c, saved, resume),
                };
                (c.name.clone(), verdict)
            })
            .collect();
        let mut receivers = Vec::with_capacity(config.peers.len());
        let peers = config
            .peers
            .iter()
            .map(|peer| {
                let (routes, rx) = watch::channel(Arc::new(RouteSet::new()));
                receivers.push(rx);
                PeerLink {
                    name: peer.name.clone(),
                    ipv4: peer.ipv4,
                    ipv6: peer.ipv6,
                    routes,
                }
            })
            .collect();
        let overrides = restore_overrides(saved, config);
        let mut announcer = Announcer {
            entries: Vec::new(),
            users: HashMap::new(),
            verdicts,
            peers,
            overrides,
            state,
            drain: Drain::Off,
            drain_time: config.daemon.drain_time,
            metrics,
            epoch: Instant::now(),
        };
        announcer.entries = config
            .vips
            .iter()
            .map(|vip| {
                let penalty = saved
                    .vips
                    .get(&vip.prefix)
                    .filter(|_| resume)
                    .map(|v| (v.penalty, Duration::ZERO));
                Entry::new(vip, config, &announcer.verdicts, penalty)
            })
            .collect();
        announcer.index_users();
        announcer.publish();
        announcer.save_all();
        (announcer, receivers)
    }

    /// Number of VIPs currently announced (healthy, degraded or draining).
    pub fn announced(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| self.effective(e) != Announce::Withdrawn)
            .count()
    }

    /// Runs until shutdown is signalled. The route senders live as long as
    /// this task, so it runs on even when no check exists to send events.
    pub async fn run(
        mut self,
        mut events: mpsc::Receiver<Event>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut open = true;
        loop {
            let wakeup = self.next_wakeup();
            tokio::select! {
                event = events.recv(), if open => match event {
                    Some(event) => self.handle(event),
                    None => open = false,
                },
                () = sleep_opt(wakeup) => self.tick(),
                _ = shutdown.changed() => return,
            }
        }
    }

    /// Applies one event.
    pub fn handle(&mut self, event: Event) {
        match event {
            Event::Check {
                name,
                generation,
                healthy,
                reason,
            } => self.check_changed(&name, generation, healthy, &reason),
            Event::Operator { request, reply } => match self.operator(request) {
                // The client may have gone; the change stands regardless.
                (response, None) => {
                    let _ = reply.send(response);
                }
                (response, Some(saved)) => {
                    // Answer once the override is on disk, so that the
                    // operator learns whether it survives a restart; the
                    // announcer goes on meanwhile. A failed save is an
                    // error for the command (a non-zero exit), though the
                    // change is in force and the writer tries again.
                    tokio::spawn(async move {
                        let response = match (saved.await, response) {
                            (Err(err), Response::Done { message }) => Response::Error {
                                code: ErrorCode::Internal,
                                message: format!(
                                    "{message}, but not saved: until a retry succeeds, a \
                                     restart would forget it ({err})"
                                ),
                            },
                            (_, response) => response,
                        };
                        let _ = reply.send(response);
                    });
                }
            },
            Event::Status { mut report, reply } => {
                self.fill_status(&mut report);
                let _ = reply.send(*report);
            }
            Event::Reload(reload) => self.reload(*reload),
        }
    }

    fn check_changed(&mut self, name: &str, generation: u64, healthy: bool, reason: &str) {
        match self.verdicts.get_mut(name) {
            Some(verdict) if verdict.generation == generation => verdict.healthy = healthy,
            // A check removed or re-created by a reload: stale news.
            _ => return,
        }
        self.state.update(Change::Check(name.to_string(), healthy));
        let now = self.now();
        let users = self.users.get(name).cloned().unwrap_or_default();
        self.apply(reason, |this| {
            for (entry, slot) in users {
                if let Some(entry) = this.entries.get_mut(entry) {
                    entry.state.check_changed(slot, healthy, now);
                }
            }
        });
    }

    /// Re-evaluates what may change with time alone: damping releases and
    /// the end of a drain.
    fn tick(&mut self) {
        let now = self.now();
        if let Drain::Draining { until } = self.drain {
            if Instant::now() >= until {
                self.apply("drain time over", |this| this.drain = Drain::Drained);
            }
        }
        self.apply("flap damping released it", |this| {
            for entry in &mut this.entries {
                entry.state.tick(now);
            }
        });
    }

    fn next_wakeup(&self) -> Option<Instant> {
        let now = self.now();
        let damping = self
            .entries
            .iter()
            .filter_map(|e| e.state.next_wakeup(now))
            .min()
            .map(|at| self.epoch + at);
        let drain = match self.drain {
            Drain::Draining { until } => Some(until),
            Drain::Off | Drain::Drained => None,
        };
        damping.into_iter().chain(drain).min()
    }

    fn now(&self) -> Duration {
        Instant::now().saturating_duration_since(self.epoch)
    }

    /// Runs `change`, then logs every VIP whose announcement it changed,
    /// runs their hooks, and republishes the peers' route sets.
    fn apply(&mut self, reason: &str, change: impl FnOnce(&mut Self)) {
        let before: HashMap<IpNet, Announce> = self
            .entries
            .iter()
            .map(|e| (e.vip.prefix, self.effective(e)))
            .collect();
        let draining_before = matches!(self.drain, Drain::Draining { .. });
        change(self);
        let now = self.now();
        let draining = matches!(self.drain, Drain::Draining { .. });
        let mut changed = Vec::new();
        for entry in &self.entries {
            let after = self.effective(entry);
            let Some(&was) = before.get(&entry.vip.prefix) else {
                continue;
            };
            if was != after {
                transition(entry, was, after, reason, entry.state.penalty(now));
                self.metrics
                    .vip_transition(&entry.vip.prefix.to_string(), &after.to_string());
            }
            if entry.vip.damping.is_some() {
                self.metrics
                    .damping_penalty(&entry.vip.prefix.to_string(), entry.state.penalty(now));
            }
            if was != after || entry.vip.damping.is_some() || draining != draining_before {
                changed.push((entry.vip.prefix, self.saved_vip(entry, now)));
            }
        }
        if draining != draining_before {
            info!(draining, %reason, "graceful shutdown community {}", if draining { "added" } else { "removed" });
        }
        self.publish();
        if !changed.is_empty() {
            self.state.update(Change::Vips(changed));
        }
    }

    /// What `entry` announces, as the state file keeps it.
    fn saved_vip(&self, entry: &Entry, now: Duration) -> SavedVip {
        SavedVip {
            announce: self.effective(entry),
            attributes: self.route(entry).map(|attrs| (*attrs).clone()),
            penalty: entry.state.penalty(now),
        }
    }

    /// Saves every VIP and check verdict, replacing what was saved: at
    /// start and after a reload, when VIPs and checks may have come and
    /// gone.
    fn save_all(&self) {
        let now = self.now();
        let vips = self
            .entries
            .iter()
            .map(|e| (e.vip.prefix, self.saved_vip(e, now)))
            .collect();
        let checks = self
            .verdicts
            .iter()
            .map(|(name, verdict)| (name.clone(), verdict.healthy))
            .collect();
        self.state.update(Change::AllVips { vips, checks });
    }

    /// What `entry` announces now, all causes considered.
    fn effective(&self, entry: &Entry) -> Announce {
        if self.drain == Drain::Drained {
            return Announce::Withdrawn;
        }
        match self.overrides.get(&entry.vip.prefix).map(|o| o.action) {
            Some(crate::state_file::OverrideAction::Withdraw) => Announce::Withdrawn,
            Some(crate::state_file::OverrideAction::Announce) => Announce::Announced,
            None => entry.state.announce(),
        }
    }

    /// The route `entry` contributes now, if any.
    fn route(&self, entry: &Entry) -> Option<Arc<RouteAttrs>> {
        let attrs = match self.effective(entry) {
            Announce::Announced => &entry.healthy,
            Announce::Degraded => entry.degraded.as_ref()?,
            Announce::Withdrawn => return None,
        };
        match self.drain {
            Drain::Draining { .. } => Some(Arc::new(attrs.draining())),
            Drain::Off | Drain::Drained => Some(Arc::clone(attrs)),
        }
    }

    /// Sends every peer the routes it should carry now; a peer whose set
    /// did not change is not woken.
    fn publish(&self) {
        let routes: Vec<VipRoute<'_>> = self
            .entries
            .iter()
            .map(|e| (e.vip.prefix, self.route(e), e.vip.peers.as_slice()))
            .collect();
        for (index, peer) in self.peers.iter().enumerate() {
            let mut set = RouteSet::new();
            for (prefix, route, peers) in &routes {
                let carries = match Family::of(prefix) {
                    Family::Ipv4Unicast => peer.ipv4,
                    Family::Ipv6Unicast => peer.ipv6,
                };
                // `vip.peers` is ascending (config validation sorts it).
                if let (true, Some(route), Ok(_)) = (carries, route, peers.binary_search(&index)) {
                    set.insert(*prefix, Arc::clone(route));
                }
            }
            peer.routes.send_if_modified(|current| {
                if **current == set {
                    return false;
                }
                *current = Arc::new(set);
                true
            });
        }
        let mut counts = [0usize; 3];
        for entry in &self.entries {
            let slot = match self.effective(entry) {
                Announce::Announced => 0,
                Announce::Degraded => 1,
                Announce::Withdrawn => 2,
            };
            counts[slot] += 1;
        }
        self.metrics.vips_announced(counts[0], counts[1], counts[2]);
    }

    /// Rebuilds the check-name index of `entries`.
    fn index_users(&mut self) {
        self.users.clear();
        for (index, entry) in self.entries.iter().enumerate() {
            for (slot, name) in entry.check_names.iter().enumerate() {
                self.users
                    .entry(name.clone())
                    .or_default()
                    .push((index, slot));
            }
        }
    }

    /// Queues the overrides for the state file; the future tells whether
    /// they reached the disk. A failure is for the operator to see; the
    /// override itself stays in force.
    fn persist(&self) -> impl std::future::Future<Output = Result<(), String>> + Send + 'static {
        self.state.save(Change::Overrides(self.overrides.clone()))
    }
}

/// The verdict a check starts from: its saved one after a restart, else
/// its configured `initial`.
fn initial_verdict(check: &crate::config::Check, saved: &Saved, resume: bool) -> bool {
    match saved.checks.get(&check.name) {
        Some(&healthy) if resume => healthy,
        _ => check.initially_healthy,
    }
}

/// The saved overrides of VIPs that are still configured.
fn restore_overrides(saved: &Saved, config: &Config) -> BTreeMap<IpNet, Override> {
    let mut overrides = saved.overrides.clone();
    overrides.retain(|prefix, _| {
        let known = config.vips.iter().any(|v| v.prefix == *prefix);
        if !known {
            warn!(vip = %prefix, "dropping the saved override of a VIP no longer configured");
        }
        known
    });
    for (prefix, saved) in &overrides {
        info!(vip = %prefix, action = ?saved.action, reason = ?saved.reason, "override restored");
    }
    overrides
}

/// Logs a VIP's change of announcement and runs its hook.
fn transition(entry: &Entry, before: Announce, after: Announce, reason: &str, penalty: u32) {
    let _span = info_span!("vip", vip = %entry.vip.prefix).entered();
    if after == Announce::Announced {
        info!(from = %before, to = %after, %reason, penalty, "VIP state changed");
    } else {
        warn!(from = %before, to = %after, %reason, penalty, "VIP state changed");
    }
    if let Some(argv) = &entry.vip.hook {
        hooks::spawn(argv, &entry.vip.prefix, before, after, reason);
    }
}
