//! Bidirectional Forwarding Detection: fast failure detection of the path
//! to each BGP peer (RFC 5880 Asynchronous mode, RFC 5881 single hop), so
//! that a BGP session can be torn down within a second of its router
//! becoming unreachable instead of waiting for the hold timer.
//!
//! # Tasks and channels
//!
//! ```text
//!   UDP *:3784 IPv4            UDP [::]:3784 IPv6 (V6ONLY)
//!         │                          │
//!   receive task               receive task        one per family; held by the
//!         └───────────┬──────────────┘             Mux and by every handle
//!                     │ recvmsg with TTL; TTL 255 (RFC 5881 §5);
//!                     │ packet::decode (RFC 5880 §6.8.6 checks);
//!                     │ session by Your Discriminator, else by source
//!                     v
//!         mpsc<Input> per session (bounded; full → dropped, counted)
//!                     │
//!                     v
//!   SessionHandle ──mpsc<Input>──> session task (one per peer)
//!     set_timers, admin_down,        │ Session::handle(Input) -> Vec<Action>
//!     admin_up                       │ timers: sleep_until(tx), sleep_until(detect)
//!        ^                           │
//!        └──watch<SessionStatus>─────┤ published before any send
//!                                    v
//!                 send socket: source port 49152–65535 (RFC 5881 §4),
//!                 TTL 255, DSCP CS6, connected to peer:3784
//! ```
//!
//! * [`packet`] is the codec, [`iana`] every wire number.
//! * [`session`] is the state machine, without I/O: handshake, detection,
//!   jittered transmission, Poll Sequences, AdminDown and resuming after a
//!   restart; [`settings`] holds the timers it is given.
//! * [`Mux`] owns the receive sockets and registers sessions; each
//!   [`SessionHandle`] owns its task, which is aborted (and the session
//!   deregistered) when the handle is dropped.
//!
//! # Deliberate departures
//!
//! * No Demand mode (RFC 5880 §6.6): herald never sets D, but stops
//!   periodic packets to a remote system that does, as §6.8.7 requires.
//! * No Echo function (§6.4): Required Min Echo RX is always zero.
//! * No authentication (§6.7): packets with the A bit are discarded.
//! * Single hop only (RFC 5881). Multihop (RFC 5883) would need its own
//!   port, 4784, and would replace the TTL-255 rule with a configured
//!   minimum; sessions would be selected by source and destination
//!   address, as one peer may be reached over several paths.
//! * Sessions are bound to a peer address, not to an interface: IPv6
//!   link-local peers, which need a scope, are not supported.
//!
//! For the BGP layer: a remote AdminDown takes the session Down with
//! diagnostic 3 and [`Snapshot::remote_state`] AdminDown; RFC 5882 §3.2
//! says the client protocol should not be torn down for that.

pub mod iana;
pub mod mux;
pub mod packet;
pub mod session;
pub mod settings;
mod task;

pub use mux::{Mux, MuxStats};
pub use packet::{decode, ControlPacket, Diagnostic, PacketError, State};
pub use session::{Action, Counters, Input, ResumeState, Session, Snapshot};
pub use settings::{Settings, SettingsError};
pub use task::{SessionHandle, SessionStatus};
