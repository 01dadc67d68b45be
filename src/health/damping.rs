//! Flap damping of one VIP: the ideas of RFC 2439 applied before anything
//! is sent, so a host whose service keeps failing and recovering stops
//! moving the routers' next-hop sets (and resetting connections across the
//! fleet) until it has been stable for a while.
//!
//! RFC 2439 §4 keeps a "figure of merit" per route; here it is the
//! *penalty*. Every change of health adds `penalty`; the total decays
//! exponentially, halving every `half_life` (RFC 2439 §4.2). When it
//! exceeds `suppress` (the RFC's cutoff threshold) the VIP is suppressed;
//! suppression ends when the penalty has decayed to `reuse`, or when
//! `max_suppress` (the RFC's maximum hold-down time) has passed since it
//! began, whichever comes first.
//!
//! As RFC 2439 §4 derives its ceiling from the maximum hold-down time, the
//! penalty is capped at the value that decays to `reuse` in exactly
//! `max_suppress`: `reuse * 2^(max_suppress / half_life)`. A VIP that
//! flapped for hours is not held down for hours more once it is stable. Unlike routers, which
//! keep reuse lists (RFC 2439 §4), herald has one damper per VIP and
//! simply asks it for [`Damper::reuse_at`] to set a timer.
//!
//! # Example timeline
//!
//! With the defaults (penalty 1000, suppress 3000, reuse 750, half-life
//! 60 s, max-suppress 300 s, hence a ceiling of 750 * 2^5 = 24000), a VIP
//! whose health changes every 15 s:
//!
//! ```text
//!   t =  0 s   flap 1   penalty 1000
//!   t = 15 s   flap 2   penalty 1841   (1000 decayed to 841, plus 1000)
//!   t = 30 s   flap 3   penalty 2548
//!   t = 45 s   flap 4   penalty 3143   > 3000: suppressed
//!   t ≈ 169 s           penalty decayed to 750: released
//! ```
//!
//! Four flaps within a minute hold the VIP down for about 124 s, a little
//! over two minutes (the test
//! `four_flaps_in_a_minute_suppress_for_about_two_minutes` computes these
//! figures); three flaps are not enough.
//!
//! A `reuse` of 0 makes the ceiling 0, so nothing is ever suppressed; a
//! `half_life` of 0 makes every penalty vanish at once.
//!
//! Time is a [`Duration`] since an epoch of the caller's choosing and must
//! not go backwards; an earlier `now` counts as no time passed.

use std::time::Duration;

use crate::config::Damping;

/// The damping state of one VIP.
#[derive(Debug, Clone, PartialEq)]
pub struct Damper {
    params: Damping,
    /// Penalty at `last`, before any later decay.
    penalty: f64,
    /// Time of the last flap.
    last: Duration,
    /// When the current suppression began; `None` when not suppressed.
    suppressed_since: Option<Duration>,
    /// When the current suppression ends, fixed at each flap (the penalty
    /// only changes then), so that [`Damper::suppressed`] and
    /// [`Damper::reuse_at`] always agree.
    release: Option<Duration>,
}

impl Damper {
    /// A damper with no penalty.
    pub fn new(params: &Damping) -> Damper {
        Damper {
            params: params.clone(),
            penalty: 0.0,
            last: Duration::ZERO,
            suppressed_since: None,
            release: None,
        }
    }

    /// A damper carrying `penalty` over from before a restart, as if the
    /// last flap happened at `now`: suppressed if the penalty is above the
    /// suppress limit, until it decays to the reuse limit. The time herald
    /// was away is not counted, so a suppression lasts at most that much
    /// longer than it would have.
    pub fn resume(params: &Damping, penalty: u32, now: Duration) -> Damper {
        let mut damper = Damper::new(params);
        damper.penalty = f64::from(penalty).min(damper.ceiling());
        damper.last = now;
        damper.update_suppression(now);
        damper
    }

    /// The parameters this damper was made with.
    pub fn params(&self) -> &Damping {
        &self.params
    }

