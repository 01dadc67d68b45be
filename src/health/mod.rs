//! Health checks.
pub mod probe;
