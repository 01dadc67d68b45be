//! The BGP session state machine (RFC 4271 §8), without I/O.
//!
//! The per-peer task owns the socket and the timers; it feeds every event to
//! [`Session::handle`] as an [`Input`] and executes the returned [`Action`]s
//! in order (a NOTIFICATION is always sent before the connection is closed).
//! Nothing here reads a clock, sleeps or touches a socket, so every
//! transition is tested with plain function calls.
//!
//! ```text
//!            Start, or ConnectRetryExpired after a failure
//!   +------+ -----------------------------------------> +---------+
//!   |      |                                            |         |
//!   | Idle | <---------- ConnectFailed ---------------- | Connect |
//!   |      |                                            |         |
//!   +------+                                            +---------+
//!    ^ ^ ^                                                   |
//!    | | |                             Connected: send OPEN  |
//!    | | |                                                   v
//!    | | |  error, NOTIFICATION, hold expiry, close    +----------+
//!    | | +-------------------------------------------- | OpenSent |
//!    | |                                               +----------+
//!    | |                                                     |
//!    | |                OPEN accepted: send KEEPALIVE        |
//!    | |                                                     v
//!    | |  error, NOTIFICATION, hold expiry, close   +-------------+
//!    | +------------------------------------------- | OpenConfirm |
//!    |                                              +-------------+
//!    |                                                       |
//!    |                                        KEEPALIVE      |
//!    |                                                       v
//!    |  error, NOTIFICATION, hold expiry, close   +-------------+ KEEPALIVE, UPDATE:
//!    +------------------------------------------- | Established |   restart hold timer
//!                                                 +-------------+ ROUTE-REFRESH: report it
//! ```
//!
//! Every arrow into Idle except `Stop` and `Restart` starts the
//! connect-retry backoff; `Stop` and `Restart` lead from any state to Idle
//! (closing in the way the `graceful` submodule describes) and the session
//! then stays in Idle until `Start`. With BFD configured, Idle is also left
//! only while BFD is Up (the `bfd` submodule).
//!
//! Deliberate departures from the full RFC 4271 FSM:
//!
//! - herald only initiates connections and never listens on port 179
//!   (PassiveTcpEstablishment is off, §8.1.1), so there is never a second
//!   connection to the same peer and no collision detection (§6.8) is
//!   needed. For the same reason the Active state, which waits for an
//!   incoming connection, is never entered and is not modelled.
//! - After a failure the session returns to Idle and restarts on its own
//!   once the connect-retry timer fires: RFC 4271's automatic start with
//!   DampPeerOscillations (Event 6, then Event 13 IdleHoldTimer_Expires;
//!   §8.1.1, §8.1.2), where the Idle hold time is the exponential, jittered
//!   backoff of the `backoff` submodule. The optional
//!   DelayOpen, SendNOTIFICATIONwithoutOPEN and BGP-level connect timeouts
//!   are not used: the I/O layer reports a connect timeout as
//!   [`Input::ConnectFailed`].
//!
//! Two choices the RFCs leave open:
//!
//! - The backoff returns to its base delay when a session reaches
//!   Established. A completed OPEN exchange shows that the peer is
//!   configured for us, and the state machine has no clock to tell how long
//!   a session stayed up. The cost: a peer that accepts the session and
//!   then drops it at once is retried every `connect_retry` (jittered),
//!   which is the plain RFC 4271 ConnectRetryTimer rate.
//! - When the peer offers none of our families, we send OPEN Message Error /
//!   Unsupported Capability (2, 7) listing our multiprotocol capabilities
//!   (RFC 5492 §5): the failure is found while processing the OPEN, and the
//!   peer's operator sees exactly what we need. A Cease such as Other
//!   Configuration Change would claim that our configuration changed, which
//!   is not what happened. RFC 5492 §5 adds that such a peering SHOULD NOT
//!   be re-established automatically; herald retries under the capped
//!   backoff anyway, because it runs unattended and the fix is usually on
//!   the router.

mod backoff;
mod bfd;
mod graceful;
#[cfg(test)]
mod tests;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use bytes::Bytes;

use self::backoff::Backoff;
pub use self::graceful::GracefulRestartConfig;
use super::wire::iana::{
    self, afi, capability, error_code, fsm_subcode, message_type, open_subcode, safi,
};
use super::wire::{
    Capability, Context, DecodeError, Family, GracefulRestart, Message, Notification, Open,
    RouteRefresh,
};

/// Hold timer while waiting for the peer's OPEN: RFC 4271 §8.2.2 asks for "a
/// large value" and suggests 4 minutes.
pub const OPEN_HOLD_TIME: Duration = Duration::from_secs(240);

