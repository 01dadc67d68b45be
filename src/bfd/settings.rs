//! The timers an operator sets for a BFD session, and their limits.

use std::time::Duration;

use thiserror::Error;

/// Shortest interval [`Settings::validate`] accepts. herald runs in user
/// space on hosts with other work to do, where sub-10 ms timers are not
/// kept reliably; the same floor is common in software BFD.
pub const MIN_INTERVAL: Duration = Duration::from_millis(10);
/// Longest interval the wire can carry: 2^32 - 1 microseconds (RFC 5880
/// §4.1).
pub const MAX_INTERVAL: Duration = Duration::from_micros(u32::MAX as u64);

/// The timers one session asks for (RFC 5880 §6.8.1 bfd.DesiredMinTxInterval,
/// bfd.RequiredMinRxInterval, bfd.DetectMult).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// How often we would like to send once Up.
    pub desired_min_tx: Duration,
    /// How often we can take packets from the remote system.
    pub required_min_rx: Duration,
    /// How many intervals without a packet mean the path is down.
    pub detect_multiplier: u8,
}

impl Default for Settings {
    /// 300 ms × 3, the usual data-centre choice (and FRR's default): a
    /// failure is seen within about a second, while a host under load can
    /// still keep the timers.
    fn default() -> Settings {
        Settings {
            desired_min_tx: Duration::from_millis(300),
            required_min_rx: Duration::from_millis(300),
            detect_multiplier: 3,
        }
    }
}

/// Why [`Settings`] were refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum SettingsError {
    /// The detect multiplier is zero (RFC 5880 §6.8.1: nonzero).
    #[error("detect multiplier must be at least 1")]
    ZeroDetectMultiplier,
    /// An interval is below [`MIN_INTERVAL`].
    #[error("{name} of {value:?} is below the minimum of {MIN_INTERVAL:?}")]
    TooShort {
        /// Which interval.
        name: &'static str,
        /// Its value.
        value: Duration,
    },
    /// An interval does not fit the 32-bit microsecond field.
    #[error("{name} of {value:?} exceeds the maximum of {MAX_INTERVAL:?}")]
    TooLong {
        /// Which interval.
        name: &'static str,
        /// Its value.
        value: Duration,
    },
}

impl Settings {
    /// Checks the values against the protocol's and herald's limits. The
    /// session takes settings as given and only clamps them into the wire's
    /// range, so callers validate first.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if self.detect_multiplier == 0 {
            return Err(SettingsError::ZeroDetectMultiplier);
        }
        for (name, value) in [
            ("desired minimum TX interval", self.desired_min_tx),
            ("required minimum RX interval", self.required_min_rx),
        ] {
            if value < MIN_INTERVAL {
                return Err(SettingsError::TooShort { name, value });
            }
            if value > MAX_INTERVAL {
                return Err(SettingsError::TooLong { name, value });
            }
        }
        Ok(())
    }

    /// The settings in wire units, clamped into the wire's range.
    pub(super) fn timers(&self) -> Timers {
        Timers {
            desired_min_tx: micros(self.desired_min_tx),
            required_min_rx: micros(self.required_min_rx),
            detect_mult: self.detect_multiplier.max(1),
        }
    }
}

/// A duration as a nonzero wire interval: Desired Min TX must not be zero
/// (RFC 5880 §4.1), and a zero Required Min RX would ask for no packets.
fn micros(value: Duration) -> u32 {
    u32::try_from(value.as_micros()).unwrap_or(u32::MAX).max(1)
}

/// [`Settings`] in wire units (microseconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Timers {
    pub(super) desired_min_tx: u32,
    pub(super) required_min_rx: u32,
    pub(super) detect_mult: u8,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(tx_ms: u64, rx_ms: u64, mult: u8) -> Settings {
        Settings {
            desired_min_tx: Duration::from_millis(tx_ms),
            required_min_rx: Duration::from_millis(rx_ms),
            detect_multiplier: mult,
        }
    }

    #[test]
    fn the_default_settings_are_300_ms_times_3_and_valid() {
        assert_eq!(Settings::default(), settings(300, 300, 3));
        assert_eq!(Settings::default().validate(), Ok(()));
    }

    #[test]
    fn settings_outside_the_limits_are_refused_with_the_reason() {
        assert_eq!(
            settings(300, 300, 0).validate(),
            Err(SettingsError::ZeroDetectMultiplier)
        );
        let err = settings(5, 300, 3).validate().expect_err("too short");
        assert_eq!(
            err.to_string(),
            "desired minimum TX interval of 5ms is below the minimum of 10ms"
        );
        let long = Settings {
            required_min_rx: Duration::from_secs(5000),
            ..Settings::default()
        };
        assert!(matches!(
            long.validate(),
            Err(SettingsError::TooLong { .. })
        ));
    }

    #[test]
    fn wire_values_are_clamped_into_the_fields_range() {
        let timers = settings(0, 5_000_000, 0).timers();
        assert_eq!(timers.desired_min_tx, 1);
        assert_eq!(timers.required_min_rx, u32::MAX);
        assert_eq!(timers.detect_mult, 1);
    }
}
