//! Helpers for the integration tests that run herald against real routers
//! in network namespaces (interop, health checks, drain, reload, faults).
//!
//! - [`netlab`]: a [`netlab::Lab`] owns everything a test creates (network
//!   namespaces, processes, a temporary directory) and removes it on drop,
//!   even when the test panics; it also reads the kernel's routes.
//! - [`topology`]: the standard LAN, one router and N hosts on a bridge.
//! - [`bird`]: BIRD 2 as the router: config, start, `birdc` queries.
//! - [`herald`]: herald's config for a lab host, and starting it.
//! - [`specs`]: the usual router and hosts, and [`specs::Fleet`], a router
//!   with N hosts running herald, ready.
//! - [`flows`]: TCP flows from a client through the router to the hosts,
//!   each connection's serving host and breakage recorded.
//! - [`frr`]: FRR (zebra, bgpd, bfdd) as the router instead of BIRD.
//! - [`route_watch`]: samples the router's kernel route for a prefix every
//!   10 ms and records each change of its next hops.
//! - [`wait`]: bounded polling.
//!
//! Each test crate includes this module with `mod support;` and uses only
//! part of it, hence `dead_code` is allowed here.
#![allow(dead_code)]

pub mod bird;
pub mod daemon;
pub mod flows;
pub mod frr;
pub mod herald;
pub mod netlab;
pub mod route_watch;
pub mod router;
pub mod specs;
pub mod topology;
pub mod wait;

use std::io::Write;
use std::path::PathBuf;

/// Whether this machine can run a namespace lab with BIRD: root, `ip`,
/// `bird` and `birdc` present. `Err` says what is missing.
pub fn lab_prerequisites() -> Result<(), String> {
    if !is_root() {
        return Err("not running as root (network namespaces need root)".into());
    }
    for tool in ["ip", "bird", "birdc"] {
        if find_program(tool).is_none() {
            return Err(format!(
                "`{tool}` is not installed (apt-get install bird2 iproute2)"
            ));
        }
    }
    Ok(())
}

/// Returns `true` when the calling test should go on. Otherwise prints
/// "skipped: ..." past the test harness's output capture and returns
/// `false` -- unless the environment variable `CI` is set: CI must run
/// these tests, so there a missing prerequisite is a failure.
pub fn lab_available(test: &str) -> bool {
    match lab_prerequisites() {
        Ok(()) => true,
        Err(why) if std::env::var_os("CI").is_some() => {
            panic!("{test}: cannot run the namespace lab in CI: {why}")
        }
        Err(why) => {
            // Written to the process's stderr directly so that `cargo test`
            // shows it even when the test passes.
            let _ = writeln!(std::io::stderr(), "skipped: {test}: {why}");
            false
        }
    }
}

/// [`lab_available`], and also the programs `tools` (e.g. `python3` for
/// the flows): `true` when the test should go on; without them it prints
/// "skipped: ..." and returns `false`, except under CI, where it panics.
pub fn lab_available_with(test: &str, tools: &[&str]) -> bool {
    if !lab_available(test) {
        return false;
    }
    let Some(missing) = tools.iter().find(|t| find_program(t).is_none()) else {
        return true;
    };
    if std::env::var_os("CI").is_some() {
        panic!("{test}: cannot run in CI: `{missing}` is not installed");
    }
    let _ = writeln!(
        std::io::stderr(),
        "skipped: {test}: `{missing}` is not installed"
    );
    false
}

fn is_root() -> bool {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return false;
    };
    status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|uids| uids.split_whitespace().nth(1))
        .is_some_and(|effective| effective == "0")
}

/// Looks `name` up in `PATH` and in the sbin directories, which a non-login
/// root shell may leave out of `PATH`.
pub fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/local/sbin", "/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// [`find_program`], falling back to the bare name (so that a missing tool
/// fails with the usual "No such file" from the spawn).
pub fn program(name: &str) -> PathBuf {
    find_program(name).unwrap_or_else(|| PathBuf::from(name))
}
