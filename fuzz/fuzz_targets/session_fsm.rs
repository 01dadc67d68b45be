//! Drives one BGP session (`bgp::fsm::Session`) and the BFD session that
//! protects it (`bfd::Session`) with a sequence of inputs and timer events
//! decoded from the fuzz bytes, the way the peer task couples them: BFD
//! reaching Up is `BfdUp`, leaving Up is `BfdDown`. After every step a
//! shadow of the I/O layer, built only from the actions the two machines
//! returned, checks what they promise:
//!
//! - no Established without our OPEN sent and the peer's OPEN and then a
//!   KEEPALIVE received on the same connection (RFC 4271 §8.2.2);
//! - the hold timer runs in OpenSent (the large value), and in OpenConfirm
//!   and Established whenever the negotiated hold time is not zero, at that
//!   value, with the keepalive timer at 1 to a third of it (§4.2, §4.4);
//!   with hold time 0 neither runs;
//! - no timer is armed with zero; in Idle no hold or keepalive timer runs,
//!   and the connect-retry timer (or the wait for BFD) runs exactly while
//!   the session was started and not stopped, within the configured cap;
//! - messages go out only on an open connection, every NOTIFICATION is
//!   followed by closing it, nothing is sent after closing, and every sent
//!   message encodes within 4096 bytes and decodes to itself;
//! - with BFD configured no connection is opened while BFD is not Up;
//! - BFD: state changes are reported as they happen and follow RFC 5880
//!   §6.2 (Up only from the remote's Init or Up), Up has a known remote
//!   and an armed detection timer, packets carry our state and
//!   discriminators, never Poll and Final together (§6.5), and re-encode.
//!
//! Input: two bytes of BGP settings, one of BFD settings, one seed, then one byte per
//! step, the opcode, followed by the bytes that step needs.

#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::num::NonZeroU32;
use std::time::Duration;

use bytes::{BufMut, BytesMut};
use herald::bfd::{self, ControlPacket};
use herald::bgp::fsm::{
    Action, GracefulRestartConfig, Input, Session, SessionConfig, State, OPEN_HOLD_TIME,
};
use herald::bgp::wire::{try_parse, Context, Family, Message, Notification, MAX_MESSAGE_LEN};
use libfuzzer_sys::fuzz_target;

/// Steps per input, so that one input cannot run for long.
const MAX_STEPS: usize = 512;
const LOCAL_ASN: u32 = 64_512;
const EBGP_PEER_ASN: u32 = 4_200_000_000;
const CONNECT_RETRY: Duration = Duration::from_secs(1);
const CONNECT_RETRY_MAX: Duration = Duration::from_secs(60);
/// Our BFD discriminator, and the remote system's usual one.
const LOCAL_DISCR: u32 = 7;
const REMOTE_DISCR: u32 = 0x0102_0304;
/// Hold times the peer may offer; the last byte picks any value.
const HOLD_TIMES: [u16; 7] = [0, 3, 4, 9, 90, 180, 65_535];

