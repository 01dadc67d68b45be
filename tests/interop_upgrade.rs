//! A real package upgrade while herald runs: `dpkg -i` of a newer .deb
//! over the installed one, on one of three hosts that share a VIP behind
//! BIRD 2 (graceful restart on), while 48 TCP connections flow through the
//! router ([`support::flows`]) and its kernel route is sampled every 10 ms
//! ([`support::route_watch`]).
//!
//! On upgrade the package's postinst asks a running daemon to restart in
//! place (`herald status && herald restart`, on the default control socket
//! /run/herald/herald.sock): the daemon executes the new /usr/bin/herald in
//! the same process, and the router keeps the host's routes meanwhile
//! (RFC 4724). This test checks that it is so: dpkg succeeds, the PID
//! stays, the process now runs the new file, the daemon says it restarted,
//! BIRD saw one graceful restart ended by End-of-RIB, the host's next hop
//! never left the router's kernel route and no connection broke.
//!
//! It installs and purges the package, so it runs only when the variable
//! `HERALD_UPGRADE_DEBS` names the two packages, "OLD.deb NEW.deb" (the
//! packages stage of `.ci/run` sets it); without it, it prints "skipped",
//! under CI too. It also needs root, iproute2, BIRD 2, python3 and dpkg
//! (without them it is skipped, except under CI), and a machine where
//! herald is not installed and no herald answers on the default socket.
//!
//! Hosts 2 and 3 run the herald of this build, as in the other interop
//! tests; host 1 runs the installed /usr/bin/herald (as root), with the
//! default control socket, so that the package's scripts find it, and its
//! state file in the lab's directory. The figures are printed
//! (`-- --nocapture`).

mod support;

use std::io::Write as _;
use std::net::Ipv4Addr;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ::herald::control::client;
use ::herald::control::protocol::{Request, Response};
use support::daemon::{self, Outcome};
use support::flows::{FlowSpec, Flows};
use support::herald::{self, HeraldSpec};
use support::route_watch::RouteWatch;
use support::specs::{self, Fleet};

const TEST: &str = "interop_upgrade";
const VIP: &str = "192.0.2.10/32";
const VIP_ADDR: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);
/// The longest the route watch and the status poll run.
const WATCH_MAX: Duration = Duration::from_secs(300);
/// herald's graceful restart settings on every host.
const GR_KEYS: &str = "graceful-restart = true\nrestart-time = \"30s\"\n";
/// The variable that names the two packages.
const DEBS_VAR: &str = "HERALD_UPGRADE_DEBS";
const PACKAGE: &str = "herald";
/// Where the package installs the binary.
const INSTALLED: &str = "/usr/bin/herald";
/// The default control socket, where the package's scripts look.
const SOCKET: &str = ::herald::cli::DEFAULT_SOCKET;
/// How long one dpkg run may take (unpacking, maintainer scripts, the
/// man-db trigger).
const DPKG_TIMEOUT: Duration = Duration::from_secs(300);
/// How long dpkg is retried while another package manager holds its lock.
const DPKG_LOCK_WAIT: Duration = Duration::from_secs(120);
/// How often the status poll asks the daemon, and how long it waits.
const POLL_EVERY: Duration = Duration::from_millis(10);
const POLL_TIMEOUT: Duration = Duration::from_millis(500);

fn ms(d: Duration) -> u128 {
    d.as_millis()
}

