//! A new configuration, applied as a diff.
//!
//! The supervisor decides which peers and checks survive a reload (those
//! whose settings did not change keep their task); the announcer keeps the
//! route channel of every surviving peer, the verdict of every surviving
//! check, and the state (damping included) of every VIP whose settings and
//! checks did not change. Because each peer's Adj-RIB-Out diffs the new
//! route set against what it sent, only VIPs whose attributes or peers
//! changed are re-announced, removed ones are withdrawn, and new ones
//! start under their checks.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tokio::sync::{oneshot, watch};

use super::{Announcer, Entry, PeerLink, Verdict};
use crate::config::Config;
use crate::route::RouteSet;

/// What the supervisor sends the announcer on reload.
#[derive(Debug)]
pub struct Reload {
    pub config: Config,
    /// Peers whose task keeps running: their route channel is kept.
    pub kept_peers: HashSet<String>,
    /// The generation of every check task after the reload; a check whose
    /// generation changed was re-created and starts from its initial
    /// verdict.
    pub generations: HashMap<String, u64>,
    /// Receives, for each peer that needs a new task, its index in
    /// `config.peers` and the receiving end of its route channel.
    pub reply: oneshot::Sender<Vec<(usize, watch::Receiver<Arc<RouteSet>>)>>,
}

impl Announcer {
    pub(super) fn reload(&mut self, reload: Reload) {
        let Reload {
            config,
            kept_peers,
            generations,
            reply,
        } = reload;
        self.apply("configuration reloaded", |this| {
            let new_peers = this.relink_peers(&config, &kept_peers);
            let _ = reply.send(new_peers);
            let generation = |name: &String| generations.get(name).copied().unwrap_or(0);
            let restarted: HashSet<String> = config
                .checks
                .iter()
                .filter(|c| {
                    this.verdicts.get(&c.name).map(|v| v.generation) != Some(generation(&c.name))
                })
                .map(|c| c.name.clone())
                .collect();
            this.verdicts = config
                .checks
                .iter()
                .map(|check| {
                    let verdict = match this.verdicts.get(&check.name) {
                        Some(old) if !restarted.contains(&check.name) => *old,
                        _ => Verdict {
                            generation: generation(&check.name),
                            healthy: check.initially_healthy,
                        },
                    };
                    (check.name.clone(), verdict)
                })
                .collect();
            let mut old: HashMap<_, Entry> =
                this.entries.drain(..).map(|e| (e.vip.prefix, e)).collect();
            this.entries = config
                .vips
                .iter()
                .map(|vip| {
                    let fresh = Entry::new(vip, &config, &this.verdicts, None);
                    match old.remove(&vip.prefix) {
                        Some(entry)
                            if entry.vip == *vip
                                && entry.check_names == fresh.check_names
                                && !entry.check_names.iter().any(|n| restarted.contains(n)) =>
                        {
                            entry
                        }
                        _ => fresh,
                    }
                })
                .collect();
            this.index_users();
            let before = this.overrides.len();
            this.overrides
                .retain(|prefix, _| config.vips.iter().any(|v| v.prefix == *prefix));
            if this.overrides.len() != before {
                // Best effort: the overrides of removed VIPs are gone
                // either way; the writer logs a failure.
                drop(this.persist());
            }
            this.drain_time = config.daemon.drain_time;
        });
        self.save_all();
    }

    /// Keeps the channels of surviving peers, in the new order, and makes
    /// new ones for the others.
    fn relink_peers(
        &mut self,
        config: &Config,
        kept: &HashSet<String>,
    ) -> Vec<(usize, watch::Receiver<Arc<RouteSet>>)> {
        let mut old: HashMap<String, PeerLink> =
            self.peers.drain(..).map(|p| (p.name.clone(), p)).collect();
        let mut fresh = Vec::new();
        for (index, peer) in config.peers.iter().enumerate() {
            let link = match old.remove(&peer.name).filter(|_| kept.contains(&peer.name)) {
                Some(link) => link,
                None => {
                    let (routes, rx) = watch::channel(Arc::new(RouteSet::new()));
                    fresh.push((index, rx));
                    PeerLink {
                        name: peer.name.clone(),
                        ipv4: peer.ipv4,
                        ipv6: peer.ipv6,
                        routes,
                    }
                }
            };
            self.peers.push(link);
        }
        fresh
    }
}