/// The fuzz bytes, consumed front to back; exhausted means zeros.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }

    fn u32(&mut self) -> u32 {
        u32::from_be_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    fn take(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        head
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Which connection the shadow believes exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tcp {
    None,
    Connecting,
    Up,
}

/// What the I/O layer would know, from the actions alone.
struct Shadow {
    tcp: Tcp,
    hold: Option<Duration>,
    keepalive: Option<Duration>,
    retry: Option<Duration>,
    /// Start came and no Stop or Restart since.
    wanted: bool,
    /// The BGP session was told BFD is Up.
    bfd_up: bool,
    /// On the current connection: our OPEN went out, the peer's OPEN was
    /// accepted, and a KEEPALIVE came after it.
    open_sent: bool,
    open_received: bool,
    keepalive_received: bool,
    /// The context of the current connection, once negotiated.
    context: Context,
}

struct Bfd {
    session: bfd::Session,
    tx: Option<Duration>,
    detect: Option<Duration>,
    went_up: u64,
}

fuzz_target!(|data: &[u8]| {
    let mut input = Bytes(data);
    let config = bgp_config(input.u8(), input.u8());
    let settings = bfd_settings(input.u8());
    let bfd_configured = config.bfd;
    let mut session = Session::new(config.clone(), u64::from(input.u8()));
    let mut shadow = Shadow {
        tcp: Tcp::None,
        hold: None,
        keepalive: None,
        retry: None,
        wanted: false,
        bfd_up: false,
        open_sent: false,
        open_received: false,
        keepalive_received: false,
        context: Context::default(),
    };
    let mut bfd = Bfd {
        session: bfd::Session::new(settings, NonZeroU32::new(LOCAL_DISCR).unwrap(), 0),
        tx: None,
        detect: None,
        went_up: 0,
    };
    let first = bfd.session.start();
    bfd_step(&mut bfd, bfd::State::Down, None, &first);

    for _ in 0..MAX_STEPS {
        if input.is_empty() {
            break;
        }
        let op = input.u8();
        match op % 24 {
            0..=17 => {
                let Some(event) = bgp_input(op % 24, &mut input, &config, &shadow) else {
                    continue;
                };
                if matches!(event, Input::Start) {
                    shadow.wanted = true;
                }
                if matches!(event, Input::Stop(_) | Input::Restart(_)) {
                    shadow.wanted = false;
                }
                bgp_step(&mut session, &mut shadow, &config, event);
            }
            18..=23 => {
                let before = bfd.session.state();
                let (event, packet) = bfd_input(op % 24, &mut input, &bfd, settings);
                let Some(event) = event else { continue };
                // A one-shot timer that fired is off until armed again.
                match event {
                    bfd::Input::TxTimerExpired => bfd.tx = None,
                    bfd::Input::DetectTimerExpired => bfd.detect = None,
                    _ => {}
                }
                let actions = bfd.session.handle(event);
                bfd_step(&mut bfd, before, packet, &actions);
                let after = bfd.session.state();
                // The peer task's coupling: BGP hears of every arrival at
                // and departure from Up.
                if bfd_configured && (before == bfd::State::Up) != (after == bfd::State::Up) {
                    let event = if after == bfd::State::Up {
                        Input::BfdUp
                    } else {
                        Input::BfdDown
                    };
                    shadow.bfd_up = after == bfd::State::Up;
                    bgp_step(&mut session, &mut shadow, &config, event);
                }
            }
            _ => unreachable!(),
        }
    }
});

/// BGP settings: bit 0 iBGP, bit 1 IPv6 too, bit 2 IPv4 left out, bits
/// 3-4 graceful restart (off, plain, with N), bit 5 restarting, bit 6
/// BFD, bit 7 a fixed router ID; `t` picks the hold time and keepalive.
fn bgp_config(b: u8, t: u8) -> SessionConfig {
    let mut families = Vec::new();
    if b & 4 == 0 {
        families.push(Family::Ipv4Unicast);
    }
    if b & 2 != 0 || families.is_empty() {
        families.push(Family::Ipv6Unicast);
    }
    let graceful_restart = match (b >> 3) & 3 {
        0 => None,
        1 => Some(GracefulRestartConfig {
            restart_time: 120,
            notification: false,
        }),
        _ => Some(GracefulRestartConfig {
            restart_time: 5000,
            notification: true,
        }),
    };
    SessionConfig {
        local_asn: LOCAL_ASN,
        remote_asn: if b & 1 != 0 { LOCAL_ASN } else { EBGP_PEER_ASN },
        bgp_id: (b & 0x80 != 0).then_some(Ipv4Addr::new(192, 0, 2, 1)),
        hold_time: [90, 3, 0, 240, 4, 65_535][usize::from(t % 6)],
        keepalive: [30, 1, 10, 80][usize::from(t / 6 % 4)],
        families,
        connect_retry: CONNECT_RETRY,
        connect_retry_max: CONNECT_RETRY_MAX,
        graceful_restart,
        restarting: b & 0x20 != 0,
        bfd: b & 0x40 != 0,
    }
}

/// BFD timers: 10 ms to 2.55 s, multiplier 1 to 16.
fn bfd_settings(b: u8) -> bfd::Settings {
    let ms = |x: u8| Duration::from_millis(10 * u64::from(x.max(1)));
    bfd::Settings {
        desired_min_tx: ms(b & 0x0f),
        required_min_rx: ms(b >> 4),
        detect_multiplier: (b & 0x0f) + 1,
    }
}

/// A BGP message from its wire form, through the codec as a peer's would
/// come; `Err` carries the decode error the session must answer.
fn decode(body: &[u8], msg_type: u8, ctx: &Context) -> Option<Input> {
    let mut buf = BytesMut::with_capacity(19 + body.len());
    buf.put_slice(&[0xff; 16]);
    buf.put_u16((19 + body.len()).min(usize::from(u16::MAX)) as u16);
    buf.put_u8(msg_type);
    buf.put_slice(body);
    match try_parse(&mut buf, ctx) {
        Ok(Some(message)) => Some(Input::Received(message)),
        Ok(None) => None,
        Err(err) => Some(Input::DecodeError(err)),
    }
}

/// A NOTIFICATION with this code, subcode and data, as the codec decodes
/// it.
fn notification(code: u8, subcode: u8, data: &[u8]) -> Option<Notification> {
    let mut body = vec![code, subcode];
    body.extend_from_slice(data);
    match decode(&body, 3, &Context::default()) {
        Some(Input::Received(Message::Notification(n))) => Some(n),
        _ => None,
    }
}

/// The peer's OPEN, mostly well-formed: flags choose the ASN (right or
/// wrong, in the 2-byte field or only in the 4-octet capability), the
/// capabilities offered and the BGP Identifier.
fn peer_open(input: &mut Bytes, config: &SessionConfig) -> Vec<u8> {
    let flags = input.u16();
    let hold = match input.u8() % 8 {
        7 => input.u16(),
        i => HOLD_TIMES[usize::from(i)],
    };
    let asn = if flags & 1 != 0 {
        config.remote_asn.wrapping_add(1)
    } else {
        config.remote_asn
    };
    let four_octet = flags & 2 == 0;
    let two_byte = if four_octet && asn > 0xffff {
        23_456
    } else {
        asn as u16
    };
    let bgp_id = match (flags >> 2) & 3 {
        0 => [198, 51, 100, 1],
        1 => [0, 0, 0, 0],
        2 => config
            .bgp_id
            .unwrap_or(Ipv4Addr::new(192, 0, 2, 1))
            .octets(),
        _ => input.u32().to_be_bytes(),
    };
    let mut caps: Vec<u8> = Vec::new();
    let mut cap = |code: u8, value: &[u8]| {
        caps.push(code);
        caps.push(value.len() as u8);
        caps.extend_from_slice(value);
    };
    if flags & 0x10 != 0 {
        cap(1, &[0, 1, 0, 1]);
    }
    if flags & 0x20 != 0 {
        cap(1, &[0, 2, 0, 1]);
    }
    if flags & 0x40 != 0 {
        // A family herald does not carry (IPv4 multicast).
        cap(1, &[0, 1, 0, 2]);
    }
    if flags & 0x80 != 0 {
        cap(2, &[]);
    }
    if four_octet {
        cap(65, &asn.to_be_bytes());
    }
    if flags & 0x100 != 0 {
        // Graceful restart: R, N, restart time, then each family with F.
        let mut gr = vec![(flags >> 8 & 0xc0) as u8, 120];
        gr.extend_from_slice(&[0, 1, 1, 0x80, 0, 2, 1, 0]);
        cap(64, &gr);
    }
    if flags & 0x200 != 0 {
        let code = input.u8();
        let len = input.u8() % 16;
        let value = input.take(usize::from(len)).to_vec();
        cap(code, &value);
    }
    let mut body = vec![if flags & 0x400 != 0 { 3 } else { 4 }];
    body.extend_from_slice(&two_byte.to_be_bytes());
    body.extend_from_slice(&hold.to_be_bytes());
    body.extend_from_slice(&bgp_id);
    if caps.is_empty() {
        body.push(0);
    } else {
        body.push(caps.len() as u8 + 2);
        body.push(2);
        body.push(caps.len() as u8);
        body.extend_from_slice(&caps);
    }
    body
}

fn bgp_input(op: u8, input: &mut Bytes, config: &SessionConfig, shadow: &Shadow) -> Option<Input> {
    let ctx = shadow.context;
    Some(match op {
        0 => Input::Start,
        1 => {
            let subcode = input.u8() % 12;
            let len = input.u8() % 8;
            Input::Stop(notification(6, subcode, input.take(usize::from(len)))?)
        }
        2 => Input::Restart("restarting".to_string()),
        3 => Input::ConnectRetryExpired,
        4 => Input::HoldTimerExpired,
        5 => Input::KeepaliveTimerExpired,
        6 => Input::Connected {
            local: if input.u8() & 1 == 0 {
                IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))
            } else {
                IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1))
            },
        },
        7 => Input::ConnectFailed("refused".to_string()),
        8 => Input::ConnectionClosed,
        9 | 10 => return decode(&peer_open(input, config), 1, &ctx),
        11 => Input::Received(Message::Keepalive),
        // An empty UPDATE, or End-of-RIB in MP_UNREACH_NLRI for IPv6.
        12 => {
            let body: &[u8] = if input.u8() & 1 == 0 {
                &[0, 0, 0, 0]
            } else {
                &[0, 0, 0, 6, 0x80, 15, 3, 0, 2, 1]
            };
            return decode(body, 2, &ctx);
        }
        13 => {
            let code = input.u8() % 8;
            let subcode = input.u8() % 12;
            let len = input.u8() % 8;
            return decode(
                &[&[code, subcode][..], input.take(usize::from(len))].concat(),
                3,
                &ctx,
            );
        }
        14 => {
            let afi = input.u8() % 3;
            let safi = input.u8() % 3;
            return decode(&[0, afi, 0, safi], 5, &ctx);
        }
        // Whatever bytes follow, of any type: mostly decode errors.
        15 => {
            let msg_type = input.u8() % 7;
            let len = input.u8() % 64;
            return decode(input.take(usize::from(len)), msg_type, &ctx);
        }
        16 => Input::BfdUp,
        _ => Input::BfdDown,
    })
}

