//! BFD end to end on loopback: two endpoints on one host, each listening
//! on its own port and sending to the other's. Timers are short so that
//! the tests run fast; every wait is bounded, and bounds are loose (ten
//! times the Detection Time or more) because test machines are noisy.
//! Reaching Up takes about a second: below Up, RFC 5880 §6.8.3 keeps
//! packets at least a second apart.

use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr, UdpSocket};
use std::time::Duration;

use herald::bfd::{ControlPacket, Diagnostic, Mux, SessionHandle, SessionStatus, Settings, State};
use socket2::{Domain, Socket, Type};
use tokio::time::{timeout, Instant};

const HANDSHAKE: Duration = Duration::from_secs(10);

fn ip(text: &str) -> IpAddr {
    text.parse().expect("address")
}

/// 50 ms × 3: a Detection Time of 150 ms.
fn fast() -> Settings {
    Settings {
        desired_min_tx: Duration::from_millis(50),
        required_min_rx: Duration::from_millis(50),
        detect_multiplier: 3,
    }
}

/// A UDP port that was free a moment ago on both families, bound as the
/// Mux binds them (IPv6 apart from IPv4).
fn free_port() -> u16 {
    for _ in 0..100 {
        let v4 = UdpSocket::bind("0.0.0.0:0").expect("bind");
        let port = v4.local_addr().expect("address").port();
        let v6 = Socket::new(Domain::IPV6, Type::DGRAM, None).and_then(|socket| {
            socket.set_only_v6(true)?;
            socket.bind(&SocketAddr::from((Ipv6Addr::UNSPECIFIED, port)).into())
        });
        match v6 {
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => continue,
            // Free, or no IPv6 on this machine.
            _ => return port,
        }
    }
    panic!("no UDP port free on both families")
}

/// Two endpoints that send to each other.
async fn endpoints() -> (Mux, Mux) {
    let (a, b) = (free_port(), free_port());
    let left = Mux::bind_with_ports(a, b).await.expect("bind left");
    let right = Mux::bind_with_ports(b, a).await.expect("bind right");
    (left, right)
}

async fn wait_for(
    handle: &SessionHandle,
    within: Duration,
    what: &str,
    done: impl FnMut(&SessionStatus) -> bool,
) -> SessionStatus {
    let mut status = handle.status();
    let reached = timeout(within, status.wait_for(done))
        .await
        .map(|r| r.map(|s| *s));
    match reached {
        Ok(Ok(status)) => status,
        _ => panic!(
            "{}: not {what} within {within:?}: {:?}",
            handle.peer(),
            handle.status().borrow()
        ),
    }
}

async fn wait_up(handle: &SessionHandle) -> SessionStatus {
    wait_for(handle, HANDSHAKE, "Up", |s| {
        s.snapshot.state == State::Up && !s.snapshot.poll_active
    })
    .await
}

/// A pair of sessions, 127.0.0.1 on the left and 127.0.0.2 on the right,
/// both Up with their first Poll Sequence done.
async fn up_pair(left: &Mux, right: &Mux) -> (SessionHandle, SessionHandle) {
    let l = left
        .register(ip("127.0.0.2"), Some(ip("127.0.0.1")), fast(), None)
        .await
        .expect("register left");
    let r = right
        .register(ip("127.0.0.1"), Some(ip("127.0.0.2")), fast(), None)
        .await
        .expect("register right");
    wait_up(&l).await;
    wait_up(&r).await;
    (l, r)
}

#[tokio::test]
async fn two_sessions_reach_up_over_ipv4_and_agree_on_the_fast_timers() {
    let (left, right) = endpoints().await;
    let (l, r) = up_pair(&left, &right).await;
    for handle in [&l, &r] {
        let snapshot = handle.snapshot();
        assert_eq!(snapshot.tx_interval, Some(Duration::from_millis(50)));
        assert_eq!(snapshot.detection_time, Some(Duration::from_millis(150)));
        assert_eq!(snapshot.remote_state, State::Up);
        assert_eq!(snapshot.counters.went_up, 1);
    }
    assert_eq!(l.snapshot().remote_discr, r.snapshot().local_discr);
    assert_eq!(r.snapshot().remote_discr, l.snapshot().local_discr);
}

