//! Settings of the daemon process: `[control]`, `[metrics]` and the
//! `state-file`, `drain-time` and `drain-on-stop` keys of `[global]`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;

use super::error::ConfigError;
use super::raw::{RawConfig, RawGlobal};
use super::validate::Validator;
use super::Daemon;

/// Default control socket, inside systemd's `RuntimeDirectory=herald`.
pub const DEFAULT_SOCKET: &str = "/run/herald/herald.sock";
/// Default state file, inside systemd's `StateDirectory=herald`.
pub const DEFAULT_STATE_FILE: &str = "/var/lib/herald/state.json";
/// Owner and group may use the socket; others may not (RFC-free, but the
/// socket can withdraw every route of the host).
const DEFAULT_SOCKET_MODE: u32 = 0o660;
/// Long enough for routers to move traffic away on GRACEFUL_SHUTDOWN
/// (RFC 8326 §4 suggests waiting for the network to converge).
const DEFAULT_DRAIN_TIME: Duration = Duration::from_secs(30);

impl Validator<'_> {
    /// The daemon settings of `raw`, every default applied.
    pub(super) fn daemon(
        &mut self,
        raw: &RawConfig,
        global: &RawGlobal,
    ) -> Result<Daemon, ConfigError> {
        let control = raw.control.as_ref().map(Spanned::get_ref);
        let socket = match control.and_then(|c| c.socket.as_ref()) {
            Some(path) => self.absolute(path, "control.socket")?,
            None => PathBuf::from(DEFAULT_SOCKET),
        };
        let socket_mode = match control.and_then(|c| c.mode.as_ref()) {
            Some(mode) => self.mode(mode)?,
            None => DEFAULT_SOCKET_MODE,
        };
        let socket_group = match control.and_then(|c| c.group.as_ref()) {
            Some(group) if group.get_ref().trim().is_empty() => {
                return Err(self.error(group.span(), "control.group", "group must not be empty"));
            }
            Some(group) => Some(group.get_ref().clone()),
            None => None,
        };
        let state_file = match &global.state_file {
            Some(path) => self.absolute(path, "global.state-file")?,
            None => PathBuf::from(DEFAULT_STATE_FILE),
        };
        let drain_time = match &global.drain_time {
            Some(value) => self.duration(value, "global.drain-time")?,
            None => DEFAULT_DRAIN_TIME,
        };
        let drain_on_stop = global.drain_on_stop.as_ref().is_some_and(|v| *v.get_ref());
        let metrics = match raw.metrics.as_ref().map(Spanned::get_ref) {
            Some(metrics) => {
                let listen =
                    self.required(&metrics.listen, raw.metrics_span(), "metrics.listen")?;
                Some(self.parsed::<SocketAddr>(
                    listen,
                    "metrics.listen",
                    "an address and port such as \"127.0.0.1:9273\" or \"[::1]:9273\"",
                )?)
            }
            None => None,
        };
        Ok(Daemon {
            socket,
            socket_mode,
            socket_group,
            state_file,
            drain_time,
            drain_on_stop,
            metrics,
            on_sigterm: self.on_sigterm(global)?,
        })
    }

    fn absolute(&self, value: &Spanned<String>, key: &str) -> Result<PathBuf, ConfigError> {
        let path = Path::new(value.get_ref());
        if !path.is_absolute() {
            return Err(self.error(
                value.span(),
                key,
                format!("{:?} is not an absolute path", value.get_ref()),
            ));
        }
        Ok(path.to_path_buf())
    }

    /// Octal permission bits such as "0660"; the socket must stay usable by
    /// its owner and must never be writable by everyone.
    fn mode(&self, value: &Spanned<String>) -> Result<u32, ConfigError> {
        let text = value.get_ref();
        let mode = u32::from_str_radix(text.trim_start_matches("0o"), 8)
            .ok()
            .filter(|m| *m <= 0o777)
            .ok_or_else(|| {
                self.error(
                    value.span(),
                    "control.mode",
                    format!("{text:?} is not an octal file mode such as \"0660\""),
                )
            })?;
        if mode & 0o600 != 0o600 {
            return Err(self.error(
                value.span(),
                "control.mode",
                format!("mode {text} must let the owner read and write the socket"),
            ));
        }
        if mode & 0o002 != 0 {
            return Err(self.error(
                value.span(),
                "control.mode",
                format!(
                    "mode {text} lets every local user withdraw this host's routes: \
                     grant access with `group` instead"
                ),
            ));
        }
        Ok(mode)
    }
}
