//! Exec probe: a command that exits with status 0 when the service is
//! healthy, for checks no network probe can express.
//!
//! Why process groups: a check is often a shell script, and killing the
//! shell on timeout would leave its children (a hung `curl`, a `sleep`)
//! running, one more at every interval, until the host runs out of
//! processes. The child therefore leads a process group of its own
//! (`process_group(0)`), and the whole group is killed with SIGKILL: on
//! timeout, when the probe is dropped (the daemon stops), and after a
//! normal exit, so that nothing a check started outlives it. On timeout
//! and drop the group is killed before the leader is reaped, while its pid
//! still names the group; after a normal exit, any member left holds the
//! group id, and an empty group just answers ESRCH.

use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{Child, Command};

use super::{human, one_line, timed_out, ProbeError, Verdict};
use crate::systemd::scrub_child_env;

/// Most bytes kept of each of stdout and stderr; the rest is read and
/// discarded, so a chatty check never blocks on a full pipe.
const OUTPUT_LIMIT: usize = 4 * 1024;

/// Longest wait for the kernel to reap a group killed with SIGKILL. Only a
/// process stuck in the kernel takes longer; it is then left to tokio,
/// which reaps it in the background.
const REAP_LIMIT: Duration = Duration::from_secs(2);

/// Longest line of output quoted in a reason.
const REASON_LIMIT: usize = 200;

/// One command line, run without a shell.
#[derive(Debug)]
pub(super) struct ExecProbe {
    program: String,
    args: Vec<String>,
}

impl ExecProbe {
    pub(super) fn new(argv: &[String]) -> Result<ExecProbe, ProbeError> {
        let (program, args) = argv.split_first().ok_or(ProbeError::EmptyArgv)?;
        Ok(ExecProbe {
            program: program.clone(),
            args: args.to_vec(),
        })
    }

    /// Runs the command with stdin closed and the daemon's environment.
    /// Never longer than `timeout`, plus the time to kill and reap.
    pub(super) async fn run(&self, timeout: Duration) -> Verdict {
        let mut child = scrub_child_env(&mut Command::new(&self.program))
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .map_err(|err| format!("cannot run {}: {}", self.program, one_line(&err)))?;
        // Declared after `child`, so dropped first: the group is killed
        // before the leader is handed to tokio's background reaper.
        let group = GroupGuard::new(&child);
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();

        let finished = tokio::time::timeout(timeout, async {
            let exited = async {
                let status = child.wait().await;
                // Leftover members keep the pipes open; killing them
                // ends the reads below.
                group.kill();
                status
            };
            tokio::join!(exited, read_head(stdout), read_head(stderr))
        })
        .await;

        match finished {
            Ok((Ok(status), stdout, stderr)) => judge(status, &stdout, &stderr),
            Ok((Err(err), _, _)) => Err(format!(
                "cannot wait for {}: {}",
                self.program,
                one_line(&err)
            )),
            Err(_) => {
                group.kill();
                match tokio::time::timeout(REAP_LIMIT, child.wait()).await {
                    Ok(_) => Err(timed_out(timeout)),
                    Err(_) => Err(format!(
                        "{}, not reaped within {}",
                        timed_out(timeout),
                        human(REAP_LIMIT)
                    )),
                }
            }
        }
    }
}

/// Kills the child's process group once: when told to, or when dropped
/// while still armed (the probe future was dropped mid-run).
#[derive(Debug)]
struct GroupGuard {
    group: Option<Pid>,
    armed: AtomicBool,
}

impl GroupGuard {
    fn new(child: &Child) -> GroupGuard {
        // With `process_group(0)` the group id is the leader's pid.
        let group = child
            .id()
            .and_then(|pid| i32::try_from(pid).ok())
            .map(Pid::from_raw);
        GroupGuard {
            group,
            armed: AtomicBool::new(true),
        }
    }

    /// Sends SIGKILL to every member of the group, the first time only.
    /// An empty group (ESRCH) is the usual case after a clean exit.
    fn kill(&self) {
        if self.armed.swap(false, Ordering::AcqRel) {
            if let Some(group) = self.group {
                let _ = killpg(group, Signal::SIGKILL);
            }
        }
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Reads a pipe to its end, keeping the first [`OUTPUT_LIMIT`] bytes.
/// Bounded by the caller's timeout and by the group being killed.
async fn read_head(pipe: Option<impl AsyncRead + Unpin>) -> Vec<u8> {
    let mut head = Vec::new();
    let Some(mut pipe) = pipe else {
        return head;
    };
    let mut buf = [0u8; 1024];
    loop {
        match pipe.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = OUTPUT_LIMIT - head.len();
                head.extend_from_slice(&buf[..n.min(room)]);
            }
        }
    }
    head
}

/// Success on exit status 0; the reason quotes the first line of stderr,
/// or of stdout when stderr is silent.
fn judge(status: ExitStatus, stdout: &[u8], stderr: &[u8]) -> Verdict {
    let mut reason = match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        (None, None) => status.to_string(),
    };
    if let Some(line) = first_line(stderr).or_else(|| first_line(stdout)) {
        reason.push_str(": ");
        reason.push_str(&line);
    }
    if status.success() {
        Ok(reason)
    } else {
        Err(reason)
    }
}

/// The first line with text, trimmed and cut to [`REASON_LIMIT`] chars.
fn first_line(output: &[u8]) -> Option<String> {
    String::from_utf8_lossy(output)
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .map(|line| line.chars().take(REASON_LIMIT).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_line_with_text_is_quoted() {
        assert_eq!(
            first_line(b"\n  \n disk full \nmore"),
            Some("disk full".into())
        );
        assert_eq!(first_line(b" \n"), None);
    }

    #[test]
    fn stderr_is_preferred_over_stdout() {
        let failed = ExitStatus::from_raw(3 << 8);
        assert_eq!(
            judge(failed, b"out", b"err"),
            Err("exit status 3: err".into())
        );
        assert_eq!(judge(failed, b"out", b""), Err("exit status 3: out".into()));
    }

    #[test]
    fn a_signal_is_named() {
        assert_eq!(
            judge(ExitStatus::from_raw(9), b"", b""),
            Err("killed by signal 9".into())
        );
    }

    #[test]
    fn an_empty_argv_is_a_config_error() {
        assert!(matches!(ExecProbe::new(&[]), Err(ProbeError::EmptyArgv)));
    }
}
