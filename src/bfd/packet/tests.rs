//! Byte-exact fixtures written from the RFC 5880 §4.1 layout, one row per
//! reception check of §6.8.6, and a bounded, seeded fuzz loop.

use super::*;

/// Hex with whitespace; `#` starts a comment that runs to the end of line.
fn hex(text: &str) -> Vec<u8> {
    let digits: String = text
        .lines()
        .map(|l| l.split('#').next().unwrap_or_default())
        .flat_map(|l| l.chars().filter(|c| !c.is_whitespace()))
        .collect();
    assert!(digits.len() % 2 == 0, "odd hex: {digits}");
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).expect("hex digit"))
        .collect()
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Encoding `packet` gives `fixture` exactly, and decoding `fixture` gives
/// `packet`.
fn assert_pair(fixture: &str, packet: &ControlPacket) {
    let bytes = hex(fixture);
    assert_eq!(to_hex(&packet.encode()), to_hex(&bytes), "{packet:?}");
    assert_eq!(decode(&bytes), Ok(*packet));
}

fn down() -> ControlPacket {
    ControlPacket {
        diag: Diagnostic::NoDiagnostic,
        state: State::Down,
        poll: false,
        final_: false,
        control_plane_independent: false,
        demand: false,
        detect_mult: 3,
        my_discr: 0x0a0b_0c0d,
        your_discr: 0,
        desired_min_tx_us: 1_000_000,
        required_min_rx_us: 300_000,
        required_min_echo_rx_us: 0,
    }
}

const DOWN: &str = "
    20          # version 1, diag 0 (No Diagnostic)
    40          # state 1 (Down), no flags
    03          # detect mult 3
    18          # length 24
    0a0b0c0d    # my discriminator
    00000000    # your discriminator: not known yet
    000f4240    # desired min TX 1,000,000 us (slow start)
    000493e0    # required min RX 300,000 us
    00000000    # required min echo RX: no Echo
";

fn valid() -> Vec<u8> {
    hex(DOWN)
}

/// `valid()` with byte `at` replaced.
fn with(at: usize, byte: u8) -> Vec<u8> {
    let mut bytes = valid();
    bytes[at] = byte;
    bytes
}

#[test]
fn a_first_down_packet_has_no_your_discriminator_and_the_slow_start_interval() {
    assert_pair(DOWN, &down());
}

#[test]
fn an_up_packet_carrying_a_poll_sets_the_p_bit() {
    let packet = ControlPacket {
        state: State::Up,
        poll: true,
        your_discr: 0x1122_3344,
        desired_min_tx_us: 300_000,
        ..down()
    };
    assert_pair(
        "20 e0 03 18  # Up (3 << 6) | P (0x20)
         0a0b0c0d 11223344 000493e0 000493e0 00000000",
        &packet,
    );
}

#[test]
fn a_final_sets_the_f_bit_alone() {
    let packet = ControlPacket {
        state: State::Up,
        final_: true,
        your_discr: 0x1122_3344,
        ..down()
    };
    assert_pair(
        "20 d0 03 18  # Up (3 << 6) | F (0x10)
         0a0b0c0d 11223344 000f4240 000493e0 00000000",
        &packet,
    );
}

#[test]
fn admin_down_carries_diagnostic_7() {
    let packet = ControlPacket {
        diag: Diagnostic::AdministrativelyDown,
        state: State::AdminDown,
        your_discr: 0x1122_3344,
        ..down()
    };
    assert_pair(
        "27 00 03 18  # diag 7, state 0 (AdminDown)
         0a0b0c0d 11223344 000f4240 000493e0 00000000",
        &packet,
    );
}

#[test]
fn an_init_packet_with_the_c_and_d_bits_and_large_intervals_round_trips() {
    let packet = ControlPacket {
        diag: Diagnostic::NeighborSignaledSessionDown,
        state: State::Init,
        control_plane_independent: true,
        demand: true,
        detect_mult: 255,
        my_discr: u32::MAX,
        your_discr: 1,
        desired_min_tx_us: u32::MAX,
        required_min_rx_us: 0,
        required_min_echo_rx_us: 50_000,
        ..down()
    };
    assert_pair(
        "23 8a ff 18  # diag 3; Init (2 << 6) | C (0x08) | D (0x02); mult 255
         ffffffff 00000001 ffffffff 00000000 0000c350",
        &packet,
    );
}

#[test]
fn an_unassigned_diagnostic_is_kept_as_received() {
    let bytes = with(0, 0x29);
    let packet = decode(&bytes).expect("valid");
    assert_eq!(packet.diag, Diagnostic::Other(9));
    assert_eq!(packet.encode()[0], 0x29);
}

#[test]
fn bytes_after_the_length_field_are_ignored() {
    let mut bytes = valid();
    bytes.extend_from_slice(&[0xde, 0xad]);
    assert_eq!(decode(&bytes), Ok(down()));
}

#[test]
fn every_state_and_diagnostic_code_survives_a_round_trip() {
    for code in 0..4 {
        assert_eq!(State::from_code(code).code(), code);
    }
    for code in 0..32 {
        assert_eq!(Diagnostic::from_code(code).code(), code);
    }
}

