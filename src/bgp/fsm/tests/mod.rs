//! Session transitions, one behaviour per test. Codes and subcodes are
//! spelled as raw numbers on purpose: they pin the wire values, not our
//! constants. Graceful restart and BFD have their own files, which share
//! the helpers here.

mod bfd;
mod graceful;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use bytes::Bytes;

use super::*;
use crate::bgp::wire::Update;

const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10));
const OUR_ID: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);
const PEER_ID: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const IPV4: Family = Family::Ipv4Unicast;
const IPV6: Family = Family::Ipv6Unicast;

fn config() -> SessionConfig {
    SessionConfig {
        local_asn: 65001,
        remote_asn: 65000,
        bgp_id: Some(OUR_ID),
        hold_time: 90,
        keepalive: 30,
        families: vec![IPV4, IPV6],
        connect_retry: Duration::from_secs(5),
        connect_retry_max: Duration::from_secs(60),
        graceful_restart: None,
        restarting: false,
        bfd: false,
    }
}

fn peer_open() -> Open {
    Open {
        version: 4,
        asn: 65000,
        hold_time: 180,
        bgp_id: PEER_ID,
        capabilities: vec![
            Capability::Multiprotocol(IPV4),
            Capability::Multiprotocol(IPV6),
            Capability::RouteRefresh,
            Capability::FourOctetAs(65000),
        ],
    }
}

fn notif(code: u8, subcode: u8, data: &'static [u8]) -> Notification {
    Notification {
        code,
        subcode,
        data: Bytes::from_static(data),
    }
}

/// Administrative Shutdown with an RFC 9003 message ("maintenance").
fn cease() -> Notification {
    notif(6, 2, b"\x0bmaintenance")
}

fn open_sent(config: SessionConfig) -> Session {
    let mut session = Session::new(config, 1);
    session.handle(Input::Start);
    session.handle(Input::Connected { local: LOCAL });
    assert_eq!(session.state(), State::OpenSent);
    session
}

/// Drives a session to OpenSent and feeds it `open`; returns the actions
/// the OPEN produced.
fn receive_open(config: SessionConfig, open: Open) -> (Session, Vec<Action>) {
    let mut session = open_sent(config);
    let actions = session.handle(Input::Received(Message::Open(open)));
    (session, actions)
}

fn open_confirm() -> Session {
    let (session, _) = receive_open(config(), peer_open());
    assert_eq!(session.state(), State::OpenConfirm);
    session
}

fn established_with(config: SessionConfig, open: Open) -> Session {
    let (mut session, _) = receive_open(config, open);
    session.handle(Input::Received(Message::Keepalive));
    assert_eq!(session.state(), State::Established);
    session
}

fn established() -> Session {
    established_with(config(), peer_open())
}

/// Checks the shape of an error exit (send, close, timers, down, backoff)
/// and returns the NOTIFICATION that was sent.
fn sent_and_closed(actions: &[Action]) -> Notification {
    let Some(Action::Send(Message::Notification(sent))) = actions.first() else {
        panic!("no NOTIFICATION first: {actions:?}");
    };
    assert_eq!(
        actions.get(1),
        Some(&Action::CloseConnection),
        "{actions:?}"
    );
    assert!(
        actions.contains(&Action::Down(DownReason::NotificationSent(sent.clone())))
            || actions.contains(&Action::Down(DownReason::HoldTimerExpired))
            || actions.contains(&Action::Down(DownReason::BfdDown)),
        "{actions:?}"
    );
    assert!(
        matches!(actions.last(), Some(Action::StartConnectRetryTimer(_))),
        "{actions:?}"
    );
    sent.clone()
}

fn retry_delay(actions: &[Action]) -> Duration {
    match actions.last() {
        Some(Action::StartConnectRetryTimer(delay)) => *delay,
        _ => panic!("no backoff: {actions:?}"),
    }
}

fn assert_jittered(delay: Duration, nominal_secs: u64) {
    let nominal = Duration::from_secs(nominal_secs);
    assert!(
        delay >= nominal.mul_f64(0.75) && delay <= nominal,
        "{delay:?} outside [0.75, 1.0] x {nominal:?}"
    );
}

