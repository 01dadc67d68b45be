//! One tokio task per peer: the I/O around the [`Session`] state machine.
//!
//! The task owns everything about its peer: the TCP connection, the read
//! buffer, the FSM timers and the Adj-RIB-Out. It waits in a single
//! `select!` for whichever comes first (connect result, bytes from the
//! peer, a timer, a new desired route set, shutdown), turns it into an FSM
//! [`Input`] and executes the [`Action`]s the FSM returns, in order.
//!
//! herald only initiates connections; it never listens on port 179, so it
//! needs no privileges and connection collisions (RFC 4271 §6.8) cannot
//! happen.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio::time::{timeout, Instant};
use tracing::{debug, info, info_span, warn, Instrument};

use super::adj_rib_out::{AdjRibOut, ExportPolicy};
use super::fsm::{
    Action, DownReason, GracefulRestartConfig, Input, Negotiated, Session, SessionConfig, State,
};
use super::wire::{self, iana, Context, Family, GracefulRestart, Message, Notification, Update};
use crate::bfd::{self, SessionStatus};
use crate::config::{Global, Peer, PeerSecurity, RouterId};
use crate::deadline::sleep_opt;
use crate::metrics::{Direction, Metrics};
use crate::net::sockopt;
use crate::route::RouteSet;

/// How long a TCP connect may take before it counts as failed (RFC 4271
/// Event 18) and the backoff starts.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Upper bound on one write: a peer that stops reading for this long is
/// treated as gone, so a stuck socket can never freeze the task.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// After sending a NOTIFICATION we half-close and wait this long for the
/// peer to close, so that the message is delivered rather than lost to a
/// reset caused by unread input.
const LINGER: Duration = Duration::from_secs(1);
/// Read buffer size: one maximum-size message and its header.
const READ_BUFFER: usize = 2 * wire::MAX_MESSAGE_LEN;

/// What the rest of the daemon may read about a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerSnapshot {
    pub state: State,
    /// When the session reached Established, while it is.
    pub established_at: Option<(Instant, SystemTime)>,
    /// Negotiated hold time, while a session is up.
    pub hold_time: Option<u16>,
    /// Why the last session or attempt ended.
    pub last_error: Option<String>,
    /// Prefixes the peer holds from us.
    pub announced: usize,
    /// The peer's graceful restart capability and whether both sides set
    /// the N flag, while a session is up.
    pub graceful_restart: Option<(GracefulRestart, bool)>,
}

/// How a peer task is told to end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeerStop {
    /// Withdraw every route, then close with this Cease.
    Stop(Notification),
    /// Leave the routes with the router (graceful restart) and close with
    /// this shutdown message where a NOTIFICATION is sent at all.
    Restart(String),
}

/// How a peer task ends, once the daemon says so.
pub type StopSignal = watch::Receiver<Option<PeerStop>>;

type ConnectFuture = Pin<Box<dyn Future<Output = io::Result<TcpStream>> + Send>>;

/// An open TCP connection to the peer with its read buffer.
struct Connection {
    stream: TcpStream,
    buf: BytesMut,
}

/// FSM timers as deadlines; `None` means stopped.
#[derive(Default)]
struct Timers {
    connect_retry: Option<Instant>,
    hold: Option<Instant>,
    keepalive: Option<(Instant, Duration)>,
}

/// What woke the task up.
enum Wakeup {
    Shutdown,
    Bfd,
    Connect(io::Result<TcpStream>),
    Read(io::Result<usize>),
    Timer(Timer),
    RoutesChanged,
}

/// Which FSM timer fired.
enum Timer {
    ConnectRetry,
    Hold,
    Keepalive,
}

impl From<Timer> for Input {
    fn from(timer: Timer) -> Input {
        match timer {
            Timer::ConnectRetry => Input::ConnectRetryExpired,
            Timer::Hold => Input::HoldTimerExpired,
            Timer::Keepalive => Input::KeepaliveTimerExpired,
        }
    }
}

/// The task that keeps one BGP session to one peer.
pub struct PeerTask {
    peer: Peer,
    local_asn: u32,
    session: Session,
    routes: watch::Receiver<Arc<RouteSet>>,
    stop: StopSignal,
    /// The BFD session with the peer, if configured.
    bfd: Option<watch::Receiver<SessionStatus>>,
    /// Whether BFD lets the BGP session run (see [`bfd_permits`]).
    bfd_permits: bool,
    status: watch::Sender<PeerSnapshot>,
    metrics: Metrics,
    connecting: Option<ConnectFuture>,
    conn: Option<Connection>,
    timers: Timers,
    rib: AdjRibOut,
    /// Set while Established: how routes are exported on this session.
    policy: Option<ExportPolicy>,
    /// Codec context: the default until OPENs are exchanged.
    context: Context,
}

