//! Graceful restart (RFC 4724) with NOTIFICATION support (RFC 8538): our
//! capability, what is negotiated, and what each deliberate close sends.

use bytes::BytesMut;

use super::*;
use crate::bgp::wire::{GracefulRestart, OpenError};

/// Our config with graceful restart offered, N as given, restart time 120.
fn gr_config(notification: bool) -> SessionConfig {
    SessionConfig {
        graceful_restart: Some(GracefulRestartConfig {
            restart_time: 120,
            notification,
        }),
        ..config()
    }
}

/// The peer's OPEN with a Graceful Restart capability, N as given.
fn gr_peer_open(notification: bool) -> Open {
    let mut open = peer_open();
    open.capabilities
        .push(Capability::GracefulRestart(GracefulRestart {
            restart_state: false,
            notification,
            restart_time: 120,
            families: vec![(IPV4, false), (IPV6, false)],
        }));
    open
}

/// Established with N on both sides.
fn established_with_n() -> Session {
    established_with(gr_config(true), gr_peer_open(true))
}

/// The Graceful Restart capability of the OPEN that `Connected` sends.
fn gr_in_our_open(actions: &[Action]) -> Option<GracefulRestart> {
    let Some(Action::Send(Message::Open(open))) = actions.first() else {
        panic!("expected our OPEN first, got {actions:?}");
    };
    open.graceful_restart().cloned()
}

fn connect(session: &mut Session) -> Vec<Action> {
    session.handle(Input::Connected { local: LOCAL })
}

/// Cease / Administrative Reset with the message "upgrade".
fn admin_reset() -> Notification {
    notif(6, 4, b"\x07upgrade")
}

/// The exit of `Stop` or `Restart` from Established: `sent` (if any),
/// close, both timers stopped, down for `reason`, and no backoff.
fn halted(sent: Option<Notification>, reason: DownReason) -> Vec<Action> {
    let mut actions: Vec<Action> = sent
        .map(|n| Action::Send(Message::Notification(n)))
        .into_iter()
        .collect();
    actions.extend([
        Action::CloseConnection,
        Action::StopHoldTimer,
        Action::StopKeepaliveTimer,
        Action::Down(reason),
    ]);
    actions
}

#[test]
fn without_graceful_restart_configured_our_open_has_no_such_capability() {
    let mut session = Session::new(config(), 1);
    session.handle(Input::Start);
    assert_eq!(gr_in_our_open(&connect(&mut session)), None);
}

#[test]
fn our_open_offers_graceful_restart_with_n_and_f_for_every_family() {
    let mut session = Session::new(gr_config(true), 1);
    session.handle(Input::Start);
    let actions = connect(&mut session);
    let Some(Action::Send(Message::Open(open))) = actions.first() else {
        panic!("expected our OPEN first, got {actions:?}");
    };
    assert_eq!(
        open.capabilities,
        vec![
            Capability::Multiprotocol(IPV4),
            Capability::Multiprotocol(IPV6),
            Capability::RouteRefresh,
            Capability::GracefulRestart(GracefulRestart {
                restart_state: false,
                notification: true,
                restart_time: 120,
                families: vec![(IPV4, true), (IPV6, true)],
            }),
            Capability::FourOctetAs(65001),
        ]
    );
}

#[test]
fn our_open_without_n_leaves_the_flag_clear() {
    let mut session = Session::new(gr_config(false), 1);
    session.handle(Input::Start);
    let gr = gr_in_our_open(&connect(&mut session)).expect("capability");
    assert!(!gr.notification && !gr.restart_state);
}

#[test]
fn a_restart_time_beyond_twelve_bits_is_offered_as_4095() {
    let mut config = gr_config(true);
    config.graceful_restart = Some(GracefulRestartConfig {
        restart_time: 5000,
        notification: true,
    });
    let mut session = Session::new(config, 1);
    session.handle(Input::Start);
    let gr = gr_in_our_open(&connect(&mut session)).expect("capability");
    assert_eq!(gr.restart_time, 4095);
}

#[test]
fn restart_state_is_set_until_a_session_reaches_established() {
    let mut session = Session::new(
        SessionConfig {
            restarting: true,
            ..gr_config(true)
        },
        1,
    );
    session.handle(Input::Start);
    let gr = gr_in_our_open(&connect(&mut session)).expect("capability");
    assert!(gr.restart_state);

    // A failure before Established keeps R for the next attempt.
    session.handle(Input::ConnectionClosed);
    session.handle(Input::ConnectRetryExpired);
    let gr = gr_in_our_open(&connect(&mut session)).expect("capability");
    assert!(gr.restart_state);

    session.handle(Input::Received(Message::Open(gr_peer_open(true))));
    session.handle(Input::Received(Message::Keepalive));
    assert_eq!(session.state(), State::Established);
    session.handle(Input::ConnectionClosed);
    session.handle(Input::ConnectRetryExpired);
    let gr = gr_in_our_open(&connect(&mut session)).expect("capability");
    assert!(!gr.restart_state);
}

