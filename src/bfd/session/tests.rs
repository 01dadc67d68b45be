//! Session behaviour, one rule per test, with no sockets and no sleeps.
//! Intervals are spelled in microseconds, as on the wire.

use std::num::NonZeroU32;
use std::time::Duration;

use super::*;

const OURS: u32 = 0x0000_0001;
const THEIRS: u32 = 0x0000_00aa;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn settings(tx_ms: u64, rx_ms: u64, mult: u8) -> Settings {
    Settings {
        desired_min_tx: ms(tx_ms),
        required_min_rx: ms(rx_ms),
        detect_multiplier: mult,
    }
}

fn fresh(settings: Settings) -> Session {
    let discr = NonZeroU32::new(OURS).expect("nonzero");
    Session::new(settings, discr, 7)
}

/// A packet from the remote system: it sends every 300 ms with multiplier
/// 3 and takes packets every 10 ms, so that our settings decide our rate.
fn remote(state: State) -> ControlPacket {
    ControlPacket {
        diag: Diagnostic::NoDiagnostic,
        state,
        poll: false,
        final_: false,
        control_plane_independent: false,
        demand: false,
        detect_mult: 3,
        my_discr: THEIRS,
        your_discr: if state == State::Down { 0 } else { OURS },
        desired_min_tx_us: 300_000,
        required_min_rx_us: 10_000,
        required_min_echo_rx_us: 0,
    }
}

fn polling(state: State) -> ControlPacket {
    ControlPacket {
        poll: true,
        ..remote(state)
    }
}

fn finishing(state: State) -> ControlPacket {
    ControlPacket {
        final_: true,
        ..remote(state)
    }
}

fn sent(actions: &[Action]) -> Vec<ControlPacket> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send(p) => Some(*p),
            _ => None,
        })
        .collect()
}

fn only_sent(actions: &[Action]) -> ControlPacket {
    match sent(actions).as_slice() {
        [packet] => *packet,
        other => panic!("expected one packet, got {other:?}"),
    }
}

fn tx_delay(actions: &[Action]) -> Option<Duration> {
    actions.iter().rev().find_map(|a| match a {
        Action::ArmTx(d) => Some(*d),
        _ => None,
    })
}

fn detect(actions: &[Action]) -> Option<Duration> {
    actions.iter().rev().find_map(|a| match a {
        Action::ArmDetect(d) => Some(*d),
        _ => None,
    })
}

fn changes(actions: &[Action]) -> Vec<(State, State, Diagnostic)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::StateChanged { from, to, diag } => Some((*from, *to, *diag)),
            _ => None,
        })
        .collect()
}

fn receive(session: &mut Session, packet: ControlPacket) -> Vec<Action> {
    session.handle(Input::Received(packet))
}

/// The next periodic packet.
fn tick(session: &mut Session) -> ControlPacket {
    only_sent(&session.handle(Input::TxTimerExpired))
}

fn started(settings: Settings) -> Session {
    let mut session = fresh(settings);
    session.start();
    session
}

/// Down, then Init on the remote's Down, then Up on its Init.
fn up_with(settings: Settings) -> Session {
    let mut session = started(settings);
    receive(&mut session, remote(State::Down));
    receive(&mut session, remote(State::Init));
    assert_eq!(session.state(), State::Up);
    session
}

/// Up, with the Poll Sequence that reaching Up starts already answered.
fn settled(settings: Settings) -> Session {
    let mut session = up_with(settings);
    receive(&mut session, finishing(State::Up));
    assert!(!session.snapshot().poll_active);
    session
}

fn within(delay: Option<Duration>, low_ms: u64, high_ms: u64) {
    let delay = delay.expect("transmit timer armed");
    assert!(
        delay >= ms(low_ms) && delay <= ms(high_ms),
        "{delay:?} outside {low_ms}..={high_ms} ms"
    );
}