fn route_refresh(afi: u16, safi: u8) -> Input {
    Input::Received(Message::RouteRefresh(RouteRefresh { afi, safi }))
}

#[test]
fn a_new_session_is_idle_and_start_opens_a_connection() {
    let mut session = Session::new(config(), 1);
    assert_eq!(session.state(), State::Idle);
    assert_eq!(session.handle(Input::Start), vec![Action::Connect]);
    assert_eq!(session.state(), State::Connect);
}

#[test]
fn happy_path_reaches_established_with_exact_actions() {
    let mut session = Session::new(config(), 1);
    assert_eq!(session.handle(Input::Start), vec![Action::Connect]);

    let actions = session.handle(Input::Connected { local: LOCAL });
    let our_open = Open {
        version: 4,
        asn: 65001,
        hold_time: 90,
        bgp_id: OUR_ID,
        capabilities: vec![
            Capability::Multiprotocol(IPV4),
            Capability::Multiprotocol(IPV6),
            Capability::RouteRefresh,
            Capability::FourOctetAs(65001),
        ],
    };
    assert_eq!(
        actions,
        vec![
            Action::Send(Message::Open(our_open)),
            Action::StartHoldTimer(Duration::from_secs(240)),
        ]
    );
    assert_eq!(session.state(), State::OpenSent);
    assert_eq!(session.negotiated(), None);

    let actions = session.handle(Input::Received(Message::Open(peer_open())));
    assert_eq!(
        actions,
        vec![
            Action::Send(Message::Keepalive),
            Action::StartHoldTimer(Duration::from_secs(90)),
            Action::StartKeepaliveTimer(Duration::from_secs(30)),
        ]
    );
    assert_eq!(session.state(), State::OpenConfirm);

    let negotiated = Negotiated {
        hold_time: 90,
        keepalive: 30,
        families: vec![IPV4, IPV6],
        context: Context {
            four_octet_as: true,
        },
        route_refresh: true,
        peer_asn: 65000,
        peer_bgp_id: PEER_ID,
        local: LOCAL,
        peer_graceful_restart: None,
        notification_gr: false,
    };
    assert_eq!(session.negotiated(), Some(&negotiated));

    let actions = session.handle(Input::Received(Message::Keepalive));
    assert_eq!(
        actions,
        vec![
            Action::StartHoldTimer(Duration::from_secs(90)),
            Action::Established(negotiated.clone()),
        ]
    );
    assert_eq!(session.state(), State::Established);
    assert_eq!(session.negotiated(), Some(&negotiated));
}

#[test]
fn hold_time_is_the_smaller_of_both_offers() {
    let mut open = peer_open();
    open.hold_time = 30;
    let (session, actions) = receive_open(config(), open);
    assert_eq!(session.negotiated().map(|n| n.hold_time), Some(30));
    assert!(actions.contains(&Action::StartHoldTimer(Duration::from_secs(30))));

    let (session, _) = receive_open(config(), peer_open());
    assert_eq!(session.negotiated().map(|n| n.hold_time), Some(90));
}

#[test]
fn keepalive_is_a_third_of_the_hold_time_when_configured_longer() {
    let mut open = peer_open();
    open.hold_time = 9;
    let (session, actions) = receive_open(config(), open);
    assert_eq!(session.negotiated().map(|n| n.keepalive), Some(3));
    assert!(actions.contains(&Action::StartKeepaliveTimer(Duration::from_secs(3))));
}

#[test]
fn keepalive_is_the_configured_value_when_shorter_than_a_third() {
    let mut config = config();
    config.keepalive = 10;
    let (session, actions) = receive_open(config, peer_open());
    assert_eq!(session.negotiated().map(|n| n.keepalive), Some(10));
    assert!(actions.contains(&Action::StartKeepaliveTimer(Duration::from_secs(10))));
}

#[test]
fn keepalive_is_never_below_one_second() {
    let mut config = config();
    config.keepalive = 0;
    let (session, _) = receive_open(config, peer_open());
    assert_eq!(session.negotiated().map(|n| n.keepalive), Some(1));
}