    /// Records one change of health at `now`; returns whether the VIP is
    /// (now) suppressed.
    pub fn flap(&mut self, now: Duration) -> bool {
        if !self.suppressed(now) {
            self.suppressed_since = None;
            self.release = None;
        }
        let penalty = self.decayed(now) + f64::from(self.params.penalty);
        self.penalty = penalty.min(self.ceiling());
        self.last = now;
        self.update_suppression(now);
        self.suppressed(now)
    }

    /// Starts or extends suppression after the penalty changed at `now`.
    fn update_suppression(&mut self, now: Duration) {
        if self.suppressed_since.is_none() && self.penalty > f64::from(self.params.suppress) {
            self.suppressed_since = Some(now);
        }
        if let Some(since) = self.suppressed_since {
            let cap = since.saturating_add(self.params.max_suppress);
            let release = self
                .time_to_reuse()
                .map_or(cap, |t| now.saturating_add(t).min(cap));
            self.release = Some(release);
        }
    }

    /// The penalty at `now`, after exponential decay since the last flap:
    /// `penalty * 2^(-elapsed / half_life)`, rounded.
    pub fn penalty(&self, now: Duration) -> u32 {
        // Float to integer casts saturate; the penalty is never negative.
        self.decayed(now).round() as u32
    }

    /// Whether the VIP is suppressed at `now`.
    pub fn suppressed(&self, now: Duration) -> bool {
        self.release.is_some_and(|release| now < release)
    }

    /// When suppression ends if nothing else happens: when the decayed
    /// penalty reaches `reuse`, but no later than `max_suppress` after the
    /// suppression began. `None` when not suppressed at `now`.
    pub fn reuse_at(&self, now: Duration) -> Option<Duration> {
        self.release.filter(|&release| now < release)
    }

    /// The highest penalty: the one that decays to `reuse` in exactly
    /// `max_suppress` (RFC 2439 §4).
    fn ceiling(&self) -> f64 {
        let reuse = f64::from(self.params.reuse);
        if self.params.half_life.is_zero() {
            return f64::INFINITY;
        }
        let halvings = self.params.max_suppress.as_secs_f64() / self.params.half_life.as_secs_f64();
        reuse * halvings.exp2()
    }

    /// The penalty at `now`, unrounded.
    fn decayed(&self, now: Duration) -> f64 {
        let elapsed = now.saturating_sub(self.last);
        if elapsed.is_zero() {
            return self.penalty;
        }
        if self.params.half_life.is_zero() {
            return 0.0;
        }
        let halvings = elapsed.as_secs_f64() / self.params.half_life.as_secs_f64();
        self.penalty * (-halvings).exp2()
    }

