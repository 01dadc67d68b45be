//! The one task that writes the state file.
//!
//! Several parts of the daemon keep state there: the announcer its
//! overrides and what each VIP announces, the supervisor the BFD sessions
//! and the exit record. The file is only ever written whole, so they send
//! their changes here, and this task merges them into its copy of the
//! state and writes it. Changes that arrive while a write is under way are
//! merged into the next one: a burst of health transitions costs one or two
//! writes, not one each.
//!
//! Writes (with their fsyncs) run on the blocking thread pool, so that a
//! slow disk never delays an UPDATE: the route change goes to the peers
//! first and reaches the disk a few milliseconds later.

use std::collections::BTreeMap;

use ipnet::IpNet;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::error;

use super::{boot_id, ExitRecord, Override, Saved, SavedVip, StateFile};
use crate::bfd::ResumeState;

/// One change to the saved state.
#[derive(Debug)]
pub enum Change {
    /// The whole set of overrides.
    Overrides(BTreeMap<IpNet, Override>),
    /// What these VIPs now announce.
    Vips(Vec<(IpNet, SavedVip)>),
    /// Every VIP and check, replacing what was saved (start, reload).
    AllVips {
        /// Every configured VIP.
        vips: BTreeMap<IpNet, SavedVip>,
        /// Every configured check's verdict.
        checks: BTreeMap<String, bool>,
    },
    /// A check's verdict.
    Check(String, bool),
    /// The BFD sessions to resume, by peer, replacing what was saved.
    Bfd(BTreeMap<String, ResumeState>),
    /// How the daemon is ending.
    Exit(ExitRecord),
}

type Request = (Change, Option<oneshot::Sender<Result<(), String>>>);

/// Sends changes to the writer task; cheap to clone.
#[derive(Clone, Debug)]
pub struct StateWriter {
    tx: mpsc::UnboundedSender<Request>,
}

impl StateWriter {
    /// Starts the writer with `initial` as its copy of the state. The task
    /// ends once every `StateWriter` is dropped and the last change is
    /// written.
    pub fn spawn(file: StateFile, initial: Saved) -> (StateWriter, JoinHandle<()>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(run(file, initial, rx));
        (StateWriter { tx }, task)
    }

    /// Queues `change` for the next write, without waiting for it.
    pub fn update(&self, change: Change) {
        // The writer ends only after every sender is gone.
        let _ = self.tx.send((change, None));
    }

    /// Queues `change` at once, in order with every other change, and
    /// returns a future that resolves when it is on disk; the error, if
    /// any, names the file and what failed.
    pub fn save(
        &self,
        change: Change,
    ) -> impl std::future::Future<Output = Result<(), String>> + Send + 'static {
        let (reply, answer) = oneshot::channel();
        let queued = self.tx.send((change, Some(reply))).is_ok();
        async move {
            if !queued {
                return Err("the state writer has stopped".to_string());
            }
            answer
                .await
                .unwrap_or_else(|_| Err("the state writer has stopped".to_string()))
        }
    }
}

async fn run(file: StateFile, mut state: Saved, mut rx: mpsc::UnboundedReceiver<Request>) {
    state.boot_id = boot_id();
    while let Some(first) = rx.recv().await {
        let mut waiting = Vec::new();
        let mut next = Some(first);
        while let Some((change, reply)) = next {
            apply(&mut state, change);
            waiting.extend(reply);
            next = rx.try_recv().ok();
        }
        let file = file.clone();
        let snapshot = state.clone();
        let result = tokio::task::spawn_blocking(move || file.save(&snapshot))
            .await
            .map_err(|e| format!("the state writer failed: {e}"))
            .and_then(|saved| saved.map_err(|e| crate::errors::one_line(&e)));
        if let Err(err) = &result {
            error!(%err, "cannot save the state file");
        }
        for reply in waiting {
            // A requester that has gone away no longer needs the answer.
            let _ = reply.send(result.clone());
        }
    }
}

fn apply(state: &mut Saved, change: Change) {
    match change {
        Change::Overrides(overrides) => state.overrides = overrides,
        Change::Vips(vips) => state.vips.extend(vips),
        Change::AllVips { vips, checks } => {
            state.vips = vips;
            state.checks = checks;
        }
        Change::Check(name, healthy) => {
            state.checks.insert(name, healthy);
        }
        Change::Bfd(sessions) => state.bfd = sessions,
        Change::Exit(record) => state.exit = Some(record),
    }
}