/// What the session needs to know about its peer and itself.
///
/// Values are taken as valid: the configuration layer rejects a hold time of
/// 1 or 2 seconds and an empty family list before a session is built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    /// Our ASN, sent in the OPEN (and in the 4-octet AS capability).
    pub local_asn: u32,
    /// The ASN the peer must announce; equal to `local_asn` for iBGP.
    pub remote_asn: u32,
    /// Our BGP Identifier; `None` derives it from the local address of
    /// each connection (see [`router_id_for`]).
    pub bgp_id: Option<Ipv4Addr>,
    /// Hold time we propose, in seconds: 0 or at least 3.
    pub hold_time: u16,
    /// Keepalive interval we would like, in seconds; the negotiated one is
    /// never more than a third of the negotiated hold time.
    pub keepalive: u16,
    /// Families we want to carry, each advertised as a multiprotocol
    /// capability.
    pub families: Vec<Family>,
    /// First connect-retry delay after a failure.
    pub connect_retry: Duration,
    /// Longest connect-retry delay, however many failures in a row.
    pub connect_retry_max: Duration,
    /// Advertise the Graceful Restart capability (RFC 4724 §3) with these
    /// settings; `None` leaves it out, and the router drops our routes
    /// whenever the session ends.
    pub graceful_restart: Option<GracefulRestartConfig>,
    /// herald starts after a graceful restart of its own: our OPENs carry
    /// the Restart State bit until a session reaches Established (RFC 4724
    /// §4.1). Meaningless without `graceful_restart`.
    pub restarting: bool,
    /// A BFD session protects the path to this peer: no connection is
    /// opened while BFD is not Up, and [`Input::BfdDown`] ends a running
    /// session. BFD starts out down. Without it, [`Input::BfdUp`] and
    /// [`Input::BfdDown`] are ignored.
    pub bfd: bool,
}

/// Session state (RFC 4271 §8.2.2 names). Active is never entered: see the
/// module documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// No connection; waiting for `Start` or for the connect-retry timer.
    Idle,
    /// A TCP connection is being opened.
    Connect,
    /// Our OPEN was sent; waiting for the peer's.
    OpenSent,
    /// OPENs exchanged; waiting for the peer's KEEPALIVE.
    OpenConfirm,
    /// Routes can be exchanged.
    Established,
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::Idle => "Idle",
            State::Connect => "Connect",
            State::OpenSent => "OpenSent",
            State::OpenConfirm => "OpenConfirm",
            State::Established => "Established",
        })
    }
}

/// Something that happened to the session, as reported by the I/O layer.
// The size difference is `wire::Message`'s (an UPDATE is far larger than a
// KEEPALIVE); boxing the message here would only move that allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// The operator or the daemon wants the session up. RFC 4271 Event 1
    /// (ManualStart). Ignored unless the session is Idle and stopped: it does
    /// not cut a running backoff short. With BFD configured and not Up, the
    /// connection waits for [`Input::BfdUp`].
    Start,
    /// The session must go down and stay down. RFC 4271 Event 2
    /// (ManualStop). Carries the Cease NOTIFICATION to send if a BGP
    /// connection exists, built by the caller with its RFC 9003 shutdown
    /// message. When both sides set the N flag of graceful restart, most
    /// Ceases go out wrapped in Hard Reset so that the router drops our
    /// routes rather than keeping them as stale (RFC 8538 §3, §5.1).
    Stop(Notification),
    /// herald is about to restart and wants the router to keep our routes
    /// until it is back (RFC 4724, RFC 8538): close in the way that makes
    /// the router a graceful restart helper, or when it cannot be one, with
    /// Cease / Administrative Reset carrying this RFC 9003 message. The
    /// session then stays in Idle like after [`Input::Stop`]. A variant of
    /// RFC 4271 Event 2 (ManualStop); the `graceful` submodule lists the
    /// cases. Before the OPENs are exchanged the connection is closed
    /// without a NOTIFICATION: nothing was negotiated that a NOTIFICATION
    /// could serve, and a silent close spoils no route the router may still
    /// keep from an earlier session.
    Restart(String),
    /// The connect-retry (backoff) timer fired. RFC 4271 Event 9
    /// (ConnectRetryTimer_Expires), which with DampPeerOscillations also
    /// stands for Event 13 (IdleHoldTimer_Expires). With BFD configured and
    /// not Up, the connection waits for [`Input::BfdUp`].
    ConnectRetryExpired,
    /// The hold timer fired. RFC 4271 Event 10 (HoldTimer_Expires).
    HoldTimerExpired,
    /// The periodic keepalive timer fired. RFC 4271 Event 11
    /// (KeepaliveTimer_Expires).
    KeepaliveTimerExpired,
    /// Our TCP connection is established. RFC 4271 Events 16
    /// (Tcp_CR_Acked) and 17 (TcpConnectionConfirmed). `local` is our end's
    /// address, kept in [`Negotiated`] for the layers above.
    Connected {
        /// Local address of the connection.
        local: IpAddr,
    },
    /// The TCP connection could not be opened, or timed out. RFC 4271
    /// Event 18 (TcpConnectionFails) before the connection exists.
    ConnectFailed(String),
    /// The peer closed the connection or reading from it failed. RFC 4271
    /// Event 18 (TcpConnectionFails) once the connection exists.
    ConnectionClosed,
    /// A message arrived. RFC 4271 Events 19 (BGPOpen), 24 and 25
    /// (NotifMsgVerErr, NotifMsg), 26 (KeepAliveMsg), 27 (UpdateMsg), and
    /// ROUTE-REFRESH (RFC 2918).
    Received(Message),
    /// A message could not be decoded. RFC 4271 Events 21
    /// (BGPHeaderErr), 22 (BGPOpenMsgErr) and 28 (UpdateMsgErr): its
    /// NOTIFICATION is sent and the connection closed.
    DecodeError(DecodeError),
    /// The BFD session to the peer reached Up (RFC 5880 §6.2): a connection
    /// that was due opens now. Ignored without `bfd` in the config.
    BfdUp,
    /// The BFD session to the peer left Up. A connection in any state is
    /// ended: Cease / BFD Down (RFC 9384 §2) once a BGP connection exists,
    /// then [`DownReason::BfdDown`] and the backoff, as after any failure.
    /// In Idle BFD is only marked down. Ignored without `bfd` in the
    /// config.
    BfdDown,
}

