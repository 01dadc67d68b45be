//! One BFD session in Asynchronous mode (RFC 5880 §6.8), without I/O.
//!
//! The per-session task feeds every event to [`Session::handle`] as an
//! [`Input`] and executes the returned [`Action`]s in order. Nothing here
//! reads a clock or touches a socket: timers are actions, and the jitter
//! comes from a random generator seeded by the caller, so every rule below
//! is tested with plain function calls.
//!
//! ```text
//!                             +--+
//!                             |  | Up, AdminDown, timer
//!                             |  V
//!                     Down  +------+  Init
//!              +----------- |      | ------------+
//!              |            | Down |             |
//!              |  +-------> |      | <--------+  |
//!              |  |         +------+          |  |
//!              |  |                           |  |
//!              |  |               Down,       |  |
//!              |  |  AdminDown,   AdminDown,  |  |
//!              |  |  timer        timer       |  |
//!              V  |                           |  V
//!            +------+                       +------+
//!       +--- |      |                       |      | ---+
//!  Down |    | Init | --------------------> |  Up  |    | Init, Up
//!       +--> |      | Init, Up              |      | <--+
//!            +------+                       +------+
//! ```
//!
//! (RFC 5880 §6.2; arrows are the remote state received, or the detection
//! timer. AdminDown is entered and left only by the local operator.)
//!
//! The state variables are those of RFC 5880 §6.8.1, with two helpers that
//! §6.8.3 implies: the Desired Min TX value that governs our transmit
//! interval and the Required Min RX value that governs the Detection Time.
//! Each equals the advertised variable except while a Poll Sequence holds
//! back a change (see [`Input::SetTimers`]).
//!
//! Choices the RFC leaves open:
//!
//! - herald takes the Active role (§6.1): it transmits from the start,
//!   without waiting to hear from the remote system.
//! - Poll Sequences are only started while Up. Outside Up nothing waits for
//!   a Final (the holding rules of §6.8.3 apply only to Up), so a change
//!   simply rides on the next packets; a sequence under way is abandoned
//!   when the session leaves Up, as the Down state in the same packets
//!   already tells the remote system that everything restarts.
//! - A change requested during a Poll Sequence waits for that sequence to
//!   end and then starts its own, so a Final never acknowledges values the
//!   remote system has not seen.
//! - No packet is sent outside the periodic schedule except the Final that
//!   answers a Poll (§6.8.7) and the first packet of a session.
//! - When a Detection Time passes in silence, bfd.RemoteDiscr goes back to
//!   zero (§6.8.1), and so do the other remote variables, so that a remote
//!   system that comes back is met as a new one.
//! - bfd.LocalDiag is cleared on reaching Up: it explains the last time the
//!   session was not Up.
//! - herald never uses Demand mode (bfd.DemandMode stays 0), but honours a
//!   remote system that does: §6.8.7 forbids periodic packets then.
//! - After AdminDown, packets are sent for one Detection Time (§6.8.16
//!   asks for at least that) and then the session stays silent.

#[cfg(test)]
mod tests;

use std::num::NonZeroU32;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::iana::interval::{INITIAL_REMOTE_MIN_RX_US, SLOW_TX_US};
use super::packet::{ControlPacket, Diagnostic, State};
use super::settings::{Settings, Timers};

/// What a session must remember across a restart of herald to come back
/// Up without the remote system noticing: both discriminators, the timers
/// last received, and our timers in effect. With the latter, a change the
/// remote system has not acknowledged yet, or a configuration changed
/// across the restart, is made again by the rules of RFC 5880 §6.8.3.
/// Intervals in microseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResumeState {
    /// bfd.LocalDiscr.
    pub local_discr: u32,
    /// bfd.RemoteDiscr.
    pub remote_discr: u32,
    /// bfd.RemoteMinRxInterval.
    pub remote_min_rx_us: u32,
    /// The remote system's last Desired Min TX Interval.
    pub remote_desired_min_tx_us: u32,
    /// The remote system's last Detect Mult.
    pub remote_detect_mult: u8,
    /// The Desired Min TX Interval in effect: bfd.DesiredMinTxInterval,
    /// or the value a Poll Sequence under way still holds.
    pub desired_min_tx_us: u32,
    /// The Required Min RX Interval in effect, likewise.
    pub required_min_rx_us: u32,
    /// The UDP source port the session sent from, to be kept across the
    /// restart (RFC 5881 §4: one port for a session's life). The I/O layer
    /// fills it in; [`Session`] ignores it and reports zero, meaning
    /// unknown.
    #[serde(default)]
    pub source_port: u16,
}