// ----- start and the handshake (RFC 5880 §6.2, §6.8.6) -----

#[test]
fn a_new_session_is_down_and_sends_its_first_packet_at_once() {
    let mut session = fresh(Settings::default());
    let actions = session.start();
    let first = only_sent(&actions);
    assert_eq!(first.state, State::Down);
    assert_eq!(first.diag, Diagnostic::NoDiagnostic);
    assert_eq!(first.my_discr, OURS);
    assert_eq!(first.your_discr, 0);
    assert_eq!(first.detect_mult, 3);
    assert_eq!(first.required_min_echo_rx_us, 0);
    assert!(!first.poll && !first.final_ && !first.demand);
    assert!(matches!(actions.first(), Some(Action::Send(_))));
    within(tx_delay(&actions), 750, 1000);
}

#[test]
fn the_detection_timer_waits_until_the_remote_is_heard() {
    let mut session = fresh(Settings::default());
    assert_eq!(detect(&session.start()), None);
    assert_eq!(session.snapshot().detection_time, None);
    assert!(session.handle(Input::DetectTimerExpired).is_empty());
}

#[test]
fn down_goes_to_init_when_the_remote_is_down() {
    let mut session = started(Settings::default());
    let actions = receive(&mut session, remote(State::Down));
    let to_init = (State::Down, State::Init, Diagnostic::NoDiagnostic);
    assert_eq!(changes(&actions), vec![to_init]);
}

#[test]
fn down_goes_straight_to_up_when_the_remote_is_init() {
    let mut session = started(Settings::default());
    let actions = receive(&mut session, remote(State::Init));
    let to_up = (State::Down, State::Up, Diagnostic::NoDiagnostic);
    assert_eq!(changes(&actions), vec![to_up]);
}

#[test]
fn init_goes_up_when_the_remote_is_init_or_up() {
    for state in [State::Init, State::Up] {
        let mut session = started(Settings::default());
        receive(&mut session, remote(State::Down));
        receive(&mut session, remote(state));
        assert_eq!(session.state(), State::Up, "remote {state}");
    }
}

#[test]
fn down_ignores_a_remote_that_claims_to_be_up() {
    let mut session = started(Settings::default());
    let actions = receive(&mut session, remote(State::Up));
    assert!(changes(&actions).is_empty());
    assert_eq!(session.state(), State::Down);
}

#[test]
fn init_stays_init_while_the_remote_is_down() {
    let mut session = started(Settings::default());
    receive(&mut session, remote(State::Down));
    assert!(changes(&receive(&mut session, remote(State::Down))).is_empty());
    assert_eq!(session.state(), State::Init);
}

#[test]
fn the_remote_discriminator_is_learned_and_sent_back_as_your_discriminator() {
    let mut session = started(Settings::default());
    receive(&mut session, remote(State::Down));
    let next = tick(&mut session);
    assert_eq!(next.state, State::Init);
    assert_eq!(next.your_discr, THEIRS);
}

#[test]
fn up_goes_down_with_neighbor_signaled_session_down_when_the_remote_is_down() {
    let mut session = settled(Settings::default());
    let actions = receive(&mut session, remote(State::Down));
    let down = (
        State::Up,
        State::Down,
        Diagnostic::NeighborSignaledSessionDown,
    );
    assert_eq!(changes(&actions), vec![down]);
    assert_eq!(tick(&mut session).diag.code(), 3);
}

#[test]
fn a_remote_admin_down_takes_init_and_up_down_with_diagnostic_3() {
    let mut init = started(Settings::default());
    receive(&mut init, remote(State::Down));
    for mut session in [init, settled(Settings::default())] {
        let from = session.state();
        let actions = receive(&mut session, remote(State::AdminDown));
        let down = (from, State::Down, Diagnostic::NeighborSignaledSessionDown);
        assert_eq!(changes(&actions), vec![down]);
    }
}

