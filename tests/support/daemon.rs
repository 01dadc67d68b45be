//! herald as a local process, for the tests of its operator interface and
//! of its systemd notifications: a config in a temporary directory, `herald
//! run` started and stopped by PID, and the one-shot commands run against
//! its control socket.
//!
//! No router is needed. The one `[[peer]]` is a loopback port that nobody
//! listens on, so its session just retries; a VIP without checks is then
//! "announced" in `herald status`, which reports what herald wants to
//! announce. A `file` check on a path in the temporary directory flips a
//! VIP's health deterministically.

use std::fmt::Write as _;
use std::fs;
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use herald::control::protocol::{StatusReport, VipStatus};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tempfile::TempDir;

use super::wait::wait_until;

/// The herald binary Cargo built for this test run.
pub const BIN: &str = env!("CARGO_BIN_EXE_herald");
/// How long `herald run` may take to answer its first `status`.
pub const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a stopped daemon may take to exit (it closes its sessions
/// within 5 s) before the guard kills it.
pub const STOP_GRACE: Duration = Duration::from_secs(10);
/// How long a one-shot command may run (its own request timeout is 10 s).
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a state change (a probe every 100 ms, a drain of 1 s) may take
/// to show in `herald status`.
pub const CHANGE_TIMEOUT: Duration = Duration::from_secs(10);
/// Poll interval of every wait here.
pub const POLL: Duration = Duration::from_millis(50);

/// Variables that would leak the test runner's settings into herald.
const SCRUBBED_ENV: [&str; 5] = [
    "NOTIFY_SOCKET",
    "WATCHDOG_USEC",
    "WATCHDOG_PID",
    "HERALD_SOCKET",
    "RUST_LOG",
];

/// A host's files: the config, the control socket and the state file, all
/// in one temporary directory removed on drop.
pub struct Host {
    pub dir: TempDir,
    pub config: PathBuf,
    pub socket: PathBuf,
    pub state_file: PathBuf,
    /// A loopback port nobody listens on, for the one `[[peer]]`.
    pub dead_port: u16,
}

/// The result of a one-shot command.
#[derive(Debug)]
pub struct Outcome {
    /// The exit code; `None` if a signal ended it.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    /// Panics with the output unless the command exited with `code`.
    pub fn expect_code(self, code: i32) -> Outcome {
        assert_eq!(
            self.code,
            Some(code),
            "expected exit code {code}; stdout: {:?}; stderr: {:?}",
            self.stdout,
            self.stderr
        );
        self
    }
}

impl Host {
    /// A fresh temporary directory; nothing written yet.
    pub fn new() -> Host {
        let dir = tempfile::tempdir().expect("a temporary directory");
        Host {
            config: dir.path().join("herald.toml"),
            socket: dir.path().join("herald.sock"),
            state_file: dir.path().join("state.json"),
            dead_port: dead_port(),
            dir,
        }
    }

    /// A path in the temporary directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `[global]` (with `asn` on line 2, so tests can name its position),
    /// `[control]` and one unreachable `[[peer]]`, with `asn` as given.
    pub fn header(&self, asn: u32) -> String {
        format!(
            "[global]
asn = {asn}
state-file = \"{state}\"
drain-time = \"1s\"
connect-retry = \"1s\"
connect-retry-max = \"2s\"

[control]
socket = \"{socket}\"

[[peer]]
name = \"tor1\"
address = \"127.0.0.1\"
port = {port}
asn = 65000
ipv6 = true
next-hop-ipv6 = \"2001:db8::1\"
",
            state = self.state_file.display(),
            socket = self.socket.display(),
            port = self.dead_port,
        )
    }

    /// Writes the config: the header followed by `tables`.
    pub fn write_config(&self, tables: &str) {
        let text = format!("{}\n{tables}", self.header(65001));
        fs::write(&self.config, text).expect("write the config");
    }

    /// Starts `herald run` and waits until it answers `status`.
    pub fn start(&self) -> Daemon {
        let mut daemon = self.spawn(|_| {});
        daemon.wait_ready(self);
        daemon
    }

    /// Starts `herald run` after `configure` had its say on the command
    /// (environment, for example); does not wait for it.
    pub fn spawn(&self, configure: impl FnOnce(&mut Command)) -> Daemon {
        let log_path = self.path(&format!("herald-{}.log", unique()));
        let log = fs::File::create(&log_path).expect("create the daemon log");
        let mut command = Command::new(BIN);
        command
            .args(["run", "--config"])
            .arg(&self.config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("duplicate the log file"))
            .stderr(log);
        for name in SCRUBBED_ENV {
            command.env_remove(name);
        }
        configure(&mut command);
        let child = command.spawn().expect("start herald run");
        Daemon {
            child,
            log: log_path,
            status: None,
        }
    }

    /// Runs `herald ARGS... --socket SOCKET`.
    pub fn herald(&self, args: &[&str]) -> Outcome {
        let mut all: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
        all.push("--socket".as_ref());
        all.push(self.socket.as_os_str());
        run(&all)
    }

    /// `herald status --json`, parsed.
    pub fn status(&self) -> StatusReport {
        let out = self.herald(&["status", "--json"]).expect_code(0);
        serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("status --json does not parse: {e}: {}", out.stdout))
    }

    /// Polls `status` until `done` holds, at most [`CHANGE_TIMEOUT`];
    /// panics with `what` and the last report otherwise.
    pub fn wait_status(&self, what: &str, done: impl Fn(&StatusReport) -> bool) -> StatusReport {
        wait_until(CHANGE_TIMEOUT, POLL, || {
            let report = self.status();
            if done(&report) {
                Ok(report)
            } else {
                Err(format!("{report:#?}"))
            }
        })
        .unwrap_or_else(|why| panic!("waiting for {what}: {why}"))
    }
}