/// Something that happened to the session. Each variant names the RFC
/// 5880 section that says what it does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// A packet for this session passed the packet-local checks and the
    /// demultiplexing of §6.8.6; the rest of §6.8.6 happens here.
    Received(ControlPacket),
    /// A packet from the remote system's address failed a reception check
    /// (§6.8.6, RFC 5881 §5); it is only counted.
    Discarded,
    /// The transmit timer fired: send the periodic packet (§6.8.7).
    TxTimerExpired,
    /// The detection timer fired: a Detection Time passed without a
    /// packet (§6.8.4).
    DetectTimerExpired,
    /// New timers from the operator (§6.8.3, §6.8.12). While Up a change of
    /// either interval starts a Poll Sequence; a longer transmit interval
    /// waits for its Final, and so does a shorter Detection Time.
    SetTimers(Settings),
    /// Take the session administratively down (§6.8.16).
    AdminDown,
    /// Let an administratively down session start again from Down
    /// (§6.8.16).
    AdminUp,
}

/// Something the I/O layer must do, in the order given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Send this packet to the remote system now.
    Send(ControlPacket),
    /// (Re)start the transmit timer: the next periodic packet is due after
    /// this delay, jitter included. A fired timer stays off until armed
    /// again.
    ArmTx(Duration),
    /// Stop the transmit timer: no periodic packets for now (§6.8.7).
    DisarmTx,
    /// (Re)start the detection timer with this Detection Time (§6.8.4).
    ArmDetect(Duration),
    /// Stop the detection timer.
    DisarmDetect,
    /// bfd.SessionState changed; `diag` is the new bfd.LocalDiag.
    StateChanged {
        /// The state left.
        from: State,
        /// The state entered.
        to: State,
        /// Why.
        diag: Diagnostic,
    },
}

/// Running totals for status and metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Packets handed to the I/O layer to send.
    pub packets_sent: u64,
    /// Packets delivered to this session, discarded ones included.
    pub packets_received: u64,
    /// Packets from the remote system that were discarded.
    pub packets_discarded: u64,
    /// Times the session reached Up.
    pub went_up: u64,
    /// Times the session left Up.
    pub went_down: u64,
}

/// What a status command or metrics show about one session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// bfd.SessionState.
    pub state: State,
    /// bfd.RemoteSessionState.
    pub remote_state: State,
    /// bfd.LocalDiag.
    pub local_diag: Diagnostic,
    /// The Diag field of the last packet received.
    pub remote_diag: Diagnostic,
    /// bfd.LocalDiscr.
    pub local_discr: u32,
    /// bfd.RemoteDiscr; zero while the remote system is unknown.
    pub remote_discr: u32,
    /// The negotiated transmit interval before jitter, while periodic
    /// packets are sent.
    pub tx_interval: Option<Duration>,
    /// The Detection Time, while the remote system is known.
    pub detection_time: Option<Duration>,
    /// The remote system's Detect Mult, while it is known.
    pub remote_detect_mult: Option<u8>,
    /// A Poll Sequence is under way.
    pub poll_active: bool,
    /// Totals since the session was created.
    pub counters: Counters,
}

/// The timers of the remote system's last packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Remote {
    desired_min_tx: u32,
    detect_mult: u8,
}