#[test]
fn a_remote_admin_down_changes_nothing_while_down() {
    let mut session = started(Settings::default());
    assert!(changes(&receive(&mut session, remote(State::AdminDown))).is_empty());
    assert_eq!(session.state(), State::Down);
}

#[test]
fn a_packet_for_another_discriminator_is_discarded() {
    let mut session = started(Settings::default());
    let stray = ControlPacket {
        your_discr: 0x5555,
        ..remote(State::Init)
    };
    assert!(receive(&mut session, stray).is_empty());
    assert_eq!(session.state(), State::Down);
    assert_eq!(session.snapshot().remote_discr, 0);
    assert_eq!(session.snapshot().counters.packets_discarded, 1);
}

// ----- detection (RFC 5880 §6.8.4) -----

#[test]
fn detection_time_is_remote_multiplier_times_agreed_rx_interval() {
    let mut session = started(settings(300, 300, 3));
    let slower_remote = ControlPacket {
        detect_mult: 5,
        desired_min_tx_us: 400_000,
        ..remote(State::Down)
    };
    assert_eq!(
        detect(&receive(&mut session, slower_remote)),
        Some(ms(2000))
    );
    let faster_remote = ControlPacket {
        detect_mult: 5,
        desired_min_tx_us: 100_000,
        ..remote(State::Down)
    };
    assert_eq!(
        detect(&receive(&mut session, faster_remote)),
        Some(ms(1500))
    );
    assert_eq!(session.snapshot().detection_time, Some(ms(1500)));
}

#[test]
fn every_accepted_packet_restarts_the_detection_timer() {
    let mut session = settled(Settings::default());
    for _ in 0..3 {
        assert_eq!(
            detect(&receive(&mut session, remote(State::Up))),
            Some(ms(900))
        );
    }
}

#[test]
fn detection_expiry_takes_up_down_with_diagnostic_1() {
    let mut session = settled(Settings::default());
    let actions = session.handle(Input::DetectTimerExpired);
    let expired = (
        State::Up,
        State::Down,
        Diagnostic::ControlDetectionTimeExpired,
    );
    assert_eq!(changes(&actions), vec![expired]);
    let next = tick(&mut session);
    assert_eq!((next.state, next.diag.code()), (State::Down, 1));
}

#[test]
fn detection_expiry_takes_init_down_too() {
    let mut session = started(Settings::default());
    receive(&mut session, remote(State::Down));
    session.handle(Input::DetectTimerExpired);
    assert_eq!(session.state(), State::Down);
    assert_eq!(
        session.snapshot().local_diag,
        Diagnostic::ControlDetectionTimeExpired
    );
}

#[test]
fn detection_expiry_forgets_the_remote_system() {
    let mut session = settled(Settings::default());
    session.handle(Input::DetectTimerExpired);
    let snapshot = session.snapshot();
    assert_eq!(snapshot.remote_discr, 0);
    assert_eq!(snapshot.remote_state, State::Down);
    assert_eq!(snapshot.remote_detect_mult, None);
    assert_eq!(snapshot.detection_time, None);
    assert_eq!(tick(&mut session).your_discr, 0);
}

#[test]
fn the_diagnostic_of_a_failure_stays_until_the_session_is_up_again() {
    let mut session = settled(Settings::default());
    session.handle(Input::DetectTimerExpired);
    receive(&mut session, remote(State::Down));
    assert_eq!(session.state(), State::Init);
    assert_eq!(tick(&mut session).diag.code(), 1);
    receive(&mut session, remote(State::Up));
    assert_eq!(tick(&mut session).diag, Diagnostic::NoDiagnostic);
}

// ----- transmission (RFC 5880 §6.8.2, §6.8.3, §6.8.7) -----

