//! Every number BFD puts on the wire or checks on reception, with the
//! document that assigns it.
//!
//! Nothing else in the module spells a raw code, port, bit or length: a
//! reader checking herald against RFC 5880, RFC 5881 and the IANA "BFD
//! Parameters" registry only needs this file.

/// Protocol version of BFD Control packets (RFC 5880 §4.1).
pub const VERSION: u8 = 1;

/// UDP destination port of single-hop Control packets (RFC 5881 §4).
pub const CONTROL_PORT: u16 = 3784;
/// UDP destination port of multihop Control packets (RFC 5883 §5). herald
/// is single-hop only; the number is here so the choice is visible.
pub const MULTIHOP_CONTROL_PORT: u16 = 4784;
/// Lowest UDP source port of Control packets (RFC 5881 §4).
pub const SOURCE_PORT_MIN: u16 = 49152;
/// Highest UDP source port of Control packets (RFC 5881 §4).
pub const SOURCE_PORT_MAX: u16 = 65535;
/// TTL (IPv6: Hop Limit) of sent packets, and the only one accepted on
/// reception without authentication (RFC 5881 §5).
pub const SINGLE_HOP_TTL: u8 = 255;
/// IPv4 TOS and IPv6 Traffic Class of sent packets: DSCP CS6 (48 << 2),
/// the Network Control class of RFC 4594 §3.1, so that routers queue and
/// police BFD with their other control traffic. RFC 5881 asks for none.
pub const NETWORK_CONTROL_TOS: u8 = 0xc0;

/// Length of the mandatory section of a Control packet, the only length
/// herald sends (RFC 5880 §4.1).
pub const CONTROL_LEN: u8 = 24;
/// Smallest acceptable Length field without the A bit (RFC 5880 §6.8.6).
pub const MIN_LENGTH: u8 = CONTROL_LEN;
/// Smallest acceptable Length field with the A bit: the mandatory section
/// and the 2-byte authentication header (RFC 5880 §6.8.6, §4.1).
pub const MIN_LENGTH_WITH_AUTH: u8 = 26;

/// Where the fields sit in the first two bytes (RFC 5880 §4.1): Vers is
/// the top 3 bits and Diag the low 5 bits of byte 0; Sta is the top 2 bits
/// of byte 1, the flags its low 6 bits.
pub mod layout {
    /// Right shift of the 3-bit version in byte 0.
    pub const VERSION_SHIFT: u8 = 5;
    /// Mask of the 5-bit diagnostic in byte 0.
    pub const DIAG_MASK: u8 = 0x1f;
    /// Right shift of the 2-bit state in byte 1.
    pub const STATE_SHIFT: u8 = 6;
    /// Mask of the 2-bit state once shifted down.
    pub const STATE_MASK: u8 = 0x03;
}

/// Flag bits of byte 1 (RFC 5880 §4.1).
pub mod flag {
    /// P: Poll, the sender asks for a Final (RFC 5880 §6.5).
    pub const POLL: u8 = 0x20;
    /// F: Final, the answer to a Poll (RFC 5880 §6.5).
    pub const FINAL: u8 = 0x10;
    /// C: Control Plane Independent (RFC 5880 §4.1). herald shares fate
    /// with its control plane, so it never sets C.
    pub const CONTROL_PLANE_INDEPENDENT: u8 = 0x08;
    /// A: Authentication Present (RFC 5880 §4.1).
    pub const AUTH: u8 = 0x04;
    /// D: Demand (RFC 5880 §6.6).
    pub const DEMAND: u8 = 0x02;
    /// M: Multipoint, reserved and always zero (RFC 5880 §4.1).
    pub const MULTIPOINT: u8 = 0x01;
}

/// Session state codes of the Sta field (RFC 5880 §4.1).
pub mod state {
    pub const ADMIN_DOWN: u8 = 0;
    pub const DOWN: u8 = 1;
    pub const INIT: u8 = 2;
    pub const UP: u8 = 3;
}

/// Diagnostic codes (RFC 5880 §4.1; IANA "BFD Diagnostic Codes").
pub mod diag {
    pub const NO_DIAGNOSTIC: u8 = 0;
    pub const CONTROL_DETECTION_TIME_EXPIRED: u8 = 1;
    pub const ECHO_FUNCTION_FAILED: u8 = 2;
    pub const NEIGHBOR_SIGNALED_SESSION_DOWN: u8 = 3;
    pub const FORWARDING_PLANE_RESET: u8 = 4;
    pub const PATH_DOWN: u8 = 5;
    pub const CONCATENATED_PATH_DOWN: u8 = 6;
    pub const ADMINISTRATIVELY_DOWN: u8 = 7;
    pub const REVERSE_CONCATENATED_PATH_DOWN: u8 = 8;
}

/// Interval values, in microseconds as on the wire.
pub mod interval {
    /// Floor of bfd.DesiredMinTxInterval while the session is not Up
    /// (RFC 5880 §6.8.3).
    pub const SLOW_TX_US: u32 = 1_000_000;
    /// Initial bfd.RemoteMinRxInterval, before anything is heard from the
    /// remote system (RFC 5880 §6.8.1).
    pub const INITIAL_REMOTE_MIN_RX_US: u32 = 1;
}
