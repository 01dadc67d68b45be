//! BFD hooks: no connection while BFD is configured and down, and Cease /
//! BFD Down (RFC 9384) when it goes down under a session.

use super::*;
use crate::bgp::wire::GracefulRestart;

fn bfd_config() -> SessionConfig {
    SessionConfig {
        bfd: true,
        ..config()
    }
}

/// A BFD-protected session driven to Established with BFD up.
fn established_with_bfd(config: SessionConfig, open: Open) -> Session {
    let mut session = Session::new(config, 1);
    session.handle(Input::BfdUp);
    session.handle(Input::Start);
    session.handle(Input::Connected { local: LOCAL });
    session.handle(Input::Received(Message::Open(open)));
    session.handle(Input::Received(Message::Keepalive));
    assert_eq!(session.state(), State::Established);
    session
}

#[test]
fn with_bfd_configured_start_waits_for_bfd_to_come_up() {
    let mut session = Session::new(bfd_config(), 1);
    assert_eq!(session.handle(Input::Start), vec![]);
    assert_eq!(session.state(), State::Idle);
    assert!(session.awaiting_bfd());
    // A second Start changes nothing.
    assert_eq!(session.handle(Input::Start), vec![]);
    assert_eq!(session.handle(Input::BfdUp), vec![Action::Connect]);
    assert_eq!(session.state(), State::Connect);
    assert!(!session.awaiting_bfd());
}

#[test]
fn bfd_up_before_start_lets_start_connect_at_once() {
    let mut session = Session::new(bfd_config(), 1);
    assert_eq!(session.handle(Input::BfdUp), vec![]);
    assert_eq!(session.state(), State::Idle);
    assert_eq!(session.handle(Input::Start), vec![Action::Connect]);
}

#[test]
fn bfd_down_in_established_sends_cease_bfd_down_and_backs_off() {
    let mut session = established_with_bfd(bfd_config(), peer_open());
    let actions = session.handle(Input::BfdDown);
    assert_eq!(
        actions,
        vec![
            Action::Send(Message::Notification(notif(6, 10, b""))),
            Action::CloseConnection,
            Action::StopHoldTimer,
            Action::StopKeepaliveTimer,
            Action::Down(DownReason::BfdDown),
            Action::StartConnectRetryTimer(retry_delay(&actions)),
        ]
    );
    assert_jittered(retry_delay(&actions), 5);
    assert_eq!(session.state(), State::Idle);
    assert_eq!(DownReason::BfdDown.to_string(), "BFD session down");
}

#[test]
fn a_retry_while_bfd_is_down_waits_for_bfd_up() {
    let mut session = established_with_bfd(bfd_config(), peer_open());
    session.handle(Input::BfdDown);
    assert_eq!(session.handle(Input::ConnectRetryExpired), vec![]);
    assert_eq!(session.state(), State::Idle);
    assert!(session.awaiting_bfd());
    assert_eq!(session.handle(Input::BfdUp), vec![Action::Connect]);
    assert_eq!(session.state(), State::Connect);
}

#[test]
fn bfd_up_does_not_cut_a_running_backoff_short() {
    let mut session = established_with_bfd(bfd_config(), peer_open());
    session.handle(Input::BfdDown);
    assert_eq!(session.handle(Input::BfdUp), vec![]);
    assert_eq!(session.state(), State::Idle);
    assert_eq!(
        session.handle(Input::ConnectRetryExpired),
        vec![Action::Connect]
    );
}

#[test]
fn bfd_down_while_connecting_abandons_the_attempt_without_a_notification() {
    let mut session = Session::new(bfd_config(), 1);
    session.handle(Input::BfdUp);
    session.handle(Input::Start);
    let actions = session.handle(Input::BfdDown);
    assert_eq!(
        actions,
        vec![
            Action::CloseConnection,
            Action::Down(DownReason::BfdDown),
            Action::StartConnectRetryTimer(retry_delay(&actions)),
        ]
    );
    assert_eq!(session.handle(Input::Connected { local: LOCAL }), vec![]);
}

#[test]
fn bfd_down_in_open_sent_and_open_confirm_sends_cease_bfd_down() {
    let mut session = Session::new(bfd_config(), 1);
    session.handle(Input::BfdUp);
    session.handle(Input::Start);
    session.handle(Input::Connected { local: LOCAL });
    assert_eq!(session.state(), State::OpenSent);
    let actions = session.handle(Input::BfdDown);
    assert_eq!(sent_and_closed(&actions), notif(6, 10, b""));
    assert!(actions.contains(&Action::Down(DownReason::BfdDown)));

    session.handle(Input::BfdUp);
    session.handle(Input::ConnectRetryExpired);
    session.handle(Input::Connected { local: LOCAL });
    session.handle(Input::Received(Message::Open(peer_open())));
    assert_eq!(session.state(), State::OpenConfirm);
    let actions = session.handle(Input::BfdDown);
    assert_eq!(sent_and_closed(&actions), notif(6, 10, b""));
}

#[test]
fn bfd_down_in_idle_only_holds_the_next_connection_back() {
    let mut session = Session::new(bfd_config(), 1);
    session.handle(Input::BfdUp);
    assert_eq!(session.handle(Input::BfdDown), vec![]);
    assert_eq!(session.handle(Input::Start), vec![]);
    assert_eq!(session.state(), State::Idle);
    assert!(session.awaiting_bfd());
}

#[test]
fn bfd_down_with_n_negotiated_is_sent_as_hard_reset() {
    let config = SessionConfig {
        graceful_restart: Some(GracefulRestartConfig {
            restart_time: 120,
            notification: true,
        }),
        ..bfd_config()
    };
    let mut open = peer_open();
    open.capabilities
        .push(Capability::GracefulRestart(GracefulRestart {
            restart_state: false,
            notification: true,
            restart_time: 120,
            families: vec![],
        }));
    let mut session = established_with_bfd(config, open);
    let actions = session.handle(Input::BfdDown);
    assert_eq!(sent_and_closed(&actions), notif(6, 9, &[6, 10]));
    assert!(actions.contains(&Action::Down(DownReason::BfdDown)));
}

#[test]
fn stop_forgets_a_connection_waiting_for_bfd() {
    let mut session = Session::new(bfd_config(), 1);
    session.handle(Input::Start);
    assert_eq!(session.handle(Input::Stop(cease())), vec![]);
    assert!(!session.awaiting_bfd());
    assert_eq!(session.handle(Input::BfdUp), vec![]);
    assert_eq!(session.state(), State::Idle);
}

#[test]
fn bfd_up_in_a_running_session_changes_nothing() {
    let mut session = established_with_bfd(bfd_config(), peer_open());
    assert_eq!(session.handle(Input::BfdUp), vec![]);
    assert_eq!(session.state(), State::Established);
}

#[test]
fn a_session_without_bfd_ignores_bfd_inputs() {
    let mut session = established();
    assert_eq!(session.handle(Input::BfdDown), vec![]);
    assert_eq!(session.state(), State::Established);

    let mut session = Session::new(config(), 1);
    assert_eq!(session.handle(Input::BfdDown), vec![]);
    assert_eq!(session.handle(Input::Start), vec![Action::Connect]);
    assert_eq!(session.handle(Input::BfdUp), vec![]);
    assert_eq!(session.state(), State::Connect);
}
