//! What files can do to herald, and what they must not: the event loop
//! never waits on the file system, operator overrides are never lost, and
//! nobody but root (or herald's own user) decides what herald loads or
//! writes. Each test runs the real binary (see `support::daemon`) against
//! files a hostile or careless user could leave in its way.

mod support;

use std::time::{Duration, Instant};

use nix::sys::stat::Mode;

use support::daemon::{vip, Host};

const VIP: &str = "192.0.2.10/32";

/// A host with one VIP and no checks.
fn host() -> Host {
    let host = Host::new();
    host.write_config(&vip(VIP, &[]));
    host
}

/// Replaces the config with a FIFO nobody writes to.
fn make_config_a_fifo(host: &Host) {
    std::fs::remove_file(&host.config).expect("remove the config");
    nix::unistd::mkfifo(&host.config, Mode::from_bits_truncate(0o600)).expect("mkfifo");
}

#[test]
fn reload_with_a_fifo_for_a_config_is_refused_at_once_and_the_daemon_serves_on() {
    let host = host();
    let _daemon = host.start();
    make_config_a_fifo(&host);

    let start = Instant::now();
    let out = host.herald(&["reload"]).expect_code(5);
    assert!(out.stderr.contains("a FIFO"), "{out:?}");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    // The event loop still runs: it answers, and the VIP is as it was.
    let report = host.status();
    assert_eq!(support::daemon::state_of(&report, VIP), "announced");

    let out = host.herald(&["restart"]).expect_code(5);
    assert!(out.stderr.contains("a FIFO"), "{out:?}");
    host.status();
}

#[test]
fn check_and_run_refuse_a_fifo_or_a_huge_file_instead_of_hanging() {
    let host = host();
    make_config_a_fifo(&host);
    let config = host.config.to_str().expect("a UTF-8 path");
    let out = support::daemon::run(&["check", "--config", config]).expect_code(3);
    assert!(out.stderr.contains("a FIFO"), "{out:?}");
    let out = support::daemon::run(&["run", "--config", config]).expect_code(3);
    assert!(out.stderr.contains("a FIFO"), "{out:?}");

    std::fs::remove_file(&host.config).expect("remove the FIFO");
    let huge = std::fs::File::create(&host.config).expect("create");
    huge.set_len(1 << 30).expect("a sparse 1 GiB file");
    let out = support::daemon::run(&["check", "--config", config]).expect_code(3);
    assert!(out.stderr.contains("bytes long"), "{out:?}");
}
