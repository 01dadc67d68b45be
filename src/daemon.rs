//! The supervisor behind `herald run`: builds the probes, starts one task
//! per check, the announcer and one task per peer, waits for a stop
//! signal, and shuts everything down in order.

use std::time::Duration;

use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tracing::{info, warn};

use crate::announcer::Announcer;
use crate::bgp::peer::PeerTask;
use crate::config::Config;
use crate::health::checker;
use crate::health::probe::{Probe, ProbeError};

/// How long peers get to withdraw and send their Cease before exit.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// Verdict flips waiting for the announcer; a full queue makes check tasks
/// wait, which only delays their next probe.
const EVENT_QUEUE: usize = 1024;

/// Why the daemon could not run.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("check {name}: {source}")]
    Probe {
        name: String,
        #[source]
        source: ProbeError,
    },
    #[error("cannot start the runtime")]
    Runtime(#[source] std::io::Error),
    #[error("cannot install signal handlers")]
    Signals(#[source] std::io::Error),
}

/// Runs the daemon until SIGTERM or SIGINT.
///
/// One thread is plenty: herald's work is waiting on sockets and timers,
/// and a single-threaded runtime keeps its footprint and wake-ups small.
pub fn run(config: Config) -> Result<(), DaemonError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(DaemonError::Runtime)?
        .block_on(serve(config))
}

async fn serve(config: Config) -> Result<(), DaemonError> {
    // Signal handlers first: a stop request during start-up must not kill
    // the process before it could close its sessions.
    let mut sigterm = signal(SignalKind::terminate()).map_err(DaemonError::Signals)?;
    let mut sigint = signal(SignalKind::interrupt()).map_err(DaemonError::Signals)?;
    let probes = config
        .checks
        .iter()
        .map(|check| {
            Probe::new(&check.kind).map_err(|source| DaemonError::Probe {
                name: check.name.clone(),
                source,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;

    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let (events_tx, events_rx) = mpsc::channel(EVENT_QUEUE);
    let (announcer, receivers) = Announcer::new(&config);
    info!(
        config = %config.source.display(),
        peers = config.peers.len(),
        vips = config.vips.len(),
        checks = config.checks.len(),
        announced = announcer.announced(),
        "herald started"
    );

    let mut tasks = JoinSet::new();
    for (index, (check, probe)) in config.checks.iter().zip(probes).enumerate() {
        tasks.spawn(checker::run(
            index,
            check.clone(),
            probe,
            events_tx.clone(),
            shutdown_rx.clone(),
        ));
    }
    drop(events_tx);
    tasks.spawn(announcer.run(events_rx, shutdown_rx.clone()));
    for (peer, routes) in config.peers.iter().zip(receivers) {
        let task = PeerTask::new(peer.clone(), &config.global, routes, shutdown_rx.clone());
        tasks.spawn(task.run());
    }

    let cause = tokio::select! {
        _ = sigterm.recv() => "SIGTERM",
        _ = sigint.recv() => "SIGINT",
    };
    info!(
        signal = cause,
        "shutting down: withdrawing routes and closing sessions"
    );
    // Ignore the error a send returns when every task has already ended.
    let _ = shutdown_tx.send(true);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        warn!(grace = ?SHUTDOWN_GRACE, "some tasks did not stop in time; exiting anyway");
    }
    info!("stopped");
    Ok(())
}
