//! Health: from probe results to what a VIP announces, without I/O.
//!
//! * [`verdict`] turns consecutive probe results into a check's verdict and
//!   says when to probe next.
//! * [`damping`] holds a flapping VIP down, after RFC 2439.

pub mod damping;
pub mod verdict;

pub use damping::Damper;
pub use verdict::Verdict;