/// One BFD session; see the module documentation.
#[derive(Clone, Debug)]
pub struct Session {
    /// The operator's settings, in wire units.
    config: Timers,
    /// bfd.SessionState.
    state: State,
    /// bfd.RemoteSessionState.
    remote_state: State,
    /// bfd.LocalDiscr.
    local_discr: u32,
    /// bfd.RemoteDiscr.
    remote_discr: u32,
    /// bfd.LocalDiag.
    local_diag: Diagnostic,
    remote_diag: Diagnostic,
    /// bfd.DesiredMinTxInterval, as advertised.
    desired_min_tx: u32,
    /// bfd.RequiredMinRxInterval, as advertised.
    required_min_rx: u32,
    /// bfd.DetectMult.
    detect_mult: u8,
    /// bfd.RemoteMinRxInterval.
    remote_min_rx: u32,
    /// bfd.RemoteDemandMode.
    remote_demand_mode: bool,
    /// The remote system's timers; `None` until a packet arrives, and again
    /// after a Detection Time of silence.
    remote: Option<Remote>,
    /// The Desired Min TX that sets our transmit interval (§6.8.3).
    tx_basis: u32,
    /// The Required Min RX that sets the Detection Time (§6.8.3).
    rx_basis: u32,
    /// A Poll Sequence is under way (§6.5).
    poll: bool,
    /// The interval the transmit timer was last armed for, while armed.
    armed_tx: Option<u32>,
    /// After AdminDown: how much longer to keep sending, in microseconds.
    admin_budget_us: Option<u64>,
    counters: Counters,
    rng: fastrand::Rng,
}

impl Session {
    /// A new session in Down (RFC 5880 §6.8.1 initial values) with the
    /// given bfd.LocalDiscr, which must be unique among this system's
    /// sessions. `seed` drives the transmit jitter.
    pub fn new(settings: Settings, local_discr: NonZeroU32, seed: u64) -> Session {
        let config = settings.timers();
        let desired_min_tx = config.desired_min_tx.max(SLOW_TX_US);
        Session {
            config,
            state: State::Down,
            remote_state: State::Down,
            local_discr: local_discr.get(),
            remote_discr: 0,
            local_diag: Diagnostic::NoDiagnostic,
            remote_diag: Diagnostic::NoDiagnostic,
            desired_min_tx,
            required_min_rx: config.required_min_rx,
            detect_mult: config.detect_mult,
            remote_min_rx: INITIAL_REMOTE_MIN_RX_US,
            remote_demand_mode: false,
            remote: None,
            tx_basis: desired_min_tx,
            rx_basis: config.required_min_rx,
            poll: false,
            armed_tx: None,
            admin_budget_us: None,
            counters: Counters::default(),
            rng: fastrand::Rng::with_seed(seed),
        }
    }

    /// A session that continues, Up, where an earlier herald process left
    /// off, so that the remote system's session survives the restart if it
    /// happens within its Detection Time. If `settings` differ from what
    /// was advertised before, the change is made by the usual rules of
    /// RFC 5880 §6.8.3 (a Poll Sequence). `None` if `resume` has a zero
    /// discriminator or multiplier and so cannot come from
    /// [`Session::resume_state`].
    pub fn resume(settings: Settings, resume: ResumeState, seed: u64) -> Option<Session> {
        let local_discr = NonZeroU32::new(resume.local_discr)?;
        if resume.remote_discr == 0 || resume.remote_detect_mult == 0 {
            return None;
        }
        let mut session = Session::new(settings, local_discr, seed);
        session.state = State::Up;
        session.remote_state = State::Up;
        session.remote_discr = resume.remote_discr;
        session.remote_min_rx = resume.remote_min_rx_us;
        session.remote = Some(Remote {
            desired_min_tx: resume.remote_desired_min_tx_us,
            detect_mult: resume.remote_detect_mult,
        });
        session.desired_min_tx = resume.desired_min_tx_us.max(1);
        session.required_min_rx = resume.required_min_rx_us.max(1);
        session.tx_basis = session.desired_min_tx;
        session.rx_basis = session.required_min_rx;
        session.apply_config(&mut Vec::new());
        Some(session)
    }

