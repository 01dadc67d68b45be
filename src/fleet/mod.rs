//! The fleet: hosts that serve the same VIPs behind the same routers, and
//! tell each other which established connections each one owns, so that a
//! change of the routers' next-hop set breaks no surviving connection.

pub mod flow;
