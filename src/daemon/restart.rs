//! Restart versus stop: how herald ends, and how it starts again.
//!
//! A stop takes this host out of service: VIPs are withdrawn (drained
//! first if configured) and sessions closed with a Cease. A restart of
//! herald itself must go unnoticed by the routers: routes stay in place
//! through BGP graceful restart (RFC 4724; RFC 8538) and BFD sessions carry
//! on in the new process. Which one an ending is:
//!
//! | how herald is asked to end                      | ending  |
//! |-------------------------------------------------|---------|
//! | `herald restart` (also run by the package on upgrade) | restart, in place |
//! | SIGTERM, `on-sigterm = "auto"`, systemd running a restart job of herald's unit (`systemctl restart`) | restart |
//! | SIGTERM, `on-sigterm = "auto"`, anything else (`systemctl stop`, shutdown, no systemd) | stop |
//! | SIGTERM, `on-sigterm = "restart"`, unless the system is shutting down | restart |
//! | SIGTERM, `on-sigterm = "stop"`; SIGINT          | stop    |
//! | crash, SIGKILL                                   | nothing is sent; see below |
//!
//! A doubt always resolves to a stop: a stop costs one rehash of the
//! router's flows, a restart that never comes back black-holes traffic for
//! the restart time.
//!
//! On start, [`resume`] reads how the last daemon ended from the state
//! file. After a restart (or a crash) in this boot, every check starts from
//! its saved verdict, so the VIPs announce what they announced before, the
//! OPENs carry the Restart State bit, and End-of-RIB follows the routes.
//! After a stop, a reboot, or a restart that took longer than the restart
//! time, herald starts fresh: VIPs wait for their checks.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use tokio::process::Command;
use tracing::{debug, info, warn};

use crate::config::{Config, OnSigterm, DEFAULT_RESTART_TIME};
use crate::state_file::{boot_id, unix_now, ExitKind, Saved};

/// How long systemd gets to list its jobs before herald assumes a stop.
const SYSTEMD_QUERY_TIMEOUT: Duration = Duration::from_secs(2);
/// Units whose start job means the system is going down.
const SHUTDOWN_TARGETS: [&str; 6] = [
    "shutdown.target",
    "reboot.target",
    "poweroff.target",
    "halt.target",
    "kexec.target",
    "soft-reboot.target",
];

/// How the daemon ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Withdraw and close: the host leaves service.
    Stop,
    /// Keep the routes at the routers and exit; a supervisor (systemd)
    /// starts herald again.
    Restart,
    /// Keep the routes at the routers and execute the binary again in
    /// this process (`herald restart`).
    Reexec,
}

/// What a new daemon takes over from the last one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resume {
    /// Start from the saved verdicts and set the Restart State bit.
    pub restarting: bool,
    /// Why, for the start-up log line.
    pub why: String,
}

/// Decides from the saved state whether this start continues a restart;
/// see the module documentation.
pub fn resume(saved: &Saved, config: &Config) -> Resume {
    let fresh = |why: &str| Resume {
        restarting: false,
        why: why.to_string(),
    };
    if saved.vips.is_empty() && saved.exit.is_none() {
        return fresh("no saved state");
    }
    let boot = boot_id();
    if boot.is_none() || saved.boot_id != boot {
        return fresh("the saved state is from an earlier boot");
    }
    let Some(exit) = saved.exit else {
        return Resume {
            restarting: true,
            why: "the last daemon of this boot ended without a stop (crashed or killed)"
                .to_string(),
        };
    };
    match exit.kind {
        ExitKind::Stop => fresh("the last daemon stopped"),
        ExitKind::Restart => {
            let away = unix_now().saturating_sub(exit.at_unix);
            let window = restart_window(config);
            if away > window {
                fresh(&format!(
                    "the restart took {away} s, longer than the restart time ({window} s): \
                     the routers have dropped the routes"
                ))
            } else {
                Resume {
                    restarting: true,
                    why: format!("restarted after {away} s"),
                }
            }
        }
    }
}

/// The longest restart time advertised to any peer; the default when no
/// peer uses graceful restart, since the checks' verdicts are that fresh.
fn restart_window(config: &Config) -> u64 {
    config
        .peers
        .iter()
        .filter_map(|p| p.graceful_restart.map(|gr| u64::from(gr.restart_time)))
        .max()
        .unwrap_or(u64::from(DEFAULT_RESTART_TIME))
}

