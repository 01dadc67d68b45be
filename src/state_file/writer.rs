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
//! Writes (with their fsyncs) run on a thread of their own, one at a time
//! and under a deadline, so that a slow or hung disk never delays an
//! UPDATE: the route change goes to the peers first and reaches the disk a
//! few milliseconds later. A failed write is tried again, after 1 s, then
//! 2 s, up to a minute between tries, until one succeeds; changes that
//! arrive meanwhile are written at once.

use std::collections::BTreeMap;

use std::time::Duration;

use ipnet::IpNet;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::{error, info};

use super::{boot_id, ExitRecord, Override, Saved, SavedVip, StateFile};
use crate::bfd::ResumeState;
use crate::deadline::sleep_opt;
use crate::errors::one_line;
use crate::fsutil::off_loop::{self, Pending, Stalled};

/// How long a save may take before those waiting on it hear that it
/// failed; a local disk takes milliseconds, even with its fsyncs.
const SAVE_DEADLINE: Duration = Duration::from_secs(10);
/// First wait before a failed save is tried again; it doubles after each
/// failure, up to [`RETRY_MAX`], so a full disk costs a line a minute.
const RETRY_FIRST: Duration = Duration::from_secs(1);
/// Longest wait between two tries of a failing save.
const RETRY_MAX: Duration = Duration::from_secs(60);

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
    let mut saver = Saver {
        file,
        running: None,
    };
    let mut backoff = RETRY_FIRST;
    let mut retry_at = None;
    loop {
        let mut next = tokio::select! {
            request = rx.recv() => match request {
                Some(request) => Some(request),
                None => return,
            },
            () = sleep_opt(retry_at) => None,
        };
        let mut waiting = Vec::new();
        while let Some((change, reply)) = next {
            apply(&mut state, change);
            waiting.extend(reply);
            next = rx.try_recv().ok();
        }
        let result = saver.save(&state).await;
        match &result {
            Ok(()) => {
                if retry_at.take().is_some() {
                    info!("the state file is saved again");
                }
                backoff = RETRY_FIRST;
            }
            Err(err) => {
                error!(%err, retry_in = ?backoff, "cannot save the state file");
                retry_at = Some(Instant::now() + backoff);
                backoff = (backoff * 2).min(RETRY_MAX);
            }
        }
        for reply in waiting {
            // A requester that has gone away no longer needs the answer.
            let _ = reply.send(result.clone());
        }
    }
}

/// Runs one save at a time, each on a thread of its own (see
/// `fsutil::off_loop`).
struct Saver {
    file: StateFile,
    /// A save that overran [`SAVE_DEADLINE`] and has not ended yet.
    running: Option<Pending<Result<(), String>>>,
}

impl Saver {
    /// Writes `state`, waiting at most [`SAVE_DEADLINE`]. A save that
    /// overran is waited for before the next starts: two at once could
    /// land in either order, the older state last.
    async fn save(&mut self, state: &Saved) -> Result<(), String> {
        if let Some(previous) = &mut self.running {
            match previous.wait(SAVE_DEADLINE).await {
                Err(err @ Stalled::Deadline { .. }) => return Err(one_line(&err)),
                _ => self.running = None,
            }
        }
        let file = self.file.clone();
        let snapshot = state.clone();
        let mut pending = off_loop::start("save the state file", move || {
            file.save(&snapshot).map_err(|err| one_line(&err))
        })
        .map_err(|err| one_line(&err))?;
        match pending.wait(SAVE_DEADLINE).await {
            Ok(result) => result,
            Err(err) => {
                if matches!(err, Stalled::Deadline { .. }) {
                    self.running = Some(pending);
                }
                Err(one_line(&err))
            }
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
