//! The control protocol: one JSON request line, one JSON response line.
//!
//! Every line carries `"version"`; a peer that speaks another version gets
//! `unsupported-version` rather than a guess. Requests are parsed strictly
//! (unknown fields, fields that do not belong to the command, and targets
//! that are both or neither of `vips`/`all` are `bad-request`), because an
//! operator's typo must never withdraw the wrong thing. Responses are parsed
//! leniently on the client side: a newer daemon may add status fields.
//!
//! ```text
//! -> {"version":1,"command":"withdraw","vips":["192.0.2.10/32"],"reason":"disk replacement"}
//! <- {"version":1,"ok":true,"result":{"message":"withdrawing 192.0.2.10/32"}}
//! ```
//!
//! The JSON of [`StatusReport`] is a documented, stable interface for
//! scripts (`herald status --json`): fields are only ever added.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::text::escape_controls;

/// The version every line of this protocol carries.
pub const PROTOCOL_VERSION: u32 = 1;

/// Longest request line the daemon reads, newline included.
pub const MAX_REQUEST_LINE: usize = 64 * 1024;

/// An operator's command to the running daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Report peers, VIPs, checks and drain state.
    Status,
    /// Stop announcing the target regardless of health, until `auto`.
    Withdraw {
        /// The VIPs concerned.
        target: Target,
        /// Why, for `status` and the logs.
        reason: Option<String>,
    },
    /// Announce the target regardless of health, until `auto`.
    Announce {
        /// The VIPs concerned.
        target: Target,
    },
    /// Drop operator overrides: health decides again.
    Auto {
        /// The VIPs concerned.
        target: Target,
    },
    /// Re-read the configuration file.
    Reload,
    /// Withdraw everything gracefully over `time` (config default if none).
    Drain {
        /// How long the drain takes; `None` uses the configured default.
        time: Option<Duration>,
    },
    /// End a drain: health decides again.
    Undrain,
    /// Restart the daemon in place, keeping its routes at the routers
    /// (graceful restart) and its BFD sessions up.
    Restart,
}

/// Which VIPs a command applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Every configured VIP (`"all":true`).
    All,
    /// The listed prefixes (`"vips":[...]`), never empty.
    Vips(Vec<IpNet>),
}

/// The daemon's answer to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// The answer to `status`.
    Status(StatusReport),
    /// A command was accepted; `message` says what it did.
    Done {
        /// One human sentence, e.g. "withdrawing 192.0.2.10/32".
        message: String,
    },
    /// The request failed; nothing changed.
    Error {
        /// Machine-readable kind of failure.
        code: ErrorCode,
        /// Human explanation.
        message: String,
    },
}

/// Machine-readable failure kinds, kebab-case on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorCode {
    /// The line is not a valid request.
    BadRequest,
    /// The line is longer than [`MAX_REQUEST_LINE`].
    TooLarge,
    /// The line carries a version other than [`PROTOCOL_VERSION`].
    UnsupportedVersion,
    /// A VIP in the request is not in the configuration.
    UnknownVip,
    /// `reload` found an invalid configuration; the old one stays.
    InvalidConfig,
    /// The daemon failed to handle the request.
    Internal,
}

impl ErrorCode {
    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad-request",
            ErrorCode::TooLarge => "too-large",
            ErrorCode::UnsupportedVersion => "unsupported-version",
            ErrorCode::UnknownVip => "unknown-vip",
            ErrorCode::InvalidConfig => "invalid-config",
            ErrorCode::Internal => "internal",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A line that could not be parsed, with the code to answer it with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ProtocolError {
    /// The code a response about this error carries.
    pub code: ErrorCode,
    /// What is wrong with the line.
    pub message: String,
}

impl ProtocolError {
    /// An error of `code` explained by `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ProtocolError {
        ProtocolError {
            code,
            message: message.into(),
        }
    }

    fn bad_request(message: impl Into<String>) -> ProtocolError {
        ProtocolError::new(ErrorCode::BadRequest, message)
    }
}

impl From<ProtocolError> for Response {
    fn from(err: ProtocolError) -> Response {
        Response::Error {
            code: err.code,
            message: err.message,
        }
    }
}