    /// The first actions of the session: its first packet at once and the
    /// transmit timer, plus the detection timer for a resumed session.
    /// Call once, before any [`Session::handle`].
    pub fn start(&mut self) -> Vec<Action> {
        let mut actions = Vec::new();
        if self.tx_interval_us().is_some() {
            self.send(&mut actions, false);
            self.arm_tx(&mut actions);
        }
        if let Some(time) = self.detection_time() {
            actions.push(Action::ArmDetect(time));
        }
        actions
    }

    /// Feeds one input to the session; returns what to do, in order.
    pub fn handle(&mut self, input: Input) -> Vec<Action> {
        let mut actions = Vec::new();
        match input {
            Input::Received(packet) => self.receive(packet, &mut actions),
            Input::Discarded => {
                self.counters.packets_received += 1;
                self.counters.packets_discarded += 1;
            }
            Input::TxTimerExpired => self.transmit(&mut actions),
            Input::DetectTimerExpired => self.detection_expired(&mut actions),
            Input::SetTimers(settings) => {
                self.config = settings.timers();
                self.apply_config(&mut actions);
            }
            Input::AdminDown if self.state != State::AdminDown => {
                self.set_state(
                    State::AdminDown,
                    Diagnostic::AdministrativelyDown,
                    &mut actions,
                );
            }
            Input::AdminUp if self.state == State::AdminDown => {
                self.admin_budget_us = None;
                self.set_state(State::Down, Diagnostic::NoDiagnostic, &mut actions);
                self.retune_tx(&mut actions);
            }
            Input::AdminDown | Input::AdminUp => {}
        }
        actions
    }

    /// bfd.SessionState.
    pub fn state(&self) -> State {
        self.state
    }