/// Something the I/O layer must do, in the order returned.
// The size difference is `wire::Message`'s (an UPDATE is far larger than a
// KEEPALIVE); boxing the message here would only move that allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Open the TCP connection to the peer now.
    Connect,
    /// Send this message on the connection.
    Send(Message),
    /// Close the connection, or abandon the attempt to open it. Harmless
    /// when there is none.
    CloseConnection,
    /// (Re)start the one-shot connect-retry timer; it reports
    /// [`Input::ConnectRetryExpired`].
    StartConnectRetryTimer(Duration),
    /// Stop the connect-retry timer.
    StopConnectRetryTimer,
    /// (Re)start the one-shot hold timer; it reports
    /// [`Input::HoldTimerExpired`]. Never zero: a negotiated hold time of 0
    /// stops the hold and keepalive timers instead.
    StartHoldTimer(Duration),
    /// Stop the hold timer.
    StopHoldTimer,
    /// Start the periodic keepalive timer: it reports
    /// [`Input::KeepaliveTimerExpired`] every interval until stopped, so the
    /// session never re-arms it.
    StartKeepaliveTimer(Duration),
    /// Stop the keepalive timer.
    StopKeepaliveTimer,
    /// The session is Established: send our routes, then End-of-RIB.
    Established(Negotiated),
    /// The session left OpenSent, OpenConfirm or Established, or a
    /// connection attempt failed, for this reason.
    Down(DownReason),
    /// The peer asked us to re-send our routes of this family (RFC 2918 §4).
    RouteRefreshRequested(Family),
}

/// What both OPENs agreed on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Negotiated {
    /// Hold time in seconds: the smaller of both offers (RFC 4271 §4.2);
    /// 0 means no hold timer and no keepalives.
    pub hold_time: u16,
    /// Keepalive interval in seconds: the configured one, at most a third of
    /// the hold time and at least 1; 0 when the hold time is 0.
    pub keepalive: u16,
    /// Families both sides advertised, in our configured order.
    pub families: Vec<Family>,
    /// Codec settings: 4-octet AS numbers when both sides advertised them
    /// (RFC 6793 §3; we always do).
    pub context: Context,
    /// Both sides advertised route refresh (RFC 2918 §2; we always do).
    pub route_refresh: bool,
    /// The peer's ASN.
    pub peer_asn: u32,
    /// The peer's BGP Identifier.
    pub peer_bgp_id: Ipv4Addr,
    /// Local address of the connection.
    pub local: IpAddr,
    /// The peer's Graceful Restart capability (RFC 4724 §3), if it sent
    /// one.
    pub peer_graceful_restart: Option<GracefulRestart>,
    /// Both sides set the N flag (RFC 8538 §2): a NOTIFICATION other than
    /// Hard Reset, or a hold timer expiry, ends the session as a graceful
    /// restart rather than a full reset (RFC 8538 §4).
    pub notification_gr: bool,
}

