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
fn reload_with_a_fifo_for_a_ca_bundle_is_refused_at_once() {
    let host = host();
    let _daemon = host.start();
    let ca = host.path("ca.pem");
    nix::unistd::mkfifo(&ca, Mode::from_bits_truncate(0o600)).expect("mkfifo");
    host.write_config(&format!(
        "{}[[check]]\nname = \"web\"\nkind = \"http\"\nurl = \"https://127.0.0.1:1/\"\n\
         ca-file = \"{}\"\n",
        vip(VIP, &["web"]),
        ca.display()
    ));

    let start = Instant::now();
    let out = host.herald(&["reload"]).expect_code(5);
    assert!(out.stderr.contains("a FIFO"), "{out:?}");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
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

#[test]
fn a_second_daemon_on_one_state_file_refuses_to_start_naming_the_first() {
    let host = host();
    let first = host.start();
    // Its own socket, so that only the state file is shared.
    let other = host.path("other.toml");
    let text = std::fs::read_to_string(&host.config).expect("read the config");
    let socket = host.socket.display().to_string();
    std::fs::write(&other, text.replace(&socket, &format!("{socket}.2"))).expect("write");

    let out =
        support::daemon::run(&["run", "--config", other.to_str().expect("UTF-8")]).expect_code(1);
    let holder = format!("in use by another herald (pid {})", first.pid());
    assert!(out.stderr.contains(&holder), "{out:?}");
    assert!(!host.path("herald.sock.2").exists());
    host.status();
}

#[test]
fn a_corrupt_state_file_is_kept_aside_and_every_vip_starts_withdrawn() {
    let host = host();
    std::fs::write(
        &host.state_file,
        "{\"version\": 1, \"overrides\": {\"192.0.2.10/3",
    )
    .expect("write a truncated state file");
    let daemon = host.start();

    let report = host.status();
    let vip = support::daemon::vip_of(&report, VIP);
    assert_eq!(vip.state, "withdrawn");
    let reason = vip
        .override_
        .as_ref()
        .and_then(|o| o.reason.clone())
        .expect("an override says why");
    assert!(reason.contains("state.json.corrupt-"), "{reason}");
    assert!(daemon.log().contains("THE STATE FILE COULD NOT BE LOADED"));
    let kept: Vec<_> = std::fs::read_dir(host.dir.path())
        .expect("list")
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("state.json.corrupt-")
        })
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    let text = std::fs::read_to_string(kept[0].path()).expect("read");
    assert!(text.ends_with("192.0.2.10/3"), "kept unchanged: {text}");

    host.herald(&["auto", VIP]).expect_code(0);
    host.wait_status("the VIP to be handed back", |r| {
        support::daemon::state_of(r, VIP) == "announced"
    });
}

#[test]
fn a_failed_save_fails_the_command_and_is_retried_until_it_succeeds() {
    let host = host();
    let _daemon = host.start();
    // A directory where the temporary file goes fails every save, as a
    // full disk would, whoever herald runs as.
    // A save under way has the name for a moment.
    let blocker = host.path(".state.json.tmp");
    support::wait::wait_until(Duration::from_secs(5), Duration::from_millis(10), || {
        std::fs::create_dir(&blocker).map_err(|e| e.to_string())
    })
    .expect("mkdir");
    std::fs::write(blocker.join("keep"), "").expect("fill it");

    let out = host
        .herald(&["withdraw", VIP, "--reason", "disk swap"])
        .expect_code(1);
    assert!(out.stderr.contains("but not saved"), "{out:?}");
    assert_eq!(support::daemon::state_of(&host.status(), VIP), "withdrawn");

    std::fs::remove_dir_all(&blocker).expect("free the name");
    support::wait::wait_until(Duration::from_secs(10), Duration::from_millis(100), || {
        let text = std::fs::read_to_string(&host.state_file).unwrap_or_default();
        if text.contains("disk swap") {
            Ok(())
        } else {
            Err(text)
        }
    })
    .unwrap_or_else(|text| panic!("the retry never saved the override: {text}"));
}

#[test]
fn a_reload_or_restart_that_moves_the_state_file_is_refused() {
    let host = host();
    let _daemon = host.start();
    host.herald(&["withdraw", VIP]).expect_code(0);
    let text = std::fs::read_to_string(&host.config).expect("read");
    let old = host.state_file.display().to_string();
    std::fs::write(&host.config, text.replace(&old, &format!("{old}.new"))).expect("write");

    for command in ["reload", "restart"] {
        let out = host.herald(&[command]).expect_code(5);
        assert!(out.stderr.contains("global.state-file changes"), "{out:?}");
    }
    let report = host.status();
    assert_eq!(support::daemon::state_of(&report, VIP), "withdrawn");
}

#[test]
fn a_reason_with_control_characters_reaches_no_log_or_terminal_raw() {
    let host = host();
    let daemon = host.start();
    let reason = "swap\nWARN herald: forged line\x1b[2J\u{202e}";
    host.herald(&["withdraw", VIP, "--reason", reason])
        .expect_code(0);

    let escaped = "swap\\nWARN herald: forged line\\u{1b}[2J\\u{202e}";
    let report = host.status();
    let shown = support::daemon::vip_of(&report, VIP)
        .override_
        .as_ref()
        .and_then(|o| o.reason.clone());
    assert_eq!(shown.as_deref(), Some(escaped));
    let table = host.herald(&["status"]).expect_code(0).stdout;
    assert!(table.contains(escaped), "{table}");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&host.state_file).expect("read"))
            .expect("JSON");
    assert_eq!(saved["overrides"][VIP]["reason"], escaped);

    let log = daemon.log();
    assert!(log.contains("forged line"), "the reason is logged: {log}");
    for text in [&log, &table] {
        assert!(
            !text.contains('\x1b') && !text.contains('\u{202e}'),
            "{text}"
        );
        assert!(
            !text.lines().any(|l| l.starts_with("WARN herald: forged")),
            "{text}"
        );
    }
}