#[test]
fn while_not_up_desired_min_tx_on_the_wire_is_at_least_one_second() {
    let mut session = fresh(settings(50, 50, 3));
    assert_eq!(only_sent(&session.start()).desired_min_tx_us, 1_000_000);
    receive(&mut session, remote(State::Down));
    let init = tick(&mut session);
    assert_eq!(
        (init.state, init.desired_min_tx_us),
        (State::Init, 1_000_000)
    );
    assert_eq!(init.required_min_rx_us, 50_000);
}

#[test]
fn a_configured_interval_above_one_second_is_used_as_is_before_up() {
    let mut session = fresh(settings(2000, 2000, 3));
    assert_eq!(only_sent(&session.start()).desired_min_tx_us, 2_000_000);
}

#[test]
fn the_transmit_interval_is_the_larger_of_desired_tx_and_remote_min_rx() {
    let mut session = settled(settings(300, 300, 3));
    let slow_receiver = ControlPacket {
        required_min_rx_us: 500_000,
        ..remote(State::Up)
    };
    receive(&mut session, slow_receiver);
    assert_eq!(session.snapshot().tx_interval, Some(ms(500)));
    within(tx_delay(&session.handle(Input::TxTimerExpired)), 375, 500);
}

#[test]
fn jitter_keeps_intervals_between_75_and_100_percent() {
    let mut session = settled(settings(100, 100, 3));
    let delays: Vec<Duration> = (0..500)
        .filter_map(|_| tx_delay(&session.handle(Input::TxTimerExpired)))
        .collect();
    assert_eq!(delays.len(), 500);
    let (min, max) = min_max(&delays);
    assert!(min >= ms(75) && max <= ms(100), "{min:?}..{max:?}");
    assert!(
        min < ms(78) && max > ms(97),
        "jitter too narrow: {min:?}..{max:?}"
    );
}

#[test]
fn jitter_stays_at_or_below_90_percent_when_the_multiplier_is_1() {
    let mut session = settled(settings(100, 100, 1));
    let delays: Vec<Duration> = (0..500)
        .filter_map(|_| tx_delay(&session.handle(Input::TxTimerExpired)))
        .collect();
    let (min, max) = min_max(&delays);
    assert!(min >= ms(75) && max <= ms(90), "{min:?}..{max:?}");
}

fn min_max(delays: &[Duration]) -> (Duration, Duration) {
    let min = delays.iter().min().copied().unwrap_or_default();
    let max = delays.iter().max().copied().unwrap_or_default();
    (min, max)
}

#[test]
fn no_periodic_packets_while_the_remote_asks_for_none() {
    let mut session = settled(Settings::default());
    let silent = ControlPacket {
        required_min_rx_us: 0,
        ..remote(State::Up)
    };
    let actions = receive(&mut session, silent);
    assert!(actions.contains(&Action::DisarmTx), "{actions:?}");
    assert!(session.handle(Input::TxTimerExpired).is_empty());
    assert_eq!(session.snapshot().tx_interval, None);
    // A Poll is still answered (§6.8.7).
    let poll = ControlPacket {
        required_min_rx_us: 0,
        ..polling(State::Up)
    };
    assert!(only_sent(&receive(&mut session, poll)).final_);
}

#[test]
fn periodic_packets_resume_when_the_remote_min_rx_becomes_nonzero() {
    let mut session = settled(Settings::default());
    let silent = ControlPacket {
        required_min_rx_us: 0,
        ..remote(State::Up)
    };
    receive(&mut session, silent);
    within(
        tx_delay(&receive(&mut session, remote(State::Up))),
        225,
        300,
    );
}

#[test]
fn a_reduced_remote_min_rx_is_honoured_at_once() {
    let mut session = settled(settings(100, 100, 3));
    let slow = ControlPacket {
        required_min_rx_us: 1_000_000,
        ..remote(State::Up)
    };
    receive(&mut session, slow);
    session.handle(Input::TxTimerExpired);
    let fast = ControlPacket {
        required_min_rx_us: 100_000,
        ..remote(State::Up)
    };
    within(tx_delay(&receive(&mut session, fast)), 75, 100);
}

