//! State-change hooks: a command run whenever a VIP changes state, for
//! operators who want to page, log or reconfigure something on it.
//!
//! The announcing path never waits for a hook: the command is spawned and
//! a separate task reaps it, killing it if it outlives [`HOOK_TIMEOUT`], so
//! a slow or hanging hook can neither delay an UPDATE nor leave a zombie.

use std::process::Stdio;
use std::time::Duration;

use ipnet::IpNet;
use tokio::process::Command;
use tracing::{debug, warn};

use crate::health::vip_state::Announce;
use crate::systemd::scrub_child_env;

/// Longest a hook may run before it is killed.
pub const HOOK_TIMEOUT: Duration = Duration::from_secs(60);

/// Starts `argv` with the change described in its environment:
/// `HERALD_VIP`, `HERALD_OLD_STATE`, `HERALD_NEW_STATE` (`announced`,
/// `degraded` or `withdrawn`) and `HERALD_REASON`.
pub fn spawn(argv: &[String], vip: &IpNet, old: Announce, new: Announce, reason: &str) {
    let Some((program, args)) = argv.split_first() else {
        return;
    };
    let child = scrub_child_env(&mut Command::new(program))
        .args(args)
        .env("HERALD_VIP", vip.to_string())
        .env("HERALD_OLD_STATE", old.to_string())
        .env("HERALD_NEW_STATE", new.to_string())
        .env("HERALD_REASON", reason)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(err) => {
            warn!(hook = %program, %err, "cannot run hook");
            return;
        }
    };
    let program = program.clone();
    tokio::spawn(async move {
        match tokio::time::timeout(HOOK_TIMEOUT, child.wait()).await {
            Ok(Ok(status)) if status.success() => debug!(hook = %program, "hook done"),
            Ok(Ok(status)) => warn!(hook = %program, %status, "hook failed"),
            Ok(Err(err)) => warn!(hook = %program, %err, "cannot wait for hook"),
            Err(_) => {
                warn!(hook = %program, timeout = ?HOOK_TIMEOUT, "hook timed out; killing it");
                // kill() also reaps the child.
                if let Err(err) = child.kill().await {
                    warn!(hook = %program, %err, "cannot kill hook");
                }
            }
        }
    });
}
