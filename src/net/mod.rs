//! Socket options the BGP peer task and BFD both need (TTL, GTSM, TCP MD5,
//! the TTL of received datagrams). A leaf below both, so that BFD does not
//! reach into the BGP layer; `sockopt` is the crate's only `unsafe` code.
pub mod sockopt;
