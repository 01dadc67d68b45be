//! The unit the fleet trades in: one established TCP connection to a VIP.

use std::net::SocketAddr;

/// One established TCP connection to a local VIP, named by its 4-tuple:
/// the client's address and port, and the VIP's address and port. Both
/// addresses are of one family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Flow {
    /// The remote end: the client's address and port.
    pub client: SocketAddr,
    /// The local end: the VIP and the service's port.
    pub vip: SocketAddr,
}
