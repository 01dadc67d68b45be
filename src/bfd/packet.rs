//! The BFD Control packet (RFC 5880 §4.1): decoding with every
//! packet-local reception check of RFC 5880 §6.8.6, and encoding of the
//! 24-byte mandatory section, the only form herald sends.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Vers |  Diag   |Sta|P|F|C|A|D|M|  Detect Mult  |    Length     |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                       My Discriminator                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                      Your Discriminator                       |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Desired Min TX Interval                    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                   Required Min RX Interval                    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                 Required Min Echo RX Interval                 |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! herald configures no authentication, so a packet with the A bit is
//! discarded (RFC 5880 §6.8.6) and the optional authentication section is
//! never parsed. A and M therefore have no field in [`ControlPacket`]: a
//! decoded packet never carries them and an encoded one never sets them.
//! The demultiplexing steps of §6.8.6 (which session a packet belongs to)
//! are the receiver's, in the `mux` module.

use std::fmt;

use bytes::Buf;
use thiserror::Error;

use super::iana::{self, diag, flag, layout, state};

/// Length of every packet herald sends.
pub const CONTROL_LEN: usize = iana::CONTROL_LEN as usize;

/// A session state, as carried in the Sta field and kept in
/// bfd.SessionState and bfd.RemoteSessionState (RFC 5880 §4.1, §6.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Held down by its operator; sends no diagnostic of failure.
    AdminDown,
    /// Down, or never up: the handshake starts here.
    Down,
    /// The remote system is heard and is Down itself.
    Init,
    /// Both systems hear each other.
    Up,
}

impl State {
    /// The state of a 2-bit Sta field; all four values are assigned.
    fn from_code(code: u8) -> State {
        match code & layout::STATE_MASK {
            state::ADMIN_DOWN => State::AdminDown,
            state::DOWN => State::Down,
            state::INIT => State::Init,
            _ => State::Up,
        }
    }

    /// The Sta field value.
    pub fn code(self) -> u8 {
        match self {
            State::AdminDown => state::ADMIN_DOWN,
            State::Down => state::DOWN,
            State::Init => state::INIT,
            State::Up => state::UP,
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::AdminDown => "AdminDown",
            State::Down => "Down",
            State::Init => "Init",
            State::Up => "Up",
        })
    }
}

/// Why a system's session last changed state (RFC 5880 §4.1, IANA "BFD
/// Diagnostic Codes").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Diagnostic {
    /// 0: nothing to report.
    NoDiagnostic,
    /// 1: no packet arrived within the Detection Time.
    ControlDetectionTimeExpired,
    /// 2: the Echo function failed.
    EchoFunctionFailed,
    /// 3: the remote system said it went Down or AdminDown.
    NeighborSignaledSessionDown,
    /// 4: the forwarding plane was reset.
    ForwardingPlaneReset,
    /// 5: the path is down.
    PathDown,
    /// 6: a concatenated path is down.
    ConcatenatedPathDown,
    /// 7: the session was taken down by its operator.
    AdministrativelyDown,
    /// 8: a concatenated path is down in the reverse direction.
    ReverseConcatenatedPathDown,
    /// Any other 5-bit code, kept as received: RFC 5880 §6.8.6 does not
    /// ask for such packets to be discarded, and later documents assign
    /// more codes (RFC 6428 assigns 9).
    Other(u8),
}

impl Diagnostic {
    fn from_code(code: u8) -> Diagnostic {
        match code & layout::DIAG_MASK {
            diag::NO_DIAGNOSTIC => Diagnostic::NoDiagnostic,
            diag::CONTROL_DETECTION_TIME_EXPIRED => Diagnostic::ControlDetectionTimeExpired,
            diag::ECHO_FUNCTION_FAILED => Diagnostic::EchoFunctionFailed,
            diag::NEIGHBOR_SIGNALED_SESSION_DOWN => Diagnostic::NeighborSignaledSessionDown,
            diag::FORWARDING_PLANE_RESET => Diagnostic::ForwardingPlaneReset,
            diag::PATH_DOWN => Diagnostic::PathDown,
            diag::CONCATENATED_PATH_DOWN => Diagnostic::ConcatenatedPathDown,
            diag::ADMINISTRATIVELY_DOWN => Diagnostic::AdministrativelyDown,
            diag::REVERSE_CONCATENATED_PATH_DOWN => Diagnostic::ReverseConcatenatedPathDown,
            other => Diagnostic::Other(other),
        }
    }

