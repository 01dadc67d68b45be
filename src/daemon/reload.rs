//! `herald reload` and SIGHUP: re-read the file and apply it as a diff.
//!
//! An invalid file changes nothing. A valid one keeps every task whose
//! settings did not change: a peer keeps its session unless something
//! that the session depends on changed (its own `[[peer]]` keys, or
//! `global.asn` / `global.router-id`, which reset every session); a check
//! keeps its task and verdict unless its `[[check]]` table changed.
//! Settings of the process itself (`[control]`, `[metrics]`) take effect
//! at the next start.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use tokio::sync::oneshot;
use tracing::{error, info, warn};

use super::tasks::{self, CheckHandle, PeerHandle};
use super::{build_probes, Supervisor};
use crate::announcer::{Event, Reload};
use crate::bfd::{Mux, SessionHandle};
use crate::bgp::wire::{iana, Notification};
use crate::config::{Config, Peer, Warning};
use crate::errors::one_line;
use crate::fsutil::off_loop;

/// How long reading the configuration, with the key files it names, may
/// take: a local file takes microseconds, a hung file system forever.
const CONFIG_DEADLINE: Duration = Duration::from_secs(5);

impl Supervisor {
    /// Reads and validates the configuration file on a thread of its own
    /// (see `fsutil::off_loop`), so that a FIFO or a hung mount where the
    /// file should be delays this answer, never a keepalive.
    ///
    /// A file that moves `global.state-file` is refused: this daemon holds
    /// the lock on the old file and keeps its overrides there, and a new
    /// daemon reading the new, empty one would forget them (herald(8),
    /// FILES).
    pub(super) async fn load_config(&self) -> Result<(Config, Vec<Warning>), String> {
        let path = self.config.source.clone();
        let loaded = off_loop("read the configuration", CONFIG_DEADLINE, move || {
            Config::load(&path)
        })
        .await
        .map_err(|err| one_line(&err))?
        .map_err(|err| one_line(&err))?;
        let (old, new) = (&self.config.daemon.state_file, &loaded.0.daemon.state_file);
        if old != new {
            return Err(format!(
                "global.state-file changes from {} to {}, which would lose the saved \
                 overrides: stop herald, move the file, then start herald",
                old.display(),
                new.display()
            ));
        }
        Ok(loaded)
    }

    /// Reloads the configuration file; returns what changed, or why the
    /// file was refused.
    pub(super) async fn reload(&mut self) -> Result<String, String> {
        self.notifier.reloading();
        let result = self.reload_file().await;
        self.notifier.ready();
        match &result {
            Ok(message) => info!(%message, "configuration reloaded"),
            Err(message) => warn!(%message, "configuration refused; the running one stays"),
        }
        result
    }

