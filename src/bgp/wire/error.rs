//! Decode errors and their mapping to NOTIFICATION (RFC 4271 §6).
//!
//! Every way a received message can be wrong is one variant below, and
//! [`DecodeError::notification`] is the single place that turns it into the
//! (code, subcode, data) triple put on the wire. UPDATE errors also know how
//! RFC 7606 wants them handled ([`UpdateError::handling`]): only the
//! "session reset" ones ever leave the decoder as an `Err`.

use std::net::Ipv4Addr;

use bytes::Bytes;

use super::iana::{self, error_code, header_subcode, open_subcode, update_subcode};
use super::Notification;

/// A received message could not be decoded; carries what the NOTIFICATION
/// sent in reply must say.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The 19-byte header is wrong (RFC 4271 §6.1).
    #[error("bad message header: {0}")]
    Header(#[from] HeaderError),
    /// The OPEN body is wrong (RFC 4271 §6.2).
    #[error("bad OPEN message: {0}")]
    Open(#[from] OpenError),
    /// The UPDATE body is wrong in a way that resets the session (RFC 4271
    /// §6.3 as revised by RFC 7606).
    #[error("bad UPDATE message: {0}")]
    Update(#[from] UpdateError),
}

/// Message Header errors (RFC 4271 §6.1).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// The marker is not all ones.
    #[error("marker is not all ones")]
    NotSynchronized,
    /// The length is out of range, or wrong for the message type.
    #[error("length {0} is invalid")]
    BadLength(u16),
    /// The type is not one herald knows.
    #[error("unknown message type {0}")]
    BadType(u8),
}

/// OPEN Message errors (RFC 4271 §6.2, RFC 5492).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// Version other than 4.
    #[error("unsupported version {0}")]
    UnsupportedVersion(u8),
    /// Hold time of 1 or 2 seconds.
    #[error("unacceptable hold time {0}")]
    UnacceptableHoldTime(u16),
    /// BGP Identifier 0.0.0.0 (RFC 6286 §2.2).
    #[error("bad BGP identifier {0}")]
    BadBgpIdentifier(Ipv4Addr),
    /// An optional parameter other than capabilities.
    #[error("unsupported optional parameter {0}")]
    UnsupportedOptionalParameter(u8),
    /// A recognized optional parameter or capability is malformed.
    #[error("malformed optional parameters: {0}")]
    Malformed(&'static str),
}

/// How RFC 7606 §2 says an UPDATE error is handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorHandling {
    /// Send a NOTIFICATION and close the session.
    SessionReset,
    /// Keep the session; the UPDATE's routes are treated as withdrawn.
    TreatAsWithdraw,
    /// Keep the session; drop only the offending attribute.
    AttributeDiscard,
}