    /// The Diag field value; [`Diagnostic::Other`] keeps its low 5 bits.
    pub fn code(self) -> u8 {
        match self {
            Diagnostic::NoDiagnostic => diag::NO_DIAGNOSTIC,
            Diagnostic::ControlDetectionTimeExpired => diag::CONTROL_DETECTION_TIME_EXPIRED,
            Diagnostic::EchoFunctionFailed => diag::ECHO_FUNCTION_FAILED,
            Diagnostic::NeighborSignaledSessionDown => diag::NEIGHBOR_SIGNALED_SESSION_DOWN,
            Diagnostic::ForwardingPlaneReset => diag::FORWARDING_PLANE_RESET,
            Diagnostic::PathDown => diag::PATH_DOWN,
            Diagnostic::ConcatenatedPathDown => diag::CONCATENATED_PATH_DOWN,
            Diagnostic::AdministrativelyDown => diag::ADMINISTRATIVELY_DOWN,
            Diagnostic::ReverseConcatenatedPathDown => diag::REVERSE_CONCATENATED_PATH_DOWN,
            Diagnostic::Other(code) => code & layout::DIAG_MASK,
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Diagnostic::NoDiagnostic => "No Diagnostic",
            Diagnostic::ControlDetectionTimeExpired => "Control Detection Time Expired",
            Diagnostic::EchoFunctionFailed => "Echo Function Failed",
            Diagnostic::NeighborSignaledSessionDown => "Neighbor Signaled Session Down",
            Diagnostic::ForwardingPlaneReset => "Forwarding Plane Reset",
            Diagnostic::PathDown => "Path Down",
            Diagnostic::ConcatenatedPathDown => "Concatenated Path Down",
            Diagnostic::AdministrativelyDown => "Administratively Down",
            Diagnostic::ReverseConcatenatedPathDown => "Reverse Concatenated Path Down",
            Diagnostic::Other(code) => return write!(f, "diagnostic {code}"),
        };
        f.write_str(name)
    }
}

/// A Control packet that passed the packet-local checks of RFC 5880
/// §6.8.6, or one herald is about to send. Intervals are in microseconds,
/// as on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ControlPacket {
    /// Diag: the sender's reason for its last state change.
    pub diag: Diagnostic,
    /// Sta: the sender's session state.
    pub state: State,
    /// P: the sender runs a Poll Sequence and asks for a Final.
    pub poll: bool,
    /// F: the answer to a Poll.
    pub final_: bool,
    /// C: the sender's BFD does not share fate with its control plane.
    pub control_plane_independent: bool,
    /// D: the sender wants Demand mode.
    pub demand: bool,
    /// Detect Mult: the sender's bfd.DetectMult, never zero.
    pub detect_mult: u8,
    /// My Discriminator: the sender's bfd.LocalDiscr, never zero.
    pub my_discr: u32,
    /// Your Discriminator: the sender's bfd.RemoteDiscr, zero until it
    /// has heard from us.
    pub your_discr: u32,
    /// Desired Min TX Interval.
    pub desired_min_tx_us: u32,
    /// Required Min RX Interval; zero asks for no periodic packets.
    pub required_min_rx_us: u32,
    /// Required Min Echo RX Interval; zero means no Echo support.
    pub required_min_echo_rx_us: u32,
}

/// Which reception check of RFC 5880 §6.8.6 a packet failed. Each one
/// means "discard the packet"; none affects any session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum PacketError {
    /// Fewer bytes than the 4 that hold the Length field.
    #[error("{received} bytes are too few for a Control packet")]
    Truncated {
        /// Bytes in the datagram.
        received: usize,
    },
    /// The version is not 1.
    #[error("version {0} is not 1")]
    Version(u8),
    /// The Length field is below 24, or below 26 with the A bit.
    #[error("length field {length} is below the minimum of {minimum}")]
    LengthTooSmall {
        /// The Length field.
        length: u8,
        /// The smallest valid value for this packet.
        minimum: u8,
    },
    /// The Length field is greater than the UDP payload.
    #[error("length field {length} exceeds the {received} bytes received")]
    LengthExceedsPayload {
        /// The Length field.
        length: u8,
        /// Bytes in the datagram.
        received: usize,
    },
    /// Detect Mult is zero.
    #[error("detect multiplier is zero")]
    ZeroDetectMult,
    /// The Multipoint bit is set.
    #[error("multipoint bit is set")]
    Multipoint,
    /// My Discriminator is zero.
    #[error("my discriminator is zero")]
    ZeroMyDiscriminator,
    /// Your Discriminator is zero while the sender is Init or Up.
    #[error("your discriminator is zero in state {0}")]
    ZeroYourDiscriminator(State),
    /// The A bit is set, and herald uses no authentication.
    #[error("authentication present but none is configured")]
    Authentication,
}

