//! One tokio task per check: probe, count the result, report a flip.
//!
//! A check's task only tells the announcer when its verdict flips, so a
//! thousand checks passing every second cost the announcer nothing; the
//! latest result is published on a `watch` for `herald status`. The probe
//! runs under the check's timeout; on shutdown the probe future is
//! dropped, which for exec probes kills the child's process group.

use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::time::sleep;
use tracing::{debug, info, info_span, warn, Instrument};

use super::probe::{Outcome, Probe};
use super::verdict::Verdict;
use crate::announcer::Event;
use crate::config::Check;
use crate::metrics::Metrics;

/// The latest state of a check, for status output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckSnapshot {
    pub healthy: bool,
    /// The last probe's result, once one ran.
    pub last: Option<LastResult>,
    /// Consecutive results that disagree with the verdict.
    pub streak: u32,
}

/// One probe's result as shown to operators.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LastResult {
    pub success: bool,
    pub reason: String,
    pub elapsed: Duration,
}

/// A check task ready to run, and the receiving end of its status.
pub struct CheckTask {
    check: Check,
    probe: Probe,
    generation: u64,
    events: mpsc::Sender<Event>,
    status: watch::Sender<CheckSnapshot>,
    metrics: Metrics,
}

impl CheckTask {
    /// Prepares the task. `generation` tells the announcer which task of
    /// a check (re-created on reload) an event comes from.
    pub fn new(
        check: Check,
        probe: Probe,
        generation: u64,
        events: mpsc::Sender<Event>,
        metrics: Metrics,
    ) -> (CheckTask, watch::Receiver<CheckSnapshot>) {
        let (status, status_rx) = watch::channel(CheckSnapshot {
            healthy: check.initially_healthy,
            last: None,
            streak: 0,
        });
        let task = CheckTask {
            check,
            probe,
            generation,
            events,
            status,
            metrics,
        };
        (task, status_rx)
    }

    /// Probes until the task is aborted or the announcer is gone.
    pub async fn run(self) {
        let span = info_span!("check", check = %self.check.name);
        self.probe_loop().instrument(span).await;
    }

    async fn probe_loop(self) {
        let check = &self.check;
        let mut verdict = Verdict::new(check);
        self.metrics.check_healthy(&check.name, verdict.healthy());
        loop {
            let outcome = self.probe.run(check.timeout).await;
            self.metrics
                .check_result(&check.name, outcome.success, outcome.elapsed);
            let flip = verdict.observe(outcome.success);
            self.publish(&verdict, &outcome);
            match flip {
                Some(healthy) => {
                    if healthy {
                        info!(reason = %outcome.reason, "check passes");
                    } else {
                        warn!(reason = %outcome.reason, "check fails");
                    }
                    self.metrics.check_healthy(&check.name, healthy);
                    let event = Event::Check {
                        name: check.name.clone(),
                        generation: self.generation,
                        healthy,
                        reason: outcome.reason,
                    };
                    if self.events.send(event).await.is_err() {
                        return;
                    }
                }
                None => debug!(
                    success = outcome.success,
                    reason = %outcome.reason,
                    elapsed = ?outcome.elapsed,
                    streak = verdict.streak(),
                    "probe"
                ),
            }
            sleep(verdict.next_delay(check)).await;
        }
    }

    fn publish(&self, verdict: &Verdict, outcome: &Outcome) {
        self.status.send_replace(CheckSnapshot {
            healthy: verdict.healthy(),
            last: Some(LastResult {
                success: outcome.success,
                reason: outcome.reason.clone(),
                elapsed: outcome.elapsed,
            }),
            streak: verdict.streak(),
        });
    }
}
