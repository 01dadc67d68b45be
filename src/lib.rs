//! herald announces service addresses (VIPs) to routers over BGP.
pub mod bgp;
pub mod config;
