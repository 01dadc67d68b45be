//! Probes: one run of one health check, turned into a yes or no with a
//! one-line reason.
//!
//! The health scheduler builds a [`Probe`] once per `[[check]]` and calls
//! [`Probe::run`] at every interval; rise/fall counting happens there, not
//! here. A probe never panics and never outlives its timeout (an exec probe
//! adds only the time to kill and reap its process group), because a stuck
//! probe would freeze the verdict of every VIP that depends on it.
//!
//! * `tcp`: a TCP connection completes.
//! * `http`: an HTTP/1.1 GET answers with an accepted status and body.
//! * `exec`: a command exits with status 0; its process group dies with it.
//! * [`file`]: a maintenance flag file is absent (or present).

mod exec;
mod file;
mod http;
mod tcp;

use std::error::Error as StdError;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::config::CheckKind;

/// A health check ready to run, built once from its configuration and
/// reused for every run (an HTTP probe keeps its client, with its trusted
/// certificates, between runs).
#[derive(Debug)]
pub struct Probe {
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Tcp(tcp::TcpProbe),
    Http(http::HttpProbe),
    Exec(exec::ExecProbe),
    File(file::FileProbe),
}

/// The result of one run of a probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Whether the check passed.
    pub success: bool,
    /// What happened, in one line: "connected", "HTTP 503 (expected
    /// 200-299)", "exit status 1: disk full", "timed out after 1s".
    pub reason: String,
    /// Wall-clock time the run took.
    pub elapsed: Duration,
}

/// A check that cannot be turned into a probe. In practice these are
/// configuration errors, found once at start or reload rather than at
/// every run.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// An exec check without a program to run.
    #[error("exec check has an empty argv")]
    EmptyArgv,
    /// The URL of an HTTP check does not parse.
    #[error("invalid URL {url:?}: {reason}")]
    BadUrl { url: String, reason: String },
    /// The URL of an HTTP check is neither `http://` nor `https://`.
    #[error("URL {url:?} is neither http:// nor https://")]
    UnsupportedScheme { url: String },
    /// The Host header override is not a valid header value.
    #[error("invalid Host header {host:?}")]
    BadHost {
        host: String,
        source: reqwest::header::InvalidHeaderValue,
    },
    /// The CA file of an HTTPS check cannot be read.
    #[error("cannot read CA file {}", path.display())]
    CaFileUnreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The CA file of an HTTPS check holds a malformed certificate.
    #[error("invalid certificate in CA file {}", path.display())]
    CaFileInvalid {
        path: PathBuf,
        source: reqwest::Error,
    },
    /// The CA file of an HTTPS check holds no PEM certificate at all.
    #[error("no PEM certificate in CA file {}", path.display())]
    CaFileEmpty { path: PathBuf },
    /// The HTTP client cannot be set up (for example, its TLS backend).
    #[error("cannot set up the HTTP client")]
    HttpClient(#[source] reqwest::Error),
}

impl Probe {
    /// Builds the probe for a check. Fails only on settings that can never
    /// work, such as a malformed URL or an unreadable CA file.
    pub fn new(kind: &CheckKind) -> Result<Probe, ProbeError> {
        let kind = match kind {
            CheckKind::Tcp { address } => Kind::Tcp(tcp::TcpProbe::new(*address)),
            CheckKind::Http(check) => Kind::Http(http::HttpProbe::new(check)?),
            CheckKind::Exec { argv } => Kind::Exec(exec::ExecProbe::new(argv)?),
            CheckKind::File {
                path,
                healthy_when_present,
            } => Kind::File(file::FileProbe::new(path.clone(), *healthy_when_present)),
        };
        Ok(Probe { kind })
    }

    /// Runs once, never longer than `timeout` (plus the time to kill and
    /// reap an exec child), never panics.
    pub async fn run(&self, timeout: Duration) -> Outcome {
        let start = Instant::now();
        let verdict = match &self.kind {
            // An exec probe has to clean up after a timeout, so it keeps
            // the clock itself.
            Kind::Exec(probe) => probe.run(timeout).await,
            Kind::Tcp(probe) => within(timeout, probe.run()).await,
            Kind::Http(probe) => within(timeout, probe.run()).await,
            Kind::File(probe) => within(timeout, probe.run()).await,
        };
        let (success, reason) = match verdict {
            Ok(reason) => (true, reason),
            Err(reason) => (false, reason),
        };
        Outcome {
            success,
            reason,
            elapsed: start.elapsed(),
        }
    }
}

/// What a probe kind returns: the reason, as success or failure.
type Verdict = Result<String, String>;

/// Runs `check`, turning a timeout into a failure. Dropping the future on
/// timeout closes whatever socket it had open.
async fn within(timeout: Duration, check: impl std::future::Future<Output = Verdict>) -> Verdict {
    tokio::time::timeout(timeout, check)
        .await
        .unwrap_or_else(|_| Err(timed_out(timeout)))
}

/// The reason of a probe cut short by its timeout.
fn timed_out(timeout: Duration) -> String {
    format!("timed out after {}", human(timeout))
}

/// "1s", "300ms", or the debug form for anything finer.
fn human(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{}s", d.as_secs())
    } else if d.subsec_nanos() % 1_000_000 == 0 {
        format!("{}ms", d.as_millis())
    } else {
        format!("{d:?}")
    }
}

/// An error and its sources on one line, joined by ": ". Sources whose
/// text their parent already shows are skipped, and the " (os error N)"
/// suffix of system errors is dropped: the text says the same.
fn one_line(err: &(dyn StdError + 'static)) -> String {
    let mut line = String::new();
    let mut next = Some(err);
    while let Some(err) = next {
        let text = err.to_string();
        let text = strip_os_error(&text);
        if !line.contains(text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(text);
        }
        next = err.source();
    }
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Drops the trailing " (os error N)" that `std::io::Error` adds.
fn strip_os_error(text: &str) -> &str {
    match text.rfind(" (os error ") {
        Some(at) if text.ends_with(')') => &text[..at],
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_configured() {
        assert_eq!(human(Duration::from_secs(1)), "1s");
        assert_eq!(human(Duration::from_millis(300)), "300ms");
        assert_eq!(human(Duration::from_micros(1500)), "1.5ms");
    }

    #[test]
    fn system_errors_lose_their_errno_suffix() {
        let err = std::io::Error::from_raw_os_error(2);
        assert_eq!(one_line(&err), "No such file or directory");
    }

    #[derive(Debug, thiserror::Error)]
    #[error("request failed")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn error_chains_fit_on_one_line() {
        let err = Outer(std::io::Error::other("peer\nhung up"));
        assert_eq!(one_line(&err), "request failed: peer hung up");
    }
}
