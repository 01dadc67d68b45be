//! One tokio task per check: probe, count the result, report a flip.
//!
//! A check's task only ever tells the announcer when its verdict flips,
//! so a thousand checks passing every second cost the announcer nothing.
//! The probe runs under the check's timeout; on shutdown the probe future
//! is dropped, which for exec probes kills the child's process group.

use tokio::sync::{mpsc, watch};
use tokio::time::sleep;
use tracing::{debug, info, info_span, warn, Instrument};

use super::probe::Probe;
use super::verdict::Verdict;
use crate::announcer::Event;
use crate::config::Check;

/// Runs check `index` until shutdown or until the announcer is gone.
pub async fn run(
    index: usize,
    check: Check,
    probe: Probe,
    events: mpsc::Sender<Event>,
    mut shutdown: watch::Receiver<bool>,
) {
    let span = info_span!("check", check = %check.name);
    async move {
        let mut verdict = Verdict::new(&check);
        loop {
            let outcome = tokio::select! {
                outcome = probe.run(check.timeout) => outcome,
                _ = shutdown.changed() => return,
            };
            match verdict.observe(outcome.success) {
                Some(healthy) => {
                    if healthy {
                        info!(reason = %outcome.reason, "check passes");
                    } else {
                        warn!(reason = %outcome.reason, "check fails");
                    }
                    let event = Event::Check {
                        index,
                        healthy,
                        reason: outcome.reason,
                    };
                    if events.send(event).await.is_err() {
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
            tokio::select! {
                () = sleep(verdict.next_delay(&check)) => {}
                _ = shutdown.changed() => return,
            }
        }
    }
    .instrument(span)
    .await
}