#[test]
fn zero_hold_time_disables_the_hold_and_keepalive_timers() {
    let mut open = peer_open();
    open.hold_time = 0;
    let (mut session, actions) = receive_open(config(), open);
    assert_eq!(
        actions,
        vec![
            Action::Send(Message::Keepalive),
            Action::StopHoldTimer,
            Action::StopKeepaliveTimer,
        ]
    );
    let negotiated = session.negotiated().cloned();
    assert_eq!(negotiated.as_ref().map(|n| n.keepalive), Some(0));

    let actions = session.handle(Input::Received(Message::Keepalive));
    assert!(
        matches!(actions.as_slice(), [Action::Established(_)]),
        "{actions:?}"
    );
    assert_eq!(session.handle(Input::Received(Message::Keepalive)), vec![]);
}

#[test]
fn hold_time_of_one_or_two_seconds_is_rejected() {
    for hold_time in [1, 2] {
        let mut open = peer_open();
        open.hold_time = hold_time;
        let (session, actions) = receive_open(config(), open);
        assert_eq!(sent_and_closed(&actions), notif(2, 6, b""));
        assert_eq!(session.state(), State::Idle);
    }
}

#[test]
fn wrong_peer_as_is_rejected_with_bad_peer_as_and_no_data() {
    let mut open = peer_open();
    open.asn = 65099;
    open.capabilities = vec![Capability::FourOctetAs(65099)];
    let (session, actions) = receive_open(config(), open);
    assert_eq!(
        actions,
        vec![
            Action::Send(Message::Notification(notif(2, 2, b""))),
            Action::CloseConnection,
            Action::StopHoldTimer,
            Action::Down(DownReason::NotificationSent(notif(2, 2, b""))),
            Action::StartConnectRetryTimer(retry_delay(&actions)),
        ]
    );
    assert_eq!(session.state(), State::Idle);
    assert_eq!(session.negotiated(), None);
}

#[test]
fn four_octet_as_capability_wins_over_the_two_byte_field() {
    let mut config = config();
    config.remote_asn = 4_200_000_000;
    let mut open = peer_open();
    open.asn = 23456;
    open.capabilities = vec![Capability::FourOctetAs(4_200_000_000)];
    let (session, _) = receive_open(config, open);
    assert_eq!(session.state(), State::OpenConfirm);
    assert_eq!(
        session.negotiated().map(|n| n.peer_asn),
        Some(4_200_000_000)
    );
}

#[test]
fn as_trans_without_the_capability_is_a_bad_peer_as() {
    let mut config = config();
    config.remote_asn = 4_200_000_000;
    let mut open = peer_open();
    open.asn = 23456;
    open.capabilities = vec![];
    let (_, actions) = receive_open(config, open);
    assert_eq!(sent_and_closed(&actions), notif(2, 2, b""));
}

#[test]
fn ibgp_peer_with_our_router_id_is_rejected_with_bad_bgp_identifier() {
    let mut config = config();
    config.remote_asn = config.local_asn;
    let mut open = peer_open();
    open.asn = config.local_asn;
    open.capabilities = vec![Capability::FourOctetAs(config.local_asn)];
    open.bgp_id = OUR_ID;
    let (_, actions) = receive_open(config, open);
    assert_eq!(sent_and_closed(&actions), notif(2, 3, b""));
}

#[test]
fn ebgp_peer_may_share_our_router_id() {
    let mut open = peer_open();
    open.bgp_id = OUR_ID;
    let (session, _) = receive_open(config(), open);
    assert_eq!(session.state(), State::OpenConfirm);
}

#[test]
fn zero_router_id_is_rejected_with_bad_bgp_identifier() {
    let mut open = peer_open();
    open.bgp_id = Ipv4Addr::UNSPECIFIED;
    let (_, actions) = receive_open(config(), open);
    assert_eq!(sent_and_closed(&actions), notif(2, 3, b""));
}

#[test]
fn unsupported_version_is_rejected_naming_version_four() {
    let mut open = peer_open();
    open.version = 5;
    let (_, actions) = receive_open(config(), open);
    assert_eq!(sent_and_closed(&actions), notif(2, 1, &[0x00, 0x04]));
}