/// Runs herald with `args`, killed if it outlives [`COMMAND_TIMEOUT`].
pub fn run<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Outcome {
    run_program(Path::new(BIN), args, COMMAND_TIMEOUT)
}

/// Runs `program` with `args` (stdin empty, herald's variables scrubbed
/// from the environment as for [`run`]) and collects its output; kills it
/// and panics if it outlives `timeout`.
pub fn run_program<S: AsRef<std::ffi::OsStr>>(
    program: &Path,
    args: &[S],
    timeout: Duration,
) -> Outcome {
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for name in SCRUBBED_ENV {
        command.env_remove(name);
    }
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", program.display()));
    // Read both pipes on threads so a chatty command cannot block on a
    // full pipe while we wait for it.
    let stdout = reader(child.stdout.take());
    let stderr = reader(child.stderr.take());
    let start = Instant::now();
    let status = loop {
        match child.try_wait().expect("wait for the command") {
            Some(status) => break status,
            None if start.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "{} {:?} did not finish within {timeout:?}",
                    program.display(),
                    args.iter()
                        .map(|a| a.as_ref().to_string_lossy().into_owned())
                        .collect::<Vec<_>>()
                );
            }
            None => std::thread::sleep(POLL),
        }
    };
    Outcome {
        code: status.code(),
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    }
}

fn reader<R: Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_string(&mut text);
        }
        text
    })
}

/// A running `herald run`. Dropping it stops the process by its PID:
/// SIGTERM, then SIGKILL after [`STOP_GRACE`].
pub struct Daemon {
    child: Child,
    log: PathBuf,
    status: Option<ExitStatus>,
}

impl Daemon {
    /// The daemon's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` to the daemon (and only to it).
    pub fn signal(&self, signal: Signal) {
        let pid = i32::try_from(self.child.id()).expect("a pid fits in i32");
        kill(Pid::from_raw(pid), signal).expect("signal the daemon");
    }

    /// The daemon's output so far.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_else(|e| format!("(no log: {e})"))
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.try_status().is_none()
    }

    fn try_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
        }
        self.status
    }

    /// Waits up to `timeout` for the process to exit.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.try_status() {
                return Some(status);
            }
            if start.elapsed() >= timeout {
                return None;
            }
            std::thread::sleep(POLL);
        }
    }

    /// SIGTERM, then waits for the exit; panics (and the guard kills it)
    /// if it does not exit within [`STOP_GRACE`].
    pub fn terminate(&mut self) -> ExitStatus {
        self.signal(Signal::SIGTERM);
        match self.wait_exit(STOP_GRACE) {
            Some(status) => status,
            None => panic!(
                "herald did not exit within {STOP_GRACE:?} of SIGTERM; log:\n{}",
                self.log()
            ),
        }
    }

    /// Waits until the daemon answers `status` on `host`'s socket; panics
    /// with its log if it exits or does not answer in time.
    pub fn wait_ready(&mut self, host: &Host) {
        let start = Instant::now();
        loop {
            if let Some(status) = self.try_status() {
                panic!(
                    "herald exited ({status}) before answering; log:\n{}",
                    self.log()
                );
            }
            if host.socket.exists() && host.herald(&["status"]).code == Some(0) {
                return;
            }
            assert!(
                start.elapsed() < START_TIMEOUT,
                "herald did not answer within {START_TIMEOUT:?}; log:\n{}",
                self.log()
            );
            std::thread::sleep(POLL);
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // Never panic here: this may run while a failed test unwinds.
        if self.try_status().is_some() {
            return;
        }
        if let Ok(pid) = i32::try_from(self.child.id()) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
        if self.wait_exit(STOP_GRACE).is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A loopback TCP port that nobody listens on (bound, noted, released).
pub fn dead_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("its address").port()
}

/// A `[[vip]]` table; `checks` may be empty.
pub fn vip(prefix: &str, checks: &[&str]) -> String {
    let mut table = format!("[[vip]]\nprefix = \"{prefix}\"\n");
    if !checks.is_empty() {
        let names: Vec<String> = checks.iter().map(|c| format!("\"{c}\"")).collect();
        let _ = writeln!(table, "checks = [{}]", names.join(", "));
    }
    table.push('\n');
    table
}

/// A `file` check named `name`, healthy while `flag` is absent, that acts
/// on the first probe and probes every 100 ms.
pub fn file_check(name: &str, flag: &Path) -> String {
    format!(
        "[[check]]
name = \"{name}\"
kind = \"file\"
path = \"{}\"
healthy-when = \"absent\"
interval = \"100ms\"
rise = 1
fall = 1
initial = \"down\"

",
        flag.display()
    )
}

/// The VIP `prefix` of `report`; panics if it is not there.
pub fn vip_of<'a>(report: &'a StatusReport, prefix: &str) -> &'a VipStatus {
    report
        .vips
        .iter()
        .find(|v| v.prefix == prefix)
        .unwrap_or_else(|| panic!("{prefix} is not in the status: {report:#?}"))
}

/// The state of VIP `prefix` in `report` ("announced", "withdrawn", ...).
pub fn state_of<'a>(report: &'a StatusReport, prefix: &str) -> &'a str {
    &vip_of(report, prefix).state
}

/// A number unique within this process, for file names.
fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
