//! herald announces service addresses (VIPs) from a host to its routers
//! over BGP, so that every healthy host is an equal-cost next hop.
//!
//! # Tasks and data flow
//!
//! ```text
//!   herald.toml ──> config::Config ──> Announcer ──watch<RouteSet>──┐ one per peer
//!                                                                   v
//!   SIGTERM/SIGINT ──> daemon ──watch<bool> shutdown──> PeerTask (tokio task)
//!                                                        │  owns: TCP socket, timers,
//!                                                        │  fsm::Session, AdjRibOut
//!                                                        v
//!                                                  router (BGP over TCP)
//! ```
//!
//! * [`config`] turns the TOML file into typed, validated values.
//! * [`announcer`] decides which prefixes each peer should carry and
//!   publishes one [`route::RouteSet`] per peer; only the latest set counts.
//! * [`bgp::peer`] runs one task per peer: it feeds socket bytes, timers and
//!   route changes into the I/O-free [`bgp::fsm::Session`] and executes the
//!   actions it returns; [`bgp::adj_rib_out`] turns route-set changes into
//!   packed UPDATEs.
//! * [`bgp::wire`] is the codec: total decoding with exact NOTIFICATIONs.
//! * [`daemon`] starts the tasks and stops them in order.

pub mod announcer;
pub mod bgp;
pub mod cli;
pub mod config;
pub mod control;
pub mod daemon;
pub mod deadline;
pub mod errors;
pub mod health;
pub mod hooks;
pub mod logging;
pub mod metrics;
pub mod route;
pub mod state_file;
pub mod summary;
pub mod systemd;
