//! The CLI side of the control socket: one blocking request.
//!
//! The CLI has no async runtime, so this uses `std`'s `UnixStream` with an
//! overall deadline. Errors say what the operator can do about them, and
//! [`ClientError::exit_code`] maps them to the exit-code table:
//!
//! | code | meaning                                                        |
//! |------|----------------------------------------------------------------|
//! | 1    | the daemon was reached but the exchange failed                 |
//! | 4    | the daemon is not reachable: not running, permission denied, not a socket, timeout |

use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::protocol::{ProtocolError, Request, Response};

/// Exit code when the exchange with the daemon failed.
pub const EXIT_FAILED: u8 = 1;

/// Exit code when the daemon cannot be reached.
pub const EXIT_UNREACHABLE: u8 = 4;

/// Longest response accepted; a status report is far smaller.
const MAX_RESPONSE: usize = 16 * 1024 * 1024;

/// Why a request got no response.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Nothing at the path, or nobody listening on it.
    #[error("herald is not running (no socket at {})", path.display())]
    NotRunning {
        /// The socket path tried.
        path: PathBuf,
    },
    /// The socket exists but this user may not connect.
    #[error("cannot access {}: permission denied (are you in the herald group?)", path.display())]
    PermissionDenied {
        /// The socket path tried.
        path: PathBuf,
    },
    /// Something other than a socket is at the path.
    #[error("{} is not a socket (is the control socket path right?)", path.display())]
    NotASocket {
        /// The path tried.
        path: PathBuf,
    },
    /// The connection failed mid-way.
    #[error("cannot talk to herald at {}", path.display())]
    Io {
        /// The socket path.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The daemon's answer is not a valid response.
    #[error("herald sent an invalid response")]
    Protocol(#[source] ProtocolError),
    /// The daemon did not answer in time.
    #[error("herald did not answer in time")]
    Timeout,
}

impl ClientError {
    /// The exit code for this error, from the table in the module docs.
    pub fn exit_code(&self) -> u8 {
        match self {
            ClientError::NotRunning { .. }
            | ClientError::PermissionDenied { .. }
            | ClientError::NotASocket { .. }
            | ClientError::Timeout => EXIT_UNREACHABLE,
            ClientError::Io { .. } | ClientError::Protocol(_) => EXIT_FAILED,
        }
    }
}

/// Sends `request` to the daemon at `socket` and waits at most `timeout`
/// for the whole exchange. A [`Response::Error`] is a successful exchange:
/// the daemon answered.
pub fn request(
    socket: &Path,
    request: &Request,
    timeout: Duration,
) -> Result<Response, ClientError> {
    let deadline = Instant::now() + timeout;
    let mut stream = UnixStream::connect(socket).map_err(|e| connect_error(socket, e))?;
    let io_error = |source: io::Error| match source.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => ClientError::Timeout,
        _ => ClientError::Io {
            path: socket.to_path_buf(),
            source,
        },
    };
    let mut line = request.to_line();
    line.push('\n');
    stream
        .set_write_timeout(Some(remaining(deadline)?))
        .map_err(io_error)?;
    if let Err(err) = stream.write_all(line.as_bytes()) {
        // The daemon may refuse a request before reading all of it (too
        // large) and close: its answer is still worth reading.
        if !matches!(
            err.kind(),
            io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
        ) {
            return Err(io_error(err));
        }
    }
    let mut answer = Vec::new();
    let mut chunk = [0u8; 8192];
    while !answer.contains(&b'\n') && answer.len() < MAX_RESPONSE {
        stream
            .set_read_timeout(Some(remaining(deadline)?))
            .map_err(io_error)?;
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&chunk[..n]),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) if err.kind() == io::ErrorKind::ConnectionReset && !answer.is_empty() => break,
            Err(err) => return Err(io_error(err)),
        }
    }
    let end = answer
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(answer.len());
    if end == 0 {
        return Err(ClientError::Io {
            path: socket.to_path_buf(),
            source: io::Error::new(io::ErrorKind::UnexpectedEof, "closed without answering"),
        });
    }
    let text = std::str::from_utf8(&answer[..end]).map_err(|_| {
        ClientError::Protocol(ProtocolError::new(
            super::protocol::ErrorCode::BadRequest,
            "the response is not UTF-8",
        ))
    })?;
    Response::from_line(text).map_err(ClientError::Protocol)
}

/// Time left before `deadline`, never zero (std refuses a zero timeout).
fn remaining(deadline: Instant) -> Result<Duration, ClientError> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err(ClientError::Timeout)
    } else {
        Ok(left)
    }
}

fn connect_error(path: &Path, source: io::Error) -> ClientError {
    let path = path.to_path_buf();
    match source.kind() {
        io::ErrorKind::NotFound => ClientError::NotRunning { path },
        io::ErrorKind::PermissionDenied => ClientError::PermissionDenied { path },
        io::ErrorKind::ConnectionRefused => {
            let is_socket = fs::metadata(&path)
                .map(|m| m.file_type().is_socket())
                .unwrap_or(true);
            if is_socket {
                ClientError::NotRunning { path }
            } else {
                ClientError::NotASocket { path }
            }
        }
        _ => ClientError::Io { path, source },
    }
}