    /// How long the penalty as of the last flap takes to decay to `reuse`;
    /// `None` if that is too long for a [`Duration`].
    fn time_to_reuse(&self) -> Option<Duration> {
        let reuse = f64::from(self.params.reuse);
        if self.penalty <= reuse || self.params.half_life.is_zero() {
            return Some(Duration::ZERO);
        }
        let halvings = (self.penalty / reuse).log2();
        Duration::try_from_secs_f64(halvings * self.params.half_life.as_secs_f64()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> Damping {
        Damping::default()
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn a_new_damper_has_no_penalty_and_suppresses_nothing() {
        let d = Damper::new(&defaults());
        assert_eq!(d.penalty(secs(0)), 0);
        assert!(!d.suppressed(secs(0)));
        assert_eq!(d.reuse_at(secs(0)), None);
    }

    #[test]
    fn each_half_life_halves_the_penalty() {
        let mut d = Damper::new(&defaults());
        assert!(!d.flap(secs(10)));
        assert_eq!(d.penalty(secs(10)), 1000);
        assert_eq!(d.penalty(secs(70)), 500);
        assert_eq!(d.penalty(secs(130)), 250);
        assert_eq!(d.penalty(secs(40)), 707, "half a half-life is 1/sqrt(2)");
    }

    #[test]
    fn a_flap_adds_to_the_decayed_penalty() {
        let mut d = Damper::new(&defaults());
        d.flap(secs(0));
        d.flap(secs(60));
        assert_eq!(d.penalty(secs(60)), 1500);
    }

    #[test]
    fn four_flaps_in_a_minute_suppress_for_about_two_minutes() {
        let mut d = Damper::new(&defaults());
        assert!(!d.flap(secs(0)));
        assert!(!d.flap(secs(15)));
        assert_eq!(d.penalty(secs(15)), 1841);
        assert!(!d.flap(secs(30)), "three flaps are not enough");
        assert_eq!(d.penalty(secs(30)), 2548);
        assert!(d.flap(secs(45)));
        assert_eq!(d.penalty(secs(45)), 3143);

        let reuse = d.reuse_at(secs(45)).expect("suppressed");
        let held = reuse - secs(45);
        assert_eq!(held.as_secs(), 124);
        assert_eq!(reuse.as_secs(), 169);
        assert_eq!(d.penalty(reuse), 750);
        assert!(d.suppressed(reuse - Duration::from_millis(1)));
        assert!(!d.suppressed(reuse));
        assert_eq!(d.reuse_at(reuse), None);
    }

    #[test]
    fn suppression_starts_only_above_the_suppress_threshold() {
        let params = Damping {
            penalty: 1500,
            ..defaults()
        };
        let mut d = Damper::new(&params);
        assert!(!d.flap(secs(0)));
        assert!(!d.flap(secs(0)), "3000 is not above 3000");
        assert!(d.flap(secs(0)));
    }

    #[test]
    fn flaps_while_suppressed_push_the_reuse_time_out() {
        let mut d = Damper::new(&defaults());
        for _ in 0..4 {
            d.flap(secs(0));
        }
        let first = d.reuse_at(secs(0)).expect("suppressed");
        assert!(d.flap(secs(30)));
        let second = d.reuse_at(secs(30)).expect("suppressed");
        assert!(second > first);
    }

    #[test]
    fn the_penalty_never_exceeds_the_ceiling() {
        let mut d = Damper::new(&defaults());
        for _ in 0..100 {
            d.flap(secs(0));
        }
        assert_eq!(d.penalty(secs(0)), 24_000, "750 * 2^(300 s / 60 s)");
        assert_eq!(d.reuse_at(secs(0)), Some(secs(300)));
    }

    #[test]
    fn max_suppress_caps_a_suppression_that_keeps_being_extended() {
        let mut d = Damper::new(&defaults());
        for _ in 0..4 {
            d.flap(secs(0));
        }
        // Keep flapping every 20 s: the penalty stays far above reuse.
        for t in (20..300).step_by(20) {
            assert!(d.flap(secs(t)), "at {t} s");
        }
        assert_eq!(d.reuse_at(secs(290)), Some(secs(300)));
        assert!(d.suppressed(secs(299)));
        assert!(!d.suppressed(secs(300)));
        assert!(d.penalty(secs(300)) > 3000);
    }

    #[test]
    fn a_flap_after_release_can_suppress_again() {
        let mut d = Damper::new(&defaults());
        for _ in 0..4 {
            d.flap(secs(0));
        }
        let reuse = d.reuse_at(secs(0)).expect("suppressed");
        assert!(!d.suppressed(reuse));
        // 750 + 1000 is below the suppress threshold.
        assert!(!d.flap(reuse));
        assert_eq!(d.reuse_at(reuse), None);
        assert!(!d.flap(reuse));
        assert!(d.flap(reuse), "750 + 3 * 1000 is above it");
        assert!(d.reuse_at(reuse).is_some());
    }

    #[test]
    fn a_reuse_threshold_of_zero_leaves_no_room_to_suppress() {
        let params = Damping {
            reuse: 0,
            ..defaults()
        };
        let mut d = Damper::new(&params);
        for _ in 0..4 {
            assert!(!d.flap(secs(0)));
        }
        assert_eq!(d.penalty(secs(0)), 0, "the ceiling is 0 * 2^5");
    }

    #[test]
    fn time_never_runs_backwards() {
        let mut d = Damper::new(&defaults());
        d.flap(secs(100));
        assert_eq!(d.penalty(secs(50)), 1000);
    }
}