#[tokio::test]
async fn two_sessions_reach_up_over_ipv6_loopback() {
    let (left, right) = endpoints().await;
    let l = match left.register(ip("::1"), None, fast(), None).await {
        Err(e) if e.kind() == io::ErrorKind::AddrNotAvailable => return,
        other => other.expect("register left"),
    };
    let r = right
        .register(ip("::1"), None, fast(), None)
        .await
        .expect("register right");
    wait_up(&l).await;
    wait_up(&r).await;
}

#[tokio::test]
async fn new_timers_are_agreed_through_a_poll_and_final() {
    let (left, right) = endpoints().await;
    let (l, r) = up_pair(&left, &right).await;
    let slower = Settings {
        desired_min_tx: Duration::from_millis(100),
        ..fast()
    };
    l.set_timers(slower).expect("valid");
    let limit = HANDSHAKE;
    wait_for(&l, limit, "polling", |s| s.snapshot.poll_active).await;
    wait_for(&l, limit, "done polling", |s| !s.snapshot.poll_active).await;
    assert_eq!(l.snapshot().tx_interval, Some(Duration::from_millis(100)));
    let detection = Some(Duration::from_millis(300));
    wait_for(&r, limit, "on the new timers", |s| {
        s.snapshot.detection_time == detection
    })
    .await;
    assert_eq!(l.snapshot().state, State::Up);
    assert_eq!(r.snapshot().counters.went_down, 0);
}