/// Why a session went down or a connection attempt failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DownReason {
    /// The peer sent this NOTIFICATION.
    NotificationReceived(Notification),
    /// We sent this NOTIFICATION because of an error.
    NotificationSent(Notification),
    /// The peer was silent for the hold time; we sent Hold Timer Expired.
    HoldTimerExpired,
    /// The peer closed the connection, or reading from it failed.
    ConnectionClosed,
    /// The TCP connection could not be opened.
    ConnectFailed(String),
    /// [`Input::Stop`] took the session down.
    Stopped,
    /// [`Input::Restart`] took the session down, for a graceful restart of
    /// herald.
    Restarting,
    /// BFD reported the path down; we sent Cease / BFD Down if a BGP
    /// connection existed (RFC 9384 §2).
    BfdDown,
}

impl fmt::Display for DownReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DownReason::NotificationReceived(n) => {
                write!(f, "peer sent notification {}", NotificationCodes(n))
            }
            DownReason::NotificationSent(n) => {
                write!(f, "sent notification {}", NotificationCodes(n))
            }
            DownReason::HoldTimerExpired => f.write_str("hold timer expired"),
            DownReason::ConnectionClosed => f.write_str("connection closed"),
            DownReason::ConnectFailed(why) => write!(f, "connect failed: {why}"),
            DownReason::Stopped => f.write_str("stopped"),
            DownReason::Restarting => f.write_str("stopped for a graceful restart"),
            DownReason::BfdDown => f.write_str("BFD session down"),
        }
    }
}

/// The numbers of a NOTIFICATION, for logs: "(code 6, subcode 2)"; for a
/// Hard Reset also those of the NOTIFICATION it wraps (RFC 8538 §3):
/// "(code 6, subcode 9 wrapping code 6, subcode 2, 12 bytes of data)".
struct NotificationCodes<'a>(&'a Notification);

impl fmt::Display for NotificationCodes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let outer = self.0;
        write!(f, "(code {}, subcode {}", outer.code, outer.subcode)?;
        let inner = outer.hard_reset_inner();
        if let Some(inner) = &inner {
            write!(
                f,
                " wrapping code {}, subcode {}",
                inner.code, inner.subcode
            )?;
        }
        let data = inner.as_ref().map_or(outer.data.len(), |n| n.data.len());
        if data > 0 {
            write!(f, ", {data} bytes of data")?;
        }
        f.write_str(")")
    }
}

/// The state together with what is only known in that state.
#[derive(Debug)]
enum Phase {
    Idle,
    Connect,
    OpenSent { local: IpAddr },
    OpenConfirm(Negotiated),
    Established(Negotiated),
}

/// One BGP session with one peer: inputs in, actions out.
#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    phase: Phase,
    /// In Idle after a failure: the connect-retry timer runs and its expiry
    /// reconnects. False when stopped (or never started).
    retry_pending: bool,
    /// In Idle: a connection is wanted (Start came, or the connect-retry
    /// timer fired) but waits for BFD to come up.
    connect_due: bool,
    /// BFD last reported Up. Only consulted when `bfd` is configured.
    bfd_up: bool,
    /// Our next OPEN sets the Restart State bit (RFC 4724 §4.1): true from
    /// `restarting` in the config until a session reaches Established.
    restarting: bool,
    backoff: Backoff,
}

impl Session {
    /// A session in Idle, waiting for [`Input::Start`]. `rng_seed` seeds the
    /// backoff jitter, so that tests are reproducible.
    pub fn new(config: SessionConfig, rng_seed: u64) -> Session {
        let backoff = Backoff::new(config.connect_retry, config.connect_retry_max, rng_seed);
        Session {
            restarting: config.restarting,
            config,
            phase: Phase::Idle,
            retry_pending: false,
            connect_due: false,
            bfd_up: false,
            backoff,
        }
    }

    /// The current RFC 4271 state.
    pub fn state(&self) -> State {
        match self.phase {
            Phase::Idle => State::Idle,
            Phase::Connect => State::Connect,
            Phase::OpenSent { .. } => State::OpenSent,
            Phase::OpenConfirm(_) => State::OpenConfirm,
            Phase::Established(_) => State::Established,
        }
    }

    /// In Idle with a connection due that waits for BFD to come up, so that
    /// a status display can say why nothing happens.
    pub fn awaiting_bfd(&self) -> bool {
        self.connect_due
    }

