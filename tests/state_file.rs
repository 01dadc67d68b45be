//! The state file keeps operator overrides across restarts, and a crash
//! while saving never costs the previous state.

use std::collections::BTreeMap;
use std::error::Error;
use std::fs;
use std::os::unix::fs::PermissionsExt;

use herald::state_file::{
    lock_path, Override, OverrideAction, Saved, StateError, StateFile, StateLock,
};
use ipnet::IpNet;

fn overrides() -> BTreeMap<IpNet, Override> {
    BTreeMap::from([
        (
            "192.0.2.10/32".parse().unwrap(),
            Override {
                action: OverrideAction::Withdraw,
                reason: Some("disk replacement, \"urgent\"".into()),
                since_unix: 1_700_000_000,
            },
        ),
        (
            "2001:db8::10/128".parse().unwrap(),
            Override {
                action: OverrideAction::Announce,
                reason: None,
                since_unix: 1_700_000_100,
            },
        ),
    ])
}

/// A state holding only `overrides`.
fn only(overrides: BTreeMap<IpNet, Override>) -> Saved {
    Saved {
        overrides,
        ..Saved::default()
    }
}

#[test]
fn saved_overrides_load_back_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let state = StateFile::new(dir.path().join("state.json"));
    state.save(&only(overrides())).unwrap();
    assert_eq!(state.load().unwrap().overrides, overrides());

    state.save(&Saved::default()).unwrap();
    assert_eq!(state.load().unwrap().overrides, BTreeMap::new());
}

#[test]
fn the_file_is_pretty_versioned_json() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let mut one = overrides();
    one.retain(|prefix, _| prefix.addr().is_ipv4());
    StateFile::new(path.clone()).save(&only(one)).unwrap();
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        r#"{
  "version": 1,
  "boot_id": null,
  "overrides": {
    "192.0.2.10/32": {
      "action": "withdraw",
      "reason": "disk replacement, \"urgent\"",
      "since_unix": 1700000000
    }
  },
  "vips": {},
  "checks": {},
  "bfd": {}
}
"#
    );
}

#[test]
fn a_missing_file_means_no_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let state = StateFile::new(dir.path().join("never-written.json"));
    assert_eq!(state.load().unwrap().overrides, BTreeMap::new());
}

#[test]
fn a_corrupt_file_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    fs::write(
        &path,
        "{\"version\": 1, \"overrides\": {\"192.0.2.10/32\": ",
    )
    .unwrap();
    let err = StateFile::new(path.clone()).load().unwrap_err();
    assert!(matches!(err, StateError::Corrupt { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("state file {} is corrupt", path.display())
    );
    let cause = err
        .source()
        .expect("the parse error is the source")
        .to_string();
    assert!(cause.contains("line 1"), "{cause}");
}

#[test]
fn a_bad_prefix_or_action_is_corrupt_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let state = StateFile::new(path.clone());
    for body in [
        r#"{"version": 1, "overrides": {"192.0.2.300/32": {"action": "withdraw", "reason": null, "since_unix": 0}}}"#,
        r#"{"version": 1, "overrides": {"192.0.2.1/32": {"action": "drain", "reason": null, "since_unix": 0}}}"#,
        r#"{"overrides": {}}"#,
        "",
    ] {
        fs::write(&path, body).unwrap();
        let err = state.load().unwrap_err();
        assert!(matches!(err, StateError::Corrupt { .. }), "{body}: {err:?}");
    }
}

#[test]
fn a_newer_format_version_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    fs::write(&path, r#"{"version": 2, "overrides": []}"#).unwrap();
    let err = StateFile::new(path.clone()).load().unwrap_err();
    assert!(
        matches!(err, StateError::UnsupportedVersion { found: 2, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains(&path.display().to_string()));
}

#[test]
fn unknown_keys_are_ignored_for_forward_compatibility() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    fs::write(
        &path,
        r#"{
  "version": 1,
  "written_by": "herald 9.9",
  "overrides": {
    "192.0.2.10/32": {"action": "withdraw", "reason": null, "since_unix": 5, "expires_unix": 9}
  }
}"#,
    )
    .unwrap();
    let loaded = StateFile::new(path).load().unwrap();
    assert_eq!(
        loaded.overrides,
        BTreeMap::from([(
            "192.0.2.10/32".parse().unwrap(),
            Override {
                action: OverrideAction::Withdraw,
                reason: None,
                since_unix: 5,
            }
        )])
    );
}

