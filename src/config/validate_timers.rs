//! Session timers: the timer keys of `[global]` and `[[peer]]` parsed,
//! then resolved for each peer: its own value, else `[global]`'s, else the
//! built-in default; keepalive falls back to a third of the resolved hold
//! time.

use std::ops::Range;
use std::time::Duration;

use toml::Spanned;

use super::error::ConfigError;
use super::raw::{RawTimers, Scalar};
use super::validate::Validator;

/// Hold time when neither the peer nor `[global]` sets one.
const DEFAULT_HOLD_TIME: u16 = 90;
/// First reconnect delay when neither the peer nor `[global]` sets one.
const DEFAULT_CONNECT_RETRY: Duration = Duration::from_secs(5);
/// Reconnect backoff cap when neither the peer nor `[global]` sets one.
const DEFAULT_CONNECT_RETRY_MAX: Duration = Duration::from_secs(60);
/// A validated value with where it was written, to blame it later.
#[derive(Debug, Clone)]
pub(super) struct Setting<T> {
    pub(super) value: T,
    pub(super) span: Range<usize>,
    pub(super) key: String,
}

/// The timer keys of one table, each parsed but not yet resolved.
#[derive(Debug, Default)]
pub(super) struct Timers {
    hold_time: Option<Setting<u16>>,
    keepalive: Option<Setting<u16>>,
    connect_retry: Option<Setting<Duration>>,
    connect_retry_max: Option<Setting<Duration>>,
}

/// Where a resolved value came from: its key, or "default".
pub(super) fn provenance<T>(setting: Option<&Setting<T>>) -> String {
    setting.map_or_else(|| "default".to_string(), |s| s.key.clone())
}

/// Timers with every default applied.
pub(super) struct Resolved {
    pub(super) hold_time: u16,
    pub(super) keepalive: u16,
    pub(super) connect_retry: Duration,
    pub(super) connect_retry_max: Duration,
}

impl Validator<'_> {
    /// A duration that must be a whole number of seconds fitting 16 bits,
    /// as the OPEN hold time does (RFC 4271 §4.2).
    fn seconds(&self, value: &Spanned<Scalar>, key: &str) -> Result<u16, ConfigError> {
        let d = self.duration(value, key)?;
        if d.subsec_nanos() != 0 {
            return Err(self.error(
                value.span(),
                key,
                format!("{d:?} is not a whole number of seconds"),
            ));
        }
        u16::try_from(d.as_secs()).map_err(|_| {
            self.error(
                value.span(),
                key,
                format!("{} s is too long: at most 65535 s", d.as_secs()),
            )
        })
    }

    /// Parses the timer keys of one table; `prefix` is its key path.
    pub(super) fn timers(&self, raw: RawTimers<'_>, prefix: &str) -> Result<Timers, ConfigError> {
        let key = |name: &str| format!("{prefix}.{name}");
        let seconds = |value: &Spanned<Scalar>, key: String| {
            let seconds = self.seconds(value, &key)?;
            Ok::<_, ConfigError>(Setting {
                value: seconds,
                span: value.span(),
                key,
            })
        };
        let duration = |value: &Spanned<Scalar>, key: String| {
            let duration = self.duration(value, &key)?;
            Ok::<_, ConfigError>(Setting {
                value: duration,
                span: value.span(),
                key,
            })
        };
        let hold_time = raw
            .hold_time
            .map(|v| seconds(v, key("hold-time")))
            .transpose()?;
        if let Some(hold) = &hold_time {
            if hold.value == 1 || hold.value == 2 {
                return Err(self.error(
                    hold.span.clone(),
                    &hold.key,
                    format!(
                        "hold time {} s is not allowed: expected 0 (no keepalives) or \
                         3..=65535 s (RFC 4271 §4.2)",
                        hold.value
                    ),
                ));
            }
        }
        let keepalive = raw
            .keepalive
            .map(|v| seconds(v, key("keepalive")))
            .transpose()?;
        let connect_retry = raw
            .connect_retry
            .map(|v| duration(v, key("connect-retry")))
            .transpose()?;
        if let Some(retry) = &connect_retry {
            if retry.value.is_zero() {
                return Err(self.error(
                    retry.span.clone(),
                    &retry.key,
                    "connect-retry must be longer than 0",
                ));
            }
        }
        let connect_retry_max = raw
            .connect_retry_max
            .map(|v| duration(v, key("connect-retry-max")))
            .transpose()?;
        Ok(Timers {
            hold_time,
            keepalive,
            connect_retry,
            connect_retry_max,
        })
    }

    /// Applies `own` over `inherited` over the defaults and checks that the
    /// result is consistent, blaming the most specific key.
    pub(super) fn resolve(
        &mut self,
        own: &Timers,
        inherited: &Timers,
    ) -> Result<Resolved, ConfigError> {
        let hold = own.hold_time.as_ref().or(inherited.hold_time.as_ref());
        let hold_time = hold.map_or(DEFAULT_HOLD_TIME, |s| s.value);
        let keepalive = if hold_time == 0 {
            if let Some(k) = own.keepalive.as_ref().filter(|k| k.value != 0) {
                self.warn(
                    k.span.clone(),
                    k.key.clone(),
                    format!(
                        "keepalive is ignored: the hold time ({}) is 0, so no keepalives are sent",
                        provenance(hold)
                    ),
                );
            }
            0
        } else {
            match own.keepalive.as_ref().or(inherited.keepalive.as_ref()) {
                None => hold_time / 3,
                Some(k) if k.value == 0 => {
                    return Err(self.error(
                        k.span.clone(),
                        &k.key,
                        "keepalive 0 is only allowed with hold time 0",
                    ));
                }
                Some(k) if k.value >= hold_time => {
                    let blame = own
                        .keepalive
                        .as_ref()
                        .or(own.hold_time.as_ref())
                        .unwrap_or(k);
                    return Err(self.error(
                        blame.span.clone(),
                        &blame.key,
                        format!(
                            "keepalive {} s ({}) must be less than the hold time {} s ({})",
                            k.value,
                            k.key,
                            hold_time,
                            provenance(hold)
                        ),
                    ));
                }
                Some(k) => k.value,
            }
        };
        let retry = own
            .connect_retry
            .as_ref()
            .or(inherited.connect_retry.as_ref());
        let retry_max = own
            .connect_retry_max
            .as_ref()
            .or(inherited.connect_retry_max.as_ref());
        let connect_retry = retry.map_or(DEFAULT_CONNECT_RETRY, |s| s.value);
        let connect_retry_max = retry_max.map_or(DEFAULT_CONNECT_RETRY_MAX, |s| s.value);
        if connect_retry_max < connect_retry {
            let blame = own
                .connect_retry_max
                .as_ref()
                .or(own.connect_retry.as_ref())
                .or(retry_max)
                .or(retry);
            if let Some(blame) = blame {
                return Err(self.error(
                    blame.span.clone(),
                    &blame.key,
                    format!(
                        "connect-retry-max {connect_retry_max:?} ({}) must be at least \
                         connect-retry {connect_retry:?} ({})",
                        provenance(retry_max),
                        provenance(retry)
                    ),
                ));
            }
        }
        Ok(Resolved {
            hold_time,
            keepalive,
            connect_retry,
            connect_retry_max,
        })
    }
}
