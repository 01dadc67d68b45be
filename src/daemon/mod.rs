//! The supervisor behind `herald run`.
//!
//! It starts everything (control socket, announcer, one task per check and
//! per peer, the optional metrics endpoint), tells systemd when it is
//! ready, then waits in one loop for signals, control commands and the
//! watchdog. It owns the task registries, so reloads and shutdown happen
//! here: reload re-reads the file and replaces only the tasks whose
//! settings changed; shutdown drains if configured, withdraws every route,
//! closes every session with a Cease and removes the socket.

mod reload;
pub mod restart;
mod tasks;

use std::time::Duration;

use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};
use tracing::{error, info, warn};

use crate::announcer::{Announcer, Event};
use crate::bfd::{Mux, SessionHandle};
use crate::bgp::fsm::State;
use crate::bgp::peer::SHUTDOWN_MESSAGE;
use crate::bgp::wire::{iana, Notification};
use crate::config::{location, Check, Config};
use crate::control::protocol::{
    BfdStatus, CheckStatus, DrainStatus, ErrorCode, GracefulRestartStatus, PeerStatus, Request,
    Response, StatusReport,
};
use crate::control::server::{Command, ControlError, ControlSocket};
use crate::fsutil::{off_loop, Stalled};
use crate::health::probe::{Probe, ProbeError};
use crate::metrics::{self, Metrics};
use crate::state_file::{
    unix_now, Change, ExitKind, ExitRecord, Saved, StateError, StateFile, StateLock, StateWriter,
};
use crate::systemd::Notifier;
use restart::Ending;
use tasks::{CheckHandle, PeerHandle};

/// How long peers get to withdraw and send their Cease before exit.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// Verdict flips and requests waiting for the announcer; a full queue
/// makes check tasks wait, which only delays their next probe.
const EVENT_QUEUE: usize = 1024;
/// How long taking the state file's lock and reading it may take.
const STATE_DEADLINE: Duration = Duration::from_secs(10);
/// How often systemd's STATUS= line is refreshed.
const STATUS_EVERY: Duration = Duration::from_secs(2);

