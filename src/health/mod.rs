//! Health: from probe results to what a VIP announces.
//!
//! ```text
//!   probe result ──> Verdict (one per check: rise/fall)
//!                      │ flip
//!                      v
//!                    VipState (one per VIP: all checks, damping, on-down)
//!                      │ Announce changed
//!                      v
//!                    announcer
//! ```
//!
//! * [`verdict`] turns consecutive probe results into a check's verdict and
//!   says when to probe next.
//! * [`damping`] holds a flapping VIP down, after RFC 2439.
//! * [`vip_state`] combines a VIP's check verdicts and its damper into
//!   [`Announce`]: announced, degraded or withdrawn.
//!
//! Time is a [`std::time::Duration`] since an epoch the caller picks, so
//! every state machine here is tested without sleeping. The I/O lives in
//! [`probe`] (one probe per check kind) and [`checker`] (the task that
//! runs a check's probe on its timers and reports verdict flips).

pub mod checker;
pub mod damping;
pub mod probe;
pub mod verdict;
pub mod vip_state;

pub use damping::Damper;
pub use verdict::Verdict;
pub use vip_state::{Announce, Health, VipState};