#[tokio::test]
async fn a_silent_peer_is_detected_within_a_few_intervals() {
    let (left, right) = endpoints().await;
    let (l, r) = up_pair(&left, &right).await;
    let detection = l.snapshot().detection_time.expect("known");
    let started = Instant::now();
    drop(r);
    let down = wait_for(&l, detection * 10, "Down", |s| {
        s.snapshot.state == State::Down
    })
    .await;
    assert_eq!(
        down.snapshot.local_diag,
        Diagnostic::ControlDetectionTimeExpired
    );
    assert!(down.since >= started);
    // The silent side's endpoint now gets packets for no session.
    timeout(HANDSHAKE, async {
        while right.stats().unknown_session == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("packets to a dropped session are counted");
}

#[tokio::test]
async fn admin_down_takes_the_peer_down_and_admin_up_brings_both_back() {
    let (left, right) = endpoints().await;
    let (l, r) = up_pair(&left, &right).await;
    l.admin_down();
    let told = wait_for(&r, HANDSHAKE, "Down", |s| s.snapshot.state == State::Down).await;
    assert_eq!(told.snapshot.remote_state, State::AdminDown);
    assert_eq!(
        told.snapshot.local_diag,
        Diagnostic::NeighborSignaledSessionDown
    );
    assert_eq!(l.snapshot().state, State::AdminDown);
    assert_eq!(l.snapshot().local_diag, Diagnostic::AdministrativelyDown);
    assert_eq!(l.resume_state(), None);
    l.admin_up();
    wait_up(&l).await;
    wait_up(&r).await;
}

/// Waits until an aborted session's task has closed its socket, as the
/// end of a process would at once.
async fn release(port: u16) {
    while UdpSocket::bind(("127.0.0.1", port)).is_err() {
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn a_resumed_session_keeps_the_peer_up_across_a_restart() {
    let (left, right) = endpoints().await;
    let (l, r) = up_pair(&left, &right).await;
    let saved = l.resume_state().expect("Up");
    assert!(saved.source_port >= 49152);
    // A restart: the old session vanishes and a new one takes over from
    // the saved state, well within the peer's Detection Time.
    drop(l);
    release(saved.source_port).await;
    let l = left
        .register(ip("127.0.0.2"), Some(ip("127.0.0.1")), fast(), Some(saved))
        .await
        .expect("register again");
    assert_eq!(l.snapshot().state, State::Up);
    // Ten Detection Times of the peer later, nobody has gone down.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for handle in [&l, &r] {
        let snapshot = handle.snapshot();
        assert_eq!(snapshot.state, State::Up, "{}", handle.peer());
        assert_eq!(snapshot.counters.went_down, 0, "{}", handle.peer());
        assert!(snapshot.counters.packets_received > 10);
    }
    let again = l.resume_state().expect("Up");
    assert_eq!(again.local_discr, saved.local_discr);
    assert_eq!(again.source_port, saved.source_port);
}

#[tokio::test]
async fn a_resumed_session_starts_over_when_the_peer_forgot_it() {
    let (left, right) = endpoints().await;
    let (l, r) = up_pair(&left, &right).await;
    let saved = l.resume_state().expect("Up");
    drop(l);
    // The peer noticed the absence this time.
    wait_for(&r, HANDSHAKE, "Down", |s| s.snapshot.state == State::Down).await;
    wait_for(&r, HANDSHAKE, "forgotten", |s| s.snapshot.remote_discr == 0).await;
    let l = left
        .register(ip("127.0.0.2"), Some(ip("127.0.0.1")), fast(), Some(saved))
        .await
        .expect("register again");
    let down = wait_for(&l, HANDSHAKE, "Down", |s| s.snapshot.state == State::Down).await;
    assert_eq!(
        down.snapshot.local_diag,
        Diagnostic::NeighborSignaledSessionDown
    );
    wait_up(&l).await;
    wait_up(&r).await;
}

#[tokio::test]
async fn registration_refuses_bad_requests() {
    let (left, _right) = endpoints().await;
    let peer = ip("127.0.0.2");
    let _first = left
        .register(peer, None, fast(), None)
        .await
        .expect("register");
    let again = left.register(peer, None, fast(), None).await;
    assert_eq!(
        again.map(|_| ()).map_err(|e| e.kind()),
        Err(io::ErrorKind::AlreadyExists)
    );
    let zero = Settings {
        detect_multiplier: 0,
        ..fast()
    };
    let invalid = left.register(ip("127.0.0.3"), None, zero, None).await;
    assert_eq!(
        invalid.map(|_| ()).map_err(|e| e.kind()),
        Err(io::ErrorKind::InvalidInput)
    );
    let mixed = left
        .register(ip("127.0.0.3"), Some(ip("::1")), fast(), None)
        .await;
    assert_eq!(
        mixed.map(|_| ()).map_err(|e| e.kind()),
        Err(io::ErrorKind::InvalidInput)
    );
}

#[tokio::test]
async fn packets_not_sent_with_ttl_255_never_reach_a_session() {
    let listen = free_port();
    let mux = Mux::bind_with_ports(listen, free_port())
        .await
        .expect("bind");
    let handle = mux
        .register(ip("127.0.0.1"), None, fast(), None)
        .await
        .expect("register");
    let packet = ControlPacket {
        diag: Diagnostic::NoDiagnostic,
        state: State::Down,
        poll: false,
        final_: false,
        control_plane_independent: false,
        demand: false,
        detect_mult: 3,
        my_discr: 0xaa,
        your_discr: 0,
        desired_min_tx_us: 1_000_000,
        required_min_rx_us: 20_000,
        required_min_echo_rx_us: 0,
    };
    let sender = UdpSocket::bind("127.0.0.1:0").expect("bind");
    sender.set_ttl(64).expect("ttl");
    sender
        .send_to(&packet.encode(), ("127.0.0.1", listen))
        .expect("send");
    timeout(HANDSHAKE, async {
        while mux.stats().wrong_ttl == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("counted");
    let snapshot = handle.snapshot();
    assert_eq!(snapshot.state, State::Down);
    assert_eq!(snapshot.remote_discr, 0);
    wait_for(&handle, HANDSHAKE, "counted", |s| {
        s.snapshot.counters.packets_discarded == 1
    })
    .await;
    // The same packet with TTL 255 is taken: the session goes to Init.
    sender.set_ttl(255).expect("ttl");
    sender
        .send_to(&packet.encode(), ("127.0.0.1", listen))
        .expect("send");
    wait_for(&handle, HANDSHAKE, "Init", |s| {
        s.snapshot.state == State::Init
    })
    .await;
}