    /// What was negotiated, from the moment the peer's OPEN is accepted
    /// (OpenConfirm) until the session goes down.
    pub fn negotiated(&self) -> Option<&Negotiated> {
        match &self.phase {
            Phase::OpenConfirm(n) | Phase::Established(n) => Some(n),
            Phase::Idle | Phase::Connect | Phase::OpenSent { .. } => None,
        }
    }

    /// Apply one input; returns the actions to execute, in order. Inputs
    /// that mean nothing in the current state (a timer that fired after
    /// being stopped, a message before the connection exists) return none.
    pub fn handle(&mut self, input: Input) -> Vec<Action> {
        match input {
            Input::Start => self.start(),
            Input::Stop(cease) => self.stop(cease),
            Input::Restart(message) => self.restart(&message),
            Input::ConnectRetryExpired => self.connect_retry_expired(),
            Input::HoldTimerExpired => self.hold_timer_expired(),
            Input::KeepaliveTimerExpired => self.keepalive_timer_expired(),
            Input::Connected { local } => self.connected(local),
            Input::ConnectFailed(why) => self.transport_failed(DownReason::ConnectFailed(why)),
            Input::ConnectionClosed => self.transport_failed(DownReason::ConnectionClosed),
            Input::Received(message) => self.received(message),
            Input::DecodeError(err) => self.decode_error(&err),
            Input::BfdUp => self.bfd_up(),
            Input::BfdDown => self.bfd_down(),
        }
    }

    fn is_connected(&self) -> bool {
        matches!(
            self.phase,
            Phase::OpenSent { .. } | Phase::OpenConfirm(_) | Phase::Established(_)
        )
    }

    fn start(&mut self) -> Vec<Action> {
        if matches!(self.phase, Phase::Idle) && !self.retry_pending && !self.connect_due {
            self.connect()
        } else {
            Vec::new()
        }
    }

    fn connect_retry_expired(&mut self) -> Vec<Action> {
        if matches!(self.phase, Phase::Idle) && self.retry_pending {
            self.retry_pending = false;
            self.connect()
        } else {
            Vec::new()
        }
    }

    /// From Idle: open the connection, or remember that it is due while
    /// BFD is configured and not Up.
    fn connect(&mut self) -> Vec<Action> {
        if self.config.bfd && !self.bfd_up {
            self.connect_due = true;
            Vec::new()
        } else {
            self.connect_due = false;
            self.phase = Phase::Connect;
            vec![Action::Connect]
        }
    }

    /// RFC 4271 §8.2.2, Event 2 in every state.
    fn stop(&mut self, cease: Notification) -> Vec<Action> {
        let cease = self
            .is_connected()
            .then(|| graceful::for_deliberate_close(self.negotiated(), cease));
        self.halt(cease, DownReason::Stopped)
    }

    /// Leave for Idle and stay there: send `notification` if any, close,
    /// stop the timers, report `reason` if a connection or attempt ended.
    fn halt(&mut self, notification: Option<Notification>, reason: DownReason) -> Vec<Action> {
        let mut actions = Vec::new();
        if let Some(notification) = notification {
            actions.push(Action::Send(Message::Notification(notification)));
        }
        let was_idle = matches!(self.phase, Phase::Idle);
        if !was_idle {
            actions.push(Action::CloseConnection);
        }
        actions.extend(self.stop_timers());
        if !was_idle {
            actions.push(Action::Down(reason));
        }
        self.phase = Phase::Idle;
        self.retry_pending = false;
        self.connect_due = false;
        actions
    }

    /// The timers that may be running in the current state.
    fn stop_timers(&self) -> Vec<Action> {
        match self.phase {
            Phase::Idle if self.retry_pending => vec![Action::StopConnectRetryTimer],
            Phase::Idle | Phase::Connect => Vec::new(),
            Phase::OpenSent { .. } => vec![Action::StopHoldTimer],
            Phase::OpenConfirm(_) | Phase::Established(_) => {
                vec![Action::StopHoldTimer, Action::StopKeepaliveTimer]
            }
        }
    }

    /// Leave for Idle after an error: send `notification` if any, close,
    /// stop the timers, report why, and schedule the reconnect.
    fn fail(&mut self, notification: Option<Notification>, reason: DownReason) -> Vec<Action> {
        let mut actions = Vec::new();
        if let Some(notification) = notification {
            actions.push(Action::Send(Message::Notification(notification)));
        }
        actions.push(Action::CloseConnection);
        actions.extend(self.stop_timers());
        actions.push(Action::Down(reason));
        actions.push(Action::StartConnectRetryTimer(self.backoff.next_delay()));
        self.phase = Phase::Idle;
        self.retry_pending = true;
        actions
    }

