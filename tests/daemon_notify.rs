//! What the real daemon tells systemd, end to end: `herald run` with
//! `NOTIFY_SOCKET` pointing at a datagram socket of ours (a stand-in for
//! systemd) and `WATCHDOG_USEC` set without `WATCHDOG_PID`, which makes the
//! watchdog herald's (sd_watchdog_enabled(3)).
//!
//! The environment is set on the child only, so these tests may run in
//! parallel; tests/systemd_notify.rs covers the `Notifier` in-process.

mod support;

use std::fs;
use std::io::ErrorKind;
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use support::daemon::{vip, Daemon, Host, POLL};
use support::wait::wait_until;

/// Half of it is herald's ping interval: 100 ms.
const WATCHDOG_USEC: &str = "200000";
/// How long one expected notification may take to arrive.
const ARRIVAL: Duration = Duration::from_secs(15);
/// Read timeout of each `recv`, so every wait checks its deadline.
const RECV_SLICE: Duration = Duration::from_millis(200);

/// systemd's end of `NOTIFY_SOCKET`: every datagram received, in order.
struct FakeSystemd {
    socket: UnixDatagram,
    path: PathBuf,
    received: Vec<String>,
}

impl FakeSystemd {
    fn bind(host: &Host) -> FakeSystemd {
        let path = host.path("notify.sock");
        let socket = UnixDatagram::bind(&path).expect("bind the notify socket");
        socket.set_read_timeout(Some(RECV_SLICE)).unwrap();
        FakeSystemd {
            socket,
            path,
            received: Vec::new(),
        }
    }

    /// Starts `herald run` on `host` with the notification variables.
    fn spawn(&self, host: &Host) -> Daemon {
        host.spawn(|command| {
            command
                .env("NOTIFY_SOCKET", &self.path)
                .env("WATCHDOG_USEC", WATCHDOG_USEC)
                .env_remove("WATCHDOG_PID");
        })
    }

