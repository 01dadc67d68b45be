//! A [`Lab`] owns what one test creates: network namespaces, the processes
//! it runs in them and a temporary directory for configs, sockets and logs.
//! Dropping it stops the processes (by PID: SIGTERM, then SIGKILL) and
//! deletes the namespaces, also when the test panics.
//!
//! Names carry the test process's PID and a counter, so tests may run in
//! parallel, and so may several `cargo test` runs.

use std::fmt::Write as _;
use std::fs::File;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::program;

static NEXT_LAB: AtomicUsize = AtomicUsize::new(0);

/// How long a process gets to exit after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// A process started by [`Lab::spawn`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcId(usize);

struct Proc {
    name: String,
    log: PathBuf,
    child: Child,
    exited: bool,
}

/// One test's namespaces, processes and directory; see the module docs.
pub struct Lab {
    prefix: String,
    namespaces: Vec<String>,
    procs: Vec<Proc>,
    dir: TempDir,
}

impl Lab {
    /// An empty lab: nothing is created until asked for.
    pub fn new() -> Lab {
        let n = NEXT_LAB.fetch_add(1, Ordering::Relaxed);
        let prefix = format!("hl{}-{}", std::process::id(), n);
        let dir = tempfile::Builder::new()
            .prefix(&format!("{prefix}."))
            .tempdir()
            .expect("create the lab's temporary directory");
        Lab {
            prefix,
            namespaces: Vec::new(),
            procs: Vec::new(),
            dir,
        }
    }