/// What SIGTERM means under `on_sigterm`.
pub async fn sigterm_ending(on_sigterm: OnSigterm) -> Ending {
    match on_sigterm {
        OnSigterm::Stop => Ending::Stop,
        OnSigterm::Restart => match systemd_jobs().await {
            Some(jobs) if shutting_down(&jobs) => {
                info!("the system is shutting down: stopping rather than restarting");
                Ending::Stop
            }
            _ => Ending::Restart,
        },
        OnSigterm::Auto => {
            let Some(unit) = own_unit() else {
                debug!("not a systemd service: SIGTERM is a stop");
                return Ending::Stop;
            };
            match systemd_jobs().await {
                Some(jobs) if restarting(&jobs, &unit) => Ending::Restart,
                Some(_) => Ending::Stop,
                None => {
                    warn!("cannot ask systemd whether this is a restart: stopping");
                    Ending::Stop
                }
            }
        }
    }
}

/// One line of `systemctl list-jobs`: unit and job type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    pub unit: String,
    pub kind: String,
}

/// Parses `systemctl list-jobs --no-legend` output: `ID UNIT TYPE STATE`
/// per line; other lines are skipped.
pub fn parse_jobs(text: &str) -> Vec<Job> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let _id = fields.next()?.parse::<u64>().ok()?;
            let unit = fields.next()?.to_string();
            let kind = fields.next()?.to_string();
            Some(Job { unit, kind })
        })
        .collect()
}

/// Whether `jobs` take the system down.
pub fn shutting_down(jobs: &[Job]) -> bool {
    jobs.iter()
        .any(|job| job.kind == "start" && SHUTDOWN_TARGETS.contains(&job.unit.as_str()))
}

/// Whether `jobs` restart `unit` (and do not take the system down).
/// `try-restart` collapses to `restart` on an active unit, but is accepted
/// in either spelling.
pub fn restarting(jobs: &[Job], unit: &str) -> bool {
    !shutting_down(jobs)
        && jobs
            .iter()
            .any(|job| job.unit == unit && (job.kind == "restart" || job.kind == "try-restart"))
}

/// The systemd unit this process runs in, from its cgroup, when systemd
/// started it (`INVOCATION_ID` is set for every service process).
fn own_unit() -> Option<String> {
    std::env::var_os("INVOCATION_ID")?;
    let cgroup = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    unit_of_cgroup(&cgroup)
}

/// The `.service` unit named in a `/proc/self/cgroup` text.
pub fn unit_of_cgroup(cgroup: &str) -> Option<String> {
    cgroup
        .lines()
        .filter_map(|line| line.rsplit(':').next())
        .flat_map(|path| path.split('/').rev())
        .find(|part| part.ends_with(".service"))
        .map(str::to_string)
}

/// systemd's pending jobs, or `None` if they cannot be listed in time.
async fn systemd_jobs() -> Option<Vec<Job>> {
    let output = Command::new("systemctl")
        .args(["list-jobs", "--no-legend", "--no-pager", "--full"])
        .kill_on_drop(true)
        .output();
    match tokio::time::timeout(SYSTEMD_QUERY_TIMEOUT, output).await {
        Ok(Ok(output)) if output.status.success() => {
            Some(parse_jobs(&String::from_utf8_lossy(&output.stdout)))
        }
        Ok(Ok(output)) => {
            debug!(status = %output.status, "systemctl list-jobs failed");
            None
        }
        Ok(Err(err)) => {
            debug!(%err, "cannot run systemctl");
            None
        }
        Err(_) => None,
    }
}

/// The program and arguments to execute for a restart in place: the
/// binary's path as it was at start-up, so that a package upgrade, which
/// replaces the file, starts the new version.
#[derive(Clone, Debug)]
pub struct SelfExec {
    pub program: PathBuf,
    pub args: Vec<OsString>,
}

impl SelfExec {
    /// Records the running binary and its arguments; call first thing.
    pub fn capture() -> std::io::Result<SelfExec> {
        Ok(SelfExec {
            program: std::env::current_exe()?,
            args: std::env::args_os().skip(1).collect(),
        })
    }

