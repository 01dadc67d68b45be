//! BGP: the wire codec, the session state machine and the per-peer task.
pub mod wire;