/// Applies one input to the BGP session and checks its actions and the
/// state they leave behind.
fn bgp_step(session: &mut Session, shadow: &mut Shadow, config: &SessionConfig, event: Input) {
    let before = session.state();
    let was_established = before == State::Established;
    let event_text = format!("{event:?}");
    match &event {
        Input::HoldTimerExpired => shadow.hold = None,
        Input::ConnectRetryExpired => shadow.retry = None,
        Input::Received(Message::Keepalive)
            if before == State::OpenConfirm && shadow.open_received =>
        {
            shadow.keepalive_received = true
        }
        Input::BfdUp if config.bfd => shadow.bfd_up = true,
        Input::BfdDown if config.bfd => shadow.bfd_up = false,
        _ => {}
    }
    let received_open = matches!(&event, Input::Received(Message::Open(_)));
    let connected = matches!(&event, Input::Connected { .. });
    let actions = session.handle(event);
    let after = session.state();
    let context = |s: &str| format!("{s}: {before} --{event_text}--> {after}: {actions:?}");

    if connected && before == State::Connect {
        assert_eq!(shadow.tcp, Tcp::Connecting, "{}", context("Connected"));
        shadow.tcp = Tcp::Up;
    }
    if received_open && before == State::OpenSent && after == State::OpenConfirm {
        shadow.open_received = true;
    }
    let mut closed = false;
    let mut notification_pending = false;
    let mut established = None;
    let mut down = false;
    for action in &actions {
        match action {
            Action::Connect => {
                assert!(
                    !config.bfd || shadow.bfd_up,
                    "{}",
                    context("connect while BFD is not Up")
                );
                assert_eq!(shadow.tcp, Tcp::None, "{}", context("second connection"));
                shadow.tcp = Tcp::Connecting;
                shadow.open_sent = false;
                shadow.open_received = false;
                shadow.keepalive_received = false;
                shadow.context = Context::default();
            }
            Action::Send(message) => {
                assert!(!closed, "{}", context("sent after closing"));
                assert_eq!(
                    shadow.tcp,
                    Tcp::Up,
                    "{}",
                    context("sent without a connection")
                );
                if matches!(message, Message::Open(_)) {
                    assert!(!shadow.open_sent, "{}", context("a second OPEN"));
                    shadow.open_sent = true;
                } else {
                    assert!(shadow.open_sent, "{}", context("sent before our OPEN"));
                }
                notification_pending |= matches!(message, Message::Notification(_));
                round_trip(message, &shadow.context);
            }
            Action::CloseConnection => {
                closed = true;
                notification_pending = false;
                shadow.tcp = Tcp::None;
            }
            Action::StartConnectRetryTimer(d) => {
                assert!(
                    !d.is_zero() && *d <= config.connect_retry_max,
                    "{}",
                    context("connect-retry delay")
                );
                shadow.retry = Some(*d);
            }
            Action::StopConnectRetryTimer => shadow.retry = None,
            Action::StartHoldTimer(d) => {
                assert!(!d.is_zero(), "{}", context("zero hold timer"));
                shadow.hold = Some(*d);
            }
            Action::StopHoldTimer => shadow.hold = None,
            Action::StartKeepaliveTimer(d) => {
                assert!(!d.is_zero(), "{}", context("zero keepalive timer"));
                shadow.keepalive = Some(*d);
            }
            Action::StopKeepaliveTimer => shadow.keepalive = None,
            Action::Established(negotiated) => {
                assert!(
                    shadow.open_sent && shadow.open_received && shadow.keepalive_received,
                    "{}",
                    context("Established without the OPEN exchange")
                );
                assert_eq!(before, State::OpenConfirm, "{}", context("Established"));
                established = Some(negotiated.clone());
            }
            Action::Down(_) => {
                assert!(!down, "{}", context("two Downs"));
                down = true;
            }
            Action::RouteRefreshRequested(family) => {
                assert!(was_established, "{}", context("route refresh"));
                assert!(
                    session
                        .negotiated()
                        .is_some_and(|n| n.route_refresh && n.families.contains(family)),
                    "{}",
                    context("refresh of a family not negotiated")
                );
            }
        }
    }
    assert!(
        !notification_pending,
        "{}",
        context("NOTIFICATION not followed by a close")
    );
    assert_eq!(
        down,
        before != State::Idle && after == State::Idle,
        "{}",
        context("Down is reported exactly when a connection or attempt ends")
    );
    assert_eq!(
        established.is_some(),
        before != State::Established && after == State::Established,
        "{}",
        context("Established is reported exactly on arrival")
    );
    if let Some(n) = &established {
        assert_eq!(session.negotiated(), Some(n), "{}", context("negotiated"));
    }
    check_state(session, shadow, config, &context(""));
}

