//! Operators drive the running daemon through a Unix socket.
//!
//! ```text
//!  herald withdraw ... ──client::request──> /run/herald/control.sock
//!                                              │ server::ControlSocket
//!                                              │ (one task per connection)
//!                                              v
//!                                  mpsc<Command> ──> daemon
//!                                  oneshot<Response> <──┘
//! ```
//!
//! * [`protocol`]: the versioned JSON-lines requests and responses, and the
//!   [`protocol::StatusReport`] scripts may rely on.
//! * [`server`]: the daemon side: socket file lifecycle, framing with size
//!   and time limits, hand-off of each request to the daemon.
//! * [`client`]: the CLI side: one blocking request with a timeout, errors
//!   that tell the operator what to do, exit codes.
//! * [`render`]: the human tables `herald status` prints.
//!
//! One connection carries one request and one response, so the framing has
//! no state to lose and a stuck or hostile client costs one task for at
//! most the read timeout.

pub mod client;
pub mod protocol;
pub mod render;
pub mod server;

pub use client::{request, ClientError};
pub use protocol::{
    BfdStatus, CheckStatus, DrainStatus, ErrorCode, GracefulRestartStatus, OverrideStatus,
    PeerStatus, ProtocolError, Request, Response, StatusReport, Target, VipStatus,
    PROTOCOL_VERSION,
};
pub use render::render_status;
pub use server::{Command, ControlError, ControlSocket};