    /// Report an error we detected with `notification`, then fail.
    fn notify(&mut self, notification: Notification) -> Vec<Action> {
        let reason = DownReason::NotificationSent(notification.clone());
        self.fail(Some(notification), reason)
    }

    fn transport_failed(&mut self, reason: DownReason) -> Vec<Action> {
        if matches!(self.phase, Phase::Idle) {
            Vec::new()
        } else {
            self.fail(None, reason)
        }
    }

    /// RFC 4271 §6.5: Hold Timer Expired, no subcode.
    fn hold_timer_expired(&mut self) -> Vec<Action> {
        if self.is_connected() {
            let notification = notification(error_code::HOLD_TIMER_EXPIRED, 0, Bytes::new());
            self.fail(Some(notification), DownReason::HoldTimerExpired)
        } else {
            Vec::new()
        }
    }

    fn keepalive_timer_expired(&self) -> Vec<Action> {
        match self.phase {
            Phase::OpenConfirm(_) | Phase::Established(_) => {
                vec![Action::Send(Message::Keepalive)]
            }
            Phase::Idle | Phase::Connect | Phase::OpenSent { .. } => Vec::new(),
        }
    }

    /// RFC 4271 §8.2.2, Connect state, Events 16/17: send our OPEN and wait
    /// for the peer's under the large hold time.
    fn connected(&mut self, local: IpAddr) -> Vec<Action> {
        if !matches!(self.phase, Phase::Connect) {
            return Vec::new();
        }
        self.phase = Phase::OpenSent { local };
        vec![
            Action::Send(Message::Open(self.our_open(local))),
            Action::StartHoldTimer(OPEN_HOLD_TIME),
        ]
    }

    /// Our BGP Identifier on a connection from `local`.
    fn bgp_id(&self, local: IpAddr) -> Ipv4Addr {
        self.config.bgp_id.unwrap_or_else(|| router_id_for(local))
    }

    /// Our OPEN: every configured family, route refresh, graceful restart
    /// when configured, and our ASN in the 4-octet AS capability (the codec
    /// puts AS_TRANS in the 2-byte field when it does not fit, RFC 6793
    /// §4.1).
    fn our_open(&self, local: IpAddr) -> Open {
        let mut capabilities: Vec<Capability> = self
            .config
            .families
            .iter()
            .map(|family| Capability::Multiprotocol(*family))
            .collect();
        capabilities.push(Capability::RouteRefresh);
        if let Some(gr) = &self.config.graceful_restart {
            capabilities.push(graceful::capability(
                gr,
                self.restarting,
                &self.config.families,
            ));
        }
        capabilities.push(Capability::FourOctetAs(self.config.local_asn));
        Open {
            version: iana::BGP_VERSION,
            asn: self.config.local_asn,
            hold_time: self.config.hold_time,
            bgp_id: self.bgp_id(local),
            capabilities,
        }
    }

    fn decode_error(&mut self, err: &DecodeError) -> Vec<Action> {
        if self.is_connected() {
            self.notify(err.notification())
        } else {
            Vec::new()
        }
    }

    fn received(&mut self, message: Message) -> Vec<Action> {
        match (&self.phase, message) {
            (Phase::Idle | Phase::Connect, _) => Vec::new(),
            // RFC 4271 §8.2.2: a NOTIFICATION is never answered.
            (_, Message::Notification(n)) => self.fail(None, DownReason::NotificationReceived(n)),
            (Phase::OpenSent { local }, Message::Open(open)) => {
                let local = *local;
                self.open_received(&open, local)
            }
            (Phase::OpenConfirm(_), Message::Keepalive) => self.establish(),
            // herald ignores received routes: an UPDATE, even one the codec
            // marked treat-as-withdraw (RFC 7606), only proves the peer alive.
            (Phase::Established(n), Message::Keepalive | Message::Update(_)) => {
                hold_timer_start(n.hold_time)
            }
            (Phase::Established(n), Message::RouteRefresh(request)) => {
                route_refresh_request(n, request)
            }
            (_, message) => self.unexpected(&message),
        }
    }

