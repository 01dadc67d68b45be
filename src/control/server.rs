//! The daemon side of the control socket.
//!
//! [`ControlSocket::bind`] owns the socket file: it refuses to take over
//! from a live daemon, replaces a stale file, and sets mode and group so
//! that only the herald group can drive the daemon. [`ControlSocket::serve`]
//! accepts connections until shutdown, one task each: read one line (at
//! most [`MAX_REQUEST_LINE`] bytes, within the read timeout), hand the
//! parsed [`Request`] to the daemon as a [`Command`], write its [`Response`]
//! and close. The daemon is the only owner of state; this module only
//! carries messages.

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::UnixStream as StdUnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinSet;

use super::protocol::{ErrorCode, ProtocolError, Request, Response, MAX_REQUEST_LINE};

/// How long a client may take to send its request line, and the daemon's
/// answer may take to be written back.
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections served at once; more are closed unanswered.
pub const MAX_CONNECTIONS: usize = 64;

/// How long in-flight connections may finish after shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// Pause after a failed `accept` (e.g. out of file descriptors), so the
/// loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// File holding group names and ids.
const GROUP_FILE: &str = "/etc/group";

/// One request for the daemon and the way back to the client.
#[derive(Debug)]
pub struct Command {
    /// What the operator asked for.
    pub request: Request,
    /// Where the daemon sends its answer; dropping it answers `internal`.
    pub reply: oneshot::Sender<Response>,
}

/// Why the control socket could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// A daemon answers on the socket already.
    #[error("another herald is running (it answers on {})", path.display())]
    AnotherRunning {
        /// The socket path.
        path: PathBuf,
    },
    /// Something that is not a socket is in the way; herald never deletes it.
    #[error("{} exists and is not a socket", path.display())]
    NotASocket {
        /// The path in the way.
        path: PathBuf,
    },
    /// The socket's group is neither in `/etc/group` nor a number.
    #[error("unknown group `{group}` for the control socket")]
    UnknownGroup {
        /// The configured group name.
        group: String,
    },
    /// A file-system operation on the socket or its directory failed.
    #[error("cannot {action} {}", path.display())]
    Io {
        /// What herald was doing, e.g. "bind".
        action: &'static str,
        /// The path concerned.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
}

impl ControlError {
    fn io(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> ControlError {
        let path = path.to_path_buf();
        move |source| ControlError::Io {
            action,
            path,
            source,
        }
    }
}

/// The bound control socket, not yet serving.
#[derive(Debug)]
pub struct ControlSocket {
    listener: std::os::unix::net::UnixListener,
    file: SocketFile,
    read_timeout: Duration,
}

impl ControlSocket {
    /// Removes a stale socket file (only if it is a socket and nobody
    /// answers on it; if a live daemon answers: [`ControlError::AnotherRunning`]),
    /// binds, sets `mode` (e.g. `0o660`) and optionally `group` (a name from
    /// `/etc/group`, or a numeric gid), creating the parent directory
    /// (`0o755`) if missing. Needs no async runtime.
    pub fn bind(
        path: &Path,
        mode: u32,
        group: Option<&str>,
    ) -> Result<ControlSocket, ControlError> {
        // Resolve the group first: a typo must not leave a socket behind.
        let gid = match group {
            Some(group) => Some(group_id(group)?),
            None => None,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            if !parent.exists() {
                fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o755)
                    .create(parent)
                    .map_err(ControlError::io("create directory", parent))?;
                // The umask may have narrowed the mode given above.
                fs::set_permissions(parent, fs::Permissions::from_mode(0o755))
                    .map_err(ControlError::io("set the mode of", parent))?;
            }
        }
        remove_stale(path)?;
        let listener =
            std::os::unix::net::UnixListener::bind(path).map_err(ControlError::io("bind", path))?;
        let file = SocketFile::new(path)?;
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
            .map_err(ControlError::io("set the mode of", path))?;
        if let Some(gid) = gid {
            std::os::unix::fs::chown(path, None, Some(gid))
                .map_err(ControlError::io("set the group of", path))?;
        }
        listener
            .set_nonblocking(true)
            .map_err(ControlError::io("configure", path))?;
        Ok(ControlSocket {
            listener,
            file,
            read_timeout: READ_TIMEOUT,
        })
    }

    /// Replaces [`READ_TIMEOUT`], e.g. to test slow clients quickly.
    pub fn with_read_timeout(mut self, timeout: Duration) -> ControlSocket {
        self.read_timeout = timeout;
        self
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.file.path
    }

