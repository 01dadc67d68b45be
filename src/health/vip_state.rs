//! What one VIP announces: its checks' verdicts combined, held down by flap
//! damping, and mapped through `on-down` to announced, degraded or
//! withdrawn.
//!
//! * Health is [`Health::Up`] when every check of the VIP is healthy; a VIP
//!   without checks is always up.
//! * The announce is [`Announce::Announced`] when the VIP is up and not
//!   suppressed, otherwise its down announce: [`Announce::Degraded`] with
//!   `on-down = degrade`, [`Announce::Withdrawn`] otherwise.
//! * With damping, every change of health (down to up and up to down)
//!   counts as a flap (RFC 2439 §4: a route's withdrawal and its
//!   re-advertisement both add to its figure of merit). While suppressed,
//!   the VIP keeps its down announce even when up; when suppression ends
//!   the caller's [`VipState::tick`] at [`VipState::next_wakeup`] announces
//!   it again.
//!
//! Start-up is not a flap. A VIP whose checks start unhealthy (the default)
//! comes up once they pass `rise` times; that first change to up is a host
//! joining the fleet, not instability, and is not counted. From then on
//! every change of health counts. A VIP that starts up (checks
//! `initially-healthy`, or none) counts every change from the beginning,
//! because it was announced from the start.

use std::fmt;
use std::time::Duration;

use crate::config::{DownAction, Vip};

use super::damping::Damper;

/// Whether all of a VIP's checks pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Health {
    /// Every check is healthy (or the VIP has none).
    Up,
    /// At least one check is unhealthy.
    Down,
}

impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Health::Up => "up",
            Health::Down => "down",
        })
    }
}

/// What herald sends for a VIP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Announce {
    /// The route with the VIP's own attributes.
    Announced,
    /// The route with the `on-down` degrade attributes, so routers prefer
    /// other hosts.
    Degraded,
    /// No route.
    Withdrawn,
}

impl fmt::Display for Announce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Announce::Announced => "announced",
            Announce::Degraded => "degraded",
            Announce::Withdrawn => "withdrawn",
        })
    }
}

/// The health state of one VIP. Pure: verdict changes and times go in,
/// announce changes come out.
#[derive(Debug, Clone, PartialEq)]
pub struct VipState {
    /// Verdict of each check, in `Vip::checks` order.
    checks: Vec<bool>,
    damper: Option<Damper>,
    /// The announce while down or suppressed.
    down: Announce,
    /// Whether the VIP has been up: until then, changes of health are
    /// start-up, not flaps.
    has_been_up: bool,
    announce: Announce,
}

impl VipState {
    /// The state of `vip` given the current verdict of each of its checks
    /// (`checks_healthy[i]` for `vip.checks[i]`).
    ///
    /// # Panics
    ///
    /// If `checks_healthy` is not as long as `vip.checks`.
    pub fn new(vip: &Vip, checks_healthy: &[bool]) -> VipState {
        assert_eq!(
            checks_healthy.len(),
            vip.checks.len(),
            "one verdict per check of the VIP"
        );
        let down = match vip.on_down {
            DownAction::Withdraw => Announce::Withdrawn,
            DownAction::Degrade(_) => Announce::Degraded,
        };
        let up = checks_healthy.iter().all(|&healthy| healthy);
        VipState {
            checks: checks_healthy.to_vec(),
            damper: vip.damping.as_ref().map(Damper::new),
            down,
            has_been_up: up,
            announce: if up { Announce::Announced } else { down },
        }
    }

    /// Carries a damping `penalty` over from before a restart, as if the
    /// last flap happened at `now`; a penalty above the suppress limit
    /// keeps the VIP down as it was. A VIP that had a penalty had been up.
    pub fn resume(&mut self, penalty: u32, now: Duration) {
        if let Some(damper) = &mut self.damper {
            if penalty > 0 {
                *damper = Damper::resume(damper.params(), penalty, now);
                self.has_been_up = true;
            }
        }
        self.announce = self.desired(now);
    }

    /// A check this VIP uses (position `slot` in `Vip::checks`) changed
    /// verdict at `now`. Returns the new announce if it changed.
    ///
    /// # Panics
    ///
    /// If `slot` is not a position in `Vip::checks`.
    pub fn check_changed(&mut self, slot: usize, healthy: bool, now: Duration) -> Option<Announce> {
        let before = self.health();
        self.checks[slot] = healthy;
        let after = self.health();
        if after != before {
            if self.has_been_up {
                if let Some(damper) = &mut self.damper {
                    damper.flap(now);
                }
            }
            self.has_been_up |= after == Health::Up;
        }
        self.tick(now)
    }