/// Everything `herald status` knows about the running daemon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReport {
    /// herald's version, e.g. "0.1.0".
    pub version: String,
    /// Process id of the daemon.
    pub pid: u32,
    /// Seconds since the daemon started.
    pub uptime_secs: u64,
    /// When the daemon (this process image: a restart in place keeps the
    /// pid) started, in milliseconds since the Unix epoch.
    pub started_unix_ms: u64,
    /// Whether it started as a graceful restart, taking over the routes
    /// of the daemon before it.
    pub restarted: bool,
    /// Path of the configuration file in use.
    pub config: String,
    /// Whether the host is being drained.
    pub drain: DrainStatus,
    /// BGP sessions, in configuration order.
    pub peers: Vec<PeerStatus>,
    /// Service addresses, in configuration order.
    pub vips: Vec<VipStatus>,
    /// Health checks, in configuration order.
    pub checks: Vec<CheckStatus>,
}

/// Drain state, tagged by `"state"`: `{"state":"draining","remaining_secs":12}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum DrainStatus {
    /// Not draining: health and overrides decide.
    None,
    /// Withdrawing gradually.
    Draining {
        /// Seconds until every VIP is withdrawn.
        remaining_secs: u64,
    },
    /// Every VIP is withdrawn until `undrain`.
    Drained,
}

/// One BGP session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerStatus {
    /// Configured peer name.
    pub name: String,
    /// Neighbour address.
    pub address: String,
    /// Neighbour ASN.
    pub asn: u32,
    /// RFC 4271 §8.2.2 state name: "Idle", "Connect", "Active", "OpenSent",
    /// "OpenConfirm" or "Established".
    pub state: String,
    /// Seconds since the session became Established; absent otherwise.
    pub uptime_secs: Option<u64>,
    /// Negotiated hold time in seconds, once the OPENs are exchanged.
    pub hold_time: Option<u16>,
    /// The last error that reset the session, if any.
    pub last_error: Option<String>,
    /// Prefixes currently announced to this peer.
    pub prefixes_announced: usize,
    /// Graceful restart as the peer offered it, while a session is up and
    /// both sides advertised the capability.
    pub graceful_restart: Option<GracefulRestartStatus>,
    /// The BFD session with the peer; absent unless `bfd` is configured.
    pub bfd: Option<BfdStatus>,
}

/// The peer's side of graceful restart (RFC 4724, RFC 8538).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GracefulRestartStatus {
    /// The restart time the peer advertised, in seconds.
    pub peer_restart_time: u16,
    /// Both sides set the N flag: a restart of herald closes with Cease /
    /// Administrative Reset and a stop with Hard Reset (RFC 8538).
    pub notification: bool,
}

/// One BFD session (RFC 5880 §6.8.1 state variables and counters).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BfdStatus {
    /// "admin-down", "down", "init" or "up".
    pub state: String,
    /// The state the peer last reported, same names.
    pub remote_state: String,
    /// Why our session last left Up, e.g. "control detection time expired".
    pub local_diag: String,
    /// The diagnostic the peer last reported.
    pub remote_diag: String,
    /// bfd.LocalDiscr.
    pub local_discriminator: u32,
    /// bfd.RemoteDiscr; 0 while the peer is unknown.
    pub remote_discriminator: u32,
    /// Negotiated transmit interval in milliseconds, while sending.
    pub tx_interval_ms: Option<u64>,
    /// Detection time in milliseconds, while the peer is known.
    pub detect_time_ms: Option<u64>,
    /// Seconds in the current state.
    pub since_secs: u64,
    /// Packets sent and received since the session was created.
    pub packets_sent: u64,
    pub packets_received: u64,
    /// Times the session left Up.
    pub went_down: u64,
}

/// One service address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VipStatus {
    /// The prefix, e.g. "192.0.2.10/32".
    pub prefix: String,
    /// "announced", "degraded" or "withdrawn".
    pub state: String,
    /// Verdict of its checks: "up" or "down".
    pub health: String,
    /// The operator's override, if any.
    #[serde(rename = "override")]
    pub override_: Option<OverrideStatus>,
    /// Names of the peers it is announced to now.
    pub peers: Vec<String>,
    /// Flap-damping penalty.
    pub penalty: u32,
    /// Whether damping holds it withdrawn.
    pub suppressed: bool,
    /// Names of the checks it depends on.
    pub checks: Vec<String>,
}

/// An operator's `withdraw` or `announce` in force on a VIP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverrideStatus {
    /// "withdraw" or "announce".
    pub action: String,
    /// The reason given with the command.
    pub reason: Option<String>,
    /// When it was set, seconds since the Unix epoch.
    pub since_unix: u64,
}