impl PeerTask {
    /// Prepares the task and returns it with the receiving end of its
    /// status; nothing happens until [`PeerTask::run`]. Sending a
    /// [`PeerStop`] on `stop` ends the session. `restarting` sets the
    /// Restart State bit of graceful restart in the first OPEN: this
    /// daemon took over from one that restarted.
    pub fn new(
        peer: Peer,
        global: &Global,
        routes: watch::Receiver<Arc<RouteSet>>,
        stop: StopSignal,
        restarting: bool,
        bfd: Option<watch::Receiver<SessionStatus>>,
        metrics: Metrics,
    ) -> (PeerTask, watch::Receiver<PeerSnapshot>) {
        let mut families = Vec::new();
        if peer.ipv4 {
            families.push(Family::Ipv4Unicast);
        }
        if peer.ipv6 {
            families.push(Family::Ipv6Unicast);
        }
        let session = Session::new(
            SessionConfig {
                local_asn: global.asn,
                remote_asn: peer.asn,
                bgp_id: match global.router_id {
                    RouterId::Auto => None,
                    RouterId::Fixed(id) => Some(id),
                },
                hold_time: peer.hold_time,
                keepalive: peer.keepalive,
                families,
                connect_retry: peer.connect_retry,
                connect_retry_max: peer.connect_retry_max,
                // The N flag is always offered: with it a router keeps the
                // routes across a restart that closes with a NOTIFICATION,
                // and a stop still removes them by Hard Reset (RFC 8538).
                graceful_restart: peer.graceful_restart.map(|gr| GracefulRestartConfig {
                    restart_time: gr.restart_time,
                    notification: true,
                }),
                restarting: restarting && peer.graceful_restart.is_some(),
                bfd: bfd.is_some(),
            },
            fastrand::u64(..),
        );
        let (status, status_rx) = watch::channel(PeerSnapshot {
            state: State::Idle,
            established_at: None,
            hold_time: None,
            last_error: None,
            announced: 0,
            graceful_restart: None,
        });
        let task = PeerTask {
            peer,
            local_asn: global.asn,
            session,
            routes,
            stop,
            bfd,
            bfd_permits: false,
            status,
            metrics,
            connecting: None,
            conn: None,
            timers: Timers::default(),
            rib: AdjRibOut::default(),
            policy: None,
            context: Context::default(),
        };
        (task, status_rx)
    }

    /// Runs the session until shutdown is signalled, then withdraws our
    /// routes and closes with Cease / Administrative Shutdown.
    pub async fn run(mut self) {
        let span = info_span!("peer", peer = %self.peer.name);
        async move {
            let start = self.session.handle(Input::Start);
            self.execute(start).await;
            // A session resumed after a restart is Up from the start.
            self.bfd_changed().await;
            loop {
                match self.wait().await {
                    Wakeup::Shutdown => break,
                    Wakeup::Bfd => self.bfd_changed().await,
                    Wakeup::Connect(result) => {
                        let input = match result {
                            Ok(stream) => self.connected(stream),
                            Err(err) => Input::ConnectFailed(err.to_string()),
                        };
                        self.input(input).await;
                    }
                    Wakeup::Read(result) => self.received(result).await,
                    Wakeup::Timer(timer) => self.input(timer.into()).await,
                    Wakeup::RoutesChanged => self.sync_routes().await,
                }
            }
            let how = self.stop.borrow().clone();
            match how {
                Some(PeerStop::Restart(message)) => self.restart(message).await,
                Some(PeerStop::Stop(cease)) => self.stop(cease).await,
                None => self.stop(default_cease()).await,
            }
        }
        .instrument(span)
        .await
    }

