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
pub mod health;
pub mod hooks;
pub mod logging;
pub mod metrics;
pub mod route;
pub mod state_file;
pub mod summary;
pub mod systemd;
