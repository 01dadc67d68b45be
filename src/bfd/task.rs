//! One tokio task per session: the I/O around the [`Session`] state
//! machine, and the [`SessionHandle`] the rest of the daemon holds.
//!
//! The task owns the session, its send socket and its two timers. It
//! waits in one `select!` for a packet from the [`super::Mux`], a command
//! from the handle or a timer, feeds it to [`Session::handle`], publishes
//! the new status and then executes the actions: the status goes out
//! before any packet, so that the BGP layer learns of a Down at once.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tracing::{debug, info, warn};

use super::iana;
use super::mux::{AbortOnDrop, Receivers, Registration};
use super::packet::ControlPacket;
use super::session::{Action, Input, ResumeState, Session, Snapshot};
use super::settings::{Settings, SettingsError};
use crate::deadline::sleep_opt;
use crate::net::sockopt;

/// Tries at a free source port before giving up.
const PORT_ATTEMPTS: usize = 16;

/// What the daemon can read about one session at any time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionStatus {
    /// The remote system.
    pub peer: IpAddr,
    /// The state machine's view.
    pub snapshot: Snapshot,
    /// When the session entered its current state (or was created).
    pub since: Instant,
    /// What to save to resume the session after a restart, while Up.
    pub resume: Option<ResumeState>,
}

/// The daemon's side of one running session. Dropping it stops the
/// session (without telling the peer: call [`SessionHandle::admin_down`]
/// first for an orderly end) and removes it from the [`super::Mux`].
#[derive(Debug)]
pub struct SessionHandle {
    peer: IpAddr,
    status: watch::Receiver<SessionStatus>,
    commands: mpsc::UnboundedSender<Input>,
    // Fields drop in this order: the task stops before the session leaves
    // the registry.
    _task: AbortOnDrop,
    _registration: Registration,
    _receivers: Arc<Receivers>,
}

impl SessionHandle {
    /// The remote system's address.
    pub fn peer(&self) -> IpAddr {
        self.peer
    }

    /// The session's status, updated as soon as anything changes; wait on
    /// it with `changed()` or `wait_for()`. Counters change with every
    /// packet, so wait for the field of interest rather than any change.
    pub fn status(&self) -> watch::Receiver<SessionStatus> {
        self.status.clone()
    }

    /// The state machine's view right now.
    pub fn snapshot(&self) -> Snapshot {
        self.status.borrow().snapshot
    }

    /// Changes the timers; while Up this runs a Poll Sequence (RFC 5880
    /// §6.8.3). Invalid settings are refused and change nothing.
    pub fn set_timers(&self, settings: Settings) -> Result<(), SettingsError> {
        settings.validate()?;
        self.command(Input::SetTimers(settings));
        Ok(())
    }

    /// Takes the session administratively down (RFC 5880 §6.8.16): the
    /// peer is told with AdminDown packets for one Detection Time, then
    /// the session stays silent until [`SessionHandle::admin_up`].
    pub fn admin_down(&self) {
        self.command(Input::AdminDown);
    }

    /// Lets an administratively down session start again from Down.
    pub fn admin_up(&self) {
        self.command(Input::AdminUp);
    }

    /// The latest state to save for [`super::Mux::register`] after a
    /// restart; `None` unless the session is Up.
    pub fn resume_state(&self) -> Option<ResumeState> {
        self.status.borrow().resume
    }

    fn command(&self, input: Input) {
        // The task only ends when this handle aborts it.
        let _ = self.commands.send(input);
    }
}

/// Spawns the task of a registered session.
pub(super) fn spawn(
    peer: IpAddr,
    session: Session,
    socket: UdpSocket,
    inbound: mpsc::Receiver<Input>,
    registration: Registration,
    receivers: Arc<Receivers>,
) -> SessionHandle {
    // Zero (unknown) only if the kernel cannot say, which does not happen
    // for a bound socket.
    let source_port = socket.local_addr().map_or(0, |a| a.port());
    let (status_tx, status) = watch::channel(SessionStatus {
        peer,
        snapshot: session.snapshot(),
        since: Instant::now(),
        resume: with_port(session.resume_state(), source_port),
    });
    let (commands, commands_rx) = mpsc::unbounded_channel();
    let task = SessionTask {
        peer,
        session,
        socket,
        source_port,
        inbound,
        commands: commands_rx,
        status: status_tx,
        tx_at: None,
        detect_at: None,
        send_failing: false,
    };
    SessionHandle {
        peer,
        status,
        commands,
        _task: AbortOnDrop(tokio::spawn(task.run())),
        _registration: registration,
        _receivers: receivers,
    }
}

fn with_port(resume: Option<ResumeState>, source_port: u16) -> Option<ResumeState> {
    resume.map(|state| ResumeState {
        source_port,
        ..state
    })
}

