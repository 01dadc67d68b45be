//! Restart versus stop of the real binary: `herald restart` executes herald
//! again in the same process and the new daemon announces what the old one
//! did at once, without waiting for its checks; a stop leaves a record
//! that makes the next start a fresh one. No router is involved (see
//! `support::daemon`); the BIRD lab tests (`interop_restart`) show what a
//! router sees.

mod support;

use std::fs;

use nix::sys::signal::Signal;
use serde_json::Value;

use support::daemon::{state_of, vip, Host};

const CHECKED: &str = "192.0.2.20/32";

/// A host whose VIP sits behind a file check that needs 3 passes, 1 s
/// apart, to come up: a fresh start shows it withdrawn for 2 s or more.
fn slow_rising_host(extra_global: &str) -> Host {
    let host = Host::new();
    let flag = host.path("maintenance");
    let header = host.header(65001).replacen(
        "asn = 65001\n",
        &format!("asn = 65001\n{extra_global}\n"),
        1,
    );
    let text = format!(
        "{header}\n{}[[check]]
name = \"flag\"
kind = \"file\"
path = \"{}\"
healthy-when = \"absent\"
interval = \"1s\"
fast-interval = \"100ms\"
rise = 3
fall = 1
initial = \"down\"
",
        vip(CHECKED, &["flag"]),
        flag.display()
    );
    fs::write(&host.config, text).expect("write the config");
    host
}

/// The kind of the exit record in the state file, if there is one.
fn exit_kind(host: &Host) -> Option<String> {
    let text = fs::read_to_string(&host.state_file).expect("the state file exists");
    let json: Value = serde_json::from_str(&text).expect("the state file is JSON");
    json["exit"]["kind"].as_str().map(str::to_string)
}

#[test]
fn herald_restart_keeps_the_pid_and_announces_at_once() {
    let host = slow_rising_host("");
    let mut daemon = host.start();
    let before = host.wait_status("the VIP to come up", |r| {
        state_of(r, CHECKED) == "announced"
    });
    assert!(!before.restarted);

    let out = host.herald(&["restart"]).expect_code(0);
    assert!(out.stdout.starts_with("restarted in "), "{}", out.stdout);

    // The first answer of the new daemon already announces the VIP: its
    // check resumed from the saved verdict instead of rising again.
    let after = host.status();
    assert_eq!(after.pid, before.pid, "a restart in place keeps the pid");
    assert_ne!(after.started_unix_ms, before.started_unix_ms);
    assert!(after.restarted, "the new daemon took over");
    assert_eq!(state_of(&after, CHECKED), "announced");
    assert_eq!(exit_kind(&host), None, "the record is consumed at start");
    assert!(daemon.is_running());
    assert!(
        daemon
            .log()
            .contains("restarting: the routers keep this host's routes"),
        "{}",
        daemon.log()
    );
}

#[test]
fn a_stop_makes_the_next_start_wait_for_the_checks() {
    let host = slow_rising_host("");
    let mut daemon = host.start();
    host.wait_status("the VIP to come up", |r| {
        state_of(r, CHECKED) == "announced"
    });
    // No systemd here: with the default on-sigterm = "auto", SIGTERM is a
    // stop.
    assert!(daemon.terminate().success());
    assert_eq!(exit_kind(&host).as_deref(), Some("stop"));

    let _again = host.start();
    let fresh = host.status();
    assert!(!fresh.restarted);
    assert_eq!(state_of(&fresh, CHECKED), "withdrawn");
}

#[test]
fn sigterm_is_a_restart_when_configured_so() {
    let host = slow_rising_host("on-sigterm = \"restart\"");
    let mut daemon = host.start();
    host.wait_status("the VIP to come up", |r| {
        state_of(r, CHECKED) == "announced"
    });
    assert!(daemon.terminate().success());
    assert_eq!(exit_kind(&host).as_deref(), Some("restart"));
    assert!(
        !daemon.log().contains("withdrawing every route"),
        "{}",
        daemon.log()
    );

    let _again = host.start();
    let resumed = host.status();
    assert!(resumed.restarted);
    assert_eq!(state_of(&resumed, CHECKED), "announced");
}

#[test]
fn sigint_is_always_a_stop() {
    let host = slow_rising_host("on-sigterm = \"restart\"");
    let mut daemon = host.start();
    daemon.signal(Signal::SIGINT);
    assert!(daemon
        .wait_exit(support::daemon::STOP_GRACE)
        .expect("exits")
        .success());
    assert_eq!(exit_kind(&host).as_deref(), Some("stop"));
}

#[test]
fn restart_is_refused_while_the_config_would_not_load() {
    let host = slow_rising_host("");
    let mut daemon = host.start();
    let before = host.status();
    let text = fs::read_to_string(&host.config).expect("read the config");
    fs::write(&host.config, text.replace("asn = 65001", "asn = \"x\"")).expect("break it");

    let out = host.herald(&["restart"]).expect_code(5);
    assert!(out.stderr.contains("restart refused"), "{}", out.stderr);
    assert!(daemon.is_running());
    assert_eq!(host.status().started_unix_ms, before.started_unix_ms);
}