    /// RFC 6608 §4: a message the state does not allow. The data is the
    /// message type.
    fn unexpected(&mut self, message: &Message) -> Vec<Action> {
        let subcode = match self.phase {
            Phase::OpenSent { .. } => fsm_subcode::UNEXPECTED_IN_OPEN_SENT,
            Phase::OpenConfirm(_) => fsm_subcode::UNEXPECTED_IN_OPEN_CONFIRM,
            Phase::Established(_) => fsm_subcode::UNEXPECTED_IN_ESTABLISHED,
            Phase::Idle | Phase::Connect => return Vec::new(),
        };
        let data = Bytes::copy_from_slice(&[type_of(message)]);
        self.notify(notification(error_code::FSM, subcode, data))
    }

    /// RFC 4271 §8.2.2, OpenSent, Event 19: check the OPEN, negotiate,
    /// confirm with a KEEPALIVE.
    fn open_received(&mut self, open: &Open, local: IpAddr) -> Vec<Action> {
        if let Some(rejection) = self.check_open(open, local) {
            return self.notify(rejection);
        }
        let negotiated = negotiate(&self.config, open, local);
        if negotiated.families.is_empty() {
            return self.notify(no_common_family(&self.config.families));
        }
        let mut actions = vec![Action::Send(Message::Keepalive)];
        if negotiated.hold_time == 0 {
            actions.push(Action::StopHoldTimer);
            actions.push(Action::StopKeepaliveTimer);
        } else {
            actions.push(Action::StartHoldTimer(secs(negotiated.hold_time)));
            actions.push(Action::StartKeepaliveTimer(secs(negotiated.keepalive)));
        }
        self.phase = Phase::OpenConfirm(negotiated);
        actions
    }

    /// RFC 4271 §6.2 in its order: version, AS, hold time, identifier. The
    /// data field is empty unless §6.2 says otherwise (§6).
    fn check_open(&self, open: &Open, local: IpAddr) -> Option<Notification> {
        let open_error = |subcode, data| notification(error_code::OPEN_MESSAGE, subcode, data);
        if open.version != iana::BGP_VERSION {
            // The largest version we support below the one offered; we
            // support only 4.
            let data = Bytes::copy_from_slice(&u16::from(iana::BGP_VERSION).to_be_bytes());
            return Some(open_error(open_subcode::UNSUPPORTED_VERSION_NUMBER, data));
        }
        if peer_asn(open) != self.config.remote_asn {
            return Some(open_error(open_subcode::BAD_PEER_AS, Bytes::new()));
        }
        if matches!(open.hold_time, 1 | 2) {
            return Some(open_error(
                open_subcode::UNACCEPTABLE_HOLD_TIME,
                Bytes::new(),
            ));
        }
        // RFC 6286 §2.2: any non-zero value, but unique within an AS.
        let ibgp = self.config.local_asn == self.config.remote_asn;
        if open.bgp_id.is_unspecified() || (ibgp && open.bgp_id == self.bgp_id(local)) {
            return Some(open_error(open_subcode::BAD_BGP_IDENTIFIER, Bytes::new()));
        }
        None
    }

    /// RFC 4271 §8.2.2, OpenConfirm, Event 26.
    fn establish(&mut self) -> Vec<Action> {
        let negotiated = match std::mem::replace(&mut self.phase, Phase::Idle) {
            Phase::OpenConfirm(negotiated) => negotiated,
            other => {
                self.phase = other;
                return Vec::new();
            }
        };
        self.backoff.reset();
        // RFC 4724 §4.1: R belongs to the OPENs of the first session after
        // the restart only.
        self.restarting = false;
        let mut actions = hold_timer_start(negotiated.hold_time);
        actions.push(Action::Established(negotiated.clone()));
        self.phase = Phase::Established(negotiated);
        actions
    }
}

fn notification(code: u8, subcode: u8, data: Bytes) -> Notification {
    Notification {
        code,
        subcode,
        data,
    }
}

fn secs(seconds: u16) -> Duration {
    Duration::from_secs(u64::from(seconds))
}

/// Restart the hold timer, unless the negotiated hold time disabled it.
fn hold_timer_start(hold_time: u16) -> Vec<Action> {
    if hold_time == 0 {
        Vec::new()
    } else {
        vec![Action::StartHoldTimer(secs(hold_time))]
    }
}

/// RFC 2918 §4: honour a request for a negotiated family; ignore any other.
fn route_refresh_request(negotiated: &Negotiated, request: RouteRefresh) -> Vec<Action> {
    match family_of(request.afi, request.safi) {
        Some(family) if negotiated.route_refresh && negotiated.families.contains(&family) => {
            vec![Action::RouteRefreshRequested(family)]
        }
        _ => Vec::new(),
    }
}

fn family_of(afi_value: u16, safi_value: u8) -> Option<Family> {
    match (afi_value, safi_value) {
        (afi::IPV4, safi::UNICAST) => Some(Family::Ipv4Unicast),
        (afi::IPV6, safi::UNICAST) => Some(Family::Ipv6Unicast),
        _ => None,
    }
}

