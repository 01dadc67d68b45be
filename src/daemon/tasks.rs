//! The supervisor's registry of running tasks: one per peer, one per
//! check, each with what is needed to stop it and read its status.

use std::sync::Arc;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::announcer::Event;
use crate::bgp::peer::{PeerSnapshot, PeerStop, PeerTask};
use crate::bgp::wire::Notification;
use crate::config::{Check, Global, Peer};
use crate::health::checker::{CheckSnapshot, CheckTask};
use crate::health::probe::Probe;
use crate::metrics::Metrics;
use crate::route::RouteSet;

/// A running peer task.
pub struct PeerHandle {
    pub peer: Peer,
    pub status: watch::Receiver<PeerSnapshot>,
    stop: watch::Sender<Option<PeerStop>>,
    task: JoinHandle<()>,
}

impl PeerHandle {
    /// Spawns the task of `peer`; `restarting` as for [`PeerTask::new`].
    pub fn spawn(
        peer: &Peer,
        global: &Global,
        routes: watch::Receiver<Arc<RouteSet>>,
        restarting: bool,
        metrics: &Metrics,
    ) -> PeerHandle {
        let (stop, stop_rx) = watch::channel(None);
        let (task, status) = PeerTask::new(
            peer.clone(),
            global,
            routes,
            stop_rx,
            restarting,
            metrics.clone(),
        );
        PeerHandle {
            peer: peer.clone(),
            status,
            stop,
            task: tokio::spawn(task.run()),
        }
    }

    /// Tells the task to withdraw and close with `cease`; returns the
    /// handle to wait for it.
    pub fn stop(self, cease: Notification) -> JoinHandle<()> {
        // The task may have ended already; then there is nothing to stop.
        let _ = self.stop.send(Some(PeerStop::Stop(cease)));
        self.task
    }

    /// Tells the task to close for a graceful restart of herald, leaving
    /// its routes with the router; returns the handle to wait for it.
    pub fn restart(self, message: &str) -> JoinHandle<()> {
        let _ = self.stop.send(Some(PeerStop::Restart(message.to_string())));
        self.task
    }
}

/// A running check task.
pub struct CheckHandle {
    pub check: Check,
    pub generation: u64,
    pub status: watch::Receiver<CheckSnapshot>,
    task: JoinHandle<()>,
}

impl CheckHandle {
    /// Spawns the task of `check`.
    /// `initial` overrides the check's configured initial verdict (with
    /// the verdict saved before a restart); the handle keeps the check as
    /// configured, for reloads to compare against.
    pub fn spawn(
        check: &Check,
        probe: Probe,
        generation: u64,
        initial: Option<bool>,
        events: &mpsc::Sender<Event>,
        metrics: &Metrics,
    ) -> CheckHandle {
        let mut running = check.clone();
        if let Some(healthy) = initial {
            running.initially_healthy = healthy;
        }
        let (task, status) =
            CheckTask::new(running, probe, generation, events.clone(), metrics.clone());
        CheckHandle {
            check: check.clone(),
            generation,
            status,
            task: tokio::spawn(task.run()),
        }
    }
}

impl Drop for CheckHandle {
    /// A check's task only loops: stopping it means aborting it, which
    /// drops a running probe (and so kills an exec probe's processes).
    fn drop(&mut self) {
        self.task.abort();
    }
}
