//! herald announces service addresses (VIPs) from a host to its routers
//! over BGP, so that every healthy host is an equal-cost next hop.
//!
//! # Tasks and data flow
//!
//! ```text
//!  SIGTERM/INT/HUP ─┐      herald CLI ──Unix socket──> control::server
//!                   v                                      │ Command + oneshot reply
//!   daemon (supervisor) <──────────────────────────────────┘
//!     │ owns the task registries; reload, drain-on-stop, shutdown
//!     │
//!     ├─ CheckTask (one per [[check]]) ── probe ─> Verdict ──flip──┐ mpsc<Event>
//!     │                                                             v
//!     ├─ Announcer (one) <── Event::{Check, Operator, Status, Reload}
//!     │     owns VipState, overrides (state file), drain
//!     │     └──watch<RouteSet>──┐ one per peer, latest value only
//!     │                         v
//!     ├─ PeerTask (one per [[peer]]): fsm::Session + AdjRibOut + TCP ──> router
//!     │     stop: watch<Option<PeerStop>> (stop, or restart keeping routes);
//!     │     status: watch<PeerSnapshot>
//!     │         ^ watch<SessionStatus>: BFD Up lets BGP run, Down ends it
//!     ├─ bfd::Mux (one, UDP 3784) ─> bfd session task (one per peer with bfd)
//!     └─ StateWriter (one): overrides, VIP states, check verdicts, BFD
//!           sessions and the exit record into the state file, off-thread
//! ```
//!
//! A stop withdraws and closes; a restart (`daemon::restart`) leaves the
//! routes with the routers through graceful restart and BFD running, and
//! the next daemon resumes from the state file.
//!
//! * [`config`] turns the TOML file into typed, validated values.
//! * [`health`] holds the check verdicts (rise/fall), flap damping and VIP
//!   state, all without I/O, plus the probes and the task that runs them.
//! * [`announcer`] decides what each peer should carry and publishes one
//!   [`route::RouteSet`] per peer; only the latest set counts.
//! * [`bgp::peer`] runs one task per peer: it feeds socket bytes, timers and
//!   route changes into the I/O-free [`bgp::fsm::Session`] and executes the
//!   actions it returns; [`bgp::adj_rib_out`] turns route-set changes into
//!   packed UPDATEs.
//! * [`bgp::wire`] is the codec: total decoding with exact NOTIFICATIONs.
//! * [`bfd`] is BFD (RFC 5880/5881): codec, I/O-free session and the
//!   socket tasks.
//! * [`control`] is the operator protocol (JSON lines over a Unix socket),
//!   both the daemon's server and the CLI's client.
//! * [`daemon`] starts the tasks, serves signals and commands, reloads and
//!   stops them in order; [`systemd`], [`metrics`] and [`state_file`] are
//!   its links to the outside.
//! * [`fsutil`] is how herald reads and creates files: regular files of
//!   bounded size only, off the event loop under a deadline, never through
//!   a planted symlink; [`text`] escapes operator text before it reaches a
//!   log or a terminal.
//!
//! # Target layout of the BGP core and BFD
//!
//! Where the codec, the session and BFD are heading, one concept per
//! place; code moves here in small steps that keep behaviour unchanged.
//!
//! * `bgp::wire::buf`: the checked reads and length back-patching every
//!   message codec shares, so no codec imports another's helpers.
//! * `bgp::wire::error`: one typed error per RFC 4271 §6 case, including
//!   the ones the session raises (Bad Peer AS, Unsupported Capability,
//!   RFC 6608 FSM errors, Hold Timer Expired); one mapping turns an error
//!   into the NOTIFICATION's (code, subcode, data).
//! * `bgp::wire::negotiate`: next to the OPEN codec, the check of a
//!   received OPEN against ours and what both agree on (hold time,
//!   keepalive, families, 4-octet AS, route refresh, graceful restart).
//!   The OPEN checks live once and serve both decoding and negotiation;
//!   [`bgp::fsm`] raises the typed error and decides transitions only.
//! * [`bgp::wire::iana`]: every wire number, with typed values (ORIGIN,
//!   message types, error codes) that config, routes and the codec share:
//!   one ORIGIN type for all three.
//! * `net`: the one module with `unsafe` socket options (TTL, GTSM,
//!   TCP MD5, receiving the TTL), used by both [`bgp::peer`] and [`bfd`],
//!   so that BFD no longer reaches into the BGP layer.
//! * [`bgp::peer`] split by concern: framing (read buffer and
//!   `try_parse`), writes, timers, and the linger that flushes a
//!   NOTIFICATION before close.
//! * [`bfd`]: the receive mux and the session task share a leaf for the
//!   registration and abort-on-drop handles instead of importing each
//!   other; the session's handshake, timers and Poll Sequences in files of
//!   their own.
//! * tests: wire fixtures by message with one shared hex helper in
//!   `tests/support`, fixtures captured from BIRD and FRR sessions with a
//!   note on how they were recorded, and `tests/regression.rs` naming each
//!   bug it pins.

pub mod announcer;
pub mod bfd;
pub mod bgp;
pub mod cli;
pub mod config;
pub mod control;
pub mod daemon;
pub mod deadline;
pub mod errors;
pub mod fleet;
pub mod fsutil;
pub mod health;
pub mod hooks;
pub mod logging;
pub mod metrics;
pub mod net;
pub mod route;
pub mod state_file;
pub mod summary;
pub mod systemd;
pub mod text;
