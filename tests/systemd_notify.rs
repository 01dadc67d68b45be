//! The exact datagrams herald sends to systemd's notification socket.
//!
//! `Notifier` reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID`
//! from the environment, which is shared by the whole process, so every
//! assertion that sets those variables lives in the one test below; no other
//! test in this binary may touch them.

use std::io::ErrorKind;
use std::os::unix::net::UnixDatagram;
use std::time::Duration;

use herald::systemd::Notifier;

/// A stand-in for systemd's end of `NOTIFY_SOCKET`.
struct FakeSystemd {
    socket: UnixDatagram,
}

impl FakeSystemd {
    fn next(&self) -> String {
        let mut buf = [0u8; 4096];
        let len = self
            .socket
            .recv(&mut buf)
            .expect("a notification within the timeout");
        String::from_utf8(buf[..len].to_vec()).expect("notifications are UTF-8")
    }

    fn assert_silent(&self) {
        self.socket.set_nonblocking(true).unwrap();
        let mut buf = [0u8; 4096];
        match self.socket.recv(&mut buf) {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            other => panic!(
                "expected no notification, got {:?}",
                other.map(|len| String::from_utf8_lossy(&buf[..len]).into_owned())
            ),
        }
        self.socket.set_nonblocking(false).unwrap();
    }
}

#[test]
fn notifier_sends_the_sd_notify_protocol_and_nothing_without_a_socket() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notify");
    let systemd = FakeSystemd {
        socket: UnixDatagram::bind(&path).unwrap(),
    };
    systemd
        .socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();

    std::env::set_var("NOTIFY_SOCKET", &path);
    std::env::set_var("WATCHDOG_USEC", "30000000");
    std::env::set_var("WATCHDOG_PID", std::process::id().to_string());
    let notifier = Notifier::from_env();

    assert_eq!(
        notifier.watchdog_interval(),
        Some(Duration::from_secs(15)),
        "ping at half the watchdog timeout"
    );

    notifier.status("connecting to 2 peers");
    assert_eq!(systemd.next(), "STATUS=connecting to 2 peers\n");
    notifier.ready();
    assert_eq!(systemd.next(), "READY=1\n");

    notifier.status("connecting to 2 peers");
    systemd.assert_silent();
    notifier.status("2/2 peers established\n3 VIPs announced");
    assert_eq!(
        systemd.next(),
        "STATUS=2/2 peers established 3 VIPs announced\n",
        "a line break must not start a new field"
    );

    notifier.reloading();
    let reloading = systemd.next();
    let usec = reloading
        .strip_prefix("RELOADING=1\nMONOTONIC_USEC=")
        .and_then(|rest| rest.strip_suffix('\n'))
        .unwrap_or_else(|| panic!("unexpected reload notification {reloading:?}"));
    let usec: u64 = usec.parse().expect("MONOTONIC_USEC is decimal");
    assert!(usec > 0);
    notifier.reloading();
    let later: u64 = systemd
        .next()
        .trim_end()
        .rsplit('=')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(later >= usec, "CLOCK_MONOTONIC never goes back");

    notifier.watchdog();
    assert_eq!(systemd.next(), "WATCHDOG=1\n");
    notifier.stopping();
    assert_eq!(systemd.next(), "STOPPING=1\n");

    // The watchdog belongs to another process (e.g. we are a child).
    std::env::set_var("WATCHDOG_PID", "1");
    let child = Notifier::from_env();
    assert_eq!(child.watchdog_interval(), None);
    child.watchdog();
    systemd.assert_silent();

    // Without WATCHDOG_PID the watchdog is ours.
    std::env::remove_var("WATCHDOG_PID");
    std::env::set_var("WATCHDOG_USEC", "1000000");
    assert_eq!(
        Notifier::from_env().watchdog_interval(),
        Some(Duration::from_millis(500))
    );

    // Started by hand: every method is a no-op.
    std::env::remove_var("NOTIFY_SOCKET");
    let by_hand = Notifier::from_env();
    assert_eq!(by_hand.watchdog_interval(), None);
    by_hand.ready();
    by_hand.status("idle");
    by_hand.reloading();
    by_hand.watchdog();
    by_hand.stopping();
    systemd.assert_silent();

    // The socket went away under a live notifier: still no panic.
    std::env::set_var("NOTIFY_SOCKET", dir.path().join("gone"));
    let orphan = Notifier::from_env();
    orphan.ready();
    orphan.status("still running");
    orphan.status("still running");
    systemd.assert_silent();
}