    /// Re-evaluates at `now`; the caller calls this at
    /// [`VipState::next_wakeup`], when suppression may end. Returns the new
    /// announce if it changed.
    pub fn tick(&mut self, now: Duration) -> Option<Announce> {
        let desired = self.desired(now);
        if desired == self.announce {
            return None;
        }
        self.announce = desired;
        Some(desired)
    }

    /// When to call [`VipState::tick`] next: the end of the current
    /// suppression, if any.
    pub fn next_wakeup(&self, now: Duration) -> Option<Duration> {
        self.damper.as_ref().and_then(|d| d.reuse_at(now))
    }

    /// Up when every check is healthy; a VIP with no checks is always up.
    pub fn health(&self) -> Health {
        if self.checks.iter().all(|&healthy| healthy) {
            Health::Up
        } else {
            Health::Down
        }
    }

    /// What is announced, as of the last [`VipState::check_changed`] or
    /// [`VipState::tick`].
    pub fn announce(&self) -> Announce {
        self.announce
    }

    /// The damping penalty at `now`; 0 without damping.
    pub fn penalty(&self, now: Duration) -> u32 {
        self.damper.as_ref().map_or(0, |d| d.penalty(now))
    }

    /// Whether damping holds the VIP down at `now`.
    pub fn suppressed(&self, now: Duration) -> bool {
        self.damper.as_ref().is_some_and(|d| d.suppressed(now))
    }