    /// Waits for the next thing to do. Every branch is cancel-safe: the
    /// losers of the race lose nothing.
    async fn wait(&mut self) -> Wakeup {
        let established = self.policy.is_some();
        let timers = &mut self.timers;
        tokio::select! {
            biased;
            // A stop is never taken back, and a dropped sender means the
            // daemon is gone: either way, stop.
            _ = self.stop.changed() => Wakeup::Shutdown,
            () = changed(self.bfd.as_mut()) => Wakeup::Bfd,
            result = maybe(self.connecting.as_mut()) => {
                self.connecting = None;
                Wakeup::Connect(result)
            }
            result = read(self.conn.as_mut()) => Wakeup::Read(result),
            () = sleep_opt(timers.hold) => {
                timers.hold = None;
                Wakeup::Timer(Timer::Hold)
            }
            () = sleep_opt(timers.keepalive.map(|(at, _)| at)) => {
                if let Some((at, every)) = timers.keepalive.as_mut() {
                    *at += *every;
                }
                Wakeup::Timer(Timer::Keepalive)
            }
            () = sleep_opt(timers.connect_retry) => {
                timers.connect_retry = None;
                Wakeup::Timer(Timer::ConnectRetry)
            }
            changed = self.routes.changed(), if established => match changed {
                Ok(()) => Wakeup::RoutesChanged,
                Err(_) => Wakeup::Shutdown,
            },
        }
    }

    /// Feeds a change of the BFD session to the FSM: a session that goes
    /// down takes the BGP session down at once (RFC 5882 §4.3), one that
    /// comes up lets it connect.
    async fn bfd_changed(&mut self) {
        let Some(bfd) = self.bfd.as_mut() else {
            return;
        };
        let status = *bfd.borrow_and_update();
        let snapshot = status.snapshot;
        self.metrics.bfd(
            &self.peer.name,
            bfd_state_number(snapshot.state),
            &snapshot.counters,
        );
        let permits = bfd_permits(&snapshot);
        if permits == self.bfd_permits {
            return;
        }
        self.bfd_permits = permits;
        if permits {
            info!(bfd = %snapshot.state, "BFD up: the session may run");
            self.input(Input::BfdUp).await;
        } else {
            warn!(
                bfd = %snapshot.state,
                diag = %snapshot.local_diag,
                "BFD down: closing the session"
            );
            self.input(Input::BfdDown).await;
        }
    }

    fn connected(&mut self, stream: TcpStream) -> Input {
        // BGP messages are small and latency matters more than batching:
        // an UPDATE should leave the moment a VIP changes state.
        if let Err(err) = stream.set_nodelay(true) {
            debug!(%err, "cannot set TCP_NODELAY");
        }
        match stream.local_addr() {
            Ok(local) => {
                debug!(local = %local, "TCP connection established");
                self.conn = Some(Connection {
                    stream,
                    buf: BytesMut::with_capacity(READ_BUFFER),
                });
                Input::Connected { local: local.ip() }
            }
            Err(err) => Input::ConnectFailed(err.to_string()),
        }
    }

    async fn received(&mut self, result: io::Result<usize>) {
        let inputs = match result {
            Ok(0) => vec![Input::ConnectionClosed],
            Err(err) => {
                debug!(%err, "read failed");
                vec![Input::ConnectionClosed]
            }
            Ok(_) => self.parse_buffered(),
        };
        for input in inputs {
            self.input(input).await;
            if self.conn.is_none() {
                break;
            }
        }
    }

    /// Every complete message in the read buffer, in order; a decode error
    /// ends the batch because the session closes on it.
    fn parse_buffered(&mut self) -> Vec<Input> {
        let mut inputs = Vec::new();
        let Some(conn) = self.conn.as_mut() else {
            return inputs;
        };
        loop {
            match wire::try_parse(&mut conn.buf, &self.context) {
                Ok(Some(message)) => {
                    debug!(kind = message.kind(), "received");
                    self.metrics
                        .message(&self.peer.name, Direction::Received, message.kind());
                    inputs.push(Input::Received(message));
                }
                Ok(None) => break,
                Err(err) => {
                    warn!(%err, "malformed message from peer");
                    inputs.push(Input::DecodeError(err));
                    break;
                }
            }
        }
        inputs
    }

    async fn input(&mut self, input: Input) {
        let actions = self.session.handle(input);
        self.execute(actions).await;
        self.publish_status();
    }