/// Why the daemon could not run.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("check {name}")]
    Probe {
        name: String,
        #[source]
        source: ProbeError,
    },
    #[error("cannot start the runtime")]
    Runtime(#[source] std::io::Error),
    #[error("cannot install signal handlers")]
    Signals(#[source] std::io::Error),
    #[error("control socket")]
    Control(#[source] ControlError),
    #[error("cannot use the state file")]
    State(#[source] StateError),
    #[error("waiting on the file system")]
    FileSystem(#[source] Stalled),
    #[error("BFD")]
    Bfd(#[source] std::io::Error),
    #[error("cannot listen for metrics on {address}")]
    Metrics {
        address: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// Runs the daemon until SIGTERM, SIGINT or `herald restart`; returns
/// how it ended, [`Ending::Reexec`] asking the caller to execute herald
/// again in this process.
///
/// One thread is plenty: herald's work is waiting on sockets and timers,
/// and a single-threaded runtime keeps its footprint and wake-ups small.
pub fn run(config: Config) -> Result<Ending, DaemonError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(DaemonError::Runtime)?
        .block_on(serve(config))
}

/// Everything the supervisor owns while the daemon runs.
struct Supervisor {
    config: Config,
    peers: Vec<PeerHandle>,
    /// The BFD endpoint, once any peer runs BFD.
    bfd: Option<Mux>,
    checks: Vec<CheckHandle>,
    /// Peer tasks told to stop (reload), awaited at shutdown.
    stopping: Vec<JoinHandle<()>>,
    events: mpsc::Sender<Event>,
    /// Writes the state file (see `state_file::writer`).
    state: StateWriter,
    metrics: Metrics,
    notifier: Notifier,
    started: Instant,
    /// `started` on the wall clock, in milliseconds since the Unix epoch.
    started_unix_ms: u64,
    /// This daemon took over from one that restarted gracefully.
    restarted: bool,
    /// Last check-task generation handed out (see [`Event::Check`]).
    generation: u64,
}

/// The signals the daemon acts on.
struct Signals {
    term: Signal,
    int: Signal,
    hup: Signal,
}

async fn serve(config: Config) -> Result<Ending, DaemonError> {
    // Signal handlers first: a stop request during start-up must not kill
    // the process before it could close its sessions.
    let install = |kind| signal(kind).map_err(DaemonError::Signals);
    let mut signals = Signals {
        term: install(SignalKind::terminate())?,
        int: install(SignalKind::interrupt())?,
        hup: install(SignalKind::hangup())?,
    };
    let probes = build_probes(&config.checks)?;
    let daemon = &config.daemon;
    let socket = ControlSocket::bind(
        &daemon.socket,
        daemon.socket_mode,
        daemon.socket_group.as_deref(),
    )
    .map_err(DaemonError::Control)?;
    // Before anything that acts on the saved state: a second daemon must
    // learn that it is one before it touches the first one's overrides.
    let state_file = StateFile::new(daemon.state_file.clone());
    let (_state_lock, mut saved) = open_state(&state_file, &config).await?;
    let metrics = Metrics::new();
    let metrics_listener = match daemon.metrics {
        Some(address) => Some(
            tokio::net::TcpListener::bind(address)
                .await
                .map_err(|source| DaemonError::Metrics { address, source })?,
        ),
        None => None,
    };

    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let (events, events_rx) = mpsc::channel(EVENT_QUEUE);
    let resume = restart::resume(&saved, &config);
    saved.exit = None;
    let (state, state_task) = StateWriter::spawn(state_file, saved.clone());
    let (announcer, receivers) = Announcer::new(
        &config,
        &saved,
        resume.restarting,
        state.clone(),
        metrics.clone(),
    );
    let announced = announcer.announced();
    let announcer_task = tokio::spawn(announcer.run(events_rx, shutdown_rx.clone()));
    let checks = config
        .checks
        .iter()
        .zip(probes)
        .map(|(check, probe)| {
            let initial = saved
                .checks
                .get(&check.name)
                .copied()
                .filter(|_| resume.restarting);
            CheckHandle::spawn(check, probe, 0, initial, &events, &metrics)
        })
        .collect();
    let bfd = if config.peers.iter().any(|p| p.bfd.is_some()) {
        Some(Mux::bind().await.map_err(DaemonError::Bfd)?)
    } else {
        None
    };
    let mut peers = Vec::with_capacity(config.peers.len());
    for (peer, routes) in config.peers.iter().zip(receivers) {
        let session = match &bfd {
            Some(mux) => {
                let resume = saved
                    .bfd
                    .get(&peer.name)
                    .copied()
                    .filter(|_| resume.restarting);
                tasks::bfd_session(mux, peer, resume)
                    .await
                    .map_err(DaemonError::Bfd)?
            }
            None => None,
        };
        peers.push(PeerHandle::spawn(
            peer,
            &config.global,
            routes,
            resume.restarting,
            session,
            &metrics,
        ));
    }
    let (commands_tx, mut commands) = mpsc::channel(16);
    tokio::spawn(socket.serve(commands_tx, shutdown_rx.clone()));
    if let Some(listener) = metrics_listener {
        tokio::spawn(metrics::serve(
            listener,
            metrics.clone(),
            shutdown_rx.clone(),
        ));
    }

    let mut sup = Supervisor {
        peers,
        bfd,
        checks,
        stopping: Vec::new(),
        events,
        state,
        metrics,
        notifier: Notifier::from_env(),
        started: Instant::now(),
        started_unix_ms: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        restarted: resume.restarting,
        generation: 0,
        config,
    };
    info!(
        config = %sup.config.source.display(),
        socket = %sup.config.daemon.socket.display(),
        peers = sup.peers.len(),
        vips = sup.config.vips.len(),
        checks = sup.checks.len(),
        announced,
        graceful_restart = resume.restarting,
        start = %resume.why,
        "herald started"
    );
    sup.notifier.ready();

    let (cause, ending) = sup.main_loop(&mut signals, &mut commands).await;
    // BFD sessions kept running through a restart, until the process ends.
    let mut carried = Vec::new();
    let kind = match ending {
        Ending::Stop => {
            info!(cause, "stopping: withdrawing every route");
            sup.notifier.stopping();
            if sup.config.daemon.drain_on_stop {
                sup.drain_before_stop(&mut signals, &mut commands).await;
            }
            sup.stop().await;
            ExitKind::Stop
        }
        Ending::Restart | Ending::Reexec => {
            info!(
                cause,
                "restarting: the routers keep this host's routes meanwhile"
            );
            if ending == Ending::Reexec {
                sup.notifier.reloading();
                sup.notifier.status("restarting in place");
            } else {
                sup.notifier.stopping();
            }
            carried = sup.restart().await;
            let sessions = carried
                .iter()
                .filter_map(|(name, bfd)| Some((name.clone(), bfd.resume_state()?)))
                .collect();
            sup.state.update(Change::Bfd(sessions));
            ExitKind::Restart
        }
    };
    let record = ExitRecord {
        kind,
        at_unix: unix_now(),
    };
    if let Err(err) = sup.state.save(Change::Exit(record)).await {
        warn!(
            %err,
            "cannot record how herald ended; the next start takes it for a crash"
        );
    }
    // Ignore the error a send returns when every task has already ended.
    let _ = shutdown_tx.send(true);
    let _ = announcer_task.await;
    drop(sup);
    if tokio::time::timeout(SHUTDOWN_GRACE, state_task)
        .await
        .is_err()
    {
        warn!("the state file is still being written; exiting anyway");
    }
    info!(?ending, "stopped");
    drop(carried);
    Ok(ending)
}

/// Takes the state file's lock and loads it (see `state_file::recover`),
/// on a thread of its own. A file that could not be loaded is logged as
/// the error it is: every VIP starts withdrawn.
async fn open_state(file: &StateFile, config: &Config) -> Result<(StateLock, Saved), DaemonError> {
    let vips: Vec<_> = config.vips.iter().map(|v| v.prefix).collect();
    let file = file.clone();
    let (exposed, lock, start) = off_loop("open the state file", STATE_DEADLINE, move || {
        let exposed = location::exposed(file.path());
        let lock = StateLock::take(file.path())?;
        Ok::<_, StateError>((exposed, lock, file.load_or_keep_aside(&vips)?))
    })
    .await
    .map_err(DaemonError::FileSystem)?
    .map_err(DaemonError::State)?;
    if let Some(why) = exposed {
        warn!(
            %why,
            "other users could change the state file and with it which VIPs stay withdrawn; \
             move global.state-file to a private directory"
        );
    }
    if let Some(lost) = &start.lost {
        error!(
            err = %lost.why,
            kept_as = %lost.kept_as.display(),
            vips = config.vips.len(),
            "THE STATE FILE COULD NOT BE LOADED: overrides may have been lost, so every VIP \
             starts withdrawn; check the file kept aside, then `herald auto` each VIP that \
             may be announced"
        );
    }
    Ok((lock, start.saved))
}

fn build_probes(checks: &[Check]) -> Result<Vec<Probe>, DaemonError> {
    checks
        .iter()
        .map(|check| {
            Probe::new(&check.kind).map_err(|source| DaemonError::Probe {
                name: check.name.clone(),
                source,
            })
        })
        .collect()
}

impl Supervisor {
    /// Serves signals, commands and systemd until asked to end; returns
    /// what asked, and whether it is a stop or a restart.
    async fn main_loop(
        &mut self,
        signals: &mut Signals,
        commands: &mut mpsc::Receiver<Command>,
    ) -> (&'static str, Ending) {
        let watchdog_every = self.notifier.watchdog_interval();
        let mut watchdog = tokio::time::interval(watchdog_every.unwrap_or(Duration::MAX));
        let mut status = tokio::time::interval(STATUS_EVERY);
        status.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let notify = self.notifier.enabled();
        loop {
            tokio::select! {
                _ = signals.term.recv() => {
                    let ending = restart::sigterm_ending(self.config.daemon.on_sigterm).await;
                    return ("SIGTERM", ending);
                }
                _ = signals.int.recv() => return ("SIGINT", Ending::Stop),
                _ = signals.hup.recv() => match self.reload().await {
                    Ok(message) => info!(%message, "SIGHUP"),
                    Err(message) => warn!(%message, "SIGHUP: reload refused"),
                },
                Some(command) = commands.recv() => {
                    if matches!(command.request, Request::Restart) {
                        // The new process reads the file again: one that
                        // would not start must not cost the routes.
                        let answer = match self.load_config().await {
                            Ok(_) => Response::Done {
                                message: "restarting in place".to_string(),
                            },
                            Err(err) => Response::Error {
                                code: ErrorCode::InvalidConfig,
                                message: format!(
                                    "restart refused, the new daemon could not start: {err}"
                                ),
                            },
                        };
                        let accepted = matches!(answer, Response::Done { .. });
                        let _ = command.reply.send(answer);
                        if accepted {
                            return ("herald restart", Ending::Reexec);
                        }
                        continue;
                    }
                    self.command(command).await;
                }
                _ = watchdog.tick(), if watchdog_every.is_some() => self.notifier.watchdog(),
                _ = status.tick(), if notify => {
                    let report = self.status_report().await;
                    self.notifier.status(&summary(&report));
                }
            }
        }
    }

    async fn command(&mut self, command: Command) {
        let Command { request, reply } = command;
        let response = match request {
            Request::Status => Response::Status(self.status_report().await),
            Request::Reload => match self.reload().await {
                Ok(message) => Response::Done { message },
                Err(message) => Response::Error {
                    code: ErrorCode::InvalidConfig,
                    message,
                },
            },
            request => {
                // The announcer answers VIP requests itself.
                if let Err(err) = self.events.send(Event::Operator { request, reply }).await {
                    if let Event::Operator { reply, .. } = err.0 {
                        let _ = reply.send(internal("the announcer has stopped"));
                    }
                }
                return;
            }
        };
        // The client may have gone away; the work is done regardless.
        let _ = reply.send(response);
    }

    /// The whole status: peers and checks from their tasks' snapshots, VIPs
    /// and drain from the announcer.
    async fn status_report(&self) -> StatusReport {
        let report = StatusReport {
            version: env!("CARGO_PKG_VERSION").to_string(),
            pid: std::process::id(),
            uptime_secs: self.started.elapsed().as_secs(),
            started_unix_ms: self.started_unix_ms,
            restarted: self.restarted,
            config: self.config.source.display().to_string(),
            drain: DrainStatus::None,
            peers: self.peers.iter().map(peer_status).collect(),
            vips: Vec::new(),
            checks: self.checks.iter().map(check_status).collect(),
        };
        let (reply, answer) = oneshot::channel();
        let fallback = report.clone();
        let asked = self.events.send(Event::Status {
            report: Box::new(report),
            reply,
        });
        match asked.await {
            Ok(()) => answer.await.unwrap_or(fallback),
            Err(_) => fallback,
        }
    }

    /// Drains for the configured time before a stop; a second SIGTERM or
    /// SIGINT cuts it short. Commands are still answered meanwhile, so
    /// `herald status` shows the drain, but a reload is refused.
    async fn drain_before_stop(
        &mut self,
        signals: &mut Signals,
        commands: &mut mpsc::Receiver<Command>,
    ) {
        let time = self.config.daemon.drain_time;
        let (reply, answer) = oneshot::channel();
        let request = Request::Drain { time: Some(time) };
        if self
            .events
            .send(Event::Operator { request, reply })
            .await
            .is_err()
        {
            return;
        }
        if let Ok(Response::Done { message }) = answer.await {
            info!(%message, "draining before the stop");
        }
        let done = tokio::time::sleep(time);
        tokio::pin!(done);
        loop {
            tokio::select! {
                () = &mut done => return,
                _ = signals.term.recv() => {
                    warn!("second SIGTERM: stopping without finishing the drain");
                    return;
                }
                _ = signals.int.recv() => {
                    warn!("second SIGINT: stopping without finishing the drain");
                    return;
                }
                Some(command) = commands.recv() => {
                    if matches!(command.request, Request::Reload | Request::Restart) {
                        let _ = command.reply.send(Response::Error {
                            code: ErrorCode::Internal,
                            message: format!(
                                "herald is stopping; {} refused",
                                command.request.command()
                            ),
                        });
                    } else {
                        self.command(command).await;
                    }
                }
            }
        }
    }

    /// Ends every task for a restart: checks at once, so that no verdict
    /// changes what is saved; peers leave their routes with the routers
    /// (graceful restart). Returns the BFD sessions by peer name, still
    /// running, for their state to be saved and for the caller to keep
    /// until the process ends.
    async fn restart(&mut self) -> Vec<(String, SessionHandle)> {
        self.checks.clear();
        let mut waiting: Vec<JoinHandle<()>> = Vec::new();
        let mut carried = Vec::new();
        for peer in self.peers.drain(..) {
            let name = peer.peer.name.clone();
            let (task, bfd) = peer.restart(RESTART_MESSAGE);
            waiting.push(task);
            carried.extend(bfd.map(|bfd| (name, bfd)));
        }
        waiting.append(&mut self.stopping);
        self.wait_for(waiting).await;
        carried
    }

    /// Waits for `tasks`, at most [`SHUTDOWN_GRACE`].
    async fn wait_for(&mut self, tasks: Vec<JoinHandle<()>>) {
        let all = async {
            for task in tasks {
                let _ = task.await;
            }
        };
        if tokio::time::timeout(SHUTDOWN_GRACE, all).await.is_err() {
            warn!(grace = ?SHUTDOWN_GRACE, "some sessions did not close in time; exiting anyway");
        }
    }

    /// Stops every task: checks at once, peers with a withdraw and Cease.
    async fn stop(&mut self) {
        self.checks.clear();
        let cease = Notification::cease(
            iana::cease_subcode::ADMINISTRATIVE_SHUTDOWN,
            SHUTDOWN_MESSAGE,
        );
        let mut waiting: Vec<JoinHandle<()>> = self
            .peers
            .drain(..)
            .map(|peer| peer.stop(cease.clone()))
            .collect();
        waiting.append(&mut self.stopping);
        self.wait_for(waiting).await;
    }
}

/// The shutdown communication (RFC 9003) of a graceful restart.
const RESTART_MESSAGE: &str = "herald is restarting; keep its routes (graceful restart)";

fn peer_status(handle: &PeerHandle) -> PeerStatus {
    let snapshot = handle.status.borrow();
    PeerStatus {
        graceful_restart: snapshot
            .graceful_restart
            .as_ref()
            .map(|(gr, notification)| GracefulRestartStatus {
                peer_restart_time: gr.restart_time,
                notification: *notification,
            }),
        bfd: handle
            .bfd
            .as_ref()
            .map(|bfd| bfd_status(&bfd.status().borrow())),
        name: handle.peer.name.clone(),
        address: handle.peer.address.to_string(),
        asn: handle.peer.asn,
        state: snapshot.state.to_string(),
        uptime_secs: snapshot
            .established_at
            .map(|(since, _)| since.elapsed().as_secs()),
        hold_time: snapshot.hold_time,
        last_error: snapshot.last_error.clone(),
        prefixes_announced: snapshot.announced,
    }
}

fn bfd_status(status: &crate::bfd::SessionStatus) -> BfdStatus {
    let s = &status.snapshot;
    let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    BfdStatus {
        state: bfd_state_name(s.state).to_string(),
        remote_state: bfd_state_name(s.remote_state).to_string(),
        local_diag: s.local_diag.to_string(),
        remote_diag: s.remote_diag.to_string(),
        local_discriminator: s.local_discr,
        remote_discriminator: s.remote_discr,
        tx_interval_ms: s.tx_interval.map(millis),
        detect_time_ms: s.detection_time.map(millis),
        since_secs: status.since.elapsed().as_secs(),
        packets_sent: s.counters.packets_sent,
        packets_received: s.counters.packets_received,
        went_down: s.counters.went_down,
    }
}

/// BFD state names as the status JSON spells them.
fn bfd_state_name(state: crate::bfd::State) -> &'static str {
    match state {
        crate::bfd::State::AdminDown => "admin-down",
        crate::bfd::State::Down => "down",
        crate::bfd::State::Init => "init",
        crate::bfd::State::Up => "up",
    }
}

fn check_status(handle: &CheckHandle) -> CheckStatus {
    let snapshot = handle.status.borrow();
    let last = snapshot.last.as_ref();
    CheckStatus {
        name: handle.check.name.clone(),
        kind: handle.check.kind.name().to_string(),
        healthy: snapshot.healthy,
        last_success: last.map(|l| l.success),
        last_reason: last.map(|l| l.reason.clone()),
        last_elapsed_ms: last.map(|l| u64::try_from(l.elapsed.as_millis()).unwrap_or(u64::MAX)),
        streak: snapshot.streak,
    }
}

/// systemd's one-line STATUS=, e.g. "3/3 peers up, 5/6 VIPs announced".
fn summary(report: &StatusReport) -> String {
    let up = report
        .peers
        .iter()
        .filter(|p| p.state == State::Established.to_string())
        .count();
    let announced = report
        .vips
        .iter()
        .filter(|v| v.state != "withdrawn")
        .count();
    let mut line = format!(
        "{up}/{} peers up, {announced}/{} VIPs announced",
        report.peers.len(),
        report.vips.len()
    );
    match report.drain {
        DrainStatus::None => {}
        DrainStatus::Draining { remaining_secs } => {
            line.push_str(&format!(", draining ({remaining_secs}s left)"));
        }
        DrainStatus::Drained => line.push_str(", drained"),
    }
    line
}

fn internal(message: &str) -> Response {
    Response::Error {
        code: ErrorCode::Internal,
        message: message.to_string(),
    }
}