/// One health check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckStatus {
    /// Configured check name.
    pub name: String,
    /// Probe kind, e.g. "tcp", "http", "exec", "file".
    pub kind: String,
    /// The rise/fall verdict.
    pub healthy: bool,
    /// Outcome of the latest probe; absent before the first.
    pub last_success: Option<bool>,
    /// Why the latest probe failed (or what it saw).
    pub last_reason: Option<String>,
    /// How long the latest probe took, milliseconds.
    pub last_elapsed_ms: Option<u64>,
    /// Consecutive probes with the latest outcome.
    pub streak: u32,
}

/// The first look at a line: only its version, whatever else it holds.
#[derive(Deserialize)]
struct Envelope {
    version: u64,
}

/// A request as written on the wire, every field a command may take.
#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct WireRequest {
    version: u32,
    command: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    vips: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    all: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    time_ms: Option<u64>,
}

impl Request {
    /// The request's JSON line, without the newline.
    pub fn to_line(&self) -> String {
        let mut wire = WireRequest {
            version: PROTOCOL_VERSION,
            command: self.command().to_string(),
            ..WireRequest::default()
        };
        match self {
            Request::Status | Request::Reload | Request::Undrain | Request::Restart => {}
            Request::Withdraw { target, reason } => {
                set_target(&mut wire, target);
                wire.reason = reason.clone();
            }
            Request::Announce { target } | Request::Auto { target } => {
                set_target(&mut wire, target)
            }
            Request::Drain { time } => {
                wire.time_ms = time.map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX));
            }
        }
        serde_json::to_string(&wire).expect("strings, integers and booleans always serialize")
    }

    /// Parses one request line (the newline already removed).
    pub fn from_line(line: &str) -> Result<Request, ProtocolError> {
        check_version(line)?;
        let wire: WireRequest = serde_json::from_str(line)
            .map_err(|e| ProtocolError::bad_request(format!("invalid request: {e}")))?;
        let command = wire.command.as_str();
        let allowed: &[&str] = match command {
            "status" | "reload" | "undrain" | "restart" => &[],
            "withdraw" => &["vips", "all", "reason"],
            "announce" | "auto" => &["vips", "all"],
            "drain" => &["time_ms"],
            other => {
                return Err(ProtocolError::bad_request(format!(
                    "unknown command `{}`",
                    escape_controls(other)
                )))
            }
        };
        let present = [
            ("vips", wire.vips.is_some()),
            ("all", wire.all.is_some()),
            ("reason", wire.reason.is_some()),
            ("time_ms", wire.time_ms.is_some()),
        ];
        if let Some((field, _)) = present
            .iter()
            .find(|(field, given)| *given && !allowed.contains(field))
        {
            return Err(ProtocolError::bad_request(format!(
                "`{command}` takes no `{field}`"
            )));
        }
        Ok(match command {
            "status" => Request::Status,
            "reload" => Request::Reload,
            "undrain" => Request::Undrain,
            "restart" => Request::Restart,
            // Stored, logged, shown and handed to hooks from here on.
            "withdraw" => Request::Withdraw {
                target: parse_target(wire.vips, wire.all)?,
                reason: wire.reason.map(|r| escape_controls(&r).into_owned()),
            },
            "announce" => Request::Announce {
                target: parse_target(wire.vips, wire.all)?,
            },
            "auto" => Request::Auto {
                target: parse_target(wire.vips, wire.all)?,
            },
            _ => Request::Drain {
                time: wire.time_ms.map(Duration::from_millis),
            },
        })
    }

    /// The command's name on the wire, e.g. "withdraw".
    pub fn command(&self) -> &'static str {
        match self {
            Request::Status => "status",
            Request::Withdraw { .. } => "withdraw",
            Request::Announce { .. } => "announce",
            Request::Auto { .. } => "auto",
            Request::Reload => "reload",
            Request::Drain { .. } => "drain",
            Request::Undrain => "undrain",
            Request::Restart => "restart",
        }
    }
}

fn set_target(wire: &mut WireRequest, target: &Target) {
    match target {
        Target::All => wire.all = Some(true),
        Target::Vips(vips) => wire.vips = Some(vips.iter().map(IpNet::to_string).collect()),
    }
}

fn parse_target(vips: Option<Vec<String>>, all: Option<bool>) -> Result<Target, ProtocolError> {
    let vips = vips.unwrap_or_default();
    match (vips.is_empty(), all == Some(true)) {
        (false, false) => vips
            .iter()
            .map(|vip| parse_vip(vip))
            .collect::<Result<_, _>>()
            .map(Target::Vips),
        (true, true) => Ok(Target::All),
        (false, true) => Err(ProtocolError::bad_request(
            "give either `vips` or `\"all\":true`, not both",
        )),
        (true, false) => Err(ProtocolError::bad_request(
            "give `vips` (non-empty) or `\"all\":true`",
        )),
    }
}