/// Decodes one Control packet from a UDP payload, applying the reception
/// checks of RFC 5880 §6.8.6 in the order that section lists them. Bytes
/// after the Length field's end are ignored (they may be padding).
pub fn decode(data: &[u8]) -> Result<ControlPacket, PacketError> {
    let received = data.len();
    let Some(&[b0, b1, detect_mult, length]) = data.get(..4) else {
        return Err(PacketError::Truncated { received });
    };
    let version = b0 >> layout::VERSION_SHIFT;
    if version != iana::VERSION {
        return Err(PacketError::Version(version));
    }
    let auth = b1 & flag::AUTH != 0;
    let minimum = if auth {
        iana::MIN_LENGTH_WITH_AUTH
    } else {
        iana::MIN_LENGTH
    };
    if length < minimum {
        return Err(PacketError::LengthTooSmall { length, minimum });
    }
    let Some(mut rest) = data.get(4..usize::from(length)) else {
        return Err(PacketError::LengthExceedsPayload { length, received });
    };
    if detect_mult == 0 {
        return Err(PacketError::ZeroDetectMult);
    }
    if b1 & flag::MULTIPOINT != 0 {
        return Err(PacketError::Multipoint);
    }
    // The Length field is at least 24, so these five words are there; the
    // checked reads only keep the function total.
    let mut word = || {
        rest.try_get_u32()
            .map_err(|_| PacketError::Truncated { received })
    };
    let my_discr = word()?;
    let your_discr = word()?;
    let desired_min_tx_us = word()?;
    let required_min_rx_us = word()?;
    let required_min_echo_rx_us = word()?;
    if my_discr == 0 {
        return Err(PacketError::ZeroMyDiscriminator);
    }
    let state = State::from_code(b1 >> layout::STATE_SHIFT);
    if your_discr == 0 && !matches!(state, State::Down | State::AdminDown) {
        return Err(PacketError::ZeroYourDiscriminator(state));
    }
    if auth {
        return Err(PacketError::Authentication);
    }
    Ok(ControlPacket {
        diag: Diagnostic::from_code(b0),
        state,
        poll: b1 & flag::POLL != 0,
        final_: b1 & flag::FINAL != 0,
        control_plane_independent: b1 & flag::CONTROL_PLANE_INDEPENDENT != 0,
        demand: b1 & flag::DEMAND != 0,
        detect_mult,
        my_discr,
        your_discr,
        desired_min_tx_us,
        required_min_rx_us,
        required_min_echo_rx_us,
    })
}

impl ControlPacket {
    /// The 24-byte wire form: version 1, no authentication, M clear.
    pub fn encode(&self) -> [u8; CONTROL_LEN] {
        let b0 = (iana::VERSION << layout::VERSION_SHIFT) | self.diag.code();
        let flags = [
            (self.poll, flag::POLL),
            (self.final_, flag::FINAL),
            (
                self.control_plane_independent,
                flag::CONTROL_PLANE_INDEPENDENT,
            ),
            (self.demand, flag::DEMAND),
        ]
        .iter()
        .filter(|(set, _)| *set)
        .fold(0, |bits, (_, bit)| bits | bit);
        let b1 = (self.state.code() << layout::STATE_SHIFT) | flags;
        let header = [b0, b1, self.detect_mult, iana::CONTROL_LEN];
        let words = [
            self.my_discr,
            self.your_discr,
            self.desired_min_tx_us,
            self.required_min_rx_us,
            self.required_min_echo_rx_us,
        ];
        let mut out = [0; CONTROL_LEN];
        let bytes = header
            .into_iter()
            .chain(words.into_iter().flat_map(u32::to_be_bytes));
        for (slot, byte) in out.iter_mut().zip(bytes) {
            *slot = byte;
        }
        out
    }
}

#[cfg(test)]
mod tests;
