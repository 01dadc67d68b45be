//! TCP probe: the service accepts connections. The cheapest check, and the
//! right one for services that speak no HTTP; it proves the listener is
//! there, not that the service behind it works.

use std::net::SocketAddr;

use tokio::net::TcpStream;

use super::{one_line, Verdict};

/// Connects to one address and closes the connection at once.
#[derive(Debug)]
pub(super) struct TcpProbe {
    address: SocketAddr,
}

impl TcpProbe {
    pub(super) fn new(address: SocketAddr) -> TcpProbe {
        TcpProbe { address }
    }

    /// Succeeds once the handshake completes; the caller bounds the time.
    pub(super) async fn run(&self) -> Verdict {
        match TcpStream::connect(self.address).await {
            // Dropping the stream closes it: nothing is sent.
            Ok(_stream) => Ok("connected".to_owned()),
            Err(err) => Err(format!("connect to {}: {}", self.address, one_line(&err))),
        }
    }
}
