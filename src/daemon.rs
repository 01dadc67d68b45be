//! The supervisor behind `herald run`: starts one task per peer, waits for
//! a stop signal, and shuts everything down in order.

use std::time::Duration;

use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::{info, warn};

use crate::announcer::Announcer;
use crate::bgp::peer::PeerTask;
use crate::config::Config;

/// How long peers get to withdraw and send their Cease before exit.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Runs the daemon until SIGTERM or SIGINT.
pub async fn run(config: Config) -> std::io::Result<()> {
    // Signal handlers first: a stop request during start-up must not kill
    // the process before it could close its sessions.
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sigint = signal(SignalKind::interrupt())?;

    let (announcer, receivers) = Announcer::new(&config);
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let mut peers = JoinSet::new();
    for (peer, routes) in config.peers.iter().zip(receivers) {
        let task = PeerTask::new(peer.clone(), &config.global, routes, shutdown_rx.clone());
        peers.spawn(task.run());
    }
    info!(
        config = %config.source.display(),
        peers = config.peers.len(),
        vips = config.vips.len(),
        announcements = announcer.announcements(),
        "herald started"
    );

    let cause = tokio::select! {
        _ = sigterm.recv() => "SIGTERM",
        _ = sigint.recv() => "SIGINT",
    };
    info!(
        signal = cause,
        "shutting down: withdrawing routes and closing sessions"
    );
    // Receivers see the flag even if they are mid-write; ignore the error a
    // send returns when every peer task has already ended.
    let _ = shutdown_tx.send(true);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while peers.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        warn!(
            grace = ?SHUTDOWN_GRACE,
            "some sessions did not close in time; exiting anyway"
        );
    }
    drop(announcer);
    info!("stopped");
    Ok(())
}