#[test]
fn a_remote_in_demand_mode_gets_no_periodic_packets_while_both_are_up() {
    let mut session = settled(Settings::default());
    let demand = ControlPacket {
        demand: true,
        ..remote(State::Up)
    };
    assert!(receive(&mut session, demand).contains(&Action::DisarmTx));
    assert!(tx_delay(&receive(&mut session, remote(State::Up))).is_some());
}

// ----- Poll Sequences and timer changes (RFC 5880 §6.5, §6.8.3) -----

#[test]
fn reaching_up_starts_a_poll_that_brings_in_the_configured_tx_interval() {
    let mut session = started(settings(50, 50, 3));
    receive(&mut session, remote(State::Down));
    let actions = receive(&mut session, remote(State::Init));
    // Faster is safe at once: the timer is re-armed for the new interval.
    within(tx_delay(&actions), 37, 50);
    assert!(session.snapshot().poll_active);
    let next = tick(&mut session);
    assert!(next.poll && !next.final_);
    assert_eq!((next.state, next.desired_min_tx_us), (State::Up, 50_000));
}

#[test]
fn a_final_ends_the_poll_sequence() {
    let mut session = up_with(settings(50, 50, 3));
    receive(&mut session, finishing(State::Up));
    assert!(!session.snapshot().poll_active);
    assert!(!tick(&mut session).poll);
}

#[test]
fn a_final_without_a_poll_under_way_is_ignored() {
    let mut session = settled(Settings::default());
    assert!(changes(&receive(&mut session, finishing(State::Up))).is_empty());
    assert!(!tick(&mut session).poll);
}

#[test]
fn a_poll_is_answered_at_once_with_a_final_and_never_both_bits() {
    // Our own Poll Sequence is under way, yet the answer carries F alone.
    let mut session = up_with(settings(50, 50, 3));
    assert!(session.snapshot().poll_active);
    let actions = receive(&mut session, polling(State::Up));
    let answer = only_sent(&actions);
    assert!(answer.final_ && !answer.poll);
    // The periodic schedule is not disturbed by the answer.
    assert_eq!(tx_delay(&actions), None);
}

#[test]
fn the_final_carries_the_state_the_poll_led_to() {
    let mut session = started(Settings::default());
    let answer = only_sent(&receive(&mut session, polling(State::Down)));
    assert_eq!((answer.state, answer.your_discr), (State::Init, THEIRS));
}

#[test]
fn a_slower_tx_interval_while_up_waits_for_the_final() {
    let mut session = settled(settings(100, 100, 3));
    session.handle(Input::SetTimers(settings(400, 100, 3)));
    let polled = tick(&mut session);
    assert!(polled.poll);
    assert_eq!(polled.desired_min_tx_us, 400_000);
    assert_eq!(session.snapshot().tx_interval, Some(ms(100)));
    within(tx_delay(&session.handle(Input::TxTimerExpired)), 75, 100);
    receive(&mut session, finishing(State::Up));
    assert_eq!(session.snapshot().tx_interval, Some(ms(400)));
    within(tx_delay(&session.handle(Input::TxTimerExpired)), 300, 400);
}

#[test]
fn a_faster_tx_interval_while_up_takes_effect_at_once_with_a_poll() {
    let mut session = settled(settings(400, 400, 3));
    let actions = session.handle(Input::SetTimers(settings(100, 400, 3)));
    within(tx_delay(&actions), 75, 100);
    assert!(tick(&mut session).poll);
}

#[test]
fn a_shorter_detection_time_waits_for_the_final() {
    // The remote sends every 50 ms, so our Required Min RX decides.
    let fast_remote = ControlPacket {
        desired_min_tx_us: 50_000,
        ..remote(State::Up)
    };
    let mut session = settled(settings(300, 300, 3));
    session.handle(Input::SetTimers(settings(300, 100, 3)));
    assert_eq!(tick(&mut session).required_min_rx_us, 100_000);
    assert_eq!(detect(&receive(&mut session, fast_remote)), Some(ms(900)));
    let final_ = ControlPacket {
        final_: true,
        ..fast_remote
    };
    assert_eq!(detect(&receive(&mut session, final_)), Some(ms(300)));
}

