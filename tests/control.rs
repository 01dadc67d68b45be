//! The operator's interface of the real binary, end to end: `herald run`
//! in a temporary directory, driven by the one-shot commands (`status`,
//! `withdraw`, `announce`, `auto`, `reload`, `drain`, `undrain`, `check`)
//! and by signals, with their exit codes from the table in herald(8):
//! 0 ok, 2 usage, 3 config, 4 daemon unreachable, 5 refused.
//!
//! No router is involved (see `support::daemon`): `status` reports what
//! herald wants to announce, which is what these tests are about.

mod support;

use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use herald::control::protocol::{DrainStatus, ErrorCode, Response};
use nix::sys::signal::Signal;
use serde_json::Value;

use support::daemon::{file_check, run, state_of, vip, vip_of, Host, CHANGE_TIMEOUT};

const STATIC: &str = "192.0.2.10/32";
const CHECKED: &str = "192.0.2.20/32";
const V6: &str = "2001:db8::10/128";

/// A host with a VIP without checks, one behind a file check (healthy
/// while `flag` is absent) and an IPv6 VIP without checks.
fn host_with_vips() -> (Host, PathBuf) {
    let host = Host::new();
    let flag = host.path("maintenance");
    host.write_config(&format!(
        "{}{}{}{}",
        vip(STATIC, &[]),
        vip(CHECKED, &["flag"]),
        vip(V6, &[]),
        file_check("flag", &flag)
    ));
    (host, flag)
}

fn object_keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