/// What must hold in the state the session is in.
fn check_state(session: &Session, shadow: &mut Shadow, config: &SessionConfig, context: &str) {
    let state = session.state();
    assert_eq!(
        session.negotiated().is_some(),
        matches!(state, State::OpenConfirm | State::Established),
        "negotiated only after the OPEN: {context}"
    );
    match state {
        State::Idle => {
            assert_eq!(shadow.tcp, Tcp::None, "a connection in Idle: {context}");
            assert_eq!(shadow.hold, None, "hold timer in Idle: {context}");
            assert_eq!(shadow.keepalive, None, "keepalive timer in Idle: {context}");
            let waiting = shadow.retry.is_some() || session.awaiting_bfd();
            assert_eq!(waiting, shadow.wanted, "retry while wanted: {context}");
            assert!(
                !(shadow.retry.is_some() && session.awaiting_bfd()),
                "both a retry and a wait for BFD: {context}"
            );
        }
        State::Connect => {
            assert_eq!(shadow.tcp, Tcp::Connecting, "{context}");
            assert_eq!(shadow.hold, None, "hold timer in Connect: {context}");
            assert_eq!(shadow.retry, None, "retry timer in Connect: {context}");
        }
        State::OpenSent => {
            assert_eq!(shadow.tcp, Tcp::Up, "{context}");
            assert!(shadow.open_sent, "OpenSent without our OPEN: {context}");
            assert_eq!(
                shadow.hold,
                Some(OPEN_HOLD_TIME),
                "OpenSent hold: {context}"
            );
            assert_eq!(shadow.keepalive, None, "{context}");
        }
        State::OpenConfirm | State::Established => {
            assert_eq!(shadow.tcp, Tcp::Up, "{context}");
            assert_eq!(shadow.retry, None, "retry timer while connected: {context}");
            let Some(n) = session.negotiated() else {
                unreachable!("checked above")
            };
            assert!(
                shadow.open_sent && shadow.open_received,
                "{state} without the OPEN exchange: {context}"
            );
            assert!(
                !n.families.is_empty() && n.families.iter().all(|f| config.families.contains(f)),
                "negotiated families: {context}"
            );
            assert!(
                n.hold_time <= config.hold_time && !matches!(n.hold_time, 1 | 2),
                "negotiated hold time {}: {context}",
                n.hold_time
            );
            if n.hold_time == 0 {
                assert_eq!(n.keepalive, 0, "{context}");
                assert_eq!(shadow.hold, None, "hold timer with hold time 0: {context}");
                assert_eq!(
                    shadow.keepalive, None,
                    "keepalives with hold time 0: {context}"
                );
            } else {
                assert!(
                    n.keepalive >= 1 && n.keepalive <= n.hold_time / 3,
                    "keepalive {} for hold time {}: {context}",
                    n.keepalive,
                    n.hold_time
                );
                let secs = |s: u16| Some(Duration::from_secs(u64::from(s)));
                assert_eq!(shadow.hold, secs(n.hold_time), "hold timer: {context}");
                assert_eq!(shadow.keepalive, secs(n.keepalive), "keepalive: {context}");
            }
            shadow.context = n.context;
            if state == State::Established {
                assert!(shadow.keepalive_received, "{context}");
            }
        }
    }
}