#[test]
fn a_longer_detection_time_takes_effect_at_once() {
    let mut session = settled(settings(300, 300, 3));
    session.handle(Input::SetTimers(settings(300, 600, 3)));
    assert!(session.snapshot().poll_active);
    assert_eq!(
        detect(&receive(&mut session, remote(State::Up))),
        Some(ms(1800))
    );
}

#[test]
fn a_change_during_a_poll_waits_for_it_and_then_starts_its_own() {
    let mut session = settled(settings(300, 300, 3));
    session.handle(Input::SetTimers(settings(200, 300, 3)));
    session.handle(Input::SetTimers(settings(100, 300, 3)));
    assert_eq!(tick(&mut session).desired_min_tx_us, 200_000);
    receive(&mut session, finishing(State::Up));
    let second = tick(&mut session);
    assert!(second.poll);
    assert_eq!(second.desired_min_tx_us, 100_000);
    receive(&mut session, finishing(State::Up));
    assert!(!tick(&mut session).poll);
}

#[test]
fn unchanged_intervals_start_no_poll() {
    let mut session = settled(Settings::default());
    assert!(session
        .handle(Input::SetTimers(Settings::default()))
        .is_empty());
    assert!(!session.snapshot().poll_active);
}

#[test]
fn a_new_detect_multiplier_goes_out_with_the_next_packet_without_a_poll() {
    let mut session = settled(Settings::default());
    session.handle(Input::SetTimers(settings(300, 300, 5)));
    let next = tick(&mut session);
    assert_eq!(next.detect_mult, 5);
    assert!(!next.poll);
}

#[test]
fn timer_changes_while_down_need_no_poll() {
    let mut session = started(settings(300, 300, 3));
    session.handle(Input::SetTimers(settings(50, 100, 3)));
    let next = tick(&mut session);
    assert!(!next.poll);
    assert_eq!(next.desired_min_tx_us, 1_000_000);
    assert_eq!(next.required_min_rx_us, 100_000);
}

#[test]
fn leaving_up_abandons_the_poll_and_returns_to_slow_start() {
    let mut session = up_with(settings(50, 50, 3));
    assert!(session.snapshot().poll_active);
    receive(&mut session, remote(State::Down));
    assert!(!session.snapshot().poll_active);
    let next = tick(&mut session);
    assert!(!next.poll);
    assert_eq!(next.desired_min_tx_us, 1_000_000);
}

#[test]
fn a_change_held_by_a_poll_is_made_at_once_when_up_is_left() {
    let mut session = settled(settings(300, 300, 3));
    session.handle(Input::SetTimers(settings(300, 200, 3)));
    session.handle(Input::SetTimers(settings(300, 100, 3)));
    receive(&mut session, remote(State::Down));
    assert_eq!(tick(&mut session).required_min_rx_us, 100_000);
}

// ----- administrative control (RFC 5880 §6.8.16) -----

#[test]
fn admin_down_sends_admin_down_with_diagnostic_7() {
    let mut session = settled(Settings::default());
    let actions = session.handle(Input::AdminDown);
    let admin = (
        State::Up,
        State::AdminDown,
        Diagnostic::AdministrativelyDown,
    );
    assert_eq!(changes(&actions), vec![admin]);
    assert!(actions.contains(&Action::DisarmDetect));
    let next = tick(&mut session);
    assert_eq!((next.state, next.diag.code()), (State::AdminDown, 7));
}

