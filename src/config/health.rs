//! Typed health-check configuration: what `[[check]]` tables and the
//! health keys of `[[vip]]` validate into.

use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::time::Duration;

/// One `[[check]]`: a named probe and the thresholds that turn its results
/// into a healthy or unhealthy verdict. Defined once, used by any number of
/// VIPs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// Unique name that VIPs refer to.
    pub name: String,
    /// What to probe.
    pub kind: CheckKind,
    /// Time between probes while the verdict is settled.
    pub interval: Duration,
    /// Time between probes while a change of verdict is pending (a result
    /// differs from the verdict but `rise`/`fall` is not reached yet).
    pub fast_interval: Duration,
    /// Longest a single probe may take; a probe that takes longer fails.
    pub timeout: Duration,
    /// Consecutive successes that turn an unhealthy check healthy.
    pub rise: u32,
    /// Consecutive failures that turn a healthy check unhealthy.
    pub fall: u32,
    /// Verdict before the first probes: `false` (the default) keeps a
    /// booting host from attracting traffic until `rise` successes.
    pub initially_healthy: bool,
}

/// The probe of a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckKind {
    /// Healthy when a TCP connection to `address` completes.
    Tcp { address: SocketAddr },
    /// Healthy when an HTTP/1.1 GET of `url` answers with a status in
    /// `status` and, if set, a body containing `body`.
    Http(HttpCheck),
    /// Healthy when `argv` exits with status 0 within the timeout; on
    /// timeout its whole process group is killed and reaped.
    Exec { argv: Vec<String> },
    /// A maintenance flag: healthy while `path` is absent (or, with
    /// `healthy_when_present`, while it exists).
    File {
        path: PathBuf,
        healthy_when_present: bool,
    },
}

impl CheckKind {
    /// The `kind` key's value: "tcp", "http", "exec" or "file".
    pub fn name(&self) -> &'static str {
        match self {
            CheckKind::Tcp { .. } => "tcp",
            CheckKind::Http(_) => "http",
            CheckKind::Exec { .. } => "exec",
            CheckKind::File { .. } => "file",
        }
    }
}

/// An HTTP or HTTPS check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpCheck {
    /// `http://` or `https://` URL.
    pub url: String,
    /// Accepted status codes; default 200..=299.
    pub status: RangeInclusive<u16>,
    /// Substring the body must contain.
    pub body: Option<String>,
    /// Host header to send instead of the URL's host.
    pub host: Option<String>,
    /// Extra CA certificates (PEM) trusted for HTTPS.
    pub ca_file: Option<PathBuf>,
    /// Verify the server certificate (HTTPS); on unless turned off.
    pub tls_verify: bool,
}

/// What a VIP does while its checks fail.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum DownAction {
    /// Withdraw the route: the default.
    #[default]
    Withdraw,
    /// Keep the route but make it less preferred, so routers use healthy
    /// hosts first without a change of the next-hop set when all are down.
    Degrade(Degrade),
}

/// How a degraded route differs from the healthy one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Degrade {
    /// MED announced while degraded (replaces the VIP's MED).
    pub med: Option<u32>,
    /// Extra AS_PATH prepends while degraded (added to the VIP's own).
    pub as_path_prepend: u8,
    /// Communities added while degraded.
    pub communities: Vec<u32>,
}

/// Flap damping of a VIP (RFC 2439 ideas, applied before anything is
/// sent): each change of health adds `penalty`; the penalty halves every
/// `half_life`; above `suppress` the VIP is held down until the penalty
/// decays below `reuse`, but never longer than `max_suppress`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damping {
    pub penalty: u32,
    pub suppress: u32,
    pub reuse: u32,
    pub half_life: Duration,
    pub max_suppress: Duration,
}

impl Default for Damping {
    /// The values `[vip.damping]` takes for keys it does not set:
    /// conservative for a fleet, so that only a VIP changing state several
    /// times a minute is held down, and for minutes at most.
    fn default() -> Damping {
        Damping {
            penalty: 1000,
            suppress: 3000,
            reuse: 750,
            half_life: Duration::from_secs(60),
            max_suppress: Duration::from_secs(300),
        }
    }
}