    /// Updates the snapshot others read; quiet when nothing changed.
    fn publish_status(&self) {
        let state = self.session.state();
        let announced = self.rib.len();
        let changed = self.status.send_if_modified(|snapshot| {
            let established = state == State::Established;
            let before = (snapshot.state, snapshot.announced);
            snapshot.state = state;
            snapshot.announced = announced;
            if !established {
                snapshot.established_at = None;
            } else if snapshot.established_at.is_none() {
                snapshot.established_at = Some((Instant::now(), SystemTime::now()));
            }
            snapshot.hold_time = self.session.negotiated().map(|n| n.hold_time);
            snapshot.graceful_restart = self.session.negotiated().and_then(|n| {
                let gr = n.peer_graceful_restart.clone()?;
                Some((gr, n.notification_gr))
            });
            before != (state, announced)
        });
        if changed {
            let since = self
                .status
                .borrow()
                .established_at
                .and_then(|(_, at)| at.duration_since(UNIX_EPOCH).ok().map(|d| d.as_secs()));
            self.metrics
                .peer_state(&self.peer.name, state_number(state), since);
        }
    }

    /// Executes FSM actions in order. A failed write is itself an FSM input
    /// (the connection is gone), whose actions run after the current ones.
    ///
    /// A closed connection lingers (see [`linger`]) only after the
    /// whole batch ran, so that the session's end is logged and published
    /// the moment it happens, not after the peer's FIN.
    async fn execute(&mut self, actions: Vec<Action>) {
        let mut queue = VecDeque::from(actions);
        let mut closed = None;
        while let Some(action) = queue.pop_front() {
            let failure = match action {
                Action::Connect => {
                    self.start_connect();
                    None
                }
                Action::Send(message) => self.send(&[message]).await.err(),
                Action::CloseConnection => {
                    self.connecting = None;
                    if let Some(conn) = self.conn.take() {
                        closed = Some(conn);
                    }
                    None
                }
                Action::StartConnectRetryTimer(after) => {
                    self.timers.connect_retry = Some(Instant::now() + after);
                    None
                }
                Action::StopConnectRetryTimer => {
                    self.timers.connect_retry = None;
                    None
                }
                Action::StartHoldTimer(after) => {
                    self.timers.hold = Some(Instant::now() + after);
                    None
                }
                Action::StopHoldTimer => {
                    self.timers.hold = None;
                    None
                }
                Action::StartKeepaliveTimer(every) => {
                    self.timers.keepalive = Some((Instant::now() + every, every));
                    None
                }
                Action::StopKeepaliveTimer => {
                    self.timers.keepalive = None;
                    None
                }
                Action::Established(negotiated) => self.established(negotiated).await.err(),
                Action::Down(reason) => {
                    self.down(&reason);
                    None
                }
                Action::RouteRefreshRequested(family) => self.refresh(family).await.err(),
            };
            if let Some(err) = failure {
                debug!(%err, "write failed");
                queue.extend(self.session.handle(self.write_failure()));
            }
        }
        if let Some(conn) = closed {
            linger(conn).await;
        }
    }

    /// What a failed write means to the FSM: a write that outlived the
    /// hold timer is the peer's silence (the timer could not fire while
    /// the task waited), anything else a lost connection.
    fn write_failure(&self) -> Input {
        match self.timers.hold {
            Some(deadline) if Instant::now() >= deadline => Input::HoldTimerExpired,
            _ => Input::ConnectionClosed,
        }
    }