#[test]
fn admin_down_goes_silent_after_one_detection_time() {
    let mut session = settled(Settings::default());
    session.handle(Input::AdminDown);
    let mut covered = Duration::ZERO;
    let mut packets = 0;
    loop {
        let actions = session.handle(Input::TxTimerExpired);
        if actions.is_empty() {
            break;
        }
        packets += 1;
        assert!(packets < 20, "never went silent");
        covered += tx_delay(&actions).unwrap_or_default();
    }
    // Three times the slow-start second, as the remote system sees it.
    assert!(covered >= ms(3000), "only {covered:?}");
    assert_eq!(session.snapshot().tx_interval, None);
    assert_eq!(session.state(), State::AdminDown);
}

#[test]
fn admin_down_discards_packets_but_answers_polls() {
    let mut session = settled(Settings::default());
    session.handle(Input::AdminDown);
    let actions = receive(&mut session, remote(State::Down));
    assert!(changes(&actions).is_empty());
    assert_eq!(detect(&actions), None);
    let answer = only_sent(&receive(&mut session, polling(State::Down)));
    assert!(answer.final_);
    assert_eq!(answer.state, State::AdminDown);
    assert_eq!(session.snapshot().counters.packets_discarded, 2);
}

#[test]
fn admin_up_returns_to_down_and_starts_over() {
    let mut session = settled(Settings::default());
    session.handle(Input::AdminDown);
    while !session.handle(Input::TxTimerExpired).is_empty() {}
    let actions = session.handle(Input::AdminUp);
    let down = (State::AdminDown, State::Down, Diagnostic::NoDiagnostic);
    assert_eq!(changes(&actions), vec![down]);
    within(tx_delay(&actions), 750, 1000);
    receive(&mut session, remote(State::Init));
    assert_eq!(session.state(), State::Up);
}

#[test]
fn admin_commands_that_change_nothing_do_nothing() {
    let mut session = settled(Settings::default());
    assert!(session.handle(Input::AdminUp).is_empty());
    session.handle(Input::AdminDown);
    assert!(session.handle(Input::AdminDown).is_empty());
}

// ----- status -----

#[test]
fn counters_count_packets_and_transitions() {
    let mut session = settled(Settings::default());
    session.handle(Input::Discarded);
    session.handle(Input::DetectTimerExpired);
    let counters = session.snapshot().counters;
    assert_eq!(counters.packets_sent, 1);
    assert_eq!(counters.packets_received, 4);
    assert_eq!(counters.packets_discarded, 1);
    assert_eq!((counters.went_up, counters.went_down), (1, 1));
}

#[test]
fn the_snapshot_shows_both_sides() {
    let mut session = settled(Settings::default());
    let goodbye = ControlPacket {
        diag: Diagnostic::PathDown,
        ..remote(State::Up)
    };
    receive(&mut session, goodbye);
    let snapshot = session.snapshot();
    assert_eq!(
        (snapshot.state, snapshot.remote_state),
        (State::Up, State::Up)
    );
    assert_eq!(snapshot.remote_diag, Diagnostic::PathDown);
    assert_eq!(
        (snapshot.local_discr, snapshot.remote_discr),
        (OURS, THEIRS)
    );
    assert_eq!(snapshot.tx_interval, Some(ms(300)));
    assert_eq!(snapshot.detection_time, Some(ms(900)));
    assert_eq!(snapshot.remote_detect_mult, Some(3));
}

// ----- resuming after a restart -----

fn saved() -> ResumeState {
    ResumeState {
        local_discr: OURS,
        remote_discr: THEIRS,
        remote_min_rx_us: 10_000,
        remote_desired_min_tx_us: 300_000,
        remote_detect_mult: 3,
        desired_min_tx_us: 300_000,
        required_min_rx_us: 300_000,
        source_port: 0,
    }
}

fn resumed(settings: Settings) -> Session {
    Session::resume(settings, saved(), 7).expect("usable")
}