/// Every message the session sends encodes within the BGP maximum and
/// decodes to itself.
fn round_trip(message: &Message, ctx: &Context) {
    let mut out = BytesMut::new();
    message
        .encode(ctx, &mut out)
        .unwrap_or_else(|e| panic!("{message:?} does not encode: {e}"));
    assert!(out.len() <= MAX_MESSAGE_LEN, "{message:?} too long");
    let again = try_parse(&mut out, ctx)
        .unwrap_or_else(|e| panic!("{message:?} does not decode: {e}"))
        .expect("a whole message");
    assert_eq!(&again, message, "sent message changes on the wire");
}

/// A BFD input: packets from the remote system (its usual discriminator
/// or another, addressed to us or not yet), timers (only while armed, as
/// the I/O layer fires them) and the operator's commands. The packet is
/// also returned, to check the transition it causes.
fn bfd_input(
    op: u8,
    input: &mut Bytes,
    bfd: &Bfd,
    settings: bfd::Settings,
) -> (Option<bfd::Input>, Option<ControlPacket>) {
    match op {
        18 | 19 => {
            let mut raw = [0u8; 24];
            let taken = input.take(24);
            raw[..taken.len()].copy_from_slice(taken);
            // Version 1 with the fuzzed diagnostic; the fuzzed flags
            // without M and A; Length 24.
            raw[0] = 0x20 | (raw[0] & 0x1f);
            raw[1] &= 0xfa;
            raw[3] = 24;
            let mode = raw[4];
            if mode & 0x80 == 0 {
                raw[4..8].copy_from_slice(&REMOTE_DISCR.to_be_bytes());
            }
            match mode & 3 {
                0 => raw[8..12].copy_from_slice(&0u32.to_be_bytes()),
                1 | 2 => raw[8..12].copy_from_slice(&LOCAL_DISCR.to_be_bytes()),
                _ => {}
            }
            // Realistic intervals unless the fuzz asks for raw ones.
            if mode & 0x40 == 0 {
                for field in [12, 16, 20] {
                    let ms = u32::from(raw[field] % 50) * 10;
                    raw[field..field + 4].copy_from_slice(&(ms * 1000).to_be_bytes());
                }
            }
            match bfd::decode(&raw) {
                Ok(packet) => (Some(bfd::Input::Received(packet)), Some(packet)),
                Err(_) => (Some(bfd::Input::Discarded), None),
            }
        }
        20 => (bfd.tx.map(|_| bfd::Input::TxTimerExpired), None),
        21 => (bfd.detect.map(|_| bfd::Input::DetectTimerExpired), None),
        22 => {
            let b = input.u8();
            let event = match b % 4 {
                0 => bfd::Input::AdminDown,
                1 => bfd::Input::AdminUp,
                2 => bfd::Input::SetTimers(bfd_settings(input.u8())),
                _ => bfd::Input::SetTimers(settings),
            };
            (Some(event), None)
        }
        _ => (Some(bfd::Input::Discarded), None),
    }
}