    fn start_connect(&mut self) {
        let remote = SocketAddr::new(self.peer.address, self.peer.port);
        let local = self.peer.local_address;
        let security = self.peer.security.clone();
        debug!(%remote, "connecting");
        self.connecting = Some(Box::pin(async move {
            let socket = match remote {
                SocketAddr::V4(_) => TcpSocket::new_v4()?,
                SocketAddr::V6(_) => TcpSocket::new_v6()?,
            };
            if let Some(local) = local {
                socket.bind(SocketAddr::new(local, 0))?;
            }
            protect(&socket, remote, &security)?;
            match timeout(CONNECT_TIMEOUT, socket.connect(remote)).await {
                Ok(result) => result,
                Err(_) => Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("no answer within {}s", CONNECT_TIMEOUT.as_secs()),
                )),
            }
        }));
    }

    /// Encodes `messages` into one buffer and writes it with one bounded
    /// write, so a full table leaves in as few syscalls as possible.
    async fn send(&mut self, messages: &[Message]) -> io::Result<()> {
        let Some(conn) = self.conn.as_mut() else {
            return Ok(());
        };
        let mut out = BytesMut::new();
        for message in messages {
            message
                .encode(&self.context, &mut out)
                .map_err(|err| io::Error::new(io::ErrorKind::InvalidData, err))?;
            self.metrics
                .message(&self.peer.name, Direction::Sent, message.kind());
        }
        // A write blocks the task, and with it the hold timer: never wait
        // past the hold deadline.
        let limit = self.timers.hold.map_or(WRITE_TIMEOUT, |deadline| {
            deadline
                .saturating_duration_since(Instant::now())
                .min(WRITE_TIMEOUT)
        });
        match timeout(limit, conn.stream.write_all(&out)).await {
            Ok(result) => result,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "peer stopped reading",
            )),
        }
    }

    async fn send_updates(&mut self, updates: Vec<Update>) -> io::Result<()> {
        if updates.is_empty() {
            return Ok(());
        }
        let count = updates.len();
        let messages: Vec<Message> = updates.into_iter().map(Message::Update).collect();
        self.send(&messages).await?;
        debug!(updates = count, announced = self.rib.len(), "sent");
        Ok(())
    }

    async fn established(&mut self, negotiated: Negotiated) -> io::Result<()> {
        self.context = negotiated.context;
        let policy = self.export_policy(&negotiated);
        info!(
            peer_asn = negotiated.peer_asn,
            peer_id = %negotiated.peer_bgp_id,
            hold_time = negotiated.hold_time,
            families = ?negotiated.families,
            "session established"
        );
        self.rib.clear();
        let desired = Arc::clone(&self.routes.borrow_and_update());
        let mut updates = self.rib.sync(&desired, &policy);
        // End-of-RIB after the initial table, per family (RFC 4724 §2), so
        // the router knows our full set has arrived.
        updates.extend(negotiated.families.iter().map(|f| Update::end_of_rib(*f)));
        self.policy = Some(policy);
        self.send_updates(updates).await?;
        info!(prefixes = self.rib.len(), "initial routes sent");
        Ok(())
    }

    fn export_policy(&self, negotiated: &Negotiated) -> ExportPolicy {
        let local = negotiated.local;
        let next_hop_v4 = self.peer.next_hop_ipv4.or(match local {
            IpAddr::V4(addr) => Some(addr),
            IpAddr::V6(_) => None,
        });
        let next_hop_v6 = self.peer.next_hop_ipv6.or(match local {
            IpAddr::V6(addr) => Some(addr),
            IpAddr::V4(_) => None,
        });
        ExportPolicy {
            local_asn: self.local_asn,
            ibgp: self.peer.is_ibgp(self.local_asn),
            next_hop_v4: next_hop_v4.filter(|_| self.peer.ipv4),
            next_hop_v6: next_hop_v6.filter(|_| self.peer.ipv6),
            families: negotiated.families.clone(),
            context: negotiated.context,
        }
    }

    fn down(&mut self, reason: &DownReason) {
        let why = reason.to_string();
        self.status
            .send_modify(|snapshot| snapshot.last_error = Some(why));
        if self.policy.take().is_some() {
            warn!(%reason, withdrawn = self.rib.len(), "session down");
        } else {
            debug!(%reason, state = ?self.session.state(), "session attempt failed");
        }
        self.rib.clear();
        self.context = Context::default();
    }

    async fn sync_routes(&mut self) {
        let Some(policy) = self.policy.as_ref() else {
            return;
        };
        let desired = Arc::clone(&self.routes.borrow_and_update());
        let updates = self.rib.sync(&desired, policy);
        if let Err(err) = self.send_updates(updates).await {
            debug!(%err, "write failed");
            self.input(self.write_failure()).await;
        }
    }

    async fn refresh(&mut self, family: Family) -> io::Result<()> {
        let Some(policy) = self.policy.as_ref() else {
            return Ok(());
        };
        info!(%family, "route refresh requested");
        let updates = self.rib.refresh(family, policy);
        self.send_updates(updates).await
    }

    /// Clean stop: withdraw explicitly, then Cease / Administrative
    /// Shutdown with a message the router can log (RFC 9003).
    async fn stop(&mut self, cease: Notification) {
        if let Some(policy) = self.policy.clone() {
            let updates = self.rib.withdraw_all(&policy);
            if let Err(err) = self.send_updates(updates).await {
                debug!(%err, "could not withdraw before stopping");
            }
        }
        info!(cease = %cease, "closing the session");
        let actions = self.session.handle(Input::Stop(cease));
        self.execute(actions).await;
        self.publish_status();
    }

    /// Graceful restart of herald: no withdrawal; the FSM closes in the
    /// way that leaves our routes with the router (RFC 4724, RFC 8538).
    async fn restart(&mut self, message: String) {
        info!(
            routes = self.rib.len(),
            "closing the session for a restart; the router keeps the routes"
        );
        let actions = self.session.handle(Input::Restart(message));
        self.execute(actions).await;
        self.publish_status();
    }
}