#[test]
fn status_json_has_the_documented_fields() {
    let (host, _flag) = host_with_vips();
    let daemon = host.start();
    let report = host.wait_status("the checked VIP to come up", |r| {
        state_of(r, CHECKED) == "announced"
    });

    let out = host.herald(&["status", "--json"]).expect_code(0);
    let json: Value = serde_json::from_str(&out.stdout).expect("status --json is JSON");
    assert_eq!(
        object_keys(&json),
        [
            "checks",
            "config",
            "drain",
            "peers",
            "pid",
            "restarted",
            "started_unix_ms",
            "uptime_secs",
            "version",
            "vips"
        ]
    );
    assert_eq!(json["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(json["pid"], daemon.pid());
    assert_eq!(json["config"], host.config.display().to_string());
    assert_eq!(json["drain"]["state"], "none");
    assert_eq!(
        object_keys(&json["peers"][0]),
        [
            "address",
            "asn",
            "bfd",
            "graceful_restart",
            "hold_time",
            "last_error",
            "name",
            "prefixes_announced",
            "state",
            "uptime_secs"
        ]
    );
    assert_eq!(
        object_keys(&json["vips"][0]),
        [
            "checks",
            "health",
            "override",
            "peers",
            "penalty",
            "prefix",
            "state",
            "suppressed"
        ]
    );
    assert_eq!(
        object_keys(&json["checks"][0]),
        [
            "healthy",
            "kind",
            "last_elapsed_ms",
            "last_reason",
            "last_success",
            "name",
            "streak"
        ]
    );
    assert_eq!(json["vips"][0]["override"], Value::Null);

    assert_eq!(report.peers.len(), 1);
    let peer = &report.peers[0];
    assert_eq!(
        (peer.name.as_str(), peer.address.as_str()),
        ("tor1", "127.0.0.1")
    );
    assert_eq!(peer.asn, 65000);
    assert_ne!(
        peer.state, "Established",
        "nobody listens on the peer's port"
    );
    assert_eq!(peer.uptime_secs, None);
    let prefixes: Vec<&str> = report.vips.iter().map(|v| v.prefix.as_str()).collect();
    assert_eq!(prefixes, [STATIC, CHECKED, V6], "configuration order");
    assert_eq!(vip_of(&report, STATIC).checks, Vec::<String>::new());
    assert_eq!(vip_of(&report, CHECKED).checks, ["flag"]);
    assert_eq!(vip_of(&report, CHECKED).health, "up");
    assert_eq!(report.checks.len(), 1);
    let check = &report.checks[0];
    assert_eq!((check.name.as_str(), check.kind.as_str()), ("flag", "file"));
    assert!(check.healthy);
    assert_eq!(check.last_success, Some(true));
}

#[test]
fn vip_state_follows_its_file_check_both_ways() {
    let (host, flag) = host_with_vips();
    let _daemon = host.start();
    host.wait_status("the checked VIP to come up", |r| {
        state_of(r, CHECKED) == "announced"
    });

    fs::write(&flag, "").unwrap();
    let report = host.wait_status("the flag to withdraw the VIP", |r| {
        state_of(r, CHECKED) == "withdrawn"
    });
    assert_eq!(vip_of(&report, CHECKED).health, "down");
    assert!(!report.checks[0].healthy);
    assert_eq!(state_of(&report, STATIC), "announced", "other VIPs stay");

    fs::remove_file(&flag).unwrap();
    let report = host.wait_status("removing the flag to announce it again", |r| {
        state_of(r, CHECKED) == "announced"
    });
    assert_eq!(vip_of(&report, CHECKED).health, "up");
}

#[test]
fn human_status_shows_peers_vips_and_checks_tables() {
    let (host, _flag) = host_with_vips();
    let daemon = host.start();
    let out = host.herald(&["status"]).expect_code(0);
    let text = out.stdout;
    assert!(
        text.starts_with(&format!(
            "herald {}, pid {}",
            env!("CARGO_PKG_VERSION"),
            daemon.pid()
        )),
        "{text}"
    );
    for needle in [
        "PEERS", "VIPS", "CHECKS", "tor1", STATIC, CHECKED, V6, "flag",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
    let sections: Vec<usize> = ["PEERS", "VIPS", "CHECKS"]
        .iter()
        .map(|s| text.find(s).unwrap())
        .collect();
    assert!(sections.is_sorted(), "sections out of order:\n{text}");
}

#[test]
fn withdraw_with_a_reason_withdraws_and_shows_the_override() {
    let (host, _flag) = host_with_vips();
    let _daemon = host.start();
    let out = host
        .herald(&["withdraw", STATIC, "--reason", "maintenance"])
        .expect_code(0);
    assert!(out.stdout.contains("withdrawn"), "{out:?}");

    let report = host.status();
    let vip = vip_of(&report, STATIC);
    assert_eq!(vip.state, "withdrawn");
    let override_ = vip.override_.as_ref().expect("an override");
    assert_eq!(override_.action, "withdraw");
    assert_eq!(override_.reason.as_deref(), Some("maintenance"));
    assert!(override_.since_unix > 1_600_000_000, "{override_:?}");
    assert_eq!(state_of(&report, V6), "announced", "only the named VIP");

    // A bare address means the host route.
    host.herald(&["auto", "192.0.2.10"]).expect_code(0);
    let report = host.status();
    assert_eq!(state_of(&report, STATIC), "announced");
    assert_eq!(vip_of(&report, STATIC).override_, None);
}

#[test]
fn announce_forces_a_failing_vip_up_until_auto_hands_it_back() {
    let (host, flag) = host_with_vips();
    fs::write(&flag, "").unwrap();
    let _daemon = host.start();
    host.wait_status("the failing check to be probed", |r| {
        r.checks[0].last_success == Some(false)
    });
    assert_eq!(state_of(&host.status(), CHECKED), "withdrawn");

    host.herald(&["announce", CHECKED]).expect_code(0);
    let report = host.status();
    let vip = vip_of(&report, CHECKED);
    assert_eq!(vip.state, "announced");
    assert_eq!(vip.health, "down", "the check still fails");
    assert_eq!(vip.override_.as_ref().unwrap().action, "announce");
    assert_eq!(vip.override_.as_ref().unwrap().reason, None);

    host.herald(&["auto", CHECKED]).expect_code(0);
    let report = host.status();
    assert_eq!(state_of(&report, CHECKED), "withdrawn");
    assert_eq!(vip_of(&report, CHECKED).override_, None);
}

#[test]
fn all_variants_apply_to_every_configured_vip() {
    let (host, flag) = host_with_vips();
    fs::write(&flag, "").unwrap();
    let _daemon = host.start();

    host.herald(&["withdraw", "--all", "--reason", "rack move"])
        .expect_code(0);
    let report = host.status();
    for vip in &report.vips {
        assert_eq!(vip.state, "withdrawn", "{vip:?}");
        let override_ = vip.override_.as_ref().expect("an override on every VIP");
        assert_eq!(override_.action, "withdraw");
        assert_eq!(override_.reason.as_deref(), Some("rack move"));
    }

    host.herald(&["announce", "--all"]).expect_code(0);
    let report = host.status();
    for vip in &report.vips {
        assert_eq!(vip.state, "announced", "{vip:?}");
        assert_eq!(vip.override_.as_ref().unwrap().action, "announce");
    }

    host.herald(&["auto", "--all"]).expect_code(0);
    let report = host.status();
    assert!(report.vips.iter().all(|v| v.override_.is_none()));
    assert_eq!(state_of(&report, STATIC), "announced");
    assert_eq!(state_of(&report, CHECKED), "withdrawn", "its check fails");
}

#[test]
fn an_unknown_vip_is_refused_with_exit_5_and_named() {
    let (host, _flag) = host_with_vips();
    let _daemon = host.start();
    let out = host
        .herald(&["withdraw", STATIC, "192.0.2.99/32"])
        .expect_code(5);
    assert!(out.stderr.contains("192.0.2.99/32"), "{out:?}");
    assert!(out.stderr.starts_with("herald: "), "{out:?}");
    let report = host.status();
    assert_eq!(
        state_of(&report, STATIC),
        "announced",
        "a refused request changes nothing, not even the known VIP"
    );
    for command in ["announce", "auto"] {
        let out = host.herald(&[command, "2001:db8::99"]).expect_code(5);
        assert!(out.stderr.contains("2001:db8::99/128"), "{out:?}");
    }
}

#[test]
fn a_malformed_vip_is_a_usage_error_caught_before_the_daemon() {
    // No daemon at all: the text is refused before any connection (else
    // the exit code would be 4).
    let host = Host::new();
    for bad in ["not-an-ip", "192.0.2.300", "192.0.2.1/24"] {
        for command in ["withdraw", "announce", "auto"] {
            let out = host.herald(&[command, bad]).expect_code(2);
            assert!(out.stderr.starts_with("herald: "), "{out:?}");
        }
    }
    // Neither VIPs nor --all, or both, is clap's usage error.
    host.herald(&["withdraw"]).expect_code(2);
    host.herald(&["withdraw", "--all", STATIC]).expect_code(2);
}

#[test]
fn overrides_survive_a_restart_in_a_version_1_json_state_file() {
    let (host, _flag) = host_with_vips();
    let mut daemon = host.start();
    host.herald(&["withdraw", V6, "--reason", "maintenance"])
        .expect_code(0);
    let status = daemon.terminate();
    assert!(status.success(), "{status}; log:\n{}", daemon.log());

    let saved: Value =
        serde_json::from_str(&fs::read_to_string(&host.state_file).expect("a state file"))
            .expect("the state file is JSON");
    assert_eq!(saved["version"], 1);
    assert_eq!(saved["overrides"][V6]["action"], "withdraw");
    assert_eq!(saved["overrides"][V6]["reason"], "maintenance");
    assert_eq!(object_keys(&saved["overrides"]), [V6]);

    let _again = host.start();
    let report = host.status();
    let vip = vip_of(&report, V6);
    assert_eq!(vip.state, "withdrawn");
    let override_ = vip.override_.as_ref().expect("the override is restored");
    assert_eq!(override_.action, "withdraw");
    assert_eq!(override_.reason.as_deref(), Some("maintenance"));
    assert_eq!(state_of(&report, STATIC), "announced");
}

#[test]
fn status_without_a_daemon_exits_4_saying_it_is_not_running() {
    let host = Host::new();
    let out = host.herald(&["status"]).expect_code(4);
    assert!(out.stderr.contains("not running"), "{out:?}");
    assert!(
        out.stderr.contains(&host.socket.display().to_string()),
        "{out:?}"
    );
    host.herald(&["status", "--json"]).expect_code(4);
    host.herald(&["withdraw", STATIC]).expect_code(4);
}

#[test]
fn status_against_a_regular_file_exits_4() {
    let host = Host::new();
    fs::write(&host.socket, "not a socket").unwrap();
    let out = host.herald(&["status"]).expect_code(4);
    assert!(out.stderr.starts_with("herald: "), "{out:?}");
    assert!(out.stderr.contains("not a socket"), "{out:?}");
}

#[test]
fn reload_applies_a_valid_file_and_refuses_an_invalid_one() {
    let (host, flag) = host_with_vips();
    let mut daemon = host.start();
    let before = host.status();

    let text = fs::read_to_string(&host.config).unwrap();
    let changed = text.replacen(
        &format!("prefix = \"{STATIC}\"\n"),
        &format!("prefix = \"{STATIC}\"\nmed = 250\n"),
        1,
    );
    assert_ne!(changed, text);
    fs::write(&host.config, &changed).unwrap();
    let out = host.herald(&["reload"]).expect_code(0);
    assert!(out.stdout.contains("3 VIP(s)"), "{out:?}");

    // `asn` is on line 2 of the header, its value at column 7.
    fs::write(&host.config, changed.replacen("asn = 65001", "asn = 0", 1)).unwrap();
    let out = host.herald(&["reload"]).expect_code(5);
    let position = format!("{}:2:7:", host.config.display());
    assert!(out.stderr.contains(&position), "{position} not in {out:?}");
    assert!(out.stderr.contains("invalid-config"), "{out:?}");

    assert!(daemon.is_running(), "log:\n{}", daemon.log());
    let after = host.status();
    assert_eq!(after.pid, before.pid);
    let prefixes = |r: &herald::control::protocol::StatusReport| {
        r.vips.iter().map(|v| v.prefix.clone()).collect::<Vec<_>>()
    };
    assert_eq!(prefixes(&after), prefixes(&before));
    // The old configuration still works: its check still drives its VIP.
    fs::write(&flag, "").unwrap();
    host.wait_status("the old config's check to withdraw its VIP", |r| {
        state_of(r, CHECKED) == "withdrawn"
    });
}

#[test]
fn sighup_reloads_a_valid_file() {
    let (host, _flag) = host_with_vips();
    let daemon = host.start();
    let text = fs::read_to_string(&host.config).unwrap();
    fs::write(
        &host.config,
        format!("{text}\n{}", vip("192.0.2.30/32", &[])),
    )
    .unwrap();

    daemon.signal(Signal::SIGHUP);
    let report = host.wait_status("SIGHUP to add the new VIP", |r| {
        r.vips.iter().any(|v| v.prefix == "192.0.2.30/32")
    });
    assert_eq!(state_of(&report, "192.0.2.30/32"), "announced");
    assert_eq!(report.vips.len(), 4);
    assert_eq!(report.pid, daemon.pid());
}

#[test]
fn drain_withdraws_every_vip_after_the_drain_time_and_undrain_announces_again() {
    let (host, _flag) = host_with_vips();
    let _daemon = host.start();
    host.wait_status("the checked VIP to come up", |r| {
        state_of(r, CHECKED) == "announced"
    });

    let out = host.herald(&["drain", "--time", "1s"]).expect_code(0);
    assert!(out.stdout.contains("draining"), "{out:?}");
    let report = host.status();
    assert!(
        matches!(
            report.drain,
            DrainStatus::Draining { .. } | DrainStatus::Drained
        ),
        "{:?}",
        report.drain
    );
    let json = host.herald(&["status", "--json"]).expect_code(0).stdout;
    let json: Value = serde_json::from_str(&json).unwrap();
    assert!(
        ["draining", "drained"].contains(&json["drain"]["state"].as_str().unwrap()),
        "{json}"
    );

    let report = host.wait_status("the drain to end in drained", |r| {
        r.drain == DrainStatus::Drained
    });
    for vip in &report.vips {
        assert_eq!(vip.state, "withdrawn", "{vip:?}");
        assert_eq!(vip.override_, None, "a drain is not an override");
    }

    let out = host.herald(&["undrain"]).expect_code(0);
    assert!(out.stdout.contains("drain ended"), "{out:?}");
    let report = host.status();
    assert_eq!(report.drain, DrainStatus::None);
    for vip in &report.vips {
        assert_eq!(vip.state, "announced", "{vip:?}");
    }
}

#[test]
fn a_drain_reports_draining_before_drained() {
    let (host, _flag) = host_with_vips();
    let _daemon = host.start();
    host.herald(&["drain", "--time", "30s"]).expect_code(0);
    let report = host.status();
    match report.drain {
        DrainStatus::Draining { remaining_secs } => assert!(remaining_secs <= 30),
        other => panic!("expected draining, got {other:?}"),
    }
    for vip in &report.vips {
        assert_ne!(
            vip.state, "withdrawn",
            "still announced while draining: {vip:?}"
        );
    }
    host.herald(&["undrain"]).expect_code(0);
    assert_eq!(host.status().drain, DrainStatus::None);
}

#[test]
fn auto_all_also_ends_a_drain() {
    let (host, _flag) = host_with_vips();
    let _daemon = host.start();
    host.herald(&["drain", "--time", "0s"]).expect_code(0);
    host.wait_status("a zero drain to be drained", |r| {
        r.drain == DrainStatus::Drained
    });

    let out = host.herald(&["auto", "--all"]).expect_code(0);
    assert!(out.stdout.contains("drain ended"), "{out:?}");
    let report = host.status();
    assert_eq!(report.drain, DrainStatus::None);
    assert_eq!(state_of(&report, STATIC), "announced");
    assert_eq!(state_of(&report, V6), "announced");
}

/// Writes `bytes` straight to the socket and returns the response line.
fn raw_exchange(socket: &Path, bytes: &[u8]) -> String {
    let mut stream = UnixStream::connect(socket).expect("connect to the control socket");
    stream.set_write_timeout(Some(CHANGE_TIMEOUT)).unwrap();
    stream.set_read_timeout(Some(CHANGE_TIMEOUT)).unwrap();
    // The daemon stops reading at its line limit and answers: the rest of
    // the write may fail, and that is fine.
    let _ = stream.write_all(bytes);
    let _ = stream.shutdown(std::net::Shutdown::Write);
    // Linux reports ECONNRESET once the answer is read when the daemon
    // closed with part of the request unread, as `herald` itself expects.
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    for _ in 0..1024 {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset && !answer.is_empty() => break,
            Err(e) => panic!("no answer (got {} bytes): {e}", answer.len()),
        }
        if answer.contains(&b'\n') {
            break;
        }
    }
    String::from_utf8(answer).expect("the answer is UTF-8")
}

#[test]
fn a_100_kib_garbage_line_gets_an_error_and_the_daemon_keeps_answering() {
    let (host, _flag) = host_with_vips();
    let mut daemon = host.start();
    let mut garbage = vec![b'x'; 100 * 1024];
    garbage.push(b'\n');
    let answer = raw_exchange(&host.socket, &garbage);
    let line = answer.lines().next().expect("one response line");
    match Response::from_line(line) {
        Ok(Response::Error { code, .. }) => assert_eq!(code, ErrorCode::TooLarge, "{line}"),
        other => panic!("expected an error response, got {other:?} from {line:?}"),
    }

    // A short garbage line is a bad request, not too large.
    let answer = raw_exchange(&host.socket, b"{not json\n");
    match Response::from_line(answer.trim_end()) {
        Ok(Response::Error { code, .. }) => assert_eq!(code, ErrorCode::BadRequest),
        other => panic!("expected bad-request, got {other:?}"),
    }

    assert!(daemon.is_running(), "log:\n{}", daemon.log());
    let report = host.status();
    assert_eq!(report.vips.len(), 3);
}

#[test]
fn sigterm_exits_0_and_removes_the_socket() {
    let (host, _flag) = host_with_vips();
    let mut daemon = host.start();
    assert!(host.socket.exists());
    let status = daemon.terminate();
    assert_eq!(status.code(), Some(0), "log:\n{}", daemon.log());
    assert!(!host.socket.exists(), "the socket file is left behind");
    host.herald(&["status"]).expect_code(4);
}

/// Every file under `dir`, recursively, in a stable order.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_example_config_passes_check() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    // Only configuration files: examples/ also holds the lab's scripts and
    // the completions generator.
    let configs: Vec<PathBuf> = files_under(&examples)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    assert!(
        configs.iter().any(|p| p.ends_with("herald.toml")),
        "{configs:?}"
    );
    for config in configs {
        let out = run(&["check".as_ref(), "--config".as_ref(), config.as_os_str()]);
        assert_eq!(out.code, Some(0), "{}: {out:?}", config.display());
    }
}

#[test]
fn check_on_a_bad_file_names_file_line_and_column_and_exits_3() {
    let host = Host::new();
    fs::write(&host.config, host.header(0)).unwrap();
    let out = run(&[
        "check".as_ref(),
        "--config".as_ref(),
        host.config.as_os_str(),
    ]);
    let out = out.expect_code(3);
    let prefix = format!("herald: {}:2:7:", host.config.display());
    assert!(
        out.stderr.starts_with(&prefix),
        "{prefix} not at the start of {out:?}"
    );
    assert!(out.stderr.contains("global.asn"), "{out:?}");
}

#[test]
fn a_reload_that_removes_a_vip_drops_its_saved_override() {
    let (host, _flag) = host_with_vips();
    let _daemon = host.start();
    host.herald(&["withdraw", V6, STATIC]).expect_code(0);

    let text = fs::read_to_string(&host.config).unwrap();
    let without = text.replacen(&vip(V6, &[]), "", 1);
    assert_ne!(without, text);
    fs::write(&host.config, without).unwrap();
    host.herald(&["reload"]).expect_code(0);

    let report = host.status();
    assert!(report.vips.iter().all(|v| v.prefix != V6), "{report:#?}");
    assert_eq!(
        state_of(&report, STATIC),
        "withdrawn",
        "other overrides stay"
    );
    let saved: Value =
        serde_json::from_str(&fs::read_to_string(&host.state_file).unwrap()).unwrap();
    assert_eq!(object_keys(&saved["overrides"]), [STATIC]);
    let out = host.herald(&["auto", V6]).expect_code(5);
    assert!(out.stderr.contains(V6), "{out:?}");
}

#[test]
fn a_second_daemon_on_the_same_socket_refuses_to_start() {
    let (host, _flag) = host_with_vips();
    let first = host.start();
    let mut second = host.spawn(|_| {});
    let status = second
        .wait_exit(support::daemon::STOP_GRACE)
        .expect("the second daemon gives up");
    assert_eq!(status.code(), Some(1), "log:\n{}", second.log());
    assert!(
        second.log().contains("another herald is running"),
        "{}",
        second.log()
    );
    assert_eq!(
        host.status().pid,
        first.pid(),
        "the first one still answers"
    );
}

#[test]
fn a_daemon_never_replaces_a_regular_file_at_its_socket_path() {
    let (host, _flag) = host_with_vips();
    fs::write(&host.socket, "precious").unwrap();
    let mut daemon = host.spawn(|_| {});
    let status = daemon
        .wait_exit(support::daemon::STOP_GRACE)
        .expect("the daemon gives up");
    assert_eq!(status.code(), Some(1), "log:\n{}", daemon.log());
    assert!(daemon.log().contains("is not a socket"), "{}", daemon.log());
    assert_eq!(fs::read_to_string(&host.socket).unwrap(), "precious");
}

#[test]
fn sigint_also_exits_0_and_removes_the_socket() {
    let (host, _flag) = host_with_vips();
    let mut daemon = host.start();
    daemon.signal(Signal::SIGINT);
    let status = daemon
        .wait_exit(support::daemon::STOP_GRACE)
        .expect("herald exits after SIGINT");
    assert_eq!(status.code(), Some(0), "log:\n{}", daemon.log());
    assert!(!host.socket.exists());
}

#[test]
fn undrain_without_a_drain_says_so() {
    let (host, _flag) = host_with_vips();
    let _daemon = host.start();
    let out = host.herald(&["undrain"]).expect_code(0);
    assert_eq!(out.stdout.trim_end(), "not draining");
}

/// Regression: while herald drained before stopping (`drain-on-stop`),
/// the control socket accepted connections but never answered them.
#[test]
fn status_is_answered_while_draining_before_a_stop() {
    let host = Host::new();
    let header = host.header(65001).replace(
        "drain-time = \"1s\"",
        "drain-time = \"4s\"\ndrain-on-stop = true",
    );
    fs::write(&host.config, format!("{header}\n{}", vip(STATIC, &[]))).expect("write config");
    let mut daemon = host.start();
    daemon.signal(Signal::SIGTERM);
    let report = host.wait_status("the stop-time drain to show", |r| {
        matches!(r.drain, DrainStatus::Draining { .. })
    });
    assert_eq!(
        state_of(&report, STATIC),
        "announced",
        "still announced while draining"
    );
    let out = host.herald(&["reload"]);
    assert_ne!(
        out.code,
        Some(0),
        "a reload while stopping must be refused: {out:?}"
    );
    let status = daemon
        .wait_exit(CHANGE_TIMEOUT)
        .expect("herald exits after the drain");
    assert!(status.success(), "{status:?}");
}
