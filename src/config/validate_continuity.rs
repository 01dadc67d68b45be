//! Traffic continuity keys: `graceful-restart`, `restart-time`, `bfd`,
//! `bfd-min-tx`, `bfd-min-rx` and `bfd-multiplier`, set in `[global]` and
//! overridden per `[[peer]]` like the session timers; and `on-sigterm`,
//! which only `[global]` has.

use std::ops::Range;
use std::time::Duration;

use toml::Spanned;

use super::error::ConfigError;
use super::raw::{RawContinuity, RawGlobal, Scalar};
use super::validate::Validator;
use super::{Bfd, GracefulRestart, OnSigterm, Peer};

/// Restart time advertised when none is configured. The longest restart
/// herald itself needs is systemd's after a crash: the unit's 2 s
/// `RestartSec=` plus well under a second to start and reconnect; exec in
/// place (`herald restart`, a package upgrade) takes about 0.1 s. 5 s
/// leaves more than twice what is needed, and a router drops a herald that
/// is not coming back soon after (herald.toml(5) has the figures).
pub const DEFAULT_RESTART_TIME: u16 = 5;
/// The longest hold time `herald check` calls short: three keepalives of
/// 3 s, the usual data-centre setting.
const SHORT_HOLD_TIME: u16 = 9;
/// The largest value of the capability's 12-bit field (RFC 4724 §3).
const MAX_RESTART_TIME: u64 = 4095;
/// A data-centre default of RFC 5880 timers: 300 ms × 3 detects a silent
/// peer in under a second, while leaving a userspace daemon on a busy host
/// room for a late packet or two.
const DEFAULT_BFD_INTERVAL: Duration = Duration::from_millis(300);
const DEFAULT_BFD_MULTIPLIER: u8 = 3;
/// Shortest BFD interval accepted: below this, scheduling noise on a busy
/// host would cause false detections.
const MIN_BFD_INTERVAL: Duration = Duration::from_millis(10);
/// Intervals travel as 32-bit microsecond counts (RFC 5880 §4.1).
const MAX_BFD_INTERVAL: Duration = Duration::from_micros(u32::MAX as u64);

/// The continuity keys of one table, parsed but not yet resolved.
#[derive(Debug, Default)]
pub(super) struct Continuity {
    graceful_restart: Option<bool>,
    restart_time: Option<u16>,
    bfd: Option<bool>,
    bfd_min_tx: Option<Duration>,
    bfd_min_rx: Option<Duration>,
    bfd_multiplier: Option<u8>,
}