    /// Replaces this process with a new herald; returns only on failure.
    pub fn exec(&self) -> std::io::Error {
        use std::os::unix::process::CommandExt;
        std::process::Command::new(&self.program)
            .args(&self.args)
            .exec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::vip_state::Announce;
    use crate::state_file::{ExitRecord, SavedVip};

    fn config(restart_time: &str) -> Config {
        let text = format!(
            "[global]\nasn = 65001\nrestart-time = \"{restart_time}\"\n\
             [[peer]]\naddress = \"198.51.100.1\"\nasn = 65000\n\
             [[vip]]\nprefix = \"192.0.2.10/32\"\n"
        );
        Config::parse(&text, std::path::Path::new("herald.toml"))
            .expect("valid config")
            .0
    }

    /// State saved by a daemon of this boot that ended with `exit`.
    fn saved(exit: Option<(ExitKind, u64)>) -> Saved {
        let mut saved = Saved {
            boot_id: boot_id(),
            ..Saved::default()
        };
        saved.vips.insert(
            "192.0.2.10/32".parse().expect("prefix"),
            SavedVip {
                announce: Announce::Announced,
                attributes: None,
                penalty: 0,
            },
        );
        saved.exit = exit.map(|(kind, ago)| ExitRecord {
            kind,
            at_unix: unix_now() - ago,
        });
        saved
    }

    #[test]
    fn a_restart_within_the_restart_time_is_resumed() {
        let resume = resume(&saved(Some((ExitKind::Restart, 1))), &config("30s"));
        assert!(resume.restarting, "{}", resume.why);
    }

    #[test]
    fn a_restart_longer_than_the_restart_time_starts_fresh() {
        let resume = resume(&saved(Some((ExitKind::Restart, 60))), &config("30s"));
        assert!(!resume.restarting);
        assert!(
            resume.why.contains("longer than the restart time"),
            "{}",
            resume.why
        );
    }

    #[test]
    fn after_a_stop_the_next_start_is_fresh() {
        assert!(!resume(&saved(Some((ExitKind::Stop, 1))), &config("30s")).restarting);
    }

    #[test]
    fn a_daemon_that_ended_without_a_record_is_taken_over() {
        let resume = resume(&saved(None), &config("30s"));
        assert!(resume.restarting, "{}", resume.why);
    }

    #[test]
    fn state_from_another_boot_is_never_resumed() {
        let mut other_boot = saved(Some((ExitKind::Restart, 1)));
        other_boot.boot_id = Some("not-this-boot".to_string());
        let resume = resume(&other_boot, &config("30s"));
        assert!(!resume.restarting);
    }

    #[test]
    fn a_fresh_host_starts_fresh() {
        assert!(!resume(&Saved::default(), &config("30s")).restarting);
    }

    const JOBS: &str = "\
 1234 herald.service          restart running
 1240 network-online.target   start   waiting
";

    #[test]
    fn a_restart_job_of_our_unit_is_a_restart() {
        let jobs = parse_jobs(JOBS);
        assert_eq!(jobs.len(), 2);
        assert!(restarting(&jobs, "herald.service"));
        assert!(!restarting(&jobs, "other.service"));
    }

    #[test]
    fn a_stop_job_is_not_a_restart() {
        let jobs = parse_jobs("77 herald.service stop running\n");
        assert!(!restarting(&jobs, "herald.service"));
    }

    #[test]
    fn a_shutdown_in_progress_overrides_a_restart_job() {
        let jobs = parse_jobs(&format!("{JOBS}  9 reboot.target start waiting\n"));
        assert!(shutting_down(&jobs));
        assert!(!restarting(&jobs, "herald.service"));
    }

    #[test]
    fn lines_that_are_not_jobs_are_skipped() {
        assert!(parse_jobs("No jobs running.\n\n").is_empty());
    }

    #[test]
    fn the_unit_comes_from_the_cgroup_path() {
        assert_eq!(
            unit_of_cgroup("0::/system.slice/herald.service\n").as_deref(),
            Some("herald.service")
        );
        assert_eq!(
            unit_of_cgroup("0::/system.slice/herald@blue.service/init\n").as_deref(),
            Some("herald@blue.service")
        );
        assert_eq!(unit_of_cgroup("0::/user.slice/session-1.scope\n"), None);
    }
}