#[test]
fn notification_support_is_negotiated_only_when_both_sides_set_n() {
    // (we offer GR with N?, the peer offers GR with N?, negotiated)
    let cases = [
        (Some(true), Some(true), true),
        (Some(true), Some(false), false),
        (Some(false), Some(true), false),
        (None, Some(true), false),
        (Some(true), None, false),
    ];
    for (ours, theirs, expected) in cases {
        let config = match ours {
            Some(n) => gr_config(n),
            None => config(),
        };
        let open = match theirs {
            Some(n) => gr_peer_open(n),
            None => peer_open(),
        };
        let (session, _) = receive_open(config, open);
        assert_eq!(
            session.negotiated().map(|n| n.notification_gr),
            Some(expected),
            "ours {ours:?}, theirs {theirs:?}"
        );
    }
}

#[test]
fn the_peers_graceful_restart_capability_is_reported() {
    let (session, _) = receive_open(config(), gr_peer_open(true));
    let gr = session
        .negotiated()
        .and_then(|n| n.peer_graceful_restart.clone());
    assert_eq!(
        gr.map(|gr| (gr.notification, gr.restart_time)),
        Some((true, 120))
    );
    let (session, _) = receive_open(config(), peer_open());
    assert_eq!(
        session
            .negotiated()
            .map(|n| n.peer_graceful_restart.is_none()),
        Some(true)
    );
}

#[test]
fn restart_with_n_negotiated_sends_administrative_reset_and_stays_idle() {
    let mut session = established_with_n();
    let actions = session.handle(Input::Restart("upgrade".into()));
    assert_eq!(actions, halted(Some(admin_reset()), DownReason::Restarting));
    assert_eq!(session.state(), State::Idle);
    assert_eq!(session.handle(Input::ConnectRetryExpired), vec![]);
    assert_eq!(
        DownReason::Restarting.to_string(),
        "stopped for a graceful restart"
    );
}

#[test]
fn restart_with_graceful_restart_but_without_n_closes_without_a_notification() {
    for (ours, theirs) in [(false, false), (true, false), (false, true)] {
        let mut session = established_with(gr_config(ours), gr_peer_open(theirs));
        let actions = session.handle(Input::Restart("upgrade".into()));
        assert_eq!(
            actions,
            halted(None, DownReason::Restarting),
            "ours {ours}, theirs {theirs}"
        );
    }
}

#[test]
fn restart_when_the_peer_lacks_graceful_restart_sends_administrative_reset() {
    let mut session = established_with(gr_config(true), peer_open());
    let actions = session.handle(Input::Restart("upgrade".into()));
    assert_eq!(actions, halted(Some(admin_reset()), DownReason::Restarting));
}

#[test]
fn restart_without_graceful_restart_of_our_own_sends_administrative_reset() {
    let mut session = established_with(config(), gr_peer_open(true));
    let actions = session.handle(Input::Restart("upgrade".into()));
    assert_eq!(actions, halted(Some(admin_reset()), DownReason::Restarting));
}

#[test]
fn restart_in_open_confirm_follows_what_was_negotiated() {
    let (mut session, _) = receive_open(gr_config(false), gr_peer_open(false));
    assert_eq!(session.state(), State::OpenConfirm);
    let actions = session.handle(Input::Restart("upgrade".into()));
    assert_eq!(actions, halted(None, DownReason::Restarting));
}

#[test]
fn restart_before_the_opens_are_exchanged_closes_without_a_notification() {
    let mut session = open_sent(gr_config(true));
    assert_eq!(
        session.handle(Input::Restart("upgrade".into())),
        vec![
            Action::CloseConnection,
            Action::StopHoldTimer,
            Action::Down(DownReason::Restarting),
        ]
    );
    let mut session = Session::new(gr_config(true), 1);
    session.handle(Input::Start);
    assert_eq!(
        session.handle(Input::Restart("upgrade".into())),
        vec![
            Action::CloseConnection,
            Action::Down(DownReason::Restarting)
        ]
    );
    assert_eq!(session.handle(Input::Connected { local: LOCAL }), vec![]);
}