#[test]
fn a_crash_mid_write_leaves_the_previous_state_intact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let state = StateFile::new(path.clone());
    state.save(&only(overrides())).unwrap();

    // What a crash between creating and renaming the temporary file leaves:
    // a truncated sibling, with a mode of its own.
    let leftover = dir.path().join(".state.json.tmp");
    fs::write(&leftover, "{\"version\": 1, \"overri").unwrap();
    fs::set_permissions(&leftover, fs::Permissions::from_mode(0o666)).unwrap();
    assert_eq!(state.load().unwrap().overrides, overrides());

    // The next save goes through, with the right mode, and cleans up.
    state.save(&Saved::default()).unwrap();
    assert_eq!(state.load().unwrap().overrides, BTreeMap::new());
    assert!(!leftover.exists());
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o640
    );
}

#[test]
fn a_failed_save_keeps_the_previous_state() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let state = StateFile::new(path.clone());
    state.save(&only(overrides())).unwrap();

    // The temporary file's name is taken by a directory: the write fails
    // before anything is renamed.
    fs::create_dir(dir.path().join(".state.json.tmp")).unwrap();
    let err = state.save(&Saved::default()).unwrap_err();
    assert!(
        matches!(
            err,
            StateError::Write {
                step: "remove the leftover",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(state.load().unwrap().overrides, overrides());
}

#[test]
fn saving_into_a_missing_directory_creates_it() {
    let dir = tempfile::tempdir().unwrap();
    let state_dir = dir.path().join("var/lib/herald");
    let state = StateFile::new(state_dir.join("state.json"));
    state.save(&only(overrides())).unwrap();
    assert_eq!(state.load().unwrap().overrides, overrides());
    assert_eq!(
        fs::metadata(&state_dir).unwrap().permissions().mode() & 0o777,
        0o750
    );
}

#[test]
fn the_file_is_readable_by_owner_and_group_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    StateFile::new(path.clone())
        .save(&only(overrides()))
        .unwrap();
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o640
    );
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(names, ["state.json"], "no temporary file is left behind");
}

#[test]
fn announced_routes_checks_and_the_exit_record_load_back_unchanged() {
    use herald::health::vip_state::Announce;
    use herald::route::{OriginKind, RouteAttrs};
    use herald::state_file::{ExitKind, ExitRecord, SavedVip};

    let dir = tempfile::tempdir().unwrap();
    let state = StateFile::new(dir.path().join("state.json"));
    let attributes = RouteAttrs {
        origin: OriginKind::Igp,
        med: Some(10),
        local_pref: None,
        communities: vec![0xFDE8_0064],
        large_communities: vec![[65000, 1, 2]],
        extended_communities: vec![[0, 2, 0xFD, 0xE8, 0, 0, 0, 1]],
        as_path_prepend: 2,
        graceful_shutdown: false,
    };
    let mut saved = only(overrides());
    saved.boot_id = Some("6f1c0c53-8a55-4b8e-9a1e-3f0f8e2b9c11".into());
    saved.vips.insert(
        "192.0.2.20/32".parse().unwrap(),
        SavedVip {
            announce: Announce::Degraded,
            attributes: Some(attributes),
            penalty: 1500,
        },
    );
    saved.vips.insert(
        "2001:db8::20/128".parse().unwrap(),
        SavedVip {
            announce: Announce::Withdrawn,
            attributes: None,
            penalty: 0,
        },
    );
    saved.checks.insert("web".into(), true);
    saved.checks.insert("db".into(), false);
    saved.exit = Some(ExitRecord {
        kind: ExitKind::Restart,
        at_unix: 1_700_000_100,
    });
    state.save(&saved).unwrap();
    assert_eq!(state.load().unwrap(), saved);
}