    /// The lab's directory for configs, sockets and logs.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `contents` to `name` in the lab's directory.
    pub fn write_file(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.dir().join(name);
        std::fs::write(&path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }

    /// Creates namespace `<prefix>-<short>` with `lo` up; returns its name.
    pub fn add_netns(&mut self, short: &str) -> String {
        let name = format!("{}-{short}", self.prefix);
        run(Command::new(program("ip")).args(["netns", "add", &name]));
        self.namespaces.push(name.clone());
        ip(&name, &["link", "set", "lo", "up"]);
        name
    }

    /// Starts `program args` inside `ns` in the background, stdout and
    /// stderr to `<name>.log` in the lab's directory.
    pub fn spawn<S: AsRef<std::ffi::OsStr>>(
        &mut self,
        ns: &str,
        name: &str,
        program_path: &Path,
        args: &[S],
    ) -> ProcId {
        let log = self.dir().join(format!("{name}.log"));
        let out = File::create(&log).unwrap_or_else(|e| panic!("create {}: {e}", log.display()));
        let err = out.try_clone().expect("clone the log file handle");
        // `ip netns exec` execs the program, so the child's PID is the
        // program's own PID and signals reach it directly.
        let mut command = Command::new(program("ip"));
        command
            .args(["netns", "exec", ns])
            .arg(program_path)
            .args(args);
        self.start(name, program_path, command, log, out, err)
    }

    /// The PID of a process started by [`Lab::spawn`].
    pub fn pid(&self, id: ProcId) -> u32 {
        self.procs[id.0].child.id()
    }

    /// Sends SIGTERM and waits (at most 5 s) for the process to exit.
    /// Returns whether it exited in time.
    pub fn terminate(&mut self, id: ProcId) -> bool {
        stop(&mut self.procs[id.0], STOP_GRACE)
    }

    /// Kills the process with SIGKILL, as a crash would, and reaps it: it
    /// no longer counts as exiting on its own.
    pub fn kill(&mut self, id: ProcId) {
        let proc = &mut self.procs[id.0];
        let _ = proc.child.kill();
        let _ = proc.child.wait();
        proc.exited = true;
    }

    /// The processes that exited although the lab did not stop them, with
    /// their exit status: `None` if all still run.
    pub fn unexpected_exits(&mut self) -> Option<String> {
        let dead: Vec<String> = self
            .procs
            .iter_mut()
            .filter(|p| !p.exited)
            .filter_map(|p| match p.child.try_wait() {
                Ok(Some(status)) => Some(format!("{} exited on its own: {status}", p.name)),
                _ => None,
            })
            .collect();
        (!dead.is_empty()).then(|| dead.join("; "))
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self, id: ProcId) -> bool {
        let proc = &mut self.procs[id.0];
        !proc.exited && matches!(proc.child.try_wait(), Ok(None))
    }

    /// The last `lines` lines of a process's log.
    pub fn log_tail(&self, id: ProcId, lines: usize) -> String {
        tail(&self.procs[id.0].log, lines)
    }

    /// Whether each process runs (or how it exited) and the last lines of
    /// its log, for failure messages.
    pub fn log_tails(&mut self, lines: usize) -> String {
        let mut out = String::new();
        for proc in &mut self.procs {
            let state = match proc.child.try_wait() {
                Ok(None) if !proc.exited => format!("running, pid {}", proc.child.id()),
                Ok(Some(status)) => format!("exited: {status}"),
                _ => "stopped by the lab".to_string(),
            };
            let _ = writeln!(
                out,
                "--- {} ({state}; log {}):",
                proc.name,
                proc.log.display()
            );
            out.push_str(&tail(&proc.log, lines));
        }
        out
    }
}

impl Default for Lab {
    fn default() -> Lab {
        Lab::new()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        // Never panic here: this may run while a failed test unwinds.
        for proc in &self.procs {
            if !proc.exited {
                signal(proc.child.id(), "TERM");
            }
        }
        for proc in &mut self.procs {
            stop(proc, STOP_GRACE);
        }
        for ns in self.namespaces.iter().rev() {
            let _ = Command::new(program("ip"))
                .args(["netns", "delete", ns])
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// Fault injection and processes outside any namespace.
impl Lab {
    /// Sends signal `name` (`"KILL"`, `"STOP"`, `"CONT"`, ...) to a process
    /// started by the lab, by its PID. After `KILL` the lab still reaps the
    /// process when it is dropped.
    pub fn signal(&self, id: ProcId, name: &str) {
        signal(self.pid(id), name);
    }

    /// Like [`Lab::spawn`], but runs `program args` in the test's own
    /// network namespace, for tests that need no lab network (e.g. a
    /// scripted peer on loopback).
    pub fn spawn_here<S: AsRef<std::ffi::OsStr>>(
        &mut self,
        name: &str,
        program_path: &Path,
        args: &[S],
    ) -> ProcId {
        let log = self.dir().join(format!("{name}.log"));
        let out = File::create(&log).unwrap_or_else(|e| panic!("create {}: {e}", log.display()));
        let err = out.try_clone().expect("clone the log file handle");
        let mut command = Command::new(program_path);
        command.args(args);
        self.start(name, program_path, command, log, out, err)
    }

    /// Spawns `command` with its output in `log` and takes charge of it.
    fn start(
        &mut self,
        name: &str,
        program_path: &Path,
        mut command: Command,
        log: PathBuf,
        out: File,
        err: File,
    ) -> ProcId {
        // A daemon must not take the test runner's service manager for its
        // own.
        for name in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] {
            command.env_remove(name);
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("start {name} ({}): {e}", program_path.display()));
        self.procs.push(Proc {
            name: name.to_string(),
            log,
            child,
            exited: false,
        });
        ProcId(self.procs.len() - 1)
    }
}

/// SIGTERM, wait up to `grace`, then SIGKILL; reaps the child.
fn stop(proc: &mut Proc, grace: Duration) -> bool {
    if proc.exited {
        return true;
    }
    signal(proc.child.id(), "TERM");
    let start = Instant::now();
    while start.elapsed() < grace {
        if !matches!(proc.child.try_wait(), Ok(None)) {
            proc.exited = true;
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = proc.child.kill();
    let _ = proc.child.wait();
    proc.exited = true;
    false
}

fn signal(pid: u32, name: &str) {
    let _ = Command::new("kill")
        .args([format!("-{name}"), pid.to_string()])
        .stderr(Stdio::null())
        .status();
}

fn tail(path: &Path, lines: usize) -> String {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let all: Vec<&str> = text.lines().collect();
            let mut out = all[all.len().saturating_sub(lines)..].join("\n");
            out.push('\n');
            out
        }
        Err(e) => format!("(cannot read {}: {e})\n", path.display()),
    }
}

/// Waits up to `timeout` until `ns`'s kernel route for `prefix` has
/// exactly the next hops `want` (none: no route at all). Fails with what
/// it saw, or at once with the news if a process of `lab` exited on its
/// own.
pub fn wait_next_hops(
    lab: &mut Lab,
    ns: &str,
    prefix: &str,
    want: &[IpAddr],
    timeout: Duration,
) -> Result<(), String> {
    let mut want = want.to_vec();
    want.sort();
    let result = super::wait::wait_until(timeout, Duration::from_millis(20), || {
        if let Some(dead) = lab.unexpected_exits() {
            return Ok(Err(format!("while waiting for {prefix}: {dead}")));
        }
        let got = kernel_route(ns, prefix);
        let matches = match &got {
            None => want.is_empty(),
            Some(hops) => !want.is_empty() && *hops == want,
        };
        if matches {
            Ok(Ok(()))
        } else {
            Err(format!("{prefix}: next hops {got:?}, want {want:?}"))
        }
    });
    match result {
        Ok(Ok(())) => Ok(()),
        Ok(Err(why)) | Err(why) => Err(why),
    }
}

/// Runs a command to completion; panics with its stderr if it fails.
/// Returns its stdout.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run {cmd:?}: {e}"));
    if !out.status.success() {
        panic!(
            "{cmd:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `ip -n NS ARGS...`
pub fn ip(ns: &str, args: &[&str]) -> String {
    run(Command::new(program("ip")).args(["-n", ns]).args(args))
}

/// `sysctl -w` inside `ns`, e.g. `("net.ipv4.ip_forward", "1")`.
pub fn sysctl(ns: &str, settings: &[(&str, &str)]) {
    let mut cmd = Command::new(program("ip"));
    cmd.args(["netns", "exec", ns, "sysctl", "-q", "-w"]);
    for (key, value) in settings {
        cmd.arg(format!("{key}={value}"));
    }
    run(&mut cmd);
}

/// Adds an address (`"198.51.100.1/24"`, `"2001:db8:100::1/64"`) to `dev`.
/// IPv6 addresses skip duplicate address detection so they work at once.
pub fn add_addr(ns: &str, dev: &str, cidr: &str) {
    if cidr.contains(':') {
        ip(ns, &["addr", "add", cidr, "dev", dev, "nodad"]);
    } else {
        ip(ns, &["addr", "add", cidr, "dev", dev]);
    }
}

/// Creates a bridge `name` in `ns` and sets it up.
pub fn add_bridge(ns: &str, name: &str) {
    ip(ns, &["link", "add", name, "type", "bridge"]);
    ip(ns, &["link", "set", name, "up"]);
}

/// Links `other_ns` to `bridge` in `ns`: a veth pair with end `port` on the
/// bridge and end `other_if` in `other_ns`, both up. Both ends are created
/// directly in their namespaces, so no name is ever used in the root one.
pub fn add_veth_to_bridge(ns: &str, bridge: &str, port: &str, other_ns: &str, other_if: &str) {
    ip(
        ns,
        &[
            "link", "add", port, "type", "veth", "peer", "name", other_if, "netns", other_ns,
        ],
    );
    ip(ns, &["link", "set", port, "master", bridge, "up"]);
    ip(other_ns, &["link", "set", other_if, "up"]);
}

/// The kernel route for exactly `prefix` in `ns` (main table): `None` if
/// there is none, else its next-hop gateways, sorted.
///
/// Reads `ip -j route show PREFIX` and collects every `"gateway"` field,
/// which covers both shapes: one next hop (`gateway` on the route) and
/// plain multipath as BIRD installs it (`nexthops: [{gateway}, ...]`).
/// Routes through nexthop objects (`nhid`, as FRR installs them) carry the
/// same fields as long as the kernel's `nexthop_compat_mode` is 1, the
/// default.
pub fn kernel_route(ns: &str, prefix: &str) -> Option<Vec<IpAddr>> {
    let family = if prefix.contains(':') { "-6" } else { "-4" };
    let json = ip(ns, &["-j", family, "route", "show", prefix]);
    if !json.contains("\"dst\"") {
        return None;
    }
    let mut gateways: Vec<IpAddr> = json_string_fields(&json, "gateway")
        .iter()
        .map(|gw| {
            gw.parse()
                .unwrap_or_else(|e| panic!("bad gateway {gw:?} in {json}: {e}"))
        })
        .collect();
    gateways.sort();
    Some(gateways)
}

/// Every string value of `"field":"..."` in a JSON text, in order. Enough
/// for iproute2's output, whose strings hold no escaped quotes.
pub fn json_string_fields(json: &str, field: &str) -> Vec<String> {
    let key = format!("\"{field}\":\"");
    let mut values = Vec::new();
    let mut rest = json;
    while let Some(at) = rest.find(&key) {
        rest = &rest[at + key.len()..];
        let end = rest.find('"').unwrap_or(rest.len());
        values.push(rest[..end].to_string());
        rest = &rest[end..];
    }
    values
}

#[cfg(test)]
mod tests {
    use super::json_string_fields;

    #[test]
    fn gateways_are_found_in_both_route_shapes() {
        let one = r#"[{"dst":"192.0.2.21","gateway":"198.51.100.11","dev":"br0","protocol":"bird","metric":32,"flags":[]}]"#;
        let many = r#"[{"dst":"192.0.2.10","protocol":"bird","metric":32,"flags":[],"nexthops":[{"gateway":"198.51.100.11","dev":"br0","weight":1,"flags":[]},{"gateway":"198.51.100.12","dev":"br0","weight":1,"flags":[]}]}]"#;
        assert_eq!(json_string_fields(one, "gateway"), ["198.51.100.11"]);
        assert_eq!(
            json_string_fields(many, "gateway"),
            ["198.51.100.11", "198.51.100.12"]
        );
        assert!(json_string_fields("[]", "gateway").is_empty());
    }
}