#[test]
fn resume_starts_up_and_transmits_at_once() {
    let mut session = resumed(Settings::default());
    let actions = session.start();
    let first = only_sent(&actions);
    assert_eq!((first.state, first.your_discr), (State::Up, THEIRS));
    assert!(!first.poll);
    assert!(changes(&actions).is_empty());
    assert_eq!(detect(&actions), Some(ms(900)));
    within(tx_delay(&actions), 225, 300);
}

#[test]
fn a_resumed_session_stays_up_while_the_remote_is_up() {
    let mut session = resumed(Settings::default());
    session.start();
    for _ in 0..3 {
        assert!(changes(&receive(&mut session, remote(State::Up))).is_empty());
        tick(&mut session);
    }
    assert_eq!(session.state(), State::Up);
}

#[test]
fn a_resumed_session_starts_over_when_the_remote_answers_down() {
    let mut session = resumed(Settings::default());
    session.start();
    let actions = receive(&mut session, remote(State::Down));
    let down = (
        State::Up,
        State::Down,
        Diagnostic::NeighborSignaledSessionDown,
    );
    assert_eq!(changes(&actions), vec![down]);
    assert_eq!(tick(&mut session).desired_min_tx_us, 1_000_000);
    receive(&mut session, remote(State::Down));
    assert_eq!(session.state(), State::Init);
    receive(&mut session, remote(State::Up));
    assert_eq!(session.state(), State::Up);
}

#[test]
fn a_resumed_session_with_new_settings_changes_them_through_a_poll() {
    let mut session = resumed(settings(600, 300, 3));
    let first = only_sent(&session.start());
    assert!(first.poll);
    assert_eq!(first.desired_min_tx_us, 600_000);
    // Slower only after the Final (§6.8.3).
    assert_eq!(session.snapshot().tx_interval, Some(ms(300)));
}

#[test]
fn resume_state_is_only_available_while_up() {
    let mut session = started(Settings::default());
    assert_eq!(session.resume_state(), None);
    receive(&mut session, remote(State::Down));
    assert_eq!(session.resume_state(), None);
    receive(&mut session, remote(State::Up));
    receive(&mut session, finishing(State::Up));
    assert_eq!(session.resume_state(), Some(saved()));
}

#[test]
fn resume_state_keeps_the_values_a_poll_still_holds() {
    let mut session = settled(settings(300, 300, 3));
    session.handle(Input::SetTimers(settings(600, 100, 3)));
    let state = session.resume_state().expect("up");
    assert_eq!(state.desired_min_tx_us, 300_000);
    assert_eq!(state.required_min_rx_us, 300_000);
}

#[test]
fn resume_state_without_a_source_port_still_parses() {
    let json = r#"{"local_discr":1,"remote_discr":170,"remote_min_rx_us":10000,
        "remote_desired_min_tx_us":300000,"remote_detect_mult":3,
        "desired_min_tx_us":300000,"required_min_rx_us":300000}"#;
    let state: ResumeState = serde_json::from_str(json).expect("parses");
    assert_eq!(state, saved());
}

#[test]
fn resume_state_round_trips_through_json() {
    let json = serde_json::to_string(&saved()).expect("serialises");
    assert!(json.contains("\"remote_discr\":170"), "{json}");
    let back: ResumeState = serde_json::from_str(&json).expect("parses");
    assert_eq!(back, saved());
}

#[test]
fn resume_refuses_state_with_a_zero_discriminator_or_multiplier() {
    for broken in [
        ResumeState {
            local_discr: 0,
            ..saved()
        },
        ResumeState {
            remote_discr: 0,
            ..saved()
        },
        ResumeState {
            remote_detect_mult: 0,
            ..saved()
        },
    ] {
        assert!(Session::resume(Settings::default(), broken, 7).is_none());
    }
}

#[test]
fn the_jittered_delay_is_never_zero() {
    let mut session = fresh(Settings::default());
    assert!((0..100).all(|_| session.jittered(1) >= 1));
}