    /// Accepts connections until `shutdown` becomes true (or its sender is
    /// dropped): each connection in its own task reads one line within the
    /// read timeout and [`MAX_REQUEST_LINE`], sends a [`Command`] on
    /// `commands`, waits for the reply (`internal` if the daemon drops it),
    /// writes the response line and closes. Malformed or oversized input
    /// gets an error response. In-flight connections get a short grace to
    /// finish; the socket file is removed when this returns.
    pub async fn serve(self, commands: mpsc::Sender<Command>, mut shutdown: watch::Receiver<bool>) {
        let ControlSocket {
            listener,
            file,
            read_timeout,
        } = self;
        let listener = match UnixListener::from_std(listener) {
            Ok(listener) => listener,
            Err(err) => {
                tracing::error!(socket = %file.path.display(), "cannot serve the control socket: {err}");
                return;
            }
        };
        let mut connections = JoinSet::new();
        while !*shutdown.borrow_and_update() {
            tokio::select! {
                changed = shutdown.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) if connections.len() >= MAX_CONNECTIONS => {
                        tracing::warn!("{MAX_CONNECTIONS} control connections open; closing a new one");
                        drop(stream);
                    }
                    Ok((stream, _)) => {
                        connections.spawn(connection(stream, commands.clone(), read_timeout));
                    }
                    Err(err) => {
                        tracing::warn!("cannot accept a control connection: {err}");
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                    }
                },
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
        drop(listener);
        drop(file);
        let finish = async { while connections.join_next().await.is_some() {} };
        if tokio::time::timeout(SHUTDOWN_GRACE, finish).await.is_err() {
            tracing::debug!(
                "closing {} unfinished control connection(s)",
                connections.len()
            );
        }
    }
}

/// Serves one connection: one request, one response.
async fn connection(stream: UnixStream, commands: mpsc::Sender<Command>, timeout: Duration) {
    let (reader, mut writer) = stream.into_split();
    let response = match tokio::time::timeout(timeout, read_request(reader)).await {
        Err(_) => {
            tracing::debug!("control client sent no request within {timeout:?}");
            return;
        }
        Ok(Err(err)) => Response::from(err),
        Ok(Ok(request)) => dispatch(request, &commands).await,
    };
    let mut line = response.to_line();
    line.push('\n');
    let write = async {
        writer.write_all(line.as_bytes()).await?;
        writer.shutdown().await
    };
    match tokio::time::timeout(timeout, write).await {
        Ok(Ok(())) => {}
        Ok(Err(err)) => tracing::debug!("cannot answer a control client: {err}"),
        Err(_) => tracing::debug!("control client did not read its answer within {timeout:?}"),
    }
}

/// Reads and parses the request line. A line ends at a newline or at the
/// end of input; [`MAX_REQUEST_LINE`] bytes without a newline is too large.
async fn read_request<R: tokio::io::AsyncRead + Unpin>(
    reader: R,
) -> Result<Request, ProtocolError> {
    let mut limited = BufReader::new(reader.take(MAX_REQUEST_LINE as u64));
    let mut line = Vec::new();
    limited.read_until(b'\n', &mut line).await.map_err(|e| {
        ProtocolError::new(
            ErrorCode::BadRequest,
            format!("cannot read the request: {e}"),
        )
    })?;
    match line.last() {
        Some(b'\n') => {
            line.pop();
        }
        _ if line.len() >= MAX_REQUEST_LINE => {
            return Err(ProtocolError::new(
                ErrorCode::TooLarge,
                format!("a request line is at most {MAX_REQUEST_LINE} bytes"),
            ))
        }
        _ => {}
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    if line.is_empty() {
        return Err(ProtocolError::new(ErrorCode::BadRequest, "empty request"));
    }
    let text = std::str::from_utf8(&line)
        .map_err(|_| ProtocolError::new(ErrorCode::BadRequest, "the request is not UTF-8"))?;
    Request::from_line(text)
}

/// Hands a request to the daemon and waits for its answer.
async fn dispatch(request: Request, commands: &mpsc::Sender<Command>) -> Response {
    let command = request.command();
    let (reply, answer) = oneshot::channel();
    if commands.send(Command { request, reply }).await.is_err() {
        return Response::Error {
            code: ErrorCode::Internal,
            message: "the daemon is shutting down".to_string(),
        };
    }
    answer.await.unwrap_or_else(|_| Response::Error {
        code: ErrorCode::Internal,
        message: format!("the daemon dropped the `{command}` request without answering"),
    })
}

/// Clears the way for binding: nothing there, or a socket nobody answers on.
fn remove_stale(path: &Path) -> Result<(), ControlError> {
    let metadata = match fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(ControlError::io("inspect", path)(err)),
    };
    if !metadata.file_type().is_socket() {
        return Err(ControlError::NotASocket {
            path: path.to_path_buf(),
        });
    }
    match StdUnixStream::connect(path) {
        Ok(_) => Err(ControlError::AnotherRunning {
            path: path.to_path_buf(),
        }),
        Err(err) if err.kind() == io::ErrorKind::ConnectionRefused => {
            tracing::info!(socket = %path.display(), "removing a stale control socket");
            fs::remove_file(path).map_err(ControlError::io("remove the stale socket", path))
        }
        Err(err) => Err(ControlError::io("connect to", path)(err)),
    }
}