/// Parses a VIP as a prefix; a bare address is a host route (/32, /128).
pub fn parse_vip(text: &str) -> Result<IpNet, ProtocolError> {
    let prefix = match text.parse::<IpNet>() {
        Ok(prefix) => prefix,
        Err(_) => text.parse::<IpAddr>().map(IpNet::from).map_err(|_| {
            ProtocolError::bad_request(format!(
                "`{}` is not an IP prefix or address",
                escape_controls(text)
            ))
        })?,
    };
    if prefix.trunc() != prefix {
        return Err(ProtocolError::bad_request(format!(
            "{prefix} has host bits set (did you mean {}?)",
            prefix.trunc()
        )));
    }
    Ok(prefix)
}

/// Reads only `"version"`, so a line from another version is refused as
/// such even if the rest would not parse as ours.
fn check_version(line: &str) -> Result<(), ProtocolError> {
    let envelope: Envelope = serde_json::from_str(line)
        .map_err(|e| ProtocolError::bad_request(format!("invalid JSON line: {e}")))?;
    if envelope.version != u64::from(PROTOCOL_VERSION) {
        return Err(ProtocolError::new(
            ErrorCode::UnsupportedVersion,
            format!(
                "protocol version {} is not supported (this herald speaks {PROTOCOL_VERSION})",
                envelope.version
            ),
        ));
    }
    Ok(())
}

/// A response as written on the wire.
#[derive(Serialize)]
struct WireResponse {
    version: u32,
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<WireResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<WireError>,
}

/// `result` is the report itself for `status`, `{"message":...}` otherwise.
#[derive(Serialize)]
#[serde(untagged)]
enum WireResult {
    Status(StatusReport),
    Done { message: String },
}

/// A response as read from the wire: `result` is told apart by its shape,
/// so that a bad status report is reported with serde's exact message.
#[derive(Deserialize)]
struct ReadResponse {
    ok: bool,
    #[serde(default)]
    result: Option<serde_json::Value>,
    #[serde(default)]
    error: Option<WireError>,
}

#[derive(Serialize, Deserialize)]
struct WireError {
    code: ErrorCode,
    message: String,
}

/// What [`Response::to_line`] writes if encoding ever failed: still a valid
/// response, so the client is never left without an answer.
const ENCODE_FAILURE_LINE: &str = r#"{"version":1,"ok":false,"error":{"code":"internal","message":"cannot encode the response"}}"#;

impl Response {
    /// The response's JSON line, without the newline.
    pub fn to_line(&self) -> String {
        let wire = match self.clone() {
            Response::Status(report) => WireResponse {
                version: PROTOCOL_VERSION,
                ok: true,
                result: Some(WireResult::Status(report)),
                error: None,
            },
            Response::Done { message } => WireResponse {
                version: PROTOCOL_VERSION,
                ok: true,
                result: Some(WireResult::Done { message }),
                error: None,
            },
            Response::Error { code, message } => WireResponse {
                version: PROTOCOL_VERSION,
                ok: false,
                result: None,
                error: Some(WireError { code, message }),
            },
        };
        serde_json::to_string(&wire).unwrap_or_else(|_| ENCODE_FAILURE_LINE.to_string())
    }

    /// Parses one response line (the newline already removed).
    pub fn from_line(line: &str) -> Result<Response, ProtocolError> {
        check_version(line)?;
        let wire: ReadResponse = serde_json::from_str(line)
            .map_err(|e| ProtocolError::bad_request(format!("invalid response: {e}")))?;
        match (wire.ok, wire.result, wire.error) {
            (true, Some(result), None) => result_from_value(result),
            (false, None, Some(error)) => Ok(Response::Error {
                code: error.code,
                message: error.message,
            }),
            _ => Err(ProtocolError::bad_request(
                "a response has `\"ok\":true` and a `result`, or `\"ok\":false` and an `error`",
            )),
        }
    }
}

/// A `result` of exactly `{"message": "..."}` is [`Response::Done`];
/// anything else must be a [`StatusReport`].
fn result_from_value(result: serde_json::Value) -> Result<Response, ProtocolError> {
    if let Some(object) = result.as_object() {
        if let (1, Some(serde_json::Value::String(message))) = (object.len(), object.get("message"))
        {
            return Ok(Response::Done {
                message: message.clone(),
            });
        }
    }
    serde_json::from_value(result)
        .map(Response::Status)
        .map_err(|e| ProtocolError::bad_request(format!("invalid status report: {e}")))
}