/// The Cease of a stop nobody specified (the daemon went away).
fn default_cease() -> Notification {
    Notification::cease(
        iana::cease_subcode::ADMINISTRATIVE_SHUTDOWN,
        SHUTDOWN_MESSAGE,
    )
}

/// The shutdown communication of a clean stop of herald (RFC 9003 §2).
pub const SHUTDOWN_MESSAGE: &str = "herald is shutting down";

/// FSM state as a metric value: 0 Idle, 1 Connect, 2 Active, 3 OpenSent,
/// 4 OpenConfirm, 5 Established (the order of RFC 4271 §8.2.2).
fn state_number(state: State) -> u8 {
    match state {
        State::Idle => 0,
        State::Connect => 1,
        State::OpenSent => 3,
        State::OpenConfirm => 4,
        State::Established => 5,
    }
}

/// Applies the peer's TCP MD5 key and TTL settings to a socket before it
/// connects, so that the SYN already carries them. The key never appears
/// in an error.
fn protect(socket: &TcpSocket, remote: SocketAddr, security: &PeerSecurity) -> io::Result<()> {
    let context = |what: &'static str| {
        move |err: io::Error| io::Error::new(err.kind(), format!("{what}: {err}"))
    };
    if let Some(key) = &security.password {
        sockopt::set_md5_key(socket, remote, key.expose()).map_err(context("TCP MD5 signature"))?;
    }
    if security.ttl_security {
        sockopt::set_ttl(socket, remote, sockopt::GTSM_TTL).map_err(context("TTL"))?;
        sockopt::set_min_ttl(socket, remote, sockopt::GTSM_TTL).map_err(context("minimum TTL"))?;
    } else if let Some(ttl) = security.ttl {
        sockopt::set_ttl(socket, remote, ttl).map_err(context("TTL"))?;
    }
    Ok(())
}

/// Half-closes after our last message and waits briefly for the peer's
/// FIN, so that a NOTIFICATION we just wrote is not destroyed by a reset
/// (the kernel resets connections closed with unread input).
async fn linger(mut conn: Connection) {
    let drain = async {
        conn.stream.shutdown().await?;
        let mut scratch = [0u8; 4096];
        while conn.stream.read(&mut scratch).await? > 0 {}
        io::Result::Ok(())
    };
    // Either outcome (peer closed, error, time up) ends the connection.
    let _ = timeout(LINGER, drain).await;
}

/// Whether BFD lets the BGP session run: while Up, and while the peer
/// holds it administratively down, which RFC 5882 §3.2 says is not a
/// failure of the path and must not take the client session down.
fn bfd_permits(snapshot: &bfd::Snapshot) -> bool {
    snapshot.state == bfd::State::Up || snapshot.remote_state == bfd::State::AdminDown
}

/// BFD state as a metric value: the wire codes of RFC 5880 §4.1.
fn bfd_state_number(state: bfd::State) -> u8 {
    match state {
        bfd::State::AdminDown => 0,
        bfd::State::Down => 1,
        bfd::State::Init => 2,
        bfd::State::Up => 3,
    }
}

/// Waits for the next change of a BFD session, if there is one; a session
/// whose task is gone never changes again.
async fn changed(bfd: Option<&mut watch::Receiver<SessionStatus>>) {
    if let Some(bfd) = bfd {
        if bfd.changed().await.is_ok() {
            return;
        }
    }
    std::future::pending().await
}

/// Awaits the future if there is one, else never completes.
async fn maybe(future: Option<&mut ConnectFuture>) -> io::Result<TcpStream> {
    match future {
        Some(future) => future.await,
        None => std::future::pending().await,
    }
}

/// Reads more bytes if connected, else never completes.
async fn read(conn: Option<&mut Connection>) -> io::Result<usize> {
    match conn {
        Some(conn) => conn.stream.read_buf(&mut conn.buf).await,
        None => std::future::pending().await,
    }
}