#[test]
fn restart_while_backing_off_cancels_the_retry() {
    let mut session = Session::new(gr_config(true), 1);
    session.handle(Input::Start);
    session.handle(Input::ConnectFailed("refused".into()));
    assert_eq!(
        session.handle(Input::Restart("upgrade".into())),
        vec![Action::StopConnectRetryTimer]
    );
    assert_eq!(session.handle(Input::ConnectRetryExpired), vec![]);
    assert_eq!(session.state(), State::Idle);
}

#[test]
fn stop_with_n_negotiated_wraps_the_cease_in_hard_reset() {
    let mut session = established_with_n();
    let actions = session.handle(Input::Stop(cease()));
    let hard_reset = notif(6, 9, b"\x06\x02\x0bmaintenance");
    assert_eq!(
        actions,
        halted(Some(hard_reset.clone()), DownReason::Stopped)
    );
    let mut out = BytesMut::new();
    Message::Notification(hard_reset)
        .encode(&Context::default(), &mut out)
        .expect("encodes");
    let mut expected = vec![0xff; 16];
    expected.extend_from_slice(&[0x00, 0x23, 0x03]); // length 35, NOTIFICATION
    expected.extend_from_slice(&[0x06, 0x09]); // Cease / Hard Reset
    expected.extend_from_slice(&[0x06, 0x02]); // wraps Cease / Administrative Shutdown
    expected.extend_from_slice(b"\x0bmaintenance"); // and its RFC 9003 message
    assert_eq!(&out[..], &expected[..]);
}

#[test]
fn stop_without_n_on_both_sides_sends_the_cease_as_given() {
    for (ours, theirs) in [(true, false), (false, true)] {
        let mut session = established_with(gr_config(ours), gr_peer_open(theirs));
        let actions = session.handle(Input::Stop(cease()));
        assert_eq!(actions, halted(Some(cease()), DownReason::Stopped));
    }
}

#[test]
fn with_n_only_the_ceases_rfc_8538_keeps_graceful_go_unwrapped() {
    // (Cease subcode, sent as Hard Reset?) after RFC 8538 §5.1.
    let cases = [
        (1, true),
        (2, true),
        (3, true),
        (4, true),
        (5, false),
        (6, false),
        (7, false),
        (8, false),
    ];
    for (subcode, wrapped) in cases {
        let mut session = established_with_n();
        let given = Notification::new(6, subcode, Bytes::new());
        let actions = session.handle(Input::Stop(given.clone()));
        let expected = if wrapped {
            Notification::new(6, 9, vec![6, subcode])
        } else {
            given
        };
        assert_eq!(
            actions.first(),
            Some(&Action::Send(Message::Notification(expected))),
            "subcode {subcode}"
        );
    }
}

#[test]
fn a_hard_reset_given_to_stop_is_not_wrapped_twice() {
    let mut session = established_with_n();
    let hard_reset = Notification::hard_reset(&cease());
    let actions = session.handle(Input::Stop(hard_reset.clone()));
    assert_eq!(
        actions.first(),
        Some(&Action::Send(Message::Notification(hard_reset)))
    );
}

#[test]
fn stop_before_the_opens_are_exchanged_is_never_wrapped() {
    let mut session = open_sent(gr_config(true));
    let actions = session.handle(Input::Stop(cease()));
    assert_eq!(
        actions.first(),
        Some(&Action::Send(Message::Notification(cease())))
    );
}

#[test]
fn errors_and_hold_timer_expiry_keep_their_own_notification_with_n() {
    let mut session = established_with_n();
    let actions = session.handle(Input::HoldTimerExpired);
    assert_eq!(sent_and_closed(&actions), notif(4, 0, b""));

    let mut session = established_with_n();
    let actions = session.handle(Input::Received(Message::Open(peer_open())));
    assert_eq!(sent_and_closed(&actions), notif(5, 3, &[1]));

    let mut session = established_with_n();
    let err = DecodeError::Open(OpenError::Malformed("test"));
    let actions = session.handle(Input::DecodeError(err));
    assert_eq!(sent_and_closed(&actions), notif(2, 0, b""));
}

#[test]
fn a_received_hard_reset_is_reported_with_what_it_wraps() {
    let mut session = established_with_n();
    let hard_reset = Notification::hard_reset(&cease());
    let actions = session.handle(Input::Received(Message::Notification(hard_reset.clone())));
    let reason = DownReason::NotificationReceived(hard_reset);
    assert!(
        actions.contains(&Action::Down(reason.clone())),
        "{actions:?}"
    );
    assert_eq!(
        reason.to_string(),
        "peer sent notification (code 6, subcode 9 wrapping code 6, subcode 2, \
         12 bytes of data)"
    );
    assert!(matches!(
        actions.last(),
        Some(Action::StartConnectRetryTimer(_))
    ));
}