fn unix_ms_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The two packages from `HERALD_UPGRADE_DEBS`; `None` (after printing
/// "skipped") when it is unset or empty. Panics if it is set but does not
/// name two .deb files.
fn upgrade_debs() -> Option<(PathBuf, PathBuf)> {
    let value = std::env::var(DEBS_VAR).unwrap_or_default();
    if value.trim().is_empty() {
        let _ = writeln!(
            std::io::stderr(),
            "skipped: {TEST}: {DEBS_VAR} is not set (\"OLD.deb NEW.deb\"; the packages \
             stage of .ci/run sets it)"
        );
        return None;
    }
    let debs: Vec<PathBuf> = value.split_whitespace().map(PathBuf::from).collect();
    assert!(
        debs.len() == 2
            && debs
                .iter()
                .all(|d| d.is_file() && d.extension().is_some_and(|e| e == "deb")),
        "{DEBS_VAR} must name two existing .deb files, \"OLD NEW\": {value:?}"
    );
    Some((debs[0].clone(), debs[1].clone()))
}

/// Runs `program args` to completion (at most [`DPKG_TIMEOUT`]).
fn run(program: &str, args: &[&str]) -> Outcome {
    daemon::run_program(&support::program(program), args, DPKG_TIMEOUT)
}

/// Runs dpkg with `args`, again (for at most [`DPKG_LOCK_WAIT`]) while
/// another package manager holds its lock; returns the outcome of the last
/// run and how long that run took.
fn dpkg(args: &[&str]) -> (Outcome, Duration) {
    let start = Instant::now();
    loop {
        let began = Instant::now();
        let out = run("dpkg", args);
        let locked = out.code != Some(0) && out.stderr.contains("locked by another process");
        if !locked || start.elapsed() >= DPKG_LOCK_WAIT {
            return (out, began.elapsed());
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// The Version field of a .deb file.
fn deb_version(deb: &Path) -> String {
    let out = run("dpkg-deb", &["-f", &deb.to_string_lossy(), "Version"]);
    assert_eq!(out.code, Some(0), "dpkg-deb -f {}: {out:?}", deb.display());
    out.stdout.trim().to_string()
}

/// The installed version of herald; `None` unless it is fully installed.
fn installed_version() -> Option<String> {
    let out = run(
        "dpkg-query",
        &["-W", "-f=${db:Status-Abbrev}|${Version}", PACKAGE],
    );
    if out.code != Some(0) {
        return None;
    }
    let (status, version) = out.stdout.split_once('|')?;
    (status.trim() == "ii").then(|| version.trim().to_string())
}

/// dpkg's status abbreviation of herald (`ii`, `rc`, ...), empty when
/// dpkg does not know the package.
fn package_status() -> String {
    let out = run("dpkg-query", &["-W", "-f=${db:Status-Abbrev}", PACKAGE]);
    out.stdout.trim().to_string()
}

/// `herald status --json --socket SOCKET` with the installed binary.
fn installed_status() -> serde_json::Value {
    let out = daemon::run_program(
        Path::new(INSTALLED),
        &["status", "--json", "--socket", SOCKET],
        daemon::COMMAND_TIMEOUT,
    );
    assert_eq!(out.code, Some(0), "herald status --json: {out:?}");
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("herald status --json: {e}: {}", out.stdout))
}

/// Whether a daemon answers `status` on `socket`.
fn answers(socket: &Path) -> bool {
    matches!(
        client::request(socket, &Request::Status, POLL_TIMEOUT),
        Ok(Response::Status(_))
    )
}

/// The binary a process runs, as the kernel sees it (`... (deleted)` if
/// the file was replaced since).
fn exe(pid: u32) -> String {
    std::fs::read_link(format!("/proc/{pid}/exe"))
        .map(|p| p.display().to_string())
        .unwrap_or_else(|e| format!("(unreadable: {e})"))
}

/// (device, inode) of the file at `path`, following links: for
/// `/proc/PID/exe`, the file the process runs, even a deleted one.
fn file_id(path: &str) -> (u64, u64) {
    let m = std::fs::metadata(path).unwrap_or_else(|e| panic!("stat {path}: {e}"));
    (m.dev(), m.ino())
}

/// Runs `program args` without panicking (for clean-up), killed after
/// `timeout`; `None` if it could not run or was killed.
fn run_quietly(program: &str, args: &[&str], timeout: Duration) -> Option<ExitStatus> {
    let mut child = Command::new(support::program(program))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let start = Instant::now();
    while start.elapsed() < timeout {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// The herald package, installed by this test. Dropping it (declare it
/// before the fleet, so that the lab has stopped the daemon by then)
/// purges the package unless [`Installed::purge`] did, removes a control
/// socket left behind, and removes /run/herald if it was not there before.
struct Installed {
    purged: bool,
    run_dir_existed: bool,
}

impl Installed {
    /// Installs `deb` on a machine without herald; returns how long dpkg
    /// took.
    fn install(deb: &Path, version: &str) -> (Installed, Duration) {
        let status = package_status();
        assert!(
            status.is_empty() || status == "un" || status == "pn",
            "herald is already known to dpkg ({status:?}); this test installs and purges \
             it: `dpkg --purge herald` first"
        );
        let socket = Path::new(SOCKET);
        assert!(
            !answers(socket),
            "a herald daemon already answers on {SOCKET}; stop it first"
        );
        let run_dir_existed = socket.parent().is_some_and(Path::exists);
        let installed = Installed {
            purged: false,
            run_dir_existed,
        };
        let (out, took) = dpkg(&["-i", &deb.to_string_lossy()]);
        assert_eq!(out.code, Some(0), "dpkg -i {}: {out:?}", deb.display());
        assert_eq!(installed_version().as_deref(), Some(version));
        (installed, took)
    }

    /// `dpkg --purge herald`; returns the outcome and how long it took.
    fn purge(&mut self) -> (Outcome, Duration) {
        self.purged = true;
        dpkg(&["--purge", PACKAGE])
    }
}

impl Drop for Installed {
    fn drop(&mut self) {
        // Never panic here: this may run while a failed test unwinds.
        if !self.purged {
            let _ = run_quietly("dpkg", &["--purge", PACKAGE], DPKG_TIMEOUT);
        }
        let socket = Path::new(SOCKET);
        let is_socket = std::fs::symlink_metadata(socket)
            .map(|m| m.file_type().is_socket())
            .unwrap_or(false);
        if is_socket && !answers(socket) {
            let _ = std::fs::remove_file(socket);
        }
        if !self.run_dir_existed {
            if let Some(dir) = socket.parent() {
                // Only if empty.
                let _ = std::fs::remove_dir(dir);
            }
        }
    }
}

/// What a poll of the daemon's `status` got: the daemon's
/// `started_unix_ms`, or `None` when nobody answered in time.
type Answer = Option<u64>;

/// Asks the daemon on a socket for its status every 10 ms on a thread,
/// and records each change of who answers (for at most [`WATCH_MAX`]).
struct StatusPoll {
    started: Instant,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<(Vec<(Duration, Answer)>, usize)>,
}

/// What a [`StatusPoll`] saw: the first answer, then each change (when,
/// what), and how many polls there were.
struct Answers {
    started: Instant,
    changes: Vec<(Duration, Answer)>,
    polls: usize,
}

impl StatusPoll {
    fn start(socket: &Path) -> StatusPoll {
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, socket) = (stop.clone(), socket.to_path_buf());
        let started = Instant::now();
        let max_polls = (WATCH_MAX.as_millis() / POLL_EVERY.as_millis()) as usize;
        let thread = std::thread::spawn(move || {
            let mut changes: Vec<(Duration, Answer)> = Vec::new();
            let mut polls = 0;
            while !flag.load(Ordering::Relaxed)
                && polls < max_polls
                && started.elapsed() < WATCH_MAX
            {
                let answer = match client::request(&socket, &Request::Status, POLL_TIMEOUT) {
                    Ok(Response::Status(report)) => Some(report.started_unix_ms),
                    _ => None,
                };
                polls += 1;
                if changes.last().map(|(_, a)| a) != Some(&answer) {
                    changes.push((started.elapsed(), answer));
                }
                std::thread::sleep(POLL_EVERY);
            }
            (changes, polls)
        });
        StatusPoll {
            started,
            stop,
            thread,
        }
    }

    fn stop(self) -> Answers {
        self.stop.store(true, Ordering::Relaxed);
        let (changes, polls) = self.thread.join().unwrap_or_default();
        Answers {
            started: self.started,
            changes,
            polls,
        }
    }
}

impl Answers {
    /// The distinct daemons (by start time) that answered, in order.
    fn daemons(&self) -> Vec<u64> {
        let mut seen = Vec::new();
        for (_, answer) in &self.changes {
            if let Some(started) = answer {
                if !seen.contains(started) {
                    seen.push(*started);
                }
            }
        }
        seen
    }

    /// The periods during which nobody answered, as (from, to) on the
    /// poll's scale; one still open at the end counts until then.
    fn silences(&self) -> Vec<(Duration, Duration)> {
        let mut out = Vec::new();
        let mut since = None;
        for (t, answer) in &self.changes {
            match (answer, since) {
                (None, None) => since = Some(*t),
                (Some(_), Some(from)) => {
                    out.push((from, *t));
                    since = None;
                }
                _ => {}
            }
        }
        if let Some(from) = since {
            out.push((from, self.started.elapsed()));
        }
        out
    }

    /// When the daemon that started at `started_unix_ms` first answered,
    /// from `from`.
    fn first_answer_of(&self, started_unix_ms: u64, from: Instant) -> Option<Duration> {
        let from = from.saturating_duration_since(self.started);
        self.changes
            .iter()
            .find(|(_, a)| *a == Some(started_unix_ms))
            .map(|(t, _)| t.saturating_sub(from))
    }

    fn describe(&self) -> String {
        let mut out = format!("{} polls:\n", self.polls);
        for (t, answer) in &self.changes {
            let who = match answer {
                Some(started) => format!("the daemon started at {started} ms"),
                None => "no answer".to_string(),
            };
            out.push_str(&format!("  {:8.3} s  {who}\n", t.as_secs_f64()));
        }
        out
    }
}

/// The fleet: host 1 runs the installed herald on the default socket,
/// hosts 2 and 3 this build's herald; BIRD with graceful restart on.
fn fleet() -> Fleet {
    Fleet::start_with(
        3,
        VIP,
        |router| router.graceful_restart = true,
        |lab, host| {
            let name = Fleet::name(host.index);
            let text = herald::config(&HeraldSpec {
                global_keys: GR_KEYS.to_string(),
                ..specs::herald(&[VIP])
            });
            if host.index == 1 {
                let text = herald::daemon_config_at(lab, &name, &text, Path::new(SOCKET));
                let config = lab.write_file(&format!("{name}.toml"), &text);
                herald::spawn_config(lab, &host.ns, &name, Path::new(INSTALLED), &config)
            } else {
                herald::spawn_text(lab, &host.ns, &name, &text)
            }
        },
    )
}

#[test]
fn a_dpkg_upgrade_restarts_herald_in_place_and_keeps_the_next_hop_and_every_connection() {
    let Some((old, new)) = upgrade_debs() else {
        return;
    };
    if !support::lab_available_with(TEST, &["python3", "dpkg", "dpkg-deb", "dpkg-query"]) {
        return;
    }
    let (old_version, new_version) = (deb_version(&old), deb_version(&new));
    let newer = run(
        "dpkg",
        &["--compare-versions", &new_version, "gt", &old_version],
    );
    assert_eq!(
        newer.code,
        Some(0),
        "{} ({new_version}) is not newer than {} ({old_version})",
        new.display(),
        old.display()
    );

    // Declared before the fleet: dropped after it, once the lab has
    // stopped the daemon.
    let (mut package, install_took) = Installed::install(&old, &old_version);
    let old_file = file_id(INSTALLED);
    let mut f = fleet();
    let pid = f.lab.pid(f.heralds[0]);

    let before = installed_status();
    assert_eq!(before["pid"].as_u64(), Some(u64::from(pid)), "{before}");
    assert_eq!(before["restarted"], false, "{before}");
    let peer = herald::peer_status(&before, "r1")
        .cloned()
        .unwrap_or_default();
    assert_eq!(peer["state"], "Established", "{before}");
    assert!(
        !peer["graceful_restart"].is_null(),
        "no graceful restart state in the status: {peer}"
    );
    assert_eq!(exe(pid), INSTALLED);
    assert_eq!(file_id(&format!("/proc/{pid}/exe")), old_file);
    let started_before = before["started_unix_ms"].as_u64().unwrap_or(0);

    let watch = RouteWatch::start(&f.lan.router, VIP, WATCH_MAX);
    let flows = Flows::start(&mut f.lab, &f.lan, &FlowSpec::new(VIP_ADDR));
    for host in ["h1", "h2", "h3"] {
        assert!(
            flows.per_host().get(host).copied().unwrap_or(0) >= 1,
            "no connection landed on {host}: {:?}",
            flows.per_host()
        );
    }
    assert!(
        !flows.per_host().contains_key("(none)"),
        "some connections could not be opened: {:?}",
        flows.per_host()
    );
    let poll = StatusPoll::start(Path::new(SOCKET));
    std::thread::sleep(Duration::from_secs(1));

    // The upgrade. --force-conf*: never ask about the configuration file
    // (unchanged between the two, so dpkg would not ask anyway).
    let dpkg_began = Instant::now();
    let wall_began = unix_ms_now();
    let new_arg = new.to_string_lossy();
    let (out, upgrade_took) = dpkg(&["-i", "--force-confdef", "--force-confold", &new_arg]);
    let wall_ended = unix_ms_now();
    assert_eq!(
        out.code,
        Some(0),
        "dpkg -i {new_arg}: {out:?}\n{}",
        f.lab.log_tails(30)
    );
    assert_eq!(installed_version().as_deref(), Some(new_version.as_str()));

    // `herald restart` returns once the new daemon answers, so by now it
    // does.
    let after = installed_status();
    let started_after = after["started_unix_ms"].as_u64().unwrap_or(0);
    let new_file = file_id(INSTALLED);
    let running = exe(pid);
    assert!(
        f.lab.is_running(f.heralds[0]),
        "h1's herald is gone\n{}",
        f.lab.log_tails(30)
    );
    assert_eq!(
        after["pid"].as_u64(),
        Some(u64::from(pid)),
        "the daemon has another PID after the upgrade: {after}"
    );
    assert_eq!(
        after["restarted"],
        true,
        "the daemon does not say it restarted: {after}\n{}",
        f.lab.log_tails(30)
    );
    assert!(
        (wall_began..=wall_ended).contains(&started_after),
        "the daemon (started at {started_after} ms, before the upgrade at \
         {started_before} ms) did not restart while dpkg ran ({wall_began} to \
         {wall_ended} ms)\n{}",
        f.lab.log_tails(30)
    );
    assert_ne!(new_file, old_file, "dpkg did not replace {INSTALLED}");
    assert_eq!(
        running, INSTALLED,
        "after the upgrade h1's herald runs {running}"
    );
    assert_eq!(
        file_id(&format!("/proc/{pid}/exe")),
        new_file,
        "h1's herald does not run the file dpkg installed"
    );
    let recovered = f.wait_gr_done("h1_v4", 1);
    std::thread::sleep(Duration::from_secs(1));

    let answers = poll.stop();
    let report = flows.finish(&mut f.lab);
    let history = watch.stop();
    let gr_lasted = support::bird::gr_windows(&f.bird.log(&f.lab), "h1_v4")
        .first()
        .copied();
    let silences = answers.silences();
    let silent_total: Duration = silences.iter().map(|(a, b)| *b - *a).sum();
    let first_answer = answers.first_answer_of(started_after, dpkg_began);
    eprintln!(
        "dpkg -i {old_version}: {} ms. dpkg -i {new_version} over it, flows running: {} ms, \
         exit {:?}; herald (pid {pid}) restarted in place by the postinst {} ms after dpkg \
         began, its control socket unanswered {} time(s), {} ms in all (polled every {} ms, \
         {} polls); first answer of the new daemon {} ms after dpkg began; now running \
         {running} (inode {} -> {}); BIRD's graceful restart of h1_v4 lasted {} ms \
         (session down to End-of-RIB), done {} ms after dpkg returned at the latest",
        ms(install_took),
        ms(upgrade_took),
        out.code,
        started_after.saturating_sub(wall_began),
        silences.len(),
        ms(silent_total),
        ms(POLL_EVERY),
        answers.polls,
        first_answer.map_or("(never)".to_string(), |d| ms(d).to_string()),
        old_file.1,
        new_file.1,
        gr_lasted.map_or("(unknown)".to_string(), |d| ms(d).to_string()),
        ms(recovered),
    );
    assert_eq!(
        answers.daemons(),
        vec![started_before, started_after],
        "the daemons that answered during the upgrade:\n{}",
        answers.describe()
    );
    f.assert_hitless(0, "h1_v4", 1, &report, &history);

    // Clean up: stop the daemon (the package's prerm stops only a systemd
    // service), then purge.
    assert!(
        f.lab.terminate(f.heralds[0]),
        "h1's herald did not exit within 5 s of SIGTERM\n{}",
        f.lab.log_tails(30)
    );
    let (out, purge_took) = package.purge();
    assert_eq!(out.code, Some(0), "dpkg --purge herald: {out:?}");
    let left = package_status();
    assert!(
        left.is_empty() || left == "un" || left == "pn",
        "after the purge dpkg says {left:?}"
    );
    assert!(!Path::new(INSTALLED).exists(), "{INSTALLED} is still there");
    assert!(
        std::fs::symlink_metadata(SOCKET).is_err(),
        "{SOCKET} is still there"
    );
    eprintln!(
        "stopped h1's herald and purged the package in {} ms: {INSTALLED} and {SOCKET} are gone",
        ms(purge_took)
    );
}
