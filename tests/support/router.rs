//! A scripted router: the router's end of a BGP connection, driven message
//! by message, for tests that need exact control of what herald receives.

use std::net::Ipv4Addr;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

use herald::bgp::wire::{self, Capability, Context, Family, Message, Open, Update};

/// Longest any single step may take before the test fails.
pub const STEP: Duration = Duration::from_secs(10);
pub const ROUTER_ASN: u32 = 65000;
pub const ROUTER_ID: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);

/// The router's end of one BGP connection.
pub struct RouterConn {
    pub stream: TcpStream,
    pub buf: BytesMut,
    pub ctx: Context,
}

impl RouterConn {
    pub async fn recv(&mut self) -> Message {
        timeout(STEP, async {
            loop {
                match wire::try_parse(&mut self.buf, &self.ctx) {
                    Ok(Some(message)) => return message,
                    Ok(None) => {}
                    Err(err) => panic!("herald sent a malformed message: {err}"),
                }
                let n = self.stream.read_buf(&mut self.buf).await.expect("read");
                assert!(n > 0, "herald closed the connection unexpectedly");
            }
        })
        .await
        .expect("no message from herald in time")
    }

    pub async fn send(&mut self, message: Message) {
        let mut out = BytesMut::new();
        message.encode(&self.ctx, &mut out).expect("encode");
        self.stream.write_all(&out).await.expect("write");
    }

    /// Reads until herald closes; returns what arrived before.
    pub async fn until_closed(&mut self) -> Vec<Message> {
        let mut messages = Vec::new();
        timeout(STEP, async {
            loop {
                while let Ok(Some(message)) = wire::try_parse(&mut self.buf, &self.ctx) {
                    messages.push(message);
                }
                match self.stream.read_buf(&mut self.buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        })
        .await
        .expect("herald did not close the connection");
        messages
    }

    /// The router's half of the OPEN exchange, up to Established.
    pub async fn establish(&mut self, hold_time: u16) -> Open {
        self.establish_with(hold_time, &[]).await
    }

    /// [`RouterConn::establish`] with `extra` capabilities in the router's
    /// OPEN, e.g. graceful restart.
    pub async fn establish_with(&mut self, hold_time: u16, extra: &[Capability]) -> Open {
        let Message::Open(open) = self.recv().await else {
            panic!("expected OPEN first");
        };
        let families = [Family::Ipv4Unicast, Family::Ipv6Unicast];
        let mut ours = Open::new(ROUTER_ASN, hold_time, ROUTER_ID, &families);
        ours.capabilities.extend_from_slice(extra);
        self.send(Message::Open(ours)).await;
        self.send(Message::Keepalive).await;
        assert_eq!(self.recv().await, Message::Keepalive);
        self.ctx.four_octet_as = true;
        open
    }

    /// Every UPDATE up to and including both End-of-RIB markers.
    pub async fn initial_table(&mut self) -> Vec<Update> {
        let mut updates = Vec::new();
        let mut eor = Vec::new();
        while eor.len() < 2 {
            match self.recv().await {
                Message::Update(update) => {
                    assert_eq!(update.treat_as_withdraw, None, "herald sent a bad UPDATE");
                    match update.end_of_rib_family() {
                        Some(family) => eor.push(family),
                        None => updates.push(update),
                    }
                }
                Message::Keepalive => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        updates
    }
}

impl RouterConn {
    /// Wraps an accepted connection.
    pub fn new(stream: TcpStream) -> RouterConn {
        RouterConn {
            stream,
            buf: BytesMut::new(),
            ctx: Context::default(),
        }
    }
}