#[test]
fn a_symlink_planted_as_the_temporary_file_is_never_written_through() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("shadow");
    fs::write(&victim, "root:x:0:0\n").unwrap();
    let planted = dir.path().join(".state.json.tmp");
    std::os::unix::fs::symlink(&victim, &planted).unwrap();

    let state = StateFile::new(dir.path().join("state.json"));
    state.save(&only(overrides())).unwrap();
    assert_eq!(fs::read_to_string(&victim).unwrap(), "root:x:0:0\n");
    assert_eq!(state.load().unwrap().overrides, overrides());
    assert!(fs::symlink_metadata(&planted).is_err(), "the link is gone");
}

#[test]
fn a_second_lock_on_one_state_file_is_refused_naming_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state/state.json");
    let first = StateLock::take(&path).unwrap();
    assert_eq!(first.path(), lock_path(&path));
    let err = StateLock::take(&path).unwrap_err();
    let pid = std::process::id();
    assert!(
        matches!(err, StateError::Locked { holder: Some(p), .. } if p == pid),
        "{err:?}"
    );
    assert!(err
        .to_string()
        .contains(&format!("in use by another herald (pid {pid})")));
    drop(first);
    assert!(
        StateLock::take(&path).is_ok(),
        "the lock ends with its holder"
    );
}

#[test]
fn a_lock_file_planted_as_a_symlink_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let victim = dir.path().join("victim");
    fs::write(&victim, "precious").unwrap();
    std::os::unix::fs::symlink(&victim, lock_path(&path)).unwrap();
    assert!(matches!(
        StateLock::take(&path),
        Err(StateError::Lock { step: "open", .. })
    ));
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
}

#[test]
fn a_corrupt_file_is_kept_aside_and_every_vip_starts_withdrawn() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    fs::write(&path, "{\"version\": 1, \"overri").unwrap();
    let vips: Vec<IpNet> = vec!["192.0.2.10/32".parse().unwrap()];

    let start = StateFile::new(path.clone())
        .load_or_keep_aside(&vips)
        .unwrap();
    let lost = start.lost.expect("the file was corrupt");
    assert!(lost.why.contains("is corrupt"), "{}", lost.why);
    assert!(
        !path.exists(),
        "never left where the next save overwrites it"
    );
    assert_eq!(
        fs::read_to_string(&lost.kept_as).unwrap(),
        "{\"version\": 1, \"overri"
    );
    let name = lost.kept_as.file_name().unwrap().to_string_lossy();
    assert!(name.starts_with("state.json.corrupt-"), "{name}");
    let withdrawn = &start.saved.overrides[&vips[0]];
    assert_eq!(withdrawn.action, OverrideAction::Withdraw);
    let reason = withdrawn.reason.as_deref().unwrap();
    assert!(
        reason.contains(&*lost.kept_as.to_string_lossy()),
        "{reason}"
    );

    // A file of a newer version is kept aside the same way; a second one
    // in the same second gets a name of its own.
    fs::write(&path, "{\"version\": 2}").unwrap();
    let again = StateFile::new(path.clone())
        .load_or_keep_aside(&vips)
        .unwrap()
        .lost
        .expect("version 2 is unknown");
    assert_ne!(again.kept_as, lost.kept_as);
    assert!(again.kept_as.exists());
}

#[test]
fn a_missing_or_good_file_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let state = StateFile::new(dir.path().join("state.json"));
    let vips: Vec<IpNet> = vec!["192.0.2.10/32".parse().unwrap()];
    let fresh = state.load_or_keep_aside(&vips).unwrap();
    assert_eq!((fresh.saved, fresh.lost), (Saved::default(), None));
    state.save(&only(overrides())).unwrap();
    let start = state.load_or_keep_aside(&vips).unwrap();
    assert_eq!(start.saved.overrides, overrides());
    assert!(start.lost.is_none());
}