    fn desired(&self, now: Duration) -> Announce {
        if self.health() == Health::Up && !self.suppressed(now) {
            Announce::Announced
        } else {
            self.down
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Damping, Degrade, Origin};

    fn vip(checks: usize, on_down: DownAction, damping: Option<Damping>) -> Vip {
        Vip {
            prefix: "192.0.2.10/32".parse().expect("valid prefix"),
            med: None,
            local_pref: None,
            communities: Vec::new(),
            large_communities: Vec::new(),
            extended_communities: Vec::new(),
            as_path_prepend: 0,
            origin: Origin::Igp,
            peers: vec![0],
            checks: (0..checks).collect(),
            on_down,
            damping,
            hook: None,
        }
    }

    fn degrade() -> DownAction {
        DownAction::Degrade(Degrade {
            med: Some(1000),
            as_path_prepend: 2,
            communities: Vec::new(),
        })
    }

    fn damping() -> Option<Damping> {
        Some(Damping::default())
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn a_vip_without_checks_is_always_announced() {
        let s = VipState::new(&vip(0, DownAction::Withdraw, None), &[]);
        assert_eq!(s.health(), Health::Up);
        assert_eq!(s.announce(), Announce::Announced);
        assert_eq!(s.penalty(secs(0)), 0);
    }

    #[test]
    fn a_vip_is_up_only_when_both_checks_are_healthy() {
        let mut s = VipState::new(&vip(2, DownAction::Withdraw, None), &[false, false]);
        assert_eq!(s.health(), Health::Down);
        assert_eq!(s.announce(), Announce::Withdrawn);
        assert_eq!(s.check_changed(0, true, secs(1)), None);
        assert_eq!(s.health(), Health::Down);
        assert_eq!(s.check_changed(1, true, secs(2)), Some(Announce::Announced));
        assert_eq!(s.health(), Health::Up);
        assert_eq!(
            s.check_changed(0, false, secs(3)),
            Some(Announce::Withdrawn)
        );
        assert_eq!(s.check_changed(1, false, secs(4)), None, "already down");
    }

    #[test]
    fn on_down_degrade_degrades_instead_of_withdrawing() {
        let mut s = VipState::new(&vip(1, degrade(), None), &[true]);
        assert_eq!(s.announce(), Announce::Announced);
        assert_eq!(s.check_changed(0, false, secs(1)), Some(Announce::Degraded));
        assert_eq!(s.check_changed(0, true, secs(2)), Some(Announce::Announced));
    }

    #[test]
    fn a_vip_that_starts_down_with_degrade_is_degraded() {
        let s = VipState::new(&vip(1, degrade(), None), &[false]);
        assert_eq!(s.announce(), Announce::Degraded);
    }

    #[test]
    fn announces_display_in_lowercase() {
        assert_eq!(Announce::Announced.to_string(), "announced");
        assert_eq!(Announce::Degraded.to_string(), "degraded");
        assert_eq!(Announce::Withdrawn.to_string(), "withdrawn");
        assert_eq!(Health::Up.to_string(), "up");
        assert_eq!(Health::Down.to_string(), "down");
    }

    #[test]
    fn start_up_is_not_counted_as_a_flap() {
        let mut s = VipState::new(&vip(1, DownAction::Withdraw, damping()), &[false]);
        assert_eq!(s.check_changed(0, true, secs(5)), Some(Announce::Announced));
        assert_eq!(s.penalty(secs(5)), 0);
        s.check_changed(0, false, secs(10));
        assert_eq!(s.penalty(secs(10)), 1000, "the first fall is a flap");
    }

    #[test]
    fn a_vip_that_starts_up_counts_its_first_fall() {
        let mut s = VipState::new(&vip(1, DownAction::Withdraw, damping()), &[true]);
        s.check_changed(0, false, secs(10));
        assert_eq!(s.penalty(secs(10)), 1000);
    }

    #[test]
    fn a_check_change_that_leaves_health_unchanged_is_not_a_flap() {
        let mut s = VipState::new(&vip(2, DownAction::Withdraw, damping()), &[true, true]);
        s.check_changed(0, false, secs(1));
        assert_eq!(s.check_changed(1, false, secs(2)), None);
        assert_eq!(s.check_changed(0, true, secs(3)), None);
        assert!(s.penalty(secs(3)) < 1000, "one flap, decaying");
    }

    #[test]
    fn suppression_holds_a_healthy_vip_down_until_next_wakeup() {
        let mut s = VipState::new(&vip(1, DownAction::Withdraw, damping()), &[true]);
        // Four flaps within a minute: down, up, down, up.
        assert_eq!(
            s.check_changed(0, false, secs(0)),
            Some(Announce::Withdrawn)
        );
        assert_eq!(
            s.check_changed(0, true, secs(15)),
            Some(Announce::Announced)
        );
        assert_eq!(
            s.check_changed(0, false, secs(30)),
            Some(Announce::Withdrawn)
        );
        assert_eq!(s.check_changed(0, true, secs(45)), None, "suppressed");
        assert_eq!(s.health(), Health::Up);
        assert_eq!(s.announce(), Announce::Withdrawn);
        assert!(s.suppressed(secs(45)));

        let wake = s.next_wakeup(secs(45)).expect("suppressed");
        assert_eq!(wake.as_secs(), 169);
        assert_eq!(s.tick(secs(100)), None, "too early");
        assert_eq!(s.tick(wake), Some(Announce::Announced));
        assert!(!s.suppressed(wake));
        assert_eq!(s.next_wakeup(wake), None);
        assert_eq!(s.tick(wake + secs(1)), None);
    }

    #[test]
    fn suppression_keeps_a_degrading_vip_degraded() {
        let mut s = VipState::new(&vip(1, degrade(), damping()), &[true]);
        for (t, healthy) in [(0, false), (15, true), (30, false), (45, true)] {
            s.check_changed(0, healthy, secs(t));
        }
        assert_eq!(s.announce(), Announce::Degraded);
        let wake = s.next_wakeup(secs(45)).expect("suppressed");
        assert_eq!(s.tick(wake), Some(Announce::Announced));
    }

    #[test]
    fn suppression_ending_while_down_changes_nothing() {
        let mut s = VipState::new(&vip(1, DownAction::Withdraw, damping()), &[true]);
        for (t, healthy) in [(0, false), (15, true), (30, false), (45, true), (50, false)] {
            s.check_changed(0, healthy, secs(t));
        }
        let wake = s.next_wakeup(secs(50)).expect("suppressed");
        assert_eq!(s.tick(wake), None);
        assert_eq!(s.announce(), Announce::Withdrawn);
        assert_eq!(
            s.check_changed(0, true, wake + secs(1)),
            Some(Announce::Announced)
        );
    }

    #[test]
    fn without_damping_there_is_no_wakeup() {
        let mut s = VipState::new(&vip(1, DownAction::Withdraw, None), &[true]);
        for t in 0..10 {
            s.check_changed(0, t % 2 == 1, secs(t));
        }
        assert_eq!(s.announce(), Announce::Announced);
        assert!(!s.suppressed(secs(10)));
        assert_eq!(s.next_wakeup(secs(10)), None);
    }
}