#[test]
fn families_are_the_intersection_of_both_offers_in_our_order() {
    let mut config = config();
    config.families = vec![IPV6, IPV4];
    let mut open = peer_open();
    open.capabilities = vec![Capability::Multiprotocol(IPV6)];
    let (session, _) = receive_open(config.clone(), open);
    assert_eq!(
        session.negotiated().map(|n| n.families.clone()),
        Some(vec![IPV6])
    );

    let (session, _) = receive_open(config, peer_open());
    assert_eq!(
        session.negotiated().map(|n| n.families.clone()),
        Some(vec![IPV6, IPV4])
    );
}

#[test]
fn a_peer_without_multiprotocol_capability_implies_ipv4_unicast() {
    let mut open = peer_open();
    open.capabilities = vec![Capability::RouteRefresh];
    let (session, _) = receive_open(config(), open);
    assert_eq!(
        session.negotiated().map(|n| n.families.clone()),
        Some(vec![IPV4])
    );
}

#[test]
fn no_common_family_is_rejected_with_unsupported_capability_listing_ours() {
    let mut config = config();
    config.families = vec![IPV6];
    let mut open = peer_open();
    open.capabilities = vec![];
    let (session, actions) = receive_open(config, open);
    // Capability 1 (multiprotocol), length 4, AFI 2, reserved, SAFI 1.
    assert_eq!(sent_and_closed(&actions), notif(2, 7, &[1, 4, 0, 2, 0, 1]));
    assert_eq!(session.state(), State::Idle);
}

#[test]
fn multiprotocol_for_unknown_families_only_does_not_imply_ipv4() {
    let mut open = peer_open();
    open.capabilities = vec![Capability::Unknown {
        code: 1,
        value: Bytes::from_static(&[0, 1, 0, 128]),
    }];
    let (_, actions) = receive_open(config(), open);
    assert_eq!(
        sent_and_closed(&actions),
        notif(2, 7, &[1, 4, 0, 1, 0, 1, 1, 4, 0, 2, 0, 1])
    );
}

#[test]
fn four_octet_as_is_negotiated_only_when_the_peer_advertises_it() {
    let (session, _) = receive_open(config(), peer_open());
    assert_eq!(
        session.negotiated().map(|n| n.context.four_octet_as),
        Some(true)
    );

    let mut open = peer_open();
    open.capabilities
        .retain(|cap| !matches!(cap, Capability::FourOctetAs(_)));
    let (session, _) = receive_open(config(), open);
    assert_eq!(
        session.negotiated().map(|n| n.context.four_octet_as),
        Some(false)
    );
}

#[test]
fn keepalive_in_open_sent_is_an_fsm_error_with_subcode_1() {
    let mut session = open_sent(config());
    let actions = session.handle(Input::Received(Message::Keepalive));
    assert_eq!(sent_and_closed(&actions), notif(5, 1, &[4]));
    assert_eq!(session.state(), State::Idle);
}

#[test]
fn update_and_route_refresh_in_open_sent_are_fsm_errors_with_subcode_1() {
    let mut session = open_sent(config());
    let actions = session.handle(Input::Received(Message::Update(Update::default())));
    assert_eq!(sent_and_closed(&actions), notif(5, 1, &[2]));

    let mut session = open_sent(config());
    let actions = session.handle(route_refresh(1, 1));
    assert_eq!(sent_and_closed(&actions), notif(5, 1, &[5]));
}

#[test]
fn open_update_and_route_refresh_in_open_confirm_are_fsm_errors_with_subcode_2() {
    let inputs = [
        (Input::Received(Message::Open(peer_open())), 1),
        (Input::Received(Message::Update(Update::default())), 2),
        (route_refresh(1, 1), 5),
    ];
    for (input, message_type) in inputs {
        let mut session = open_confirm();
        let actions = session.handle(input);
        let expected = Notification {
            code: 5,
            subcode: 2,
            data: Bytes::copy_from_slice(&[message_type]),
        };
        assert_eq!(sent_and_closed(&actions), expected);
        assert!(actions.contains(&Action::StopKeepaliveTimer));
    }
}