/// Opens the socket a session sends from (RFC 5881 §4): a source port
/// in 49152–65535 and kept for the session's life, TTL (hop limit) 255
/// (§5), connected to the peer. `preferred` is tried first (a resumed
/// session's old port), then random ports.
pub(super) fn open_sender(
    peer: SocketAddr,
    local: Option<IpAddr>,
    preferred: Option<u16>,
    rng: &mut fastrand::Rng,
) -> io::Result<UdpSocket> {
    let local = local.unwrap_or(match peer {
        SocketAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        SocketAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    });
    let range = iana::SOURCE_PORT_MIN..=iana::SOURCE_PORT_MAX;
    let preferred = preferred.filter(|port| range.contains(port));
    let random = std::iter::repeat_with(|| rng.u16(range.clone()));
    for port in preferred.into_iter().chain(random).take(PORT_ATTEMPTS) {
        let socket = Socket::new(Domain::for_address(peer), Type::DGRAM, Some(Protocol::UDP))?;
        let tos = u32::from(iana::NETWORK_CONTROL_TOS);
        if peer.is_ipv6() {
            socket.set_only_v6(true)?;
            socket.set_tclass_v6(tos)?;
        } else {
            socket.set_tos_v4(tos)?;
        }
        sockopt::set_ttl(&socket, peer, iana::SINGLE_HOP_TTL)?;
        match socket.bind(&SocketAddr::new(local, port).into()) {
            Ok(()) => {
                socket.connect(&peer.into())?;
                socket.set_nonblocking(true)?;
                return UdpSocket::from_std(socket.into());
            }
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AddrInUse,
        format!("no free BFD source port after {PORT_ATTEMPTS} tries"),
    ))
}

/// The task of one session; see the module documentation.
struct SessionTask {
    peer: IpAddr,
    session: Session,
    socket: UdpSocket,
    source_port: u16,
    inbound: mpsc::Receiver<Input>,
    commands: mpsc::UnboundedReceiver<Input>,
    status: watch::Sender<SessionStatus>,
    tx_at: Option<Instant>,
    detect_at: Option<Instant>,
    /// Whether the last send failed, so that a lasting failure is logged
    /// once rather than with every packet.
    send_failing: bool,
}

impl SessionTask {
    /// Runs until the handle aborts it.
    async fn run(mut self) {
        let actions = self.session.start();
        self.execute(actions).await;
        loop {
            let input = tokio::select! {
                Some(input) = self.inbound.recv() => {
                    if let Input::Received(packet) = &input {
                        debug!(peer = %self.peer, ?packet, "BFD packet received");
                    }
                    input
                }
                Some(input) = self.commands.recv() => input,
                () = sleep_opt(self.tx_at) => {
                    self.tx_at = None;
                    Input::TxTimerExpired
                }
                () = sleep_opt(self.detect_at) => {
                    self.detect_at = None;
                    Input::DetectTimerExpired
                }
            };
            let actions = self.session.handle(input);
            self.execute(actions).await;
        }
    }

    async fn execute(&mut self, actions: Vec<Action>) {
        let now = Instant::now();
        let mut state_changed = false;
        let mut packets = Vec::new();
        for action in actions {
            match action {
                Action::Send(packet) => packets.push(packet),
                Action::ArmTx(delay) => self.tx_at = Some(now + delay),
                Action::DisarmTx => self.tx_at = None,
                Action::ArmDetect(time) => self.detect_at = Some(now + time),
                Action::DisarmDetect => self.detect_at = None,
                Action::StateChanged { from, to, diag } => {
                    info!(peer = %self.peer, %from, %to, %diag, "BFD session state changed");
                    state_changed = true;
                }
            }
        }
        self.publish(state_changed, now);
        for packet in packets {
            self.send(&packet).await;
        }
    }

    fn publish(&self, state_changed: bool, now: Instant) {
        let snapshot = self.session.snapshot();
        let resume = with_port(self.session.resume_state(), self.source_port);
        self.status.send_if_modified(|status| {
            let changed = state_changed || status.snapshot != snapshot || status.resume != resume;
            if state_changed {
                status.since = now;
            }
            status.snapshot = snapshot;
            status.resume = resume;
            changed
        });
    }

    async fn send(&mut self, packet: &ControlPacket) {
        match self.socket.send(&packet.encode()).await {
            Ok(_) => {
                debug!(peer = %self.peer, ?packet, "BFD packet sent");
                if self.send_failing {
                    info!(peer = %self.peer, "BFD packets go out again");
                    self.send_failing = false;
                }
            }
            // Typically ECONNREFUSED: the peer answered an earlier packet
            // with ICMP port unreachable, as it does until BFD runs there.
            Err(error) if self.send_failing => {
                debug!(peer = %self.peer, %error, "cannot send BFD packet");
            }
            Err(error) => {
                warn!(peer = %self.peer, %error, "cannot send BFD packet");
                self.send_failing = true;
            }
        }
    }
}
