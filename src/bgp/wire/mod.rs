//! The BGP-4 wire format (RFC 4271 §4) and the extensions herald speaks.
//!
//! Everything here is pure: bytes in, typed messages out, and back. Decoding
//! treats its input as hostile: it never panics, never indexes past what it
//! has checked, and every failure is a [`DecodeError`] that maps to the exact
//! NOTIFICATION (code, subcode, data) the RFCs prescribe.
//!
//! Layout: one file per message type, [`iana`] holds every wire number,
//! [`error`] the decode-error tree and its NOTIFICATION mapping.

use std::net::{IpAddr, Ipv4Addr};

use bytes::Bytes;
use ipnet::{IpNet, Ipv4Net};

mod attributes;
mod buf;
pub mod error;
mod header;
pub mod iana;
mod nlri;
mod notification;
mod open;
mod pack;
mod route_refresh;
mod update;

pub use error::{DecodeError, EncodeError, ErrorHandling, HeaderError, OpenError, UpdateError};
pub use header::try_parse;
pub use pack::{pack_announce, pack_withdraw};

/// Largest BGP message without the extended-message capability (RFC 4271 §4).
pub const MAX_MESSAGE_LEN: usize = 4096;
/// Length of the fixed message header: marker, length, type (RFC 4271 §4.1).
pub const HEADER_LEN: usize = 19;

/// What the codec must know about the session to encode and decode.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Context {
    /// Both sides advertised the 4-octet AS capability (RFC 6793 §3), so
    /// AS_PATH carries 4-byte ASNs and AS4_PATH is not used.
    pub four_octet_as: bool,
}

/// An address family herald can carry (AFI/SAFI pairs, RFC 4760 §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// AFI 1, SAFI 1.
    Ipv4Unicast,
    /// AFI 2, SAFI 1.
    Ipv6Unicast,
}

impl Family {
    /// The (AFI, SAFI) pair that names this family on the wire.
    pub fn afi_safi(self) -> (u16, u8) {
        match self {
            Family::Ipv4Unicast => (iana::afi::IPV4, iana::safi::UNICAST),
            Family::Ipv6Unicast => (iana::afi::IPV6, iana::safi::UNICAST),
        }
    }

    /// The family for an (AFI, SAFI) pair, if herald carries it.
    pub fn from_afi_safi(afi: u16, safi: u8) -> Option<Family> {
        match (afi, safi) {
            (iana::afi::IPV4, iana::safi::UNICAST) => Some(Family::Ipv4Unicast),
            (iana::afi::IPV6, iana::safi::UNICAST) => Some(Family::Ipv6Unicast),
            _ => None,
        }
    }

    /// The unicast family a prefix belongs to.
    pub fn of(prefix: &IpNet) -> Family {
        match prefix {
            IpNet::V4(_) => Family::Ipv4Unicast,
            IpNet::V6(_) => Family::Ipv6Unicast,
        }
    }
}

impl std::fmt::Display for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Family::Ipv4Unicast => "ipv4-unicast",
            Family::Ipv6Unicast => "ipv6-unicast",
        })
    }
}

/// One BGP message (RFC 4271 §4).
// An UPDATE is much larger than the other variants; messages live briefly
// between the socket and their handler, so boxing would only add an
// allocation per message.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    Open(Open),
    Update(Update),
    Notification(Notification),
    Keepalive,
    RouteRefresh(RouteRefresh),
}

/// OPEN (RFC 4271 §4.2) with its capabilities (RFC 5492).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Open {
    /// Always 4 when we encode; decode rejects anything else.
    pub version: u8,
    /// The sender's real ASN: on encode, values above 65535 put AS_TRANS in
    /// the 2-byte field (RFC 6793 §4.1); on decode, the 4-octet AS
    /// capability wins over the 2-byte field when present.
    pub asn: u32,
    /// Proposed hold time in seconds: 0 or at least 3.
    pub hold_time: u16,
    /// BGP Identifier (RFC 6286): non-zero.
    pub bgp_id: Ipv4Addr,
    /// Capabilities in the order they appeared or are to be sent. The 4-octet
    /// AS capability is carried here too, so a decoded OPEN can be re-encoded
    /// byte for byte.
    pub capabilities: Vec<Capability>,
}

/// One capability of an OPEN (RFC 5492 §4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Capability {
    /// Multiprotocol extensions (RFC 4760 §8) for a family we know.
    Multiprotocol(Family),
    /// Route refresh (RFC 2918 §2).
    RouteRefresh,
    /// Graceful restart (RFC 4724 §3, with the N flag of RFC 8538 §2).
    GracefulRestart(GracefulRestart),
    /// 4-octet AS number support carrying the sender's ASN (RFC 6793 §3).
    FourOctetAs(u32),
    /// Any other capability, including multiprotocol for a family we do not
    /// carry; kept raw so that it can be logged and ignored (RFC 5492 §3).
    Unknown { code: u8, value: Bytes },
}