#[test]
fn each_reception_check_names_what_failed() {
    let mut short = valid();
    short.truncate(20);
    let mut authenticated = with(1, 0x44);
    authenticated[3] = 26;
    authenticated.extend_from_slice(&[1, 2]);
    let mut auth_too_short = with(1, 0x44);
    auth_too_short.extend_from_slice(&[1, 2]);
    let mut zero_my = valid();
    zero_my[4..8].copy_from_slice(&[0; 4]);
    let mut up_without_your = with(1, 0xc0);
    up_without_your[8..12].copy_from_slice(&[0; 4]);
    let mut init_without_your = with(1, 0x80);
    init_without_your[8..12].copy_from_slice(&[0; 4]);
    let cases: Vec<(&str, Vec<u8>, PacketError)> = vec![
        ("empty", vec![], PacketError::Truncated { received: 0 }),
        (
            "three bytes",
            vec![0x20, 0x40, 3],
            PacketError::Truncated { received: 3 },
        ),
        ("version 0", with(0, 0x00), PacketError::Version(0)),
        ("version 2", with(0, 0x40), PacketError::Version(2)),
        (
            "length 23",
            with(3, 23),
            PacketError::LengthTooSmall {
                length: 23,
                minimum: 24,
            },
        ),
        (
            "A bit with length 24",
            auth_too_short,
            PacketError::LengthTooSmall {
                length: 24,
                minimum: 26,
            },
        ),
        (
            "length 25 in 24 bytes",
            with(3, 25),
            PacketError::LengthExceedsPayload {
                length: 25,
                received: 24,
            },
        ),
        (
            "24-byte length in 20 bytes",
            short,
            PacketError::LengthExceedsPayload {
                length: 24,
                received: 20,
            },
        ),
        ("detect mult 0", with(2, 0), PacketError::ZeroDetectMult),
        ("M bit", with(1, 0x41), PacketError::Multipoint),
        (
            "my discriminator 0",
            zero_my,
            PacketError::ZeroMyDiscriminator,
        ),
        (
            "your discriminator 0 when Up",
            up_without_your,
            PacketError::ZeroYourDiscriminator(State::Up),
        ),
        (
            "your discriminator 0 when Init",
            init_without_your,
            PacketError::ZeroYourDiscriminator(State::Init),
        ),
        (
            "A bit, no authentication configured",
            authenticated,
            PacketError::Authentication,
        ),
    ];
    for (name, bytes, expected) in cases {
        assert_eq!(decode(&bytes), Err(expected), "{name}");
    }
}

#[test]
fn checks_run_in_the_order_rfc_5880_lists_them() {
    let mut bytes = with(0, 0x40);
    bytes[2] = 0;
    assert_eq!(decode(&bytes), Err(PacketError::Version(2)));
    let mut bytes = with(2, 0);
    bytes[1] = 0x41;
    assert_eq!(decode(&bytes), Err(PacketError::ZeroDetectMult));
}

#[test]
fn your_discriminator_may_be_zero_in_down_and_admin_down() {
    assert!(decode(&with(1, 0x40)).is_ok());
    assert!(decode(&with(1, 0x00)).is_ok());
}

#[test]
fn errors_read_as_lowercase_phrases() {
    let err = PacketError::LengthExceedsPayload {
        length: 25,
        received: 24,
    };
    assert_eq!(
        err.to_string(),
        "length field 25 exceeds the 24 bytes received"
    );
    assert_eq!(
        PacketError::ZeroYourDiscriminator(State::Up).to_string(),
        "your discriminator is zero in state Up"
    );
}

/// What every accepted input must satisfy: it re-encodes to itself.
fn check(bytes: &[u8]) {
    if let Ok(packet) = decode(bytes) {
        assert_eq!(decode(&packet.encode()), Ok(packet), "{}", to_hex(bytes));
    }
}

#[test]
fn random_datagrams_never_panic_and_accepted_ones_round_trip() {
    let mut rng = fastrand::Rng::with_seed(5880);
    for _ in 0..4000 {
        let len = rng.usize(0..=64);
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.u8(..)).collect();
        // Half of them get a plausible header so that the later checks
        // are reached too.
        if rng.bool() && len >= 4 {
            bytes[0] = 0x20 | (bytes[0] & 0x1f);
            bytes[3] = rng.u8(20..=30);
        }
        check(&bytes);
    }
}

#[test]
fn mutated_valid_packets_never_panic_and_accepted_ones_round_trip() {
    let mut rng = fastrand::Rng::with_seed(5881);
    let mut accepted = 0;
    for _ in 0..4000 {
        let mut bytes = valid();
        for _ in 0..rng.usize(1..=3) {
            let at = rng.usize(..bytes.len());
            bytes[at] ^= 1 << rng.u8(0..8);
        }
        match rng.u8(0..4) {
            0 => bytes.truncate(rng.usize(0..=bytes.len())),
            1 => bytes.extend((0..rng.usize(1..8)).map(|_| rng.u8(..))),
            _ => {}
        }
        accepted += usize::from(decode(&bytes).is_ok());
        check(&bytes);
    }
    assert!(accepted > 100, "only {accepted} mutants were accepted");
}
