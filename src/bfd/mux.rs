//! The receive side of BFD: one UDP socket per address family on port
//! 3784, and the demultiplexing of what arrives there to the sessions
//! (RFC 5880 §6.3, §6.8.6; RFC 5881 §3–§5).
//!
//! The TTL rule of RFC 5881 §5 (discard anything not sent with TTL or Hop
//! Limit 255) is checked per packet from the `IP_TTL`/`IPV6_HOPLIMIT`
//! control message. The kernel cannot do it for us: Linux applies
//! `IP_MINTTL` and `IPV6_MINHOPCOUNT`, which herald's BGP sessions use for
//! GTSM, to TCP only, and silently accepts them on UDP sockets.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::Interest;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use super::iana;
use super::packet;
use super::session::{Input, ResumeState, Session};
use super::settings::Settings;
use super::task::{self, SessionHandle};
use crate::net::sockopt::{self, Datagram};

/// Larger than any Control packet: the Length field is one byte.
const RECEIVE_BUFFER: usize = 256;
/// Packets waiting for one session's task. A session receives one per
/// interval, so a full queue means the task is stuck; later packets are
/// dropped (and counted) rather than queued without bound.
const INBOUND_QUEUE: usize = 32;
/// Pause after a failed receive, so that a persistent error cannot spin.
const RECEIVE_RETRY: Duration = Duration::from_millis(100);

/// A spawned task that is aborted when its holder is dropped.
#[derive(Debug)]
pub(super) struct AbortOnDrop(pub(super) JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Totals of the receive side, for metrics. Packets that reached a
/// session are counted there too, in its [`super::Counters`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MuxStats {
    /// Datagrams received on port 3784.
    pub received: u64,
    /// Discarded because their TTL (hop limit) was not 255.
    pub wrong_ttl: u64,
    /// Discarded by a reception check of RFC 5880 §6.8.6.
    pub malformed: u64,
    /// Discarded because no session matched them.
    pub unknown_session: u64,
    /// Dropped because their session's queue was full.
    pub overflow: u64,
}

/// [`MuxStats`] as it is counted.
#[derive(Debug, Default)]
struct Stats {
    received: AtomicU64,
    wrong_ttl: AtomicU64,
    malformed: AtomicU64,
    unknown_session: AtomicU64,
    overflow: AtomicU64,
}