impl Validator<'_> {
    /// Parses the continuity keys of one table; `prefix` is its key path.
    pub(super) fn continuity(
        &self,
        raw: RawContinuity<'_>,
        prefix: &str,
    ) -> Result<Continuity, ConfigError> {
        let key = |name: &str| format!("{prefix}.{name}");
        let restart_time = raw
            .restart_time
            .map(|v| self.restart_time(v, &key("restart-time")))
            .transpose()?;
        let interval = |value: Option<&Spanned<Scalar>>, name: &str| {
            value.map(|v| self.bfd_interval(v, &key(name))).transpose()
        };
        Ok(Continuity {
            graceful_restart: raw.graceful_restart.map(|v| *v.get_ref()),
            restart_time,
            bfd: raw.bfd.map(|v| *v.get_ref()),
            bfd_min_tx: interval(raw.bfd_min_tx, "bfd-min-tx")?,
            bfd_min_rx: interval(raw.bfd_min_rx, "bfd-min-rx")?,
            bfd_multiplier: raw
                .bfd_multiplier
                .map(|v| self.integer(v, &key("bfd-multiplier"), 1..=255, "BFD multiplier"))
                .transpose()?,
        })
    }

    /// A peer's graceful restart and BFD: its own keys, else `[global]`'s,
    /// else the defaults (graceful restart on for [`DEFAULT_RESTART_TIME`],
    /// BFD off).
    pub(super) fn resolve_continuity(
        &self,
        peer: &Continuity,
        global: &Continuity,
    ) -> (Option<GracefulRestart>, Option<Bfd>) {
        let graceful_restart = peer
            .graceful_restart
            .or(global.graceful_restart)
            .unwrap_or(true)
            .then(|| GracefulRestart {
                restart_time: peer
                    .restart_time
                    .or(global.restart_time)
                    .unwrap_or(DEFAULT_RESTART_TIME),
            });
        let bfd = peer.bfd.or(global.bfd).unwrap_or(false).then(|| Bfd {
            min_tx: peer
                .bfd_min_tx
                .or(global.bfd_min_tx)
                .unwrap_or(DEFAULT_BFD_INTERVAL),
            min_rx: peer
                .bfd_min_rx
                .or(global.bfd_min_rx)
                .unwrap_or(DEFAULT_BFD_INTERVAL),
            multiplier: peer
                .bfd_multiplier
                .or(global.bfd_multiplier)
                .unwrap_or(DEFAULT_BFD_MULTIPLIER),
        });
        (graceful_restart, bfd)
    }

    /// Warns when nothing but a long hold time would take this host out of
    /// the router's next hops if it died without closing its session: no
    /// BFD and a hold time of 0 or above [`SHORT_HOLD_TIME`]. Every new
    /// connection hashed to a dead next hop is lost, so the warning names
    /// how long that lasts.
    pub(super) fn warn_dead_host(&mut self, peer: &Peer, span: Range<usize>, key: &str) {
        if peer.bfd.is_some() || (1..=SHORT_HOLD_TIME).contains(&peer.hold_time) {
            return;
        }
        let how_long = match (peer.dead_host_window(), peer.graceful_restart) {
            (None, _) => "for as long as its TCP connection lingers, maybe for ever \
                          (hold time 0: no keepalives)"
                .to_string(),
            (Some(window), Some(gr)) => format!(
                "for up to {} s (hold time {} s + restart time {} s)",
                window.as_secs(),
                peer.hold_time,
                gr.restart_time
            ),
            (Some(window), None) => format!("for up to {} s (the hold time)", window.as_secs()),
        };
        let message = format!(
            "peer {} has neither BFD nor a short hold time: if this host dies without \
             closing the session, the router keeps it as a next hop {how_long}, and the \
             connections sent to it are lost; set `bfd = true` (with BFD on the router) or \
             a hold time of at most {SHORT_HOLD_TIME} s",
            peer.name
        );
        self.warn(span, key, message);
    }

    /// `[global] on-sigterm`.
    pub(super) fn on_sigterm(&self, global: &RawGlobal) -> Result<OnSigterm, ConfigError> {
        let Some(value) = &global.on_sigterm else {
            return Ok(OnSigterm::Auto);
        };
        match value.get_ref().as_str() {
            "auto" => Ok(OnSigterm::Auto),
            "stop" => Ok(OnSigterm::Stop),
            "restart" => Ok(OnSigterm::Restart),
            other => Err(self.error(
                value.span(),
                "global.on-sigterm",
                format!("{other:?} is not one of \"auto\", \"stop\" or \"restart\""),
            )),
        }
    }

    /// Whole seconds, 1..=4095: the restart time field is 12 bits.
    fn restart_time(&self, value: &Spanned<Scalar>, key: &str) -> Result<u16, ConfigError> {
        let d = self.duration(value, key)?;
        if d.subsec_nanos() != 0 || d.is_zero() || d.as_secs() > MAX_RESTART_TIME {
            return Err(self.error(
                value.span(),
                key,
                format!(
                    "restart time {d:?} is out of range: expected whole seconds from 1s to \
                     {MAX_RESTART_TIME}s (a 12-bit field, RFC 4724 §3)"
                ),
            ));
        }
        u16::try_from(d.as_secs()).map_err(|_| self.error(value.span(), key, "too long"))
    }

    fn bfd_interval(&self, value: &Spanned<Scalar>, key: &str) -> Result<Duration, ConfigError> {
        let d = self.duration(value, key)?;
        if d < MIN_BFD_INTERVAL || d > MAX_BFD_INTERVAL {
            return Err(self.error(
                value.span(),
                key,
                format!(
                    "BFD interval {d:?} is out of range: expected {MIN_BFD_INTERVAL:?} to \
                     {MAX_BFD_INTERVAL:?}"
                ),
            ));
        }
        Ok(d)
    }
}
