//! Tells systemd what the daemon is doing, over the `sd_notify(3)` protocol.
//!
//! The unit runs herald as `Type=notify` (or `Type=notify-reload`), so
//! systemd only considers the service started once routes can be announced
//! (`READY=1`), shows the last `STATUS=` line in `systemctl status`, knows a
//! reload is under way (`RELOADING=1` + `MONOTONIC_USEC=`), knows a stop is
//! deliberate (`STOPPING=1`), and restarts a daemon whose event loop hangs
//! (`WATCHDOG=1` at least once per `WATCHDOG_USEC`).
//!
//! Everything here is best effort: without `NOTIFY_SOCKET` (started by hand,
//! in tests, under another supervisor) every method does nothing, and a
//! failed send is logged at debug level and otherwise ignored, because a
//! broken notification channel must never take announcements down.
//!
//! The datagrams are sent by the `sd-notify` crate, which reads
//! `NOTIFY_SOCKET` when it sends.

use std::sync::Mutex;
use std::time::Duration;

use sd_notify::NotifyState;
use tracing::debug;

/// Variables through which systemd talks to *this* process. Children
/// (exec checks, hooks) must not see them, or one could report READY or
/// ping the watchdog in herald's name.
const OWN_VARIABLES: [&str; 3] = ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"];

/// Removes systemd's notification variables from a child's environment.
pub fn scrub_child_env(command: &mut tokio::process::Command) -> &mut tokio::process::Command {
    for name in OWN_VARIABLES {
        command.env_remove(name);
    }
    command
}

/// Sends service state changes to systemd; see the module documentation.
#[derive(Debug)]
pub struct Notifier {
    /// `NOTIFY_SOCKET` was set when the notifier was made.
    enabled: bool,
    /// Half the watchdog timeout systemd asked for, when it asked us.
    watchdog_interval: Option<Duration>,
    /// The last `STATUS=` line that reached systemd, to skip repeats.
    last_status: Mutex<Option<String>>,
}

impl Notifier {
    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID`.
    ///
    /// Never fails: a missing or malformed variable only turns the
    /// corresponding notification off.
    pub fn from_env() -> Notifier {
        let enabled = std::env::var_os("NOTIFY_SOCKET").is_some();
        // sd_watchdog_enabled(3): the watchdog is ours when WATCHDOG_PID is
        // absent or names this process; pinging at half the timeout is the
        // interval the man page recommends.
        let watchdog_interval = sd_notify::watchdog_enabled()
            .filter(|_| enabled)
            .filter(|timeout| !timeout.is_zero())
            .map(|timeout| timeout / 2);
        Notifier {
            enabled,
            watchdog_interval,
            last_status: Mutex::new(None),
        }
    }

    /// Whether systemd listens (`NOTIFY_SOCKET` was set).
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Start-up (or a reload) is complete: `READY=1`.
    pub fn ready(&self) {
        self.send(&[NotifyState::Ready]);
    }

    /// A reload has begun: `RELOADING=1` with `MONOTONIC_USEC=`.
    ///
    /// systemd 253 and later need the timestamp for `Type=notify-reload`
    /// to match this message to the reload it asked for; older versions
    /// ignore the field. Send [`Notifier::ready`] when the reload is done.
    pub fn reloading(&self) {
        if !self.enabled {
            return;
        }
        match NotifyState::monotonic_usec_now() {
            Ok(now) => self.send(&[NotifyState::Reloading, now]),
            Err(error) => {
                debug!(%error, "cannot read CLOCK_MONOTONIC; sending RELOADING=1 alone");
                self.send(&[NotifyState::Reloading])
            }
        };
    }

    /// Shutdown has begun: `STOPPING=1`.
    pub fn stopping(&self) {
        self.send(&[NotifyState::Stopping]);
    }

    /// A one-line, human-readable status: `STATUS=<line>`.
    ///
    /// Line breaks become spaces, since each line of a notification is a
    /// separate field. A line equal to the last one delivered is not sent
    /// again, so callers may report on every event-loop turn without
    /// flooding systemd.
    pub fn status(&self, line: &str) {
        if !self.enabled {
            return;
        }
        let line = line.replace(['\n', '\r'], " ");
        let line = line.as_str();
        // A poisoned lock only means another thread panicked mid-compare;
        // the stored line is still a valid string.
        let mut last = self
            .last_status
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if last.as_deref() == Some(line) {
            return;
        }
        if self.send(&[NotifyState::Status(line)]) {
            *last = Some(line.to_owned());
        }
    }

    /// How often the caller's event loop must call [`Notifier::watchdog`],
    /// or `None` when systemd does not watch this process.
    pub fn watchdog_interval(&self) -> Option<Duration> {
        self.watchdog_interval
    }

    /// The event loop is alive: `WATCHDOG=1`.
    pub fn watchdog(&self) {
        if self.watchdog_interval.is_some() {
            self.send(&[NotifyState::Watchdog]);
        }
    }

    /// Sends one datagram; returns whether it was delivered.
    fn send(&self, states: &[NotifyState<'_>]) -> bool {
        if !self.enabled {
            return false;
        }
        match sd_notify::notify(states) {
            Ok(()) => true,
            Err(error) => {
                debug!(%error, ?states, "systemd notification failed");
                false
            }
        }
    }
}