    /// Everything a status command or metrics would show.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            state: self.state,
            remote_state: self.remote_state,
            local_diag: self.local_diag,
            remote_diag: self.remote_diag,
            local_discr: self.local_discr,
            remote_discr: self.remote_discr,
            tx_interval: self
                .tx_interval_us()
                .map(|us| Duration::from_micros(u64::from(us))),
            detection_time: self.detection_time(),
            remote_detect_mult: self.remote.map(|r| r.detect_mult),
            poll_active: self.poll,
            counters: self.counters,
        }
    }

    /// What [`Session::resume`] needs to continue this session after a
    /// restart; only while Up, the one state worth preserving.
    pub fn resume_state(&self) -> Option<ResumeState> {
        let remote = self.remote.filter(|_| self.state == State::Up)?;
        Some(ResumeState {
            local_discr: self.local_discr,
            remote_discr: self.remote_discr,
            remote_min_rx_us: self.remote_min_rx,
            remote_desired_min_tx_us: remote.desired_min_tx,
            remote_detect_mult: remote.detect_mult,
            desired_min_tx_us: self.tx_basis,
            required_min_rx_us: self.rx_basis,
            source_port: 0,
        })
    }

    /// RFC 5880 §6.8.6, from "Set bfd.RemoteDiscr" on.
    fn receive(&mut self, packet: ControlPacket, actions: &mut Vec<Action>) {
        self.counters.packets_received += 1;
        if packet.your_discr != 0 && packet.your_discr != self.local_discr {
            // The demultiplexer should not have chosen this session.
            self.counters.packets_discarded += 1;
            return;
        }
        self.remote_discr = packet.my_discr;
        self.remote_state = packet.state;
        self.remote_diag = packet.diag;
        self.remote_demand_mode = packet.demand;
        self.remote_min_rx = packet.required_min_rx_us;
        self.remote = Some(Remote {
            desired_min_tx: packet.desired_min_tx_us,
            detect_mult: packet.detect_mult,
        });
        if packet.final_ && self.poll {
            self.end_poll(actions);
        }
        if self.state == State::AdminDown {
            self.counters.packets_discarded += 1;
        } else {
            self.follow_remote(packet.state, actions);
            if let Some(time) = self.detection_time() {
                actions.push(Action::ArmDetect(time));
            }
        }
        self.retune_tx(actions);
        // §6.8.7: at once, whatever the timers and the state. Sent after
        // the state update, so that it carries the new state.
        if packet.poll {
            self.send(actions, true);
        }
    }

    /// The state transitions of RFC 5880 §6.8.6 (the §6.2 diagram).
    fn follow_remote(&mut self, remote: State, actions: &mut Vec<Action>) {
        let signaled = Diagnostic::NeighborSignaledSessionDown;
        match (self.state, remote) {
            (State::Down, State::AdminDown) => {}
            (_, State::AdminDown) | (State::Up, State::Down) => {
                self.set_state(State::Down, signaled, actions);
            }
            (State::Down, State::Down) => self.set_state(State::Init, self.local_diag, actions),
            (State::Down, State::Init) | (State::Init, State::Init | State::Up) => {
                self.set_state(State::Up, Diagnostic::NoDiagnostic, actions);
            }
            _ => {}
        }
    }

    /// RFC 5880 §6.8.4: a Detection Time without a packet.
    fn detection_expired(&mut self, actions: &mut Vec<Action>) {
        if self.remote.is_none() || self.state == State::AdminDown {
            return;
        }
        if matches!(self.state, State::Init | State::Up) {
            let expired = Diagnostic::ControlDetectionTimeExpired;
            self.set_state(State::Down, expired, actions);
        }
        // §6.8.1: bfd.RemoteDiscr is zeroed after a Detection Time of
        // silence; the other remote variables return to their initial
        // values with it.
        self.remote_discr = 0;
        self.remote_state = State::Down;
        self.remote_min_rx = INITIAL_REMOTE_MIN_RX_US;
        self.remote_demand_mode = false;
        self.remote = None;
        self.retune_tx(actions);
    }

    fn set_state(&mut self, to: State, diag: Diagnostic, actions: &mut Vec<Action>) {
        let from = self.state;
        self.state = to;
        self.local_diag = diag;
        actions.push(Action::StateChanged { from, to, diag });
        if from == State::Up {
            self.counters.went_down += 1;
            self.leave_up();
        }
        match to {
            State::Up => {
                self.counters.went_up += 1;
                // §6.8.3: the slow-start interval gives way to the
                // configured one, through a Poll Sequence.
                self.apply_config(actions);
            }
            State::AdminDown => {
                actions.push(Action::DisarmDetect);
                // §6.8.16: keep sending for at least the Detection Time the
                // remote system uses for us, now at the slower rate.
                let interval = self.tx_basis.max(self.remote_min_rx);
                let budget = u64::from(self.detect_mult) * u64::from(interval);
                self.admin_budget_us = Some(budget);
            }
            State::Down | State::Init => {}
        }
    }

    /// Leaving Up ends any Poll Sequence and returns to the slow-start
    /// interval (§6.8.3), at once: the holding rules are for Up only.
    fn leave_up(&mut self) {
        self.poll = false;
        self.desired_min_tx = self.config.desired_min_tx.max(SLOW_TX_US);
        self.required_min_rx = self.config.required_min_rx;
        self.tx_basis = self.desired_min_tx;
        self.rx_basis = self.required_min_rx;
    }

    /// Brings the advertised timers to the configured ones (RFC 5880
    /// §6.8.3, §6.8.12).
    fn apply_config(&mut self, actions: &mut Vec<Action>) {
        // §6.8.12: a new multiplier goes out with the next packet, no Poll.
        self.detect_mult = self.config.detect_mult;
        let up = self.state == State::Up;
        let desired = if up {
            self.config.desired_min_tx
        } else {
            // §6.8.3: at least one second while not Up.
            self.config.desired_min_tx.max(SLOW_TX_US)
        };
        let required = self.config.required_min_rx;
        if up && self.poll {
            // Applied when the sequence under way ends.
            return;
        }
        if desired == self.desired_min_tx && required == self.required_min_rx {
            return;
        }
        if up {
            // §6.8.3: a faster transmit rate is safe at once; a slower one
            // waits for the Final, so that the remote system's Detection
            // Time grows first.
            if desired < self.desired_min_tx {
                self.tx_basis = desired;
            }
            // §6.8.3: a longer Detection Time is safe at once; a shorter
            // one waits for the Final, so that the remote system sends
            // faster first.
            if required > self.required_min_rx {
                self.rx_basis = required;
            }
            self.poll = true;
        } else {
            self.tx_basis = desired;
            self.rx_basis = required;
        }
        self.desired_min_tx = desired;
        self.required_min_rx = required;
        self.retune_tx(actions);
    }

    /// §6.5: a Final ends the Poll Sequence, and the changes it held back
    /// take effect (§6.8.3).
    fn end_poll(&mut self, actions: &mut Vec<Action>) {
        self.poll = false;
        self.tx_basis = self.desired_min_tx;
        self.rx_basis = self.required_min_rx;
        self.apply_config(actions);
    }

    /// The periodic transmission (§6.8.7).
    fn transmit(&mut self, actions: &mut Vec<Action>) {
        if self.armed_tx.take().is_none() {
            // Not armed: a late timer event after a DisarmTx.
            return;
        }
        self.send(actions, false);
        self.arm_tx(actions);
    }

    /// Builds the packet of §6.8.7 from the state variables.
    fn send(&mut self, actions: &mut Vec<Action>, final_: bool) {
        self.counters.packets_sent += 1;
        actions.push(Action::Send(ControlPacket {
            diag: self.local_diag,
            state: self.state,
            // §6.5: never P and F together.
            poll: self.poll && !final_,
            final_,
            // herald's BFD lives and dies with its BGP (§4.1: C clear).
            control_plane_independent: false,
            demand: false,
            detect_mult: self.detect_mult,
            my_discr: self.local_discr,
            your_discr: self.remote_discr,
            desired_min_tx_us: self.desired_min_tx,
            required_min_rx_us: self.required_min_rx,
            // No Echo function.
            required_min_echo_rx_us: 0,
        }));
    }

    /// The periodic transmit interval before jitter, or `None` when
    /// periodic packets must not be sent (§6.8.7).
    fn tx_interval_us(&self) -> Option<u32> {
        let remote_demand =
            self.remote_demand_mode && self.state == State::Up && self.remote_state == State::Up;
        let quiet = self.remote_min_rx == 0
            || (remote_demand && !self.poll)
            || self.admin_budget_us == Some(0);
        (!quiet).then(|| self.tx_basis.max(self.remote_min_rx))
    }

    /// §6.8.4: the remote Detect Mult times the agreed interval of the
    /// remote system's transmissions.
    fn detection_time(&self) -> Option<Duration> {
        let remote = self.remote.filter(|_| self.state != State::AdminDown)?;
        let interval = self.rx_basis.max(remote.desired_min_tx);
        let us = u64::from(remote.detect_mult) * u64::from(interval);
        Some(Duration::from_micros(us))
    }

    fn arm_tx(&mut self, actions: &mut Vec<Action>) {
        let Some(interval) = self.tx_interval_us() else {
            if self.armed_tx.take().is_some() {
                actions.push(Action::DisarmTx);
            }
            return;
        };
        let delay = self.jittered(interval);
        if let Some(left) = &mut self.admin_budget_us {
            *left = left.saturating_sub(delay);
        }
        self.armed_tx = Some(interval);
        actions.push(Action::ArmTx(Duration::from_micros(delay)));
    }

    /// Reacts to a changed transmit interval: a shorter one is honoured at
    /// once (§6.8.3), a longer one from the next packet; stopping or
    /// resuming periodic packets takes effect at once (§6.8.7).
    fn retune_tx(&mut self, actions: &mut Vec<Action>) {
        match (self.armed_tx, self.tx_interval_us()) {
            (Some(armed), Some(now)) if now < armed => self.arm_tx(actions),
            (Some(_), None) | (None, Some(_)) => self.arm_tx(actions),
            _ => {}
        }
    }

    /// §6.8.7: 75–100 % of the interval, or 75–90 % with a Detect Mult of
    /// 1 so that one packet always arrives within the Detection Time. In
    /// microseconds, at least one.
    fn jittered(&mut self, interval: u32) -> u64 {
        let most = if self.detect_mult == 1 { 900 } else { 1000 };
        let per_mille = self.rng.u64(750..=most);
        (u64::from(interval) * per_mille / 1000).max(1)
    }
}