/// The socket file, removed on drop if it is still the one herald bound
/// (a successor may have replaced it).
#[derive(Debug)]
struct SocketFile {
    path: PathBuf,
    identity: (u64, u64),
}

impl SocketFile {
    fn new(path: &Path) -> Result<SocketFile, ControlError> {
        let metadata = fs::symlink_metadata(path).map_err(ControlError::io("inspect", path))?;
        Ok(SocketFile {
            path: path.to_path_buf(),
            identity: (metadata.dev(), metadata.ino()),
        })
    }
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        let ours = fs::symlink_metadata(&self.path)
            .map(|m| (m.dev(), m.ino()) == self.identity)
            .unwrap_or(false);
        if ours {
            if let Err(err) = fs::remove_file(&self.path) {
                tracing::warn!(socket = %self.path.display(), "cannot remove the control socket: {err}");
            }
        }
    }
}

/// The gid of `group`: looked up in `/etc/group`, else read as a number.
fn group_id(group: &str) -> Result<u32, ControlError> {
    let groups =
        fs::read_to_string(GROUP_FILE).map_err(ControlError::io("read", Path::new(GROUP_FILE)))?;
    find_group(&groups, group)
        .or_else(|| group.parse().ok())
        .ok_or_else(|| ControlError::UnknownGroup {
            group: group.to_string(),
        })
}

/// Finds `name` in the text of an `/etc/group` file (`name:x:gid:members`).
fn find_group(groups: &str, name: &str) -> Option<u32> {
    groups.lines().find_map(|line| {
        let mut fields = line.split(':');
        let found = fields.next()?;
        let gid = fields.nth(1)?;
        (found == name).then(|| gid.parse().ok()).flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GROUPS: &str =
        "root:x:0:\n# comment\nbroken\nherald:x:998:alice,bob\nweird:x:notanumber:\n";

    #[test]
    fn a_group_is_found_by_name_in_etc_group() {
        assert_eq!(find_group(GROUPS, "herald"), Some(998));
        assert_eq!(find_group(GROUPS, "root"), Some(0));
    }

    #[test]
    fn a_missing_or_malformed_group_is_not_found() {
        assert_eq!(find_group(GROUPS, "nobody-here"), None);
        assert_eq!(find_group(GROUPS, "weird"), None);
        assert_eq!(find_group(GROUPS, "broken"), None);
    }

    #[test]
    fn an_unknown_group_name_is_an_error_that_names_it() {
        let err = group_id("no-such-group-for-herald").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown group `no-such-group-for-herald` for the control socket"
        );
    }

    #[tokio::test]
    async fn a_line_ending_at_end_of_input_is_a_request() {
        let request = read_request(&br#"{"version":1,"command":"status"}"#[..]).await;
        assert_eq!(request, Ok(Request::Status));
    }

    #[tokio::test]
    async fn a_line_of_exactly_the_limit_is_read_and_one_byte_more_is_too_large() {
        let fits = format!("{}\n", " ".repeat(MAX_REQUEST_LINE - 1));
        let err = read_request(fits.as_bytes()).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::BadRequest);
        let over = format!("{}\n", " ".repeat(MAX_REQUEST_LINE));
        let err = read_request(over.as_bytes()).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::TooLarge);
    }

    #[tokio::test]
    async fn an_empty_or_non_utf8_line_is_a_bad_request() {
        assert_eq!(
            read_request(&b"\n"[..]).await.unwrap_err().code,
            ErrorCode::BadRequest
        );
        assert_eq!(
            read_request(&b"\xff\xfe\n"[..]).await.unwrap_err().code,
            ErrorCode::BadRequest
        );
    }

    #[tokio::test]
    async fn a_dropped_reply_is_an_internal_error() {
        let (commands, mut receiver) = mpsc::channel(1);
        let daemon = tokio::spawn(async move {
            let command: Option<Command> = receiver.recv().await;
            drop(command);
        });
        let response = dispatch(Request::Reload, &commands).await;
        daemon.await.unwrap();
        assert!(matches!(
            response,
            Response::Error {
                code: ErrorCode::Internal,
                ..
            }
        ));
    }
}