fn afi_safi(family: Family) -> (u16, u8) {
    match family {
        Family::Ipv4Unicast => (afi::IPV4, safi::UNICAST),
        Family::Ipv6Unicast => (afi::IPV6, safi::UNICAST),
    }
}

fn type_of(message: &Message) -> u8 {
    match message {
        Message::Open(_) => message_type::OPEN,
        Message::Update(_) => message_type::UPDATE,
        Message::Notification(_) => message_type::NOTIFICATION,
        Message::Keepalive => message_type::KEEPALIVE,
        Message::RouteRefresh(_) => message_type::ROUTE_REFRESH,
    }
}

/// The peer's real ASN: the 4-octet AS capability when present (RFC 6793
/// §4.1), else the 2-byte field.
fn peer_asn(open: &Open) -> u32 {
    open.capabilities
        .iter()
        .find_map(|cap| match cap {
            Capability::FourOctetAs(asn) => Some(*asn),
            _ => None,
        })
        .unwrap_or(open.asn)
}

/// Families the peer offers. A speaker that sends no multiprotocol
/// capability at all is a plain RFC 4271 speaker, which carries IPv4 unicast
/// in the classic UPDATE fields (RFC 4271 §4.3); RFC 4760 §8 makes the
/// capability the way to offer anything else. A speaker that sends only
/// families we do not know offers nothing we can use.
fn peer_families(capabilities: &[Capability]) -> Vec<Family> {
    let mut multiprotocol = false;
    let mut families = Vec::new();
    for cap in capabilities {
        match cap {
            Capability::Multiprotocol(family) => {
                multiprotocol = true;
                families.push(*family);
            }
            Capability::Unknown { code, .. } if *code == capability::MULTIPROTOCOL => {
                multiprotocol = true;
            }
            _ => {}
        }
    }
    if multiprotocol {
        families
    } else {
        vec![Family::Ipv4Unicast]
    }
}

fn negotiate(config: &SessionConfig, open: &Open, local: IpAddr) -> Negotiated {
    let hold_time = config.hold_time.min(open.hold_time);
    // RFC 4271 §4.4 and §10: a third of the hold time is the suggested
    // interval; a smaller configured one is kept; never below 1 second.
    let keepalive = if hold_time == 0 {
        0
    } else {
        config.keepalive.min(hold_time / 3).max(1)
    };
    let theirs = peer_families(&open.capabilities);
    let families = config
        .families
        .iter()
        .copied()
        .filter(|family| theirs.contains(family))
        .collect();
    let four_octet_as = open
        .capabilities
        .iter()
        .any(|cap| matches!(cap, Capability::FourOctetAs(_)));
    Negotiated {
        hold_time,
        keepalive,
        families,
        context: Context { four_octet_as },
        route_refresh: open.capabilities.contains(&Capability::RouteRefresh),
        peer_asn: peer_asn(open),
        peer_bgp_id: open.bgp_id,
        local,
        peer_graceful_restart: open.graceful_restart().cloned(),
        notification_gr: graceful::notification_negotiated(config, open),
    }
}

/// No family in common: OPEN Message Error / Unsupported Capability, whose
/// data must list the capabilities we need (RFC 5492 §5): our multiprotocol
/// capabilities, each as code, length 4, AFI, reserved, SAFI.
fn no_common_family(ours: &[Family]) -> Notification {
    let mut data = Vec::with_capacity(ours.len() * 6);
    for family in ours {
        let (afi_value, safi_value) = afi_safi(*family);
        data.push(capability::MULTIPROTOCOL);
        data.push(4);
        data.extend_from_slice(&afi_value.to_be_bytes());
        data.push(0);
        data.push(safi_value);
    }
    notification(
        error_code::OPEN_MESSAGE,
        open_subcode::UNSUPPORTED_CAPABILITY,
        Bytes::from(data),
    )
}

/// The BGP Identifier `router-id = "auto"` picks for a connection from
/// `local`: the address itself when it is IPv4; for IPv6 its low 32 bits,
/// which on a host's interface address are what tells hosts of one subnet
/// apart (RFC 6286 only asks for a non-zero value unique within the AS).
pub fn router_id_for(local: IpAddr) -> Ipv4Addr {
    match local {
        IpAddr::V4(addr) => addr,
        IpAddr::V6(addr) => {
            let octets = addr.octets();
            Ipv4Addr::new(octets[12], octets[13], octets[14], octets[15])
        }
    }
}
