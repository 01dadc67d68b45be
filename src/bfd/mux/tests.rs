//! Demultiplexing (RFC 5880 §6.3, §6.8.6; RFC 5881 §3, §5), fed with
//! datagrams directly: no sockets.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use tokio::sync::mpsc;

use super::*;
use crate::bfd::packet::{ControlPacket, Diagnostic, State};

const DISCR: u32 = 0x0102_0304;

fn peer() -> IpAddr {
    "192.0.2.1".parse().expect("address")
}

fn other() -> IpAddr {
    "192.0.2.2".parse().expect("address")
}

fn datagram(from: IpAddr, ttl: Option<u8>, bytes: &[u8]) -> Datagram {
    Datagram {
        len: bytes.len(),
        source: SocketAddr::new(from, 49152),
        ttl,
    }
}

fn packet(your_discr: u32) -> ControlPacket {
    ControlPacket {
        diag: Diagnostic::NoDiagnostic,
        state: if your_discr == 0 {
            State::Down
        } else {
            State::Up
        },
        poll: false,
        final_: false,
        control_plane_independent: false,
        demand: false,
        detect_mult: 3,
        my_discr: 0xaa,
        your_discr,
        desired_min_tx_us: 300_000,
        required_min_rx_us: 300_000,
        required_min_echo_rx_us: 0,
    }
}

/// A demultiplexer with one session, to `peer()`, and that session's queue.
fn with_session(queue: usize) -> (Arc<Demux>, mpsc::Receiver<Input>) {
    let demux = Arc::new(Demux::new());
    let (tx, rx) = mpsc::channel(queue);
    let mut registry = demux.lock();
    registry.by_discr.insert(DISCR, tx);
    registry.by_peer.insert(peer(), DISCR);
    drop(registry);
    (demux, rx)
}

fn deliver(demux: &Demux, from: IpAddr, ttl: Option<u8>, bytes: &[u8]) {
    demux.deliver(datagram(from, ttl, bytes), bytes);
}

#[test]
fn a_packet_with_your_discriminator_goes_to_that_session_from_any_source() {
    let (demux, mut rx) = with_session(4);
    let sent = packet(DISCR);
    deliver(&demux, other(), Some(255), &sent.encode());
    assert_eq!(rx.try_recv().ok(), Some(Input::Received(sent)));
}

#[test]
fn a_packet_without_your_discriminator_goes_to_the_session_of_its_source() {
    let (demux, mut rx) = with_session(4);
    let sent = packet(0);
    deliver(&demux, peer(), Some(255), &sent.encode());
    assert_eq!(rx.try_recv().ok(), Some(Input::Received(sent)));
}

#[test]
fn packets_that_match_no_session_are_counted_and_dropped() {
    let (demux, mut rx) = with_session(4);
    deliver(&demux, peer(), Some(255), &packet(DISCR + 1).encode());
    deliver(&demux, other(), Some(255), &packet(0).encode());
    assert!(rx.try_recv().is_err());
    assert_eq!(demux.stats().unknown_session, 2);
    assert_eq!(demux.stats().received, 2);
}

#[test]
fn a_ttl_other_than_255_is_discarded_and_counted_for_the_session() {
    let (demux, mut rx) = with_session(4);
    for ttl in [Some(254), Some(1), None] {
        deliver(&demux, peer(), ttl, &packet(DISCR).encode());
        assert_eq!(rx.try_recv().ok(), Some(Input::Discarded), "{ttl:?}");
    }
    assert_eq!(demux.stats().wrong_ttl, 3);
}

#[test]
fn a_malformed_packet_is_discarded_and_counted_for_the_session() {
    let (demux, mut rx) = with_session(4);
    let mut bytes = packet(DISCR).encode();
    bytes[2] = 0;
    deliver(&demux, peer(), Some(255), &bytes);
    assert_eq!(rx.try_recv().ok(), Some(Input::Discarded));
    deliver(&demux, other(), Some(255), &bytes);
    assert!(rx.try_recv().is_err());
    assert_eq!(demux.stats().malformed, 2);
}

#[test]
fn a_full_session_queue_drops_and_counts() {
    let (demux, mut rx) = with_session(1);
    deliver(&demux, peer(), Some(255), &packet(DISCR).encode());
    deliver(&demux, peer(), Some(255), &packet(DISCR).encode());
    assert!(rx.try_recv().is_ok());
    assert!(rx.try_recv().is_err());
    assert_eq!(demux.stats().overflow, 1);
}

#[test]
fn dropping_the_registration_removes_the_session() {
    let (demux, _rx) = with_session(4);
    drop(Registration {
        demux: Arc::clone(&demux),
        discr: DISCR,
        peer: peer(),
    });
    let registry = demux.lock();
    assert!(registry.by_discr.is_empty() && registry.by_peer.is_empty());
}

#[test]
fn new_discriminators_are_nonzero_and_unused() {
    let (demux, _rx) = with_session(4);
    let mut registry = demux.lock();
    registry.rng = fastrand::Rng::with_seed(1);
    for _ in 0..1000 {
        let discr = registry.new_discr().get();
        assert_ne!(discr, DISCR);
        let (tx, _) = mpsc::channel(1);
        assert!(registry.by_discr.insert(discr, tx).is_none());
    }
}
