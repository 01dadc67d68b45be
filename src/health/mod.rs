//! Health: from probe results to what a VIP announces, without I/O.
//!
//! * [`verdict`] turns consecutive probe results into a check's verdict and
//!   says when to probe next.

pub mod verdict;

pub use verdict::Verdict;
