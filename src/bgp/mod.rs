//! BGP: the wire codec, the session state machine and the per-peer task.
pub mod fsm;
pub mod wire;