#[test]
fn open_in_established_is_an_fsm_error_with_subcode_3() {
    let mut session = established();
    let actions = session.handle(Input::Received(Message::Open(peer_open())));
    assert_eq!(sent_and_closed(&actions), notif(5, 3, &[1]));
    assert_eq!(session.state(), State::Idle);
    assert_eq!(session.negotiated(), None);
}

#[test]
fn hold_timer_expiry_sends_hold_timer_expired_in_every_connected_state() {
    for mut session in [open_sent(config()), open_confirm(), established()] {
        let actions = session.handle(Input::HoldTimerExpired);
        assert_eq!(sent_and_closed(&actions), notif(4, 0, b""));
        assert!(actions.contains(&Action::Down(DownReason::HoldTimerExpired)));
        assert_eq!(session.state(), State::Idle);
    }
}

#[test]
fn a_received_notification_is_not_answered_and_backs_off() {
    let mut session = established();
    let actions = session.handle(Input::Received(Message::Notification(cease())));
    assert_eq!(
        actions,
        vec![
            Action::CloseConnection,
            Action::StopHoldTimer,
            Action::StopKeepaliveTimer,
            Action::Down(DownReason::NotificationReceived(cease())),
            Action::StartConnectRetryTimer(retry_delay(&actions)),
        ]
    );
    assert_jittered(retry_delay(&actions), 5);
    assert_eq!(session.state(), State::Idle);
    assert_eq!(
        session.handle(Input::ConnectRetryExpired),
        vec![Action::Connect]
    );
    assert_eq!(session.state(), State::Connect);
}

#[test]
fn a_version_notification_in_open_sent_just_backs_off() {
    let mut session = open_sent(config());
    let actions = session.handle(Input::Received(Message::Notification(notif(2, 1, &[0, 4]))));
    assert_eq!(actions.first(), Some(&Action::CloseConnection));
    assert_eq!(session.state(), State::Idle);
}

#[test]
fn connect_failure_backs_off_and_the_retry_timer_reconnects() {
    let mut session = Session::new(config(), 1);
    session.handle(Input::Start);
    let actions = session.handle(Input::ConnectFailed("connection refused".into()));
    assert_eq!(
        actions,
        vec![
            Action::CloseConnection,
            Action::Down(DownReason::ConnectFailed("connection refused".into())),
            Action::StartConnectRetryTimer(retry_delay(&actions)),
        ]
    );
    assert_eq!(session.state(), State::Idle);
    assert_eq!(
        session.handle(Input::ConnectRetryExpired),
        vec![Action::Connect]
    );
    assert_eq!(session.state(), State::Connect);
}

#[test]
fn consecutive_failures_double_the_backoff_up_to_the_cap() {
    let mut session = Session::new(config(), 99);
    session.handle(Input::Start);
    for nominal in [5, 10, 20, 40, 60, 60, 60] {
        let actions = session.handle(Input::ConnectFailed("timed out".into()));
        assert_jittered(retry_delay(&actions), nominal);
        session.handle(Input::ConnectRetryExpired);
    }
}

#[test]
fn reaching_established_resets_the_backoff() {
    let mut session = Session::new(config(), 3);
    session.handle(Input::Start);
    for _ in 0..4 {
        session.handle(Input::ConnectFailed("timed out".into()));
        session.handle(Input::ConnectRetryExpired);
    }
    session.handle(Input::Connected { local: LOCAL });
    session.handle(Input::Received(Message::Open(peer_open())));
    session.handle(Input::Received(Message::Keepalive));
    assert_eq!(session.state(), State::Established);
    let actions = session.handle(Input::ConnectionClosed);
    assert!(actions.contains(&Action::Down(DownReason::ConnectionClosed)));
    assert_jittered(retry_delay(&actions), 5);
}