/// Checks one step of the BFD session: its actions, the transition they
/// report, and the state it is in.
fn bfd_step(
    bfd: &mut Bfd,
    before: bfd::State,
    packet: Option<ControlPacket>,
    actions: &[bfd::Action],
) {
    use bfd::State::{AdminDown, Down, Init, Up};
    let after = bfd.session.state();
    let context = || format!("{before:?} -> {after:?} on {packet:?}: {actions:?}");
    let mut state = before;
    for action in actions {
        match *action {
            bfd::Action::Send(sent) => {
                assert!(!(sent.poll && sent.final_), "P and F: {}", context());
                assert_eq!(sent.my_discr, LOCAL_DISCR, "{}", context());
                assert_ne!(sent.detect_mult, 0, "{}", context());
                assert_eq!(
                    bfd::decode(&sent.encode()),
                    Ok(sent),
                    "sent packet re-encodes: {}",
                    context()
                );
            }
            bfd::Action::ArmTx(d) => {
                assert!(!d.is_zero(), "zero transmit timer: {}", context());
                bfd.tx = Some(d);
            }
            bfd::Action::DisarmTx => bfd.tx = None,
            bfd::Action::ArmDetect(d) => {
                assert!(!d.is_zero(), "zero detection time: {}", context());
                bfd.detect = Some(d);
            }
            bfd::Action::DisarmDetect => bfd.detect = None,
            bfd::Action::StateChanged { from, to, .. } => {
                assert_eq!(from, state, "reported from-state: {}", context());
                assert_ne!(from, to, "{}", context());
                let allowed = match (from, to) {
                    (_, AdminDown) | (AdminDown, Down) => true,
                    // RFC 5880 §6.2: Up only when the remote system says
                    // Init (from Down) or Init or Up (from Init).
                    (Down, Up) => packet.is_some_and(|p| p.state == Init),
                    (Init, Up) => packet.is_some_and(|p| matches!(p.state, Init | Up)),
                    (Down, Init) => packet.is_some_and(|p| p.state == Down),
                    (Init | Up, Down) => true,
                    _ => false,
                };
                assert!(allowed, "transition {from:?} -> {to:?}: {}", context());
                if to == Up {
                    bfd.went_up += 1;
                }
                state = to;
            }
        }
    }
    assert_eq!(state, after, "every change is reported: {}", context());
    let snapshot = bfd.session.snapshot();
    assert_eq!(snapshot.counters.went_up, bfd.went_up, "{}", context());
    if after == Up {
        assert_ne!(
            snapshot.remote_discr,
            0,
            "Up with an unknown remote: {}",
            context()
        );
        assert!(
            bfd.detect.is_some(),
            "Up without a detection timer: {}",
            context()
        );
        let resumed = bfd::Session::resume(
            bfd::Settings::default(),
            bfd.session.resume_state().expect("an Up session resumes"),
            0,
        );
        assert!(resumed.is_some_and(|s| s.state() == Up), "{}", context());
    }
}
