//! The supervisor's registry of running tasks: one per peer, one per
//! check, each with what is needed to stop it and read its status.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tracing::warn;

use crate::announcer::Event;
use crate::bfd::{self, Mux, ResumeState, SessionHandle, Settings};
use crate::bgp::peer::{PeerSnapshot, PeerStop, PeerTask};
use crate::bgp::wire::Notification;
use crate::config::{Check, Global, Peer};
use crate::health::checker::{CheckSnapshot, CheckTask};
use crate::health::probe::Probe;
use crate::metrics::Metrics;
use crate::route::RouteSet;

/// How long a stop waits for the first AdminDown to go out before the
/// daemon exits; one packet is enough for the peer to learn it.
const ADMIN_DOWN_GRACE: Duration = Duration::from_millis(200);

/// A running peer task.
pub struct PeerHandle {
    pub peer: Peer,
    pub status: watch::Receiver<PeerSnapshot>,
    /// The BFD session with the peer, when configured.
    pub bfd: Option<SessionHandle>,
    stop: watch::Sender<Option<PeerStop>>,
    task: JoinHandle<()>,
}

impl PeerHandle {
    /// Spawns the task of `peer` with its BFD session, if any;
    /// `restarting` as for [`PeerTask::new`].
    pub fn spawn(
        peer: &Peer,
        global: &Global,
        routes: watch::Receiver<Arc<RouteSet>>,
        restarting: bool,
        bfd: Option<SessionHandle>,
        metrics: &Metrics,
    ) -> PeerHandle {
        let (stop, stop_rx) = watch::channel(None);
        let (task, status) = PeerTask::new(
            peer.clone(),
            global,
            routes,
            stop_rx,
            restarting,
            bfd.as_ref().map(SessionHandle::status),
            metrics.clone(),
        );
        PeerHandle {
            peer: peer.clone(),
            status,
            bfd,
            stop,
            task: tokio::spawn(task.run()),
        }
    }

    /// Tells the task to withdraw and close with `cease`, then takes the
    /// BFD session administratively down (RFC 5880 §6.8.16) so the router
    /// learns this was deliberate; returns the handle to wait for both.
    pub fn stop(self, cease: Notification) -> JoinHandle<()> {
        // The task may have ended already; then there is nothing to stop.
        let _ = self.stop.send(Some(PeerStop::Stop(cease)));
        let (task, bfd) = (self.task, self.bfd);
        tokio::spawn(async move {
            let _ = task.await;
            if let Some(bfd) = bfd {
                admin_down(bfd).await;
            }
        })
    }

    /// Tells the task to close for a graceful restart of herald, leaving
    /// its routes with the router. Returns the handle to wait for it and
    /// the BFD session, which the caller keeps running until the process
    /// ends so that the router hears from it until the new one takes over.
    pub fn restart(self, message: &str) -> (JoinHandle<()>, Option<SessionHandle>) {
        let _ = self.stop.send(Some(PeerStop::Restart(message.to_string())));
        (self.task, self.bfd)
    }

    /// Takes the BFD session out of this handle, to be carried over to the
    /// peer's next task (a reload that resets the BGP session only).
    pub fn take_bfd(&mut self) -> Option<SessionHandle> {
        self.bfd.take()
    }
}

/// Sends AdminDown and waits (briefly) until it went out.
async fn admin_down(bfd: SessionHandle) {
    let mut status = bfd.status();
    let sent_before = status.borrow().snapshot.counters.packets_sent;
    bfd.admin_down();
    let sent = status.wait_for(|s| {
        s.snapshot.state == bfd::State::AdminDown && s.snapshot.counters.packets_sent > sent_before
    });
    if tokio::time::timeout(ADMIN_DOWN_GRACE, sent).await.is_err() {
        warn!(peer = %bfd.peer(), "BFD AdminDown not confirmed sent before exit");
    }
}

/// The BFD settings of a peer, if it runs BFD.
pub fn bfd_settings(peer: &Peer) -> Option<Settings> {
    peer.bfd.map(|b| Settings {
        desired_min_tx: b.min_tx,
        required_min_rx: b.min_rx,
        detect_multiplier: b.multiplier,
    })
}

/// Registers the BFD session of `peer` (if it runs BFD) with `mux`,
/// resuming `resume` from before a restart.
pub async fn bfd_session(
    mux: &Mux,
    peer: &Peer,
    resume: Option<ResumeState>,
) -> std::io::Result<Option<SessionHandle>> {
    let Some(settings) = bfd_settings(peer) else {
        return Ok(None);
    };
    let handle = mux
        .register(peer.address, peer.local_address, settings, resume)
        .await
        .map_err(|err| std::io::Error::new(err.kind(), format!("BFD with {}: {err}", peer.name)))?;
    Ok(Some(handle))
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