#[test]
fn a_failure_before_established_keeps_growing_the_backoff() {
    let mut session = Session::new(config(), 3);
    session.handle(Input::Start);
    session.handle(Input::ConnectFailed("timed out".into()));
    session.handle(Input::ConnectRetryExpired);
    session.handle(Input::Connected { local: LOCAL });
    session.handle(Input::Received(Message::Open(peer_open())));
    let actions = session.handle(Input::ConnectionClosed);
    assert_jittered(retry_delay(&actions), 10);
}

#[test]
fn keepalives_and_updates_in_established_restart_the_hold_timer() {
    let mut session = established();
    let restart = vec![Action::StartHoldTimer(Duration::from_secs(90))];
    assert_eq!(session.handle(Input::Received(Message::Keepalive)), restart);
    assert_eq!(
        session.handle(Input::Received(Message::Update(Update::default()))),
        restart
    );
    let odd_update = Update {
        treat_as_withdraw: Some("malformed MED".into()),
        ..Update::default()
    };
    assert_eq!(
        session.handle(Input::Received(Message::Update(odd_update))),
        restart
    );
    assert_eq!(session.state(), State::Established);
}

#[test]
fn the_keepalive_timer_sends_a_keepalive_once_the_open_is_accepted() {
    let send = vec![Action::Send(Message::Keepalive)];
    assert_eq!(open_confirm().handle(Input::KeepaliveTimerExpired), send);
    assert_eq!(established().handle(Input::KeepaliveTimerExpired), send);
    assert_eq!(
        open_sent(config()).handle(Input::KeepaliveTimerExpired),
        vec![]
    );
}

#[test]
fn route_refresh_for_a_negotiated_family_is_reported() {
    let mut session = established();
    assert_eq!(
        session.handle(route_refresh(2, 1)),
        vec![Action::RouteRefreshRequested(IPV6)]
    );
    assert_eq!(session.state(), State::Established);
}

#[test]
fn route_refresh_for_an_unnegotiated_or_unknown_family_is_ignored() {
    let mut open = peer_open();
    open.capabilities = vec![Capability::RouteRefresh];
    let mut session = established_with(config(), open);
    assert_eq!(session.handle(route_refresh(2, 1)), vec![]);
    assert_eq!(session.handle(route_refresh(1, 128)), vec![]);
    assert_eq!(session.handle(route_refresh(25, 70)), vec![]);
    assert_eq!(session.state(), State::Established);
}

#[test]
fn route_refresh_is_ignored_when_the_peer_did_not_advertise_it() {
    let mut open = peer_open();
    open.capabilities
        .retain(|cap| *cap != Capability::RouteRefresh);
    let mut session = established_with(config(), open);
    assert_eq!(session.handle(route_refresh(1, 1)), vec![]);
}

#[test]
fn stop_in_established_sends_the_cease_and_stays_idle() {
    let mut session = established();
    let actions = session.handle(Input::Stop(cease()));
    assert_eq!(
        actions,
        vec![
            Action::Send(Message::Notification(cease())),
            Action::CloseConnection,
            Action::StopHoldTimer,
            Action::StopKeepaliveTimer,
            Action::Down(DownReason::Stopped),
        ]
    );
    assert_eq!(session.state(), State::Idle);
    assert_eq!(session.handle(Input::ConnectRetryExpired), vec![]);
    assert_eq!(session.handle(Input::ConnectionClosed), vec![]);
    assert_eq!(session.state(), State::Idle);
}

#[test]
fn stop_while_connecting_abandons_the_attempt_without_a_notification() {
    let mut session = Session::new(config(), 1);
    session.handle(Input::Start);
    assert_eq!(
        session.handle(Input::Stop(cease())),
        vec![Action::CloseConnection, Action::Down(DownReason::Stopped)]
    );
    assert_eq!(session.handle(Input::Connected { local: LOCAL }), vec![]);
    assert_eq!(session.state(), State::Idle);
}

#[test]
fn stop_while_backing_off_cancels_the_retry() {
    let mut session = Session::new(config(), 1);
    session.handle(Input::Start);
    session.handle(Input::ConnectFailed("refused".into()));
    assert_eq!(
        session.handle(Input::Stop(cease())),
        vec![Action::StopConnectRetryTimer]
    );
    assert_eq!(session.handle(Input::ConnectRetryExpired), vec![]);
    assert_eq!(session.state(), State::Idle);
}