    /// The next datagram, or `None` after [`RECV_SLICE`] of silence.
    fn recv(&mut self) -> Option<String> {
        let mut buf = [0u8; 4096];
        match self.socket.recv(&mut buf) {
            Ok(len) => {
                let text = String::from_utf8_lossy(&buf[..len]).into_owned();
                self.received.push(text.clone());
                Some(text)
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => None,
            Err(e) => panic!("cannot read the notify socket: {e}"),
        }
    }

    /// Reads until a datagram satisfies `wanted`, at most [`ARRIVAL`];
    /// panics with everything received otherwise.
    fn expect(&mut self, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        while start.elapsed() < ARRIVAL {
            if let Some(datagram) = self.recv() {
                if wanted(&datagram) {
                    return datagram;
                }
            }
        }
        panic!(
            "no {what} within {ARRIVAL:?}; received: {:?}",
            self.received
        );
    }

    /// Every datagram received for `window`.
    fn collect(&mut self, window: Duration) -> Vec<String> {
        let start = Instant::now();
        let mut got = Vec::new();
        while start.elapsed() < window {
            got.extend(self.recv());
        }
        got
    }
}

/// Whether `datagram` has `line` as one of its lines.
fn has_line(datagram: &str, line: &str) -> bool {
    datagram.lines().any(|l| l == line)
}

/// A host with one unreachable peer and one VIP without checks, plus
/// `extra` tables.
fn host(extra: &str) -> Host {
    let host = Host::new();
    host.write_config(&format!("{}{extra}", vip("192.0.2.10/32", &[])));
    host
}

#[test]
fn ready_is_sent_once_the_control_socket_exists_then_status_lines() {
    let host = host("");
    let mut systemd = FakeSystemd::bind(&host);
    let _daemon = systemd.spawn(&host);

    systemd.expect("READY=1", |d| has_line(d, "READY=1"));
    assert!(
        host.socket.exists(),
        "READY=1 came before the control socket"
    );
    host.herald(&["status"]).expect_code(0);

    let status = systemd.expect("STATUS=", |d| d.starts_with("STATUS="));
    assert_eq!(status.trim_end(), "STATUS=0/1 peers up, 1/1 VIPs announced");

    // A drain shows in the next status line (they are sent every 2 s).
    host.herald(&["drain", "--time", "0s"]).expect_code(0);
    systemd.expect("a drained STATUS=", |d| {
        has_line(d, "STATUS=0/1 peers up, 0/1 VIPs announced, drained")
    });
}

#[test]
fn the_watchdog_is_pinged_at_half_its_timeout() {
    let host = host("");
    let mut systemd = FakeSystemd::bind(&host);
    let _daemon = systemd.spawn(&host);
    systemd.expect("READY=1", |d| has_line(d, "READY=1"));

    let pings = systemd
        .collect(Duration::from_secs(2))
        .iter()
        .filter(|d| has_line(d, "WATCHDOG=1"))
        .count();
    assert!(
        pings >= 3,
        "{pings} WATCHDOG=1 in 2 s; received: {:?}",
        systemd.received
    );
}

#[test]
fn a_reload_is_announced_as_reloading_then_ready() {
    let host = host("");
    let mut systemd = FakeSystemd::bind(&host);
    let _daemon = systemd.spawn(&host);
    systemd.expect("READY=1", |d| has_line(d, "READY=1"));

    for (config_ok, code) in [(true, 0), (false, 5)] {
        if !config_ok {
            fs::write(&host.config, host.header(0)).unwrap();
        }
        host.herald(&["reload"]).expect_code(code);
        let reloading = systemd.expect("RELOADING=1", |d| has_line(d, "RELOADING=1"));
        let usec = reloading
            .lines()
            .find_map(|l| l.strip_prefix("MONOTONIC_USEC="))
            .unwrap_or_else(|| panic!("no MONOTONIC_USEC= in {reloading:?}"));
        assert!(
            usec.parse::<u64>().is_ok_and(|u| u > 0),
            "MONOTONIC_USEC={usec}"
        );
        // READY=1 must follow, even when the new file was refused.
        systemd.expect("READY=1 after RELOADING=1", |d| has_line(d, "READY=1"));
    }
}

#[test]
fn sigterm_is_announced_as_stopping() {
    let host = host("");
    let mut systemd = FakeSystemd::bind(&host);
    let mut daemon = systemd.spawn(&host);
    systemd.expect("READY=1", |d| has_line(d, "READY=1"));

    daemon.signal(Signal::SIGTERM);
    systemd.expect("STOPPING=1", |d| has_line(d, "STOPPING=1"));
    let status = daemon
        .wait_exit(support::daemon::STOP_GRACE)
        .expect("herald exits after SIGTERM");
    assert!(status.success(), "{status}; log:\n{}", daemon.log());
}

#[test]
fn exec_checks_do_not_inherit_notify_socket() {
    let base = Host::new();
    let seen = base.path("seen");
    let check = format!(
        "[[check]]
name = \"env\"
kind = \"exec\"
command = ['sh', '-c', 'echo \"x${{NOTIFY_SOCKET}}x\" > {}']
interval = \"100ms\"

",
        seen.display()
    );
    base.write_config(&format!("{}{}", vip("192.0.2.10/32", &["env"]), check));
    let mut systemd = FakeSystemd::bind(&base);
    let _daemon = systemd.spawn(&base);
    systemd.expect("READY=1", |d| has_line(d, "READY=1"));

    let text = wait_until(ARRIVAL, POLL, || {
        fs::read_to_string(&seen)
            .ok()
            .filter(|t| t.ends_with('\n'))
            .ok_or_else(|| format!("{} not written yet", seen.display()))
    })
    .unwrap();
    assert_eq!(text, "xx\n", "the exec check saw NOTIFY_SOCKET");
}