fn count(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// Every session, by bfd.LocalDiscr (its queue) and by peer address (its
/// discriminator).
#[derive(Debug)]
struct Registry {
    by_discr: HashMap<u32, mpsc::Sender<Input>>,
    by_peer: HashMap<IpAddr, u32>,
    rng: fastrand::Rng,
}

impl Registry {
    /// A random unused discriminator: RFC 5880 §6.8.1 asks for nonzero,
    /// unique and preferably random.
    fn new_discr(&mut self) -> NonZeroU32 {
        loop {
            if let Some(discr) = NonZeroU32::new(self.rng.u32(..)) {
                if !self.by_discr.contains_key(&discr.get()) {
                    return discr;
                }
            }
        }
    }

    /// The queue of the session to `peer`.
    fn inbound_of(&self, peer: IpAddr) -> Option<&mpsc::Sender<Input>> {
        self.by_peer.get(&peer).and_then(|d| self.by_discr.get(d))
    }
}

/// What the receive tasks and the session handles share.
#[derive(Debug)]
pub(super) struct Demux {
    registry: Mutex<Registry>,
    stats: Stats,
}

impl Demux {
    fn new() -> Demux {
        Demux {
            registry: Mutex::new(Registry {
                by_discr: HashMap::new(),
                by_peer: HashMap::new(),
                rng: fastrand::Rng::new(),
            }),
            stats: Stats::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Registry> {
        // No code path panics while holding the lock; should one ever, the
        // maps are still consistent, as each update is a single insert or
        // remove.
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// RFC 5881 §5 and RFC 5880 §6.8.6 up to the choice of session.
    fn deliver(&self, datagram: Datagram, bytes: &[u8]) {
        count(&self.stats.received);
        let peer = datagram.source.ip();
        if datagram.ttl != Some(iana::SINGLE_HOP_TTL) {
            count(&self.stats.wrong_ttl);
            debug!(%peer, ttl = ?datagram.ttl, "BFD packet discarded: TTL is not 255");
            self.discarded_from(peer);
            return;
        }
        let packet = match packet::decode(bytes) {
            Ok(packet) => packet,
            Err(error) => {
                count(&self.stats.malformed);
                debug!(%peer, %error, "BFD packet discarded");
                self.discarded_from(peer);
                return;
            }
        };
        let registry = self.lock();
        // §6.3: once the remote system knows our discriminator, it alone
        // selects the session; before that, the source address does
        // (RFC 5881 §3: one session per peer).
        let inbound = if packet.your_discr != 0 {
            registry.by_discr.get(&packet.your_discr)
        } else {
            registry.inbound_of(peer)
        };
        let Some(inbound) = inbound else {
            count(&self.stats.unknown_session);
            debug!(%peer, your_discr = packet.your_discr, "BFD packet for no session");
            return;
        };
        if inbound.try_send(Input::Received(packet)).is_err() {
            count(&self.stats.overflow);
            debug!(%peer, "BFD packet dropped: session queue full");
        }
    }

    /// Counts a discarded packet in the session of its source, if any.
    fn discarded_from(&self, peer: IpAddr) {
        if let Some(inbound) = self.lock().inbound_of(peer) {
            // A full queue already tells of a stuck task; nothing to add.
            let _ = inbound.try_send(Input::Discarded);
        }
    }

    fn stats(&self) -> MuxStats {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        MuxStats {
            received: read(&self.stats.received),
            wrong_ttl: read(&self.stats.wrong_ttl),
            malformed: read(&self.stats.malformed),
            unknown_session: read(&self.stats.unknown_session),
            overflow: read(&self.stats.overflow),
        }
    }
}

/// Removes a session from the registry when its handle is dropped.
#[derive(Debug)]
pub(super) struct Registration {
    demux: Arc<Demux>,
    discr: u32,
    peer: IpAddr,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut registry = self.demux.lock();
        registry.by_discr.remove(&self.discr);
        if registry.by_peer.get(&self.peer) == Some(&self.discr) {
            registry.by_peer.remove(&self.peer);
        }
    }
}

/// The receive tasks, kept alive by the [`Mux`] and by every session
/// handle, so that sessions keep hearing their peers whichever is dropped
/// first.
#[derive(Debug)]
pub(super) struct Receivers {
    _tasks: Vec<AbortOnDrop>,
    ipv4: bool,
    ipv6: bool,
}

/// The BFD endpoint of the daemon: owns the receive sockets and registers
/// sessions. One per daemon, as only one socket can own port 3784.
#[derive(Debug)]
pub struct Mux {
    demux: Arc<Demux>,
    receivers: Arc<Receivers>,
    peer_port: u16,
}

impl Mux {
    /// Listens on UDP port 3784 for IPv4 and IPv6 and sends to the peers'
    /// port 3784 (RFC 5881 §4).
    pub async fn bind() -> io::Result<Mux> {
        Mux::bind_with_ports(iana::CONTROL_PORT, iana::CONTROL_PORT).await
    }

    /// Listens on `listen_port` and sends to `peer_port`, so that tests can
    /// run two endpoints on one host. A family that cannot be bound (IPv6
    /// disabled, say) is logged and left out; sessions of that family are
    /// then refused. Fails only if neither family can be bound.
    pub async fn bind_with_ports(listen_port: u16, peer_port: u16) -> io::Result<Mux> {
        let v4 = open_receiver(SocketAddr::from((Ipv4Addr::UNSPECIFIED, listen_port)));
        let v6 = open_receiver(SocketAddr::from((Ipv6Addr::UNSPECIFIED, listen_port)));
        let (ipv4, ipv6) = (v4.is_ok(), v6.is_ok());
        if let (Err(e4), Err(e6)) = (&v4, &v6) {
            let message =
                format!("cannot listen for BFD on UDP port {listen_port}: IPv4: {e4}; IPv6: {e6}");
            return Err(io::Error::new(e4.kind(), message));
        }
        let demux = Arc::new(Demux::new());
        let mut tasks = Vec::new();
        for (family, socket) in [("IPv4", v4), ("IPv6", v6)] {
            match socket {
                Ok(socket) => {
                    let task = tokio::spawn(receive(socket, Arc::clone(&demux)));
                    tasks.push(AbortOnDrop(task));
                }
                Err(error) => {
                    warn!(%error, port = listen_port, "BFD over {family} unavailable");
                }
            }
        }
        info!(port = listen_port, ipv4, ipv6, "listening for BFD");
        Ok(Mux {
            demux,
            receivers: Arc::new(Receivers {
                _tasks: tasks,
                ipv4,
                ipv6,
            }),
            peer_port,
        })
    }

    /// Starts a session to `peer`, sending from `local` if given (else
    /// from the address the routing table picks). With `resume`, the
    /// session continues Up where an earlier herald process left off (see
    /// [`Session::resume`]); unusable or clashing resume state is logged
    /// and the session starts Down instead.
    ///
    /// Fails if `settings` are invalid, the peer already has a session, the
    /// peer's family has no receive socket, `local` is of the other family,
    /// or the send socket cannot be opened.
    pub async fn register(
        &self,
        peer: IpAddr,
        local: Option<IpAddr>,
        settings: Settings,
        resume: Option<ResumeState>,
    ) -> io::Result<SessionHandle> {
        settings
            .validate()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let family_ok = match peer {
            IpAddr::V4(_) => self.receivers.ipv4,
            IpAddr::V6(_) => self.receivers.ipv6,
        };
        if !family_ok {
            let message = format!("no BFD receive socket for the family of {peer}");
            return Err(io::Error::new(io::ErrorKind::AddrNotAvailable, message));
        }
        if local.is_some_and(|l| l.is_ipv4() != peer.is_ipv4()) {
            let message = format!("local address and peer {peer} differ in family");
            return Err(io::Error::new(io::ErrorKind::InvalidInput, message));
        }
        let mut rng = fastrand::Rng::new();
        let destination = SocketAddr::new(peer, self.peer_port);
        let old_port = resume.map(|state| state.source_port);
        let socket = task::open_sender(destination, local, old_port, &mut rng)?;
        let (inbound, inbound_rx) = mpsc::channel(INBOUND_QUEUE);
        let mut registry = self.demux.lock();
        if registry.by_peer.contains_key(&peer) {
            let message = format!("a BFD session to {peer} exists already");
            return Err(io::Error::new(io::ErrorKind::AlreadyExists, message));
        }
        let seed = rng.u64(..);
        let resumed = resume.and_then(|state| {
            let clash = registry.by_discr.contains_key(&state.local_discr);
            let session = (!clash)
                .then(|| Session::resume(settings, state, seed))
                .flatten();
            if session.is_none() {
                warn!(%peer, ?state, "cannot resume BFD session; starting over");
            }
            session
        });
        let session = match resumed {
            Some(session) => session,
            None => Session::new(settings, registry.new_discr(), seed),
        };
        let discr = session.snapshot().local_discr;
        registry.by_discr.insert(discr, inbound);
        registry.by_peer.insert(peer, discr);
        drop(registry);
        debug!(%peer, discr, "BFD session registered");
        let registration = Registration {
            demux: Arc::clone(&self.demux),
            discr,
            peer,
        };
        Ok(task::spawn(
            peer,
            session,
            socket,
            inbound_rx,
            registration,
            Arc::clone(&self.receivers),
        ))
    }

    /// Totals of the receive side.
    pub fn stats(&self) -> MuxStats {
        self.demux.stats()
    }
}

/// A receive socket for one family: TTL reported per packet, IPv6 kept
/// apart from IPv4 (IPV6_V6ONLY) so that each family has its own socket.
fn open_receiver(address: SocketAddr) -> io::Result<UdpSocket> {
    let socket = Socket::new(
        Domain::for_address(address),
        Type::DGRAM,
        Some(Protocol::UDP),
    )?;
    if address.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    sockopt::set_recv_ttl(&socket, address)?;
    socket.set_nonblocking(true)?;
    socket.bind(&address.into())?;
    UdpSocket::from_std(socket.into())
}

/// Reads datagrams until aborted and hands each to the demultiplexer.
async fn receive(socket: UdpSocket, demux: Arc<Demux>) {
    let mut buf = [0; RECEIVE_BUFFER];
    loop {
        let result = socket
            .async_io(Interest::READABLE, || {
                sockopt::recv_with_ttl(&socket, &mut buf)
            })
            .await;
        match result {
            Ok(datagram) => demux.deliver(datagram, buf.get(..datagram.len).unwrap_or_default()),
            Err(error) => {
                warn!(%error, "BFD receive failed");
                tokio::time::sleep(RECEIVE_RETRY).await;
            }
        }
    }
}

#[cfg(test)]
mod tests;