/// The Graceful Restart capability (RFC 4724 §3; the N flag is RFC 8538
/// §2).
///
/// ```text
///  0                   1
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |R|N|0|0|     Restart Time      |  flags: 4 bits, time: 12 bits
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  AFI (2)  | SAFI (1) |F|0...0|  repeated once per family
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
///
/// The value is 2 + 4k octets; any other length is malformed. Reserved
/// bits are sent as zero and ignored on receipt. Entries for an AFI/SAFI
/// herald does not carry are skipped on decode: herald neither sends nor
/// keeps routes of those families, so whether the peer preserves their
/// forwarding state changes nothing it does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GracefulRestart {
    /// Restart State (R): the sender has just restarted, and its peer must
    /// not wait for its End-of-RIB before sending routes (RFC 4724 §3).
    pub restart_state: bool,
    /// Graceful Notification (N): the sender applies graceful restart to
    /// NOTIFICATIONs other than Hard Reset and to hold timer expiry; it only
    /// takes effect when both sides set it (RFC 8538 §2).
    pub notification: bool,
    /// Seconds the peer should keep the sender's routes while waiting for
    /// the session to come back. The field has 12 bits: decode never yields
    /// more than 4095 and encode sends 4095 for anything larger.
    pub restart_time: u16,
    /// The families whose routes the sender asks its peer to keep across
    /// its restart, in the order sent, each with its Forwarding State (F)
    /// bit: whether forwarding for that family survived the restart.
    pub families: Vec<(Family, bool)>,
}

/// UPDATE (RFC 4271 §4.3): IPv4 unicast in the classic fields, other
/// families in MP_REACH_NLRI / MP_UNREACH_NLRI (RFC 4760).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Update {
    pub withdrawn: Vec<Ipv4Net>,
    /// `None` for a message without path attributes (withdrawals only, or
    /// the IPv4 End-of-RIB marker).
    pub attributes: Option<PathAttributes>,
    pub nlri: Vec<Ipv4Net>,
    /// Set on decode when an attribute was malformed in a way that RFC 7606
    /// §3 handles by "treat-as-withdraw" or "attribute discard" rather than
    /// by resetting the session; the text says what was wrong. herald
    /// ignores received routes, so such an UPDATE is only logged.
    pub treat_as_withdraw: Option<String>,
}

/// The path attributes herald sends and understands (RFC 4271 §5).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PathAttributes {
    pub origin: Origin,
    /// AS_PATH as segments; herald sends a single AS_SEQUENCE.
    pub as_path: Vec<AsPathSegment>,
    /// NEXT_HOP for IPv4 NLRI in the classic fields.
    pub next_hop: Option<Ipv4Addr>,
    pub med: Option<u32>,
    pub local_pref: Option<u32>,
    pub atomic_aggregate: bool,
    /// COMMUNITIES (RFC 1997), each as its 32-bit value.
    pub communities: Vec<u32>,
    /// EXTENDED_COMMUNITIES (RFC 4360), each as its 8 octets.
    pub extended_communities: Vec<[u8; 8]>,
    /// LARGE_COMMUNITY (RFC 8092): global administrator, local 1, local 2.
    pub large_communities: Vec<[u32; 3]>,
    pub mp_reach: Option<MpReach>,
    pub mp_unreach: Option<MpUnreach>,
    /// Attributes herald does not interpret (AGGREGATOR, AS4_PATH, ...),
    /// kept raw after their flags were checked.
    pub other: Vec<RawAttribute>,
}

/// ORIGIN (RFC 4271 §5.1.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Origin {
    #[default]
    Igp,
    Egp,
    Incomplete,
}

/// One AS_PATH segment (RFC 4271 §4.3, RFC 5065 for the confederation kinds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AsPathSegment {
    pub kind: AsSegmentKind,
    pub asns: Vec<u32>,
}

/// AS_PATH segment type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AsSegmentKind {
    Set,
    Sequence,
    ConfedSequence,
    ConfedSet,
}

/// MP_REACH_NLRI (RFC 4760 §3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MpReach {
    pub family: Family,
    /// One address, or for IPv6 a global address followed by a link-local
    /// one (RFC 2545 §3).
    pub next_hops: Vec<IpAddr>,
    pub nlri: Vec<IpNet>,
}

/// MP_UNREACH_NLRI (RFC 4760 §4). With no prefixes it is the End-of-RIB
/// marker for its family (RFC 4724 §2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MpUnreach {
    pub family: Family,
    pub withdrawn: Vec<IpNet>,
}

/// A path attribute kept as it came.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawAttribute {
    pub flags: u8,
    pub type_code: u8,
    pub value: Bytes,
}

/// NOTIFICATION (RFC 4271 §4.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    pub code: u8,
    pub subcode: u8,
    pub data: Bytes,
}

/// ROUTE-REFRESH (RFC 2918 §3). AFI and SAFI are kept raw: a request for a
/// family we never negotiated is ignored, not an error (RFC 2918 §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RouteRefresh {
    pub afi: u16,
    pub safi: u8,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_round_trip_through_afi_and_safi() {
        for family in [Family::Ipv4Unicast, Family::Ipv6Unicast] {
            let (afi, safi) = family.afi_safi();
            assert_eq!(Family::from_afi_safi(afi, safi), Some(family));
        }
        assert_eq!(Family::from_afi_safi(1, 128), None);
    }

    #[test]
    fn a_prefix_names_its_family() {
        let v6: IpNet = "2001:db8::/32".parse().expect("net");
        assert_eq!(Family::of(&v6), Family::Ipv6Unicast);
        assert_eq!(Family::of(&v6).to_string(), "ipv6-unicast");
        assert_eq!(Family::Ipv4Unicast.to_string(), "ipv4-unicast");
    }
}
