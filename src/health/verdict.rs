//! The verdict of one check: consecutive probe results turned into healthy
//! or unhealthy with haproxy's `rise`/`fall` hysteresis.
//!
//! An unhealthy check turns healthy after `rise` consecutive successes; a
//! healthy one turns unhealthy after `fall` consecutive failures. A result
//! that agrees with the current verdict resets the count, so one lucky or
//! unlucky probe never moves a VIP. While a flip is pending (some
//! disagreeing results, threshold not reached) the caller probes every
//! `fast_interval` instead of `interval`, like haproxy's `fastinter`, to
//! settle the question sooner.
//!
//! # Detection time
//!
//! The probe task sleeps [`Verdict::next_delay`] after each probe
//! *completes*, and a probe takes at most `timeout`. A service that dies
//! right after a successful probe is therefore declared down after at most
//!
//! ```text
//! interval + (fall - 1) * fast_interval + fall * timeout
//! ```
//!
//! the first failing probe starts `interval` after the success (the verdict
//! was settled), the other `fall - 1` start `fast_interval` after the one
//! before, and each of the `fall` probes may run into its timeout. A
//! refused connection fails at once, so the usual case is close to
//! `interval + (fall - 1) * fast_interval`. Recovery is symmetric, with
//! `rise` in place of `fall` and the probe's own duration in place of
//! `timeout`.
//!
//! A `rise` or `fall` of 0 is treated as 1: one result always suffices.

use std::time::Duration;

use crate::config::Check;

/// The rise/fall state of one check. Pure: results go in, flips come out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    healthy: bool,
    /// Consecutive results that disagree with `healthy`.
    streak: u32,
    rise: u32,
    fall: u32,
}

impl Verdict {
    /// The verdict before any probe: `check.initially_healthy`.
    pub fn new(check: &Check) -> Verdict {
        Verdict {
            healthy: check.initially_healthy,
            streak: 0,
            rise: check.rise.max(1),
            fall: check.fall.max(1),
        }
    }

    /// The current verdict.
    pub fn healthy(&self) -> bool {
        self.healthy
    }

    /// Feeds one probe result; returns `Some(new verdict)` when it flips.
    pub fn observe(&mut self, success: bool) -> Option<bool> {
        if success == self.healthy {
            self.streak = 0;
            return None;
        }
        self.streak += 1;
        let threshold = if self.healthy { self.fall } else { self.rise };
        if self.streak < threshold {
            return None;
        }
        self.healthy = success;
        self.streak = 0;
        Some(success)
    }

    /// Whether a flip is pending: some results disagreed with the verdict
    /// but `rise`/`fall` is not reached yet. The caller then probes at
    /// `fast_interval`.
    pub fn pending(&self) -> bool {
        self.streak > 0
    }

    /// How long to wait after a probe completes before starting the next:
    /// `fast_interval` while a flip is pending, `interval` otherwise.
    pub fn next_delay(&self, check: &Check) -> Duration {
        if self.pending() {
            check.fast_interval
        } else {
            check.interval
        }
    }

    /// Consecutive results that disagree with the verdict, for status
    /// display (`2/3` on the way to a flip).
    pub fn streak(&self) -> u32 {
        self.streak
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::CheckKind;
    use std::path::PathBuf;

    /// A check with `interval` 2 s, `fast_interval` 500 ms, `timeout` 1 s.
    fn check(rise: u32, fall: u32, initially_healthy: bool) -> Check {
        Check {
            name: "web".to_string(),
            kind: CheckKind::File {
                path: PathBuf::from("/run/herald/maintenance"),
                healthy_when_present: false,
            },
            interval: Duration::from_secs(2),
            fast_interval: Duration::from_millis(500),
            timeout: Duration::from_secs(1),
            rise,
            fall,
            initially_healthy,
        }
    }

    #[test]
    fn the_initial_verdict_is_the_configured_one() {
        assert!(!Verdict::new(&check(2, 3, false)).healthy());
        assert!(Verdict::new(&check(2, 3, true)).healthy());
        assert!(!Verdict::new(&check(2, 3, true)).pending());
    }

    #[test]
    fn an_unhealthy_check_turns_healthy_after_rise_successes() {
        let mut v = Verdict::new(&check(3, 2, false));
        assert_eq!(v.observe(true), None);
        assert_eq!(v.observe(true), None);
        assert_eq!(v.streak(), 2);
        assert_eq!(v.observe(true), Some(true));
        assert!(v.healthy());
        assert_eq!(v.streak(), 0);
    }

    #[test]
    fn a_healthy_check_turns_unhealthy_after_fall_failures() {
        let mut v = Verdict::new(&check(3, 2, true));
        assert_eq!(v.observe(false), None);
        assert_eq!(v.observe(false), Some(false));
        assert!(!v.healthy());
    }

    #[test]
    fn an_agreeing_result_resets_the_streak() {
        let mut v = Verdict::new(&check(2, 3, true));
        assert_eq!(v.observe(false), None);
        assert_eq!(v.observe(false), None);
        assert_eq!(v.observe(true), None);
        assert_eq!(v.streak(), 0);
        assert_eq!(v.observe(false), None);
        assert_eq!(v.observe(false), None);
        assert!(v.healthy(), "two failures after the reset are not three");
        assert_eq!(v.observe(false), Some(false));
    }

    #[test]
    fn results_that_agree_with_the_verdict_never_flip_it() {
        let mut v = Verdict::new(&check(2, 2, true));
        for _ in 0..10 {
            assert_eq!(v.observe(true), None);
        }
        assert!(v.healthy());
    }

    #[test]
    fn a_pending_flip_probes_at_the_fast_interval() {
        let c = check(2, 3, true);
        let mut v = Verdict::new(&c);
        assert!(!v.pending());
        assert_eq!(v.next_delay(&c), c.interval);
        v.observe(false);
        assert!(v.pending());
        assert_eq!(v.next_delay(&c), c.fast_interval);
        v.observe(false);
        v.observe(false);
        assert!(
            !v.pending(),
            "the flip happened; the new verdict is settled"
        );
        assert_eq!(v.next_delay(&c), c.interval);
    }

    #[test]
    fn rise_and_fall_of_zero_act_as_one() {
        let mut v = Verdict::new(&check(0, 0, false));
        assert_eq!(v.observe(true), Some(true));
        assert_eq!(v.observe(false), Some(false));
    }

    /// Replays the probe loop (sleep `next_delay` after each completed
    /// probe, every failing probe running into its timeout) and checks the
    /// bound in the module documentation.
    #[test]
    fn worst_case_detection_time_matches_the_documented_formula() {
        for fall in 1..=5 {
            let c = check(2, fall, true);
            let mut v = Verdict::new(&c);
            assert_eq!(v.observe(true), None);
            // The service dies as this successful probe completes.
            let mut elapsed = Duration::ZERO;
            loop {
                elapsed += v.next_delay(&c) + c.timeout;
                if v.observe(false).is_some() {
                    break;
                }
            }
            let bound = c.interval + c.fast_interval * (fall - 1) + c.timeout * fall;
            assert_eq!(elapsed, bound, "fall = {fall}");
        }
    }
}
