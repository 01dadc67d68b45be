//! BGP: the wire codec, the session state machine and the per-peer task.
pub mod adj_rib_out;
pub mod fsm;
pub mod peer;
pub mod wire;