/// UPDATE Message errors (RFC 4271 §6.3, RFC 7606 §7). Attribute-carrying
/// variants hold the whole attribute (flags, type, length, value), which is
/// what the NOTIFICATION data must contain.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UpdateError {
    /// Withdrawn Routes Length runs past the message (RFC 7606 §4).
    #[error("withdrawn routes length {0} overruns the message")]
    WithdrawnLengthOverrun(u16),
    /// Total Path Attribute Length runs past the message (RFC 7606 §4).
    #[error("total path attribute length {0} overruns the message")]
    AttributesLengthOverrun(u16),
    /// An attribute header or value runs past the attribute list; the
    /// NLRI can still be located from the total length (RFC 7606 §4).
    #[error("path attribute runs past the attribute list")]
    AttributeOverrun,
    /// MP_REACH_NLRI or MP_UNREACH_NLRI appears twice (RFC 7606 §3 g).
    #[error("{} appears more than once", attr_name(*.0))]
    DuplicateMpAttribute(u8),
    /// Any other attribute appears twice; later copies are dropped (RFC 7606
    /// §3 g).
    #[error("{} appears more than once", attr_name(*.0))]
    DuplicateAttribute(u8),
    /// A well-known attribute herald does not know.
    #[error("unrecognized well-known attribute {type_code}")]
    UnrecognizedWellKnown { type_code: u8, attribute: Bytes },
    /// A mandatory attribute is missing while the UPDATE carries NLRI.
    #[error("missing well-known attribute {}", attr_name(*.0))]
    MissingWellKnown(u8),
    /// Optional/transitive/partial bits conflict with the type code.
    #[error("attribute flags are wrong for {}", attr_name(*type_code))]
    Flags { type_code: u8, attribute: Bytes },
    /// The length conflicts with the attribute type.
    #[error("attribute length is wrong for {}", attr_name(*type_code))]
    Length { type_code: u8, attribute: Bytes },
    /// ORIGIN value other than IGP, EGP, INCOMPLETE.
    #[error("invalid ORIGIN value")]
    InvalidOrigin { attribute: Bytes },
    /// NEXT_HOP that is not a valid unicast host address.
    #[error("invalid NEXT_HOP {address}")]
    InvalidNextHop { address: Ipv4Addr, attribute: Bytes },
    /// A recognized optional attribute whose value is malformed.
    #[error("malformed {}: {reason}", attr_name(*type_code))]
    OptionalAttribute {
        type_code: u8,
        reason: &'static str,
        attribute: Bytes,
    },
    /// A prefix length or prefix overruns its field (RFC 7606 §5.3).
    #[error("invalid network field: {0}")]
    InvalidNetworkField(&'static str),
    /// AS_PATH segments do not parse (RFC 7606 §7.2).
    #[error("malformed AS_PATH: {0}")]
    MalformedAsPath(&'static str),
}

fn attr_name(type_code: u8) -> String {
    match iana::attr_type_name(type_code) {
        Some(name) => name.to_owned(),
        None => format!("attribute {type_code}"),
    }
}

/// How an error in one attribute is handled, by attribute type (RFC 7606
/// §7, RFC 6793 §6 for AS4_PATH and AS4_AGGREGATOR).
fn attribute_handling(type_code: u8) -> ErrorHandling {
    use iana::attr_type::*;
    match type_code {
        // The NLRI inside cannot be located reliably (RFC 7606 §7.11, §5.3).
        MP_REACH_NLRI | MP_UNREACH_NLRI => ErrorHandling::SessionReset,
        // RFC 7606 §7.6, §7.7; RFC 6793 §6.
        ATOMIC_AGGREGATE | AGGREGATOR | AS4_PATH | AS4_AGGREGATOR => {
            ErrorHandling::AttributeDiscard
        }
        _ => ErrorHandling::TreatAsWithdraw,
    }
}

impl UpdateError {
    /// The RFC 7606 approach for this error.
    pub fn handling(&self) -> ErrorHandling {
        match self {
            UpdateError::WithdrawnLengthOverrun(_)
            | UpdateError::AttributesLengthOverrun(_)
            | UpdateError::DuplicateMpAttribute(_)
            | UpdateError::UnrecognizedWellKnown { .. }
            | UpdateError::InvalidNetworkField(_) => ErrorHandling::SessionReset,
            UpdateError::AttributeOverrun
            | UpdateError::MissingWellKnown(_)
            | UpdateError::InvalidOrigin { .. }
            | UpdateError::InvalidNextHop { .. }
            | UpdateError::MalformedAsPath(_) => ErrorHandling::TreatAsWithdraw,
            UpdateError::DuplicateAttribute(_) => ErrorHandling::AttributeDiscard,
            UpdateError::Flags { type_code, .. }
            | UpdateError::Length { type_code, .. }
            | UpdateError::OptionalAttribute { type_code, .. } => attribute_handling(*type_code),
        }
    }

    fn subcode_and_data(&self) -> (u8, Bytes) {
        match self {
            UpdateError::WithdrawnLengthOverrun(_)
            | UpdateError::AttributesLengthOverrun(_)
            | UpdateError::AttributeOverrun
            | UpdateError::DuplicateMpAttribute(_)
            | UpdateError::DuplicateAttribute(_) => {
                (update_subcode::MALFORMED_ATTRIBUTE_LIST, Bytes::new())
            }
            UpdateError::UnrecognizedWellKnown { attribute, .. } => (
                update_subcode::UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE,
                attribute.clone(),
            ),
            UpdateError::MissingWellKnown(type_code) => (
                update_subcode::MISSING_WELL_KNOWN_ATTRIBUTE,
                Bytes::copy_from_slice(&[*type_code]),
            ),
            UpdateError::Flags { attribute, .. } => {
                (update_subcode::ATTRIBUTE_FLAGS_ERROR, attribute.clone())
            }
            UpdateError::Length { attribute, .. } => {
                (update_subcode::ATTRIBUTE_LENGTH_ERROR, attribute.clone())
            }
            UpdateError::InvalidOrigin { attribute } => {
                (update_subcode::INVALID_ORIGIN_ATTRIBUTE, attribute.clone())
            }
            UpdateError::InvalidNextHop { attribute, .. } => (
                update_subcode::INVALID_NEXT_HOP_ATTRIBUTE,
                attribute.clone(),
            ),
            UpdateError::OptionalAttribute { attribute, .. } => {
                (update_subcode::OPTIONAL_ATTRIBUTE_ERROR, attribute.clone())
            }
            UpdateError::InvalidNetworkField(_) => {
                (update_subcode::INVALID_NETWORK_FIELD, Bytes::new())
            }
            UpdateError::MalformedAsPath(_) => (update_subcode::MALFORMED_AS_PATH, Bytes::new()),
        }
    }
}

impl DecodeError {
    /// The NOTIFICATION to send before closing the session.
    pub fn notification(&self) -> Notification {
        match self {
            DecodeError::Header(e) => {
                let (subcode, data) = match e {
                    HeaderError::NotSynchronized => {
                        (header_subcode::CONNECTION_NOT_SYNCHRONIZED, Bytes::new())
                    }
                    HeaderError::BadLength(len) => (
                        header_subcode::BAD_MESSAGE_LENGTH,
                        Bytes::copy_from_slice(&len.to_be_bytes()),
                    ),
                    HeaderError::BadType(kind) => (
                        header_subcode::BAD_MESSAGE_TYPE,
                        Bytes::copy_from_slice(&[*kind]),
                    ),
                };
                Notification::new(error_code::MESSAGE_HEADER, subcode, data)
            }
            DecodeError::Open(e) => {
                let (subcode, data) = match e {
                    // The largest version we support below the one offered
                    // (RFC 4271 §6.2), as a 2-octet integer.
                    OpenError::UnsupportedVersion(_) => (
                        open_subcode::UNSUPPORTED_VERSION_NUMBER,
                        Bytes::copy_from_slice(&u16::from(iana::BGP_VERSION).to_be_bytes()),
                    ),
                    OpenError::UnacceptableHoldTime(_) => {
                        (open_subcode::UNACCEPTABLE_HOLD_TIME, Bytes::new())
                    }
                    OpenError::BadBgpIdentifier(_) => {
                        (open_subcode::BAD_BGP_IDENTIFIER, Bytes::new())
                    }
                    OpenError::UnsupportedOptionalParameter(_) => {
                        (open_subcode::UNSUPPORTED_OPTIONAL_PARAMETER, Bytes::new())
                    }
                    OpenError::Malformed(_) => (open_subcode::UNSPECIFIC, Bytes::new()),
                };
                Notification::new(error_code::OPEN_MESSAGE, subcode, data)
            }
            DecodeError::Update(e) => {
                let (subcode, data) = e.subcode_and_data();
                Notification::new(error_code::UPDATE_MESSAGE, subcode, data)
            }
        }
    }
}

/// A message could not be encoded within the limits of the protocol.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("message of {0} bytes exceeds the 4096-byte limit")]
    TooLong(usize),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsupported_version_names_version_four_as_two_octets() {
        let n = DecodeError::from(OpenError::UnsupportedVersion(3)).notification();
        assert_eq!((n.code, n.subcode, &n.data[..]), (2, 1, &[0u8, 4][..]));
    }

    #[test]
    fn bad_length_carries_the_length_field() {
        let n = DecodeError::from(HeaderError::BadLength(4097)).notification();
        assert_eq!(
            (n.code, n.subcode, &n.data[..]),
            (1, 2, &[0x10u8, 0x01][..])
        );
    }

    #[test]
    fn errors_in_mp_attributes_reset_the_session() {
        let e = UpdateError::Flags {
            type_code: iana::attr_type::MP_REACH_NLRI,
            attribute: Bytes::new(),
        };
        assert_eq!(e.handling(), ErrorHandling::SessionReset);
        let e = UpdateError::Flags {
            type_code: iana::attr_type::ORIGIN,
            attribute: Bytes::new(),
        };
        assert_eq!(e.handling(), ErrorHandling::TreatAsWithdraw);
    }

    #[test]
    fn missing_attribute_data_is_the_type_code() {
        let n = DecodeError::from(UpdateError::MissingWellKnown(3)).notification();
        assert_eq!((n.code, n.subcode, &n.data[..]), (3, 3, &[3u8][..]));
    }
}
