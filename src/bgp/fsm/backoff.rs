//! Connect-retry backoff: how long the session waits in Idle before it
//! reconnects after a failure.
//!
//! RFC 4271 §8.1.1 lets an implementation damp peer oscillations by staying
//! in Idle for a growing time after each failure; §10 asks for the
//! ConnectRetryTimer to be jittered by a factor uniformly distributed between
//! 0.75 and 1.0 so that many sessions do not synchronise. This module is both:
//! the nominal delay starts at the configured base, doubles with each
//! consecutive failure up to the configured cap, and each delay drawn is the
//! nominal one scaled by a factor in [0.75, 1.0].

use std::time::Duration;

/// Jitter factor bounds in millionths (RFC 4271 §10: 0.75 to 1.0).
const JITTER_MIN_PPM: u64 = 750_000;
const JITTER_MAX_PPM: u64 = 1_000_000;

/// Exponential backoff with jitter; deterministic for a given seed.
#[derive(Debug)]
pub(super) struct Backoff {
    base: Duration,
    max: Duration,
    /// Consecutive failures since the last reset.
    failures: u32,
    rng: fastrand::Rng,
}

impl Backoff {
    pub(super) fn new(base: Duration, max: Duration, seed: u64) -> Backoff {
        Backoff {
            base,
            max,
            failures: 0,
            rng: fastrand::Rng::with_seed(seed),
        }
    }

    /// The delay before the next attempt, counting one more failure.
    pub(super) fn next_delay(&mut self) -> Duration {
        let nominal = self.nominal();
        self.failures = self.failures.saturating_add(1);
        let ppm = self.rng.u64(JITTER_MIN_PPM..=JITTER_MAX_PPM);
        scale(nominal, ppm)
    }

    /// Forget past failures: the next delay is the base again.
    pub(super) fn reset(&mut self) {
        self.failures = 0;
    }

    /// `base * 2^failures`, capped at `max`, without overflowing.
    fn nominal(&self) -> Duration {
        let doublings = self.failures.min(31);
        self.base.saturating_mul(1 << doublings).min(self.max)
    }
}

/// `duration * ppm / 1_000_000` in integer nanoseconds, so that no float
/// rounding can push it past `duration` or panic on huge values.
fn scale(duration: Duration, ppm: u64) -> Duration {
    const NANOS_PER_SEC: u128 = 1_000_000_000;
    let nanos = duration.as_nanos() * u128::from(ppm) / u128::from(JITTER_MAX_PPM);
    let secs = u64::try_from(nanos / NANOS_PER_SEC).unwrap_or(u64::MAX);
    // The remainder is below 10^9 and always fits.
    let subsec = u32::try_from(nanos % NANOS_PER_SEC).unwrap_or(0);
    Duration::new(secs, subsec)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn assert_jittered(delay: Duration, nominal: Duration) {
        assert!(
            delay >= nominal.mul_f64(0.75) && delay <= nominal,
            "{delay:?} is outside [0.75, 1.0] x {nominal:?}"
        );
    }

    #[test]
    fn delays_double_from_the_base_up_to_the_cap_with_jitter() {
        let mut backoff = Backoff::new(SECOND, Duration::from_secs(30), 7);
        for nominal in [1, 2, 4, 8, 16, 30, 30, 30, 30] {
            assert_jittered(backoff.next_delay(), Duration::from_secs(nominal));
        }
    }

    #[test]
    fn reset_brings_the_delay_back_to_the_base() {
        let mut backoff = Backoff::new(SECOND, Duration::from_secs(30), 7);
        for _ in 0..5 {
            backoff.next_delay();
        }
        backoff.reset();
        assert_jittered(backoff.next_delay(), SECOND);
        assert_jittered(backoff.next_delay(), 2 * SECOND);
    }

    #[test]
    fn jitter_varies_between_draws() {
        let mut backoff = Backoff::new(SECOND, SECOND, 42);
        let delays: Vec<Duration> = (0..20).map(|_| backoff.next_delay()).collect();
        for delay in &delays {
            assert_jittered(*delay, SECOND);
        }
        assert!(delays.iter().any(|d| *d != delays[0]), "{delays:?}");
    }

    #[test]
    fn the_same_seed_gives_the_same_sequence() {
        let mut a = Backoff::new(SECOND, Duration::from_secs(60), 3);
        let mut b = Backoff::new(SECOND, Duration::from_secs(60), 3);
        for _ in 0..10 {
            assert_eq!(a.next_delay(), b.next_delay());
        }
    }

    #[test]
    fn many_failures_and_huge_durations_neither_overflow_nor_panic() {
        let mut backoff = Backoff::new(Duration::MAX, Duration::MAX, 1);
        for _ in 0..100 {
            assert_jittered(backoff.next_delay(), Duration::MAX);
        }
        let mut backoff = Backoff::new(SECOND, Duration::from_secs(3600), 1);
        for _ in 0..100 {
            backoff.next_delay();
        }
        assert_jittered(backoff.next_delay(), Duration::from_secs(3600));
    }

    #[test]
    fn a_base_above_the_cap_is_capped() {
        let mut backoff = Backoff::new(Duration::from_secs(90), Duration::from_secs(60), 5);
        assert_jittered(backoff.next_delay(), Duration::from_secs(60));
    }
}
