//! The announcer owns the desired state: which VIP goes to which peer, in
//! which form (announced, degraded or withdrawn).
//!
//! It is the single owner of every VIP's [`VipState`]. Check tasks send it
//! a message only when a check's verdict flips; it applies the change to
//! the VIPs that use the check and, when a VIP's announcement changes,
//! republishes the route set of every peer at once. Each peer receives its
//! set on a `watch` channel, which keeps only the latest value: a peer that
//! is busy (or down) never queues stale intermediate states, it converges
//! on the current truth in one diff.

use std::sync::Arc;

use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tracing::{info, info_span, warn};

use crate::bgp::wire::Family;
use crate::config::{Config, DownAction, Vip};
use crate::deadline::sleep_opt;
use crate::health::vip_state::{Announce, VipState};
use crate::hooks;
use crate::route::{RouteAttrs, RouteSet};

/// What the announcer is told by the rest of the daemon.
#[derive(Debug)]
pub enum Event {
    /// The verdict of check `index` (into `Config::checks`) flipped.
    Check {
        index: usize,
        healthy: bool,
        reason: String,
    },
}

/// One VIP with its state and the two forms its route can take.
struct Entry {
    vip: Vip,
    state: VipState,
    healthy: Arc<RouteAttrs>,
    degraded: Option<Arc<RouteAttrs>>,
}

impl Entry {
    /// The route this VIP contributes, if any.
    fn route(&self) -> Option<&Arc<RouteAttrs>> {
        match self.state.announce() {
            Announce::Announced => Some(&self.healthy),
            Announce::Degraded => self.degraded.as_ref(),
            Announce::Withdrawn => None,
        }
    }
}

/// Publisher of every peer's desired routes.
pub struct Announcer {
    entries: Vec<Entry>,
    /// For each check, the (VIP, slot in `vip.checks`) pairs that use it.
    users: Vec<Vec<(usize, usize)>>,
    peers: Vec<Peer>,
    /// Origin of the monotonic time given to the damping state.
    epoch: Instant,
}

/// A peer as far as the announcer cares: which families it carries, and
/// the channel its task listens on.
struct Peer {
    ipv4: bool,
    ipv6: bool,
    routes: watch::Sender<Arc<RouteSet>>,
}

impl Announcer {
    /// Builds every VIP's initial state from the checks' initial verdicts,
    /// publishes the initial route sets and returns the receiving end for
    /// each peer, in `config.peers` order.
    pub fn new(config: &Config) -> (Announcer, Vec<watch::Receiver<Arc<RouteSet>>>) {
        let mut users = vec![Vec::new(); config.checks.len()];
        let entries = config
            .vips
            .iter()
            .enumerate()
            .map(|(vip_index, vip)| {
                let initial: Vec<bool> = vip
                    .checks
                    .iter()
                    .enumerate()
                    .map(|(slot, &check)| {
                        if let Some(list) = users.get_mut(check) {
                            list.push((vip_index, slot));
                        }
                        config
                            .checks
                            .get(check)
                            .is_some_and(|c| c.initially_healthy)
                    })
                    .collect();
                let healthy = Arc::new(RouteAttrs::from(vip));
                let degraded = match &vip.on_down {
                    DownAction::Withdraw => None,
                    DownAction::Degrade(degrade) => Some(Arc::new(healthy.degraded(degrade))),
                };
                Entry {
                    vip: vip.clone(),
                    state: VipState::new(vip, &initial),
                    healthy,
                    degraded,
                }
            })
            .collect();
        let mut receivers = Vec::with_capacity(config.peers.len());
        let peers = config
            .peers
            .iter()
            .map(|peer| {
                let (routes, rx) = watch::channel(Arc::new(RouteSet::new()));
                receivers.push(rx);
                Peer {
                    ipv4: peer.ipv4,
                    ipv6: peer.ipv6,
                    routes,
                }
            })
            .collect();
        let announcer = Announcer {
            entries,
            users,
            peers,
            epoch: Instant::now(),
        };
        announcer.publish();
        (announcer, receivers)
    }

    /// Number of VIPs currently announced (healthy or degraded).
    pub fn announced(&self) -> usize {
        self.entries.iter().filter(|e| e.route().is_some()).count()
    }

    /// Runs until shutdown is signalled.
    pub async fn run(
        mut self,
        mut events: mpsc::Receiver<Event>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        // The route senders live as long as this task, so it runs until
        // shutdown even when no check exists to send events.
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

    /// Applies one event, republishing if any VIP's announcement changed.
    pub fn handle(&mut self, event: Event) {
        match event {
            Event::Check {
                index,
                healthy,
                reason,
            } => self.check_changed(index, healthy, &reason),
        }
    }

    fn check_changed(&mut self, check: usize, healthy: bool, reason: &str) {
        let now = self.now();
        let mut changed = false;
        for &(vip, slot) in self.users.get(check).map_or(&[][..], Vec::as_slice) {
            let Some(entry) = self.entries.get_mut(vip) else {
                continue;
            };
            let before = entry.state.announce();
            if let Some(after) = entry.state.check_changed(slot, healthy, now) {
                transition(entry, before, after, reason, now);
                changed = true;
            }
        }
        if changed {
            self.publish();
        }
    }

    /// Re-evaluates VIPs whose damping suppression may have ended.
    fn tick(&mut self) {
        let now = self.now();
        let mut changed = false;
        for entry in &mut self.entries {
            let before = entry.state.announce();
            if let Some(after) = entry.state.tick(now) {
                transition(entry, before, after, "flap damping released it", now);
                changed = true;
            }
        }
        if changed {
            self.publish();
        }
    }

    fn next_wakeup(&self) -> Option<Instant> {
        let now = self.now();
        self.entries
            .iter()
            .filter_map(|e| e.state.next_wakeup(now))
            .min()
            .map(|at| self.epoch + at)
    }

    fn now(&self) -> std::time::Duration {
        Instant::now().saturating_duration_since(self.epoch)
    }

    /// Sends every peer the routes it should carry now.
    fn publish(&self) {
        for (index, peer) in self.peers.iter().enumerate() {
            let mut set = RouteSet::new();
            for entry in &self.entries {
                let carries = match Family::of(&entry.vip.prefix) {
                    Family::Ipv4Unicast => peer.ipv4,
                    Family::Ipv6Unicast => peer.ipv6,
                };
                // `vip.peers` is ascending (config validation sorts it).
                if !carries || entry.vip.peers.binary_search(&index).is_err() {
                    continue;
                }
                if let Some(route) = entry.route() {
                    set.insert(entry.vip.prefix, Arc::clone(route));
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
    }
}

/// Logs a VIP's change of announcement and runs its hook.
fn transition(
    entry: &Entry,
    before: Announce,
    after: Announce,
    reason: &str,
    now: std::time::Duration,
) {
    let _span = info_span!("vip", vip = %entry.vip.prefix).entered();
    let penalty = entry.state.penalty(now);
    if after == Announce::Announced {
        info!(from = %before, to = %after, %reason, penalty, "VIP state changed");
    } else {
        warn!(from = %before, to = %after, %reason, penalty, "VIP state changed");
    }
    if let Some(argv) = &entry.vip.hook {
        hooks::spawn(argv, &entry.vip.prefix, before, after, reason);
    }
}