    async fn reload_file(&mut self) -> Result<String, String> {
        let (config, warnings) = self.load_config().await?;
        for warning in &warnings {
            warn!("{warning}");
        }
        if self.bfd.is_none() && config.peers.iter().any(|p| p.bfd.is_some()) {
            let mux = Mux::bind()
                .await
                .map_err(|err| format!("cannot start BFD: {err}"))?;
            self.bfd = Some(mux);
        }
        if config.daemon.socket != self.config.daemon.socket
            || config.daemon.socket_mode != self.config.daemon.socket_mode
            || config.daemon.socket_group != self.config.daemon.socket_group
            || config.daemon.metrics != self.config.daemon.metrics
        {
            warn!("[control] and [metrics] changes take effect at the next start");
        }

        // Checks: build the probes of new and changed ones first, so that a
        // bad one refuses the whole reload before anything changed.
        let old_checks: HashMap<&str, &CheckHandle> = self
            .checks
            .iter()
            .map(|h| (h.check.name.as_str(), h))
            .collect();
        let changed_checks: Vec<_> = config
            .checks
            .iter()
            .filter(|c| {
                old_checks
                    .get(c.name.as_str())
                    .is_none_or(|h| h.check != **c)
            })
            .cloned()
            .collect();
        // Off the loop too: an HTTP check reads its CA bundle.
        let to_build = changed_checks.clone();
        let probes = off_loop("build the changed checks", CONFIG_DEADLINE, move || {
            build_probes(&to_build)
        })
        .await
        .map_err(|err| one_line(&err))?
        .map_err(|err| one_line(&err))?;

        let session_reset = config.global != self.config.global;
        let old_peers: HashMap<&str, &PeerHandle> = self
            .peers
            .iter()
            .map(|h| (h.peer.name.as_str(), h))
            .collect();
        let kept_peers: HashSet<String> = config
            .peers
            .iter()
            .filter(|p| {
                !session_reset
                    && old_peers
                        .get(p.name.as_str())
                        .is_some_and(|h| h.peer == **p)
            })
            .map(|p| p.name.clone())
            .collect();

        // Replace the tasks of changed checks; keep the others.
        let mut keep: HashMap<String, CheckHandle> = self
            .checks
            .drain(..)
            .map(|h| (h.check.name.clone(), h))
            .collect();
        let mut fresh: HashMap<String, _> = changed_checks
            .iter()
            .map(|c| c.name.clone())
            .zip(probes)
            .collect();
        for check in &config.checks {
            let handle = match (keep.remove(&check.name), fresh.remove(&check.name)) {
                (_, Some(probe)) => {
                    self.generation += 1;
                    CheckHandle::spawn(
                        check,
                        probe,
                        self.generation,
                        None,
                        &self.events,
                        &self.metrics,
                    )
                }
                (Some(kept), None) => kept,
                (None, None) => continue,
            };
            self.checks.push(handle);
        }
        // Dropping the handles of removed checks aborts their tasks.
        drop(keep);
        let generations = self
            .checks
            .iter()
            .map(|h| (h.check.name.clone(), h.generation))
            .collect();

        let (reply, answer) = oneshot::channel();
        let reload = Reload {
            config: config.clone(),
            kept_peers: kept_peers.clone(),
            generations,
            reply,
        };
        self.events
            .send(Event::Reload(Box::new(reload)))
            .await
            .map_err(|_| "the announcer has stopped".to_string())?;
        let receivers = answer
            .await
            .map_err(|_| "the announcer has stopped".to_string())?;

        // Peers: stop removed and changed ones, start new and changed ones.
        let mut old: HashMap<String, PeerHandle> = self
            .peers
            .drain(..)
            .map(|h| (h.peer.name.clone(), h))
            .collect();
        let mut receivers: HashMap<usize, _> = receivers.into_iter().collect();
        let (mut started, mut reset) = (0, 0);
        for (index, peer) in config.peers.iter().enumerate() {
            if kept_peers.contains(&peer.name) {
                if let Some(handle) = old.remove(&peer.name) {
                    self.peers.push(handle);
                    continue;
                }
            }
            let mut bfd = None;
            if let Some(mut handle) = old.remove(&peer.name) {
                bfd = carry_bfd(&mut handle, peer);
                let cease = Notification::cease(
                    iana::cease_subcode::OTHER_CONFIGURATION_CHANGE,
                    "herald configuration changed",
                );
                self.stopping.push(handle.stop(cease));
                reset += 1;
            } else {
                started += 1;
            }
            if bfd.is_none() {
                if let Some(mux) = &self.bfd {
                    bfd = tasks::bfd_session(mux, peer, None)
                        .await
                        .unwrap_or_else(|err| {
                            error!(err = %one_line(&err), "the session runs without BFD");
                            None
                        });
                }
            }
            if let Some(routes) = receivers.remove(&index) {
                self.peers.push(PeerHandle::spawn(
                    peer,
                    &config.global,
                    routes,
                    false,
                    bfd,
                    &self.metrics,
                ));
            }
        }
        let removed = old.len();
        for (_, handle) in old {
            let cease = Notification::cease(
                iana::cease_subcode::PEER_DE_CONFIGURED,
                "peer removed from the herald configuration",
            );
            self.stopping.push(handle.stop(cease));
        }
        self.stopping.retain(|task| !task.is_finished());

        let message = format!(
            "{} peer(s) kept, {started} added, {reset} reset, {removed} removed; \
             {} check(s) restarted; {} VIP(s)",
            kept_peers.len(),
            changed_checks.len(),
            config.vips.len()
        );
        self.config = config;
        Ok(message)
    }
}

/// The BFD session of a peer whose BGP session a reload resets, kept for
/// the new task when BFD stays on towards the same address: its new
/// timers go through a Poll Sequence (RFC 5880 §6.8.3) and the router's
/// BFD session never goes down.
fn carry_bfd(old: &mut PeerHandle, new: &Peer) -> Option<SessionHandle> {
    let settings = tasks::bfd_settings(new)?;
    let same_path = old.peer.address == new.address && old.peer.local_address == new.local_address;
    if !same_path {
        return None;
    }
    let bfd = old.take_bfd()?;
    if let Err(err) = bfd.set_timers(settings) {
        warn!(%err, peer = %new.name, "new BFD timers refused; keeping the old ones");
    }
    Some(bfd)
}