#[test]
fn start_after_stop_connects_again() {
    let mut session = established();
    session.handle(Input::Stop(cease()));
    assert_eq!(session.handle(Input::Start), vec![Action::Connect]);
    assert_eq!(session.state(), State::Connect);
}

#[test]
fn start_does_not_cut_a_running_backoff_short() {
    let mut session = Session::new(config(), 1);
    session.handle(Input::Start);
    session.handle(Input::ConnectFailed("refused".into()));
    assert_eq!(session.handle(Input::Start), vec![]);
    assert_eq!(session.state(), State::Idle);
    assert_eq!(
        session.handle(Input::ConnectRetryExpired),
        vec![Action::Connect]
    );
}

#[test]
fn start_in_a_running_session_is_ignored() {
    let mut session = established();
    assert_eq!(session.handle(Input::Start), vec![]);
    assert_eq!(session.state(), State::Established);
}

#[test]
fn stale_inputs_are_ignored_in_idle() {
    let mut session = Session::new(config(), 1);
    let stale = [
        Input::ConnectRetryExpired,
        Input::HoldTimerExpired,
        Input::KeepaliveTimerExpired,
        Input::Connected { local: LOCAL },
        Input::ConnectFailed("late".into()),
        Input::ConnectionClosed,
        Input::Received(Message::Open(peer_open())),
        Input::Received(Message::Keepalive),
        Input::Received(Message::Update(Update::default())),
        Input::Received(Message::Notification(cease())),
        route_refresh(1, 1),
        Input::Stop(cease()),
    ];
    for input in stale {
        assert_eq!(session.handle(input.clone()), vec![], "{input:?}");
        assert_eq!(session.state(), State::Idle);
    }
}

#[test]
fn timer_inputs_are_ignored_while_connecting() {
    let mut session = Session::new(config(), 1);
    session.handle(Input::Start);
    for input in [
        Input::ConnectRetryExpired,
        Input::HoldTimerExpired,
        Input::KeepaliveTimerExpired,
        Input::Received(Message::Keepalive),
    ] {
        assert_eq!(session.handle(input), vec![]);
        assert_eq!(session.state(), State::Connect);
    }
}

#[test]
fn states_display_their_rfc_names() {
    let names: Vec<String> = [
        State::Idle,
        State::Connect,
        State::OpenSent,
        State::OpenConfirm,
        State::Established,
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    assert_eq!(
        names,
        ["Idle", "Connect", "OpenSent", "OpenConfirm", "Established"]
    );
}

#[test]
fn down_reasons_display_in_lowercase_with_notification_numbers() {
    assert_eq!(
        DownReason::NotificationReceived(cease()).to_string(),
        "peer sent notification (code 6, subcode 2, 12 bytes of data)"
    );
    assert_eq!(
        DownReason::NotificationSent(notif(4, 0, b"")).to_string(),
        "sent notification (code 4, subcode 0)"
    );
    assert_eq!(
        DownReason::ConnectFailed("connection refused".into()).to_string(),
        "connect failed: connection refused"
    );
}

#[test]
fn automatic_router_id_is_the_local_ipv4_address_of_the_connection() {
    let mut session = Session::new(
        SessionConfig {
            bgp_id: None,
            ..config()
        },
        1,
    );
    session.handle(Input::Start);
    let local: IpAddr = "198.51.100.11".parse().unwrap();
    let actions = session.handle(Input::Connected { local });
    let Some(Action::Send(Message::Open(open))) = actions.first() else {
        panic!("expected our OPEN first, got {actions:?}");
    };
    assert_eq!(open.bgp_id, Ipv4Addr::new(198, 51, 100, 11));
}

#[test]
fn automatic_router_id_over_ipv6_uses_the_low_32_bits_of_the_address() {
    let local: IpAddr = "2001:db8:100::c633:640b".parse().unwrap();
    assert_eq!(router_id_for(local), Ipv4Addr::new(198, 51, 100, 11));
}
