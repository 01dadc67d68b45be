//! Path attributes (RFC 4271 §4.3, §5) with the error handling of RFC 7606.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |O|T|P|E| unused|  Type Code    | Length (1, or 2 if E) | Value |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Decoding returns the attributes plus, at most, one non-fatal issue (the
//! first "treat-as-withdraw", else the first "attribute discard"); errors
//! that RFC 7606 handles by "session reset" are returned as `Err`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bytes::{Buf, Bytes};

use super::buf::take;
use super::iana::{as_path_segment, attr_flag, attr_type, origin};
use super::{
    nlri, AsPathSegment, AsSegmentKind, Context, ErrorHandling, Family, MpReach, MpUnreach, Origin,
    PathAttributes, RawAttribute, UpdateError,
};

mod encode;

pub(super) use encode::encode;

const WELL_KNOWN: u8 = attr_flag::TRANSITIVE;
const OPTIONAL_TRANSITIVE: u8 = attr_flag::OPTIONAL | attr_flag::TRANSITIVE;
const OPTIONAL_NON_TRANSITIVE: u8 = attr_flag::OPTIONAL;

/// The optional/transitive bits each known attribute must carry (RFC 4271
/// §5, RFC 4760 §3-4, RFC 1997, RFC 4360, RFC 6793, RFC 8092).
fn expected_flags(type_code: u8) -> Option<u8> {
    Some(match type_code {
        attr_type::ORIGIN
        | attr_type::AS_PATH
        | attr_type::NEXT_HOP
        | attr_type::LOCAL_PREF
        | attr_type::ATOMIC_AGGREGATE => WELL_KNOWN,
        attr_type::MULTI_EXIT_DISC | attr_type::MP_REACH_NLRI | attr_type::MP_UNREACH_NLRI => {
            OPTIONAL_NON_TRANSITIVE
        }
        attr_type::AGGREGATOR
        | attr_type::COMMUNITIES
        | attr_type::EXTENDED_COMMUNITIES
        | attr_type::AS4_PATH
        | attr_type::AS4_AGGREGATOR
        | attr_type::LARGE_COMMUNITY => OPTIONAL_TRANSITIVE,
        _ => return None,
    })
}

/// RFC 4271 §6.3: the O and T bits must match the type, and the P bit may
/// only be set on optional transitive attributes.
fn flags_match(flags: u8, expected: u8) -> bool {
    let kind = flags & OPTIONAL_TRANSITIVE;
    let partial = flags & attr_flag::PARTIAL != 0;
    kind == expected && (!partial || expected == OPTIONAL_TRANSITIVE)
}

impl AsSegmentKind {
    fn from_wire(kind: u8) -> Option<AsSegmentKind> {
        Some(match kind {
            as_path_segment::AS_SET => AsSegmentKind::Set,
            as_path_segment::AS_SEQUENCE => AsSegmentKind::Sequence,
            as_path_segment::AS_CONFED_SEQUENCE => AsSegmentKind::ConfedSequence,
            as_path_segment::AS_CONFED_SET => AsSegmentKind::ConfedSet,
            _ => return None,
        })
    }
}

/// Path attributes as decoded, with the type codes that were present and
/// the issue that did not reset the session.
pub(super) struct Decoded {
    pub attrs: PathAttributes,
    pub seen: Vec<u8>,
    pub issue: Option<UpdateError>,
}

impl Decoded {
    /// Keeps the first treat-as-withdraw, else the first attribute discard.
    pub fn note(&mut self, err: UpdateError) {
        let replace = match &self.issue {
            None => true,
            Some(old) => {
                old.handling() == ErrorHandling::AttributeDiscard
                    && err.handling() == ErrorHandling::TreatAsWithdraw
            }
        };
        if replace {
            self.issue = Some(err);
        }
    }
}

/// Decodes the path attribute list (RFC 4271 §4.3, RFC 7606 §3-4, §7).
pub(super) fn decode(mut buf: Bytes, ctx: &Context) -> Result<Decoded, UpdateError> {
    let mut out = Decoded {
        attrs: PathAttributes::default(),
        seen: Vec::new(),
        issue: None,
    };
    while buf.has_remaining() {
        let mut whole = buf.clone();
        let Some((flags, type_code, header_len, len)) = read_header(&mut buf) else {
            // RFC 7606 §4: too few octets for an attribute header.
            out.note(UpdateError::AttributeOverrun);
            break;
        };
        let (Some(value), Some(raw)) = (take(&mut buf, len), take(&mut whole, header_len + len))
        else {
            // RFC 7606 §4: the value runs past the attribute list.
            out.note(UpdateError::AttributeOverrun);
            break;
        };
        if out.seen.contains(&type_code) {
            // RFC 7606 §3 g.
            if matches!(
                type_code,
                attr_type::MP_REACH_NLRI | attr_type::MP_UNREACH_NLRI
            ) {
                return Err(UpdateError::DuplicateMpAttribute(type_code));
            }
            out.note(UpdateError::DuplicateAttribute(type_code));
            continue;
        }
        out.seen.push(type_code);
        if let Err(err) = decode_one(&mut out.attrs, flags, type_code, value, raw, ctx) {
            if err.handling() == ErrorHandling::SessionReset {
                return Err(err);
            }
            out.note(err);
        }
    }
    Ok(out)
}

/// Reads flags, type and length; `None` if the header is truncated.
fn read_header(buf: &mut Bytes) -> Option<(u8, u8, usize, usize)> {
    let flags = buf.try_get_u8().ok()?;
    let type_code = buf.try_get_u8().ok()?;
    if flags & attr_flag::EXTENDED_LENGTH != 0 {
        Some((flags, type_code, 4, usize::from(buf.try_get_u16().ok()?)))
    } else {
        Some((flags, type_code, 3, usize::from(buf.try_get_u8().ok()?)))
    }
}

fn decode_one(
    attrs: &mut PathAttributes,
    flags: u8,
    type_code: u8,
    mut value: Bytes,
    raw: Bytes,
    ctx: &Context,
) -> Result<(), UpdateError> {
    let Some(expected) = expected_flags(type_code) else {
        if flags & attr_flag::OPTIONAL == 0 {
            return Err(UpdateError::UnrecognizedWellKnown {
                type_code,
                attribute: raw,
            });
        }
        attrs.other.push(RawAttribute {
            flags,
            type_code,
            value,
        });
        return Ok(());
    };
    if !flags_match(flags, expected) {
        return Err(UpdateError::Flags {
            type_code,
            attribute: raw,
        });
    }
    // RFC 6793 §3: between two 4-octet speakers these carry nothing that
    // AS_PATH and AGGREGATOR do not, and are discarded on receipt.
    if ctx.four_octet_as && matches!(type_code, attr_type::AS4_PATH | attr_type::AS4_AGGREGATOR) {
        return Ok(());
    }
    let len = value.len();
    let length_error = || UpdateError::Length {
        type_code,
        attribute: raw.clone(),
    };
    let asn_width = if ctx.four_octet_as { 4 } else { 2 };
    match type_code {
        attr_type::ORIGIN => {
            let v = value
                .try_get_u8()
                .ok()
                .filter(|_| len == 1)
                .ok_or_else(length_error)?;
            attrs.origin = match v {
                origin::IGP => Origin::Igp,
                origin::EGP => Origin::Egp,
                origin::INCOMPLETE => Origin::Incomplete,
                _ => return Err(UpdateError::InvalidOrigin { attribute: raw }),
            };
        }
        attr_type::AS_PATH => {
            attrs.as_path =
                decode_as_path(value, asn_width).map_err(UpdateError::MalformedAsPath)?;
        }
        attr_type::NEXT_HOP => {
            let v = value
                .try_get_u32()
                .ok()
                .filter(|_| len == 4)
                .ok_or_else(length_error)?;
            let address = Ipv4Addr::from(v);
            // RFC 4271 §6.3: not a valid unicast host address.
            if address.is_unspecified()
                || address.is_loopback()
                || address.is_multicast()
                || address.is_broadcast()
            {
                return Err(UpdateError::InvalidNextHop {
                    address,
                    attribute: raw,
                });
            }
            attrs.next_hop = Some(address);
        }
        attr_type::MULTI_EXIT_DISC => {
            let v = value
                .try_get_u32()
                .ok()
                .filter(|_| len == 4)
                .ok_or_else(length_error)?;
            attrs.med = Some(v);
        }
        attr_type::LOCAL_PREF => {
            let v = value
                .try_get_u32()
                .ok()
                .filter(|_| len == 4)
                .ok_or_else(length_error)?;
            attrs.local_pref = Some(v);
        }
        attr_type::ATOMIC_AGGREGATE => {
            if len != 0 {
                return Err(length_error());
            }
            attrs.atomic_aggregate = true;
        }
        attr_type::AGGREGATOR | attr_type::AS4_AGGREGATOR => {
            let want = if type_code == attr_type::AGGREGATOR {
                asn_width + 4
            } else {
                8
            };
            if len != want {
                return Err(length_error());
            }
            attrs.other.push(RawAttribute {
                flags,
                type_code,
                value,
            });
        }
        attr_type::AS4_PATH => {
            decode_as_path(value.clone(), 4).map_err(|reason| UpdateError::OptionalAttribute {
                type_code,
                reason,
                attribute: raw,
            })?;
            attrs.other.push(RawAttribute {
                flags,
                type_code,
                value,
            });
        }
        // RFC 7606 §7.8, §7.14, RFC 8092 §6: a non-zero multiple of the
        // element size.
        attr_type::COMMUNITIES => {
            if len == 0 || len % 4 != 0 {
                return Err(length_error());
            }
            while let Ok(c) = value.try_get_u32() {
                attrs.communities.push(c);
            }
        }
        attr_type::EXTENDED_COMMUNITIES => {
            if len == 0 || len % 8 != 0 {
                return Err(length_error());
            }
            let mut c = [0u8; 8];
            while value.try_copy_to_slice(&mut c).is_ok() {
                attrs.extended_communities.push(c);
            }
        }
        attr_type::LARGE_COMMUNITY => {
            if len == 0 || len % 12 != 0 {
                return Err(length_error());
            }
            while let (Ok(a), Ok(b), Ok(c)) = (
                value.try_get_u32(),
                value.try_get_u32(),
                value.try_get_u32(),
            ) {
                attrs.large_communities.push([a, b, c]);
            }
        }
        attr_type::MP_REACH_NLRI => match decode_mp_reach(value.clone(), &raw)? {
            Some(reach) => attrs.mp_reach = Some(reach),
            None => attrs.other.push(RawAttribute {
                flags,
                type_code,
                value,
            }),
        },
        _ => match decode_mp_unreach(value.clone(), &raw)? {
            Some(unreach) => attrs.mp_unreach = Some(unreach),
            None => attrs.other.push(RawAttribute {
                flags,
                type_code,
                value,
            }),
        },
    }
    Ok(())
}

/// AS_PATH segments (RFC 4271 §4.3); malformed per RFC 7606 §7.2 when a
/// segment is empty, of unknown type, or overruns.
fn decode_as_path(mut buf: Bytes, width: usize) -> Result<Vec<AsPathSegment>, &'static str> {
    let mut segments = Vec::new();
    while buf.has_remaining() {
        let kind = buf.try_get_u8().map_err(|_| "truncated segment header")?;
        let count = buf.try_get_u8().map_err(|_| "truncated segment header")?;
        let kind = AsSegmentKind::from_wire(kind).ok_or("unknown segment type")?;
        if count == 0 {
            return Err("empty segment");
        }
        let mut asns_buf =
            take(&mut buf, usize::from(count) * width).ok_or("segment overruns the attribute")?;
        let mut asns = Vec::with_capacity(usize::from(count));
        while asns_buf.has_remaining() {
            let asn = if width == 4 {
                asns_buf.try_get_u32()
            } else {
                asns_buf.try_get_u16().map(u32::from)
            };
            asns.push(asn.map_err(|_| "segment overruns the attribute")?);
        }
        segments.push(AsPathSegment { kind, asns });
    }
    Ok(segments)
}

fn mp_error(type_code: u8, reason: &'static str, raw: &Bytes) -> UpdateError {
    UpdateError::OptionalAttribute {
        type_code,
        reason,
        attribute: raw.clone(),
    }
}

/// MP_REACH_NLRI (RFC 4760 §3); `None` for a family herald does not carry.
///
/// ```text
/// +---------------------------------------------------------+
/// | AFI (2) | SAFI (1) | Next Hop Length (1) | Next Hop     |
/// +---------------------------------------------------------+
/// | Reserved (1) | NLRI (variable)                          |
/// +---------------------------------------------------------+
/// ```
fn decode_mp_reach(mut buf: Bytes, raw: &Bytes) -> Result<Option<MpReach>, UpdateError> {
    let err = |reason| mp_error(attr_type::MP_REACH_NLRI, reason, raw);
    let afi = buf.try_get_u16().map_err(|_| err("truncated"))?;
    let safi = buf.try_get_u8().map_err(|_| err("truncated"))?;
    let nh_len = buf.try_get_u8().map_err(|_| err("truncated"))?;
    let mut nh = take(&mut buf, usize::from(nh_len)).ok_or_else(|| err("next hop overruns"))?;
    // RFC 4760 §3: reserved, ignored on receipt.
    buf.try_get_u8().map_err(|_| err("truncated"))?;
    let Some(family) = Family::from_afi_safi(afi, safi) else {
        return Ok(None);
    };
    let mut next_hops = Vec::new();
    match (family, nh_len) {
        (Family::Ipv4Unicast, 4) => {
            let v = nh.try_get_u32().map_err(|_| err("truncated"))?;
            next_hops.push(IpAddr::V4(Ipv4Addr::from(v)));
        }
        // RFC 2545 §3 (and RFC 8950 §3 for IPv4 NLRI): a global address,
        // optionally followed by a link-local one.
        (_, 16 | 32) => {
            while let Ok(v) = nh.try_get_u128() {
                next_hops.push(IpAddr::V6(Ipv6Addr::from(v)));
            }
        }
        _ => return Err(err("next hop length does not fit the family")),
    }
    let nlri = nlri::decode(family, buf)?;
    Ok(Some(MpReach {
        family,
        next_hops,
        nlri,
    }))
}

/// MP_UNREACH_NLRI (RFC 4760 §4): AFI (2), SAFI (1), withdrawn routes.
fn decode_mp_unreach(mut buf: Bytes, raw: &Bytes) -> Result<Option<MpUnreach>, UpdateError> {
    let err = || mp_error(attr_type::MP_UNREACH_NLRI, "truncated", raw);
    let afi = buf.try_get_u16().map_err(|_| err())?;
    let safi = buf.try_get_u8().map_err(|_| err())?;
    let Some(family) = Family::from_afi_safi(afi, safi) else {
        return Ok(None);
    };
    let withdrawn = nlri::decode(family, buf)?;
    Ok(Some(MpUnreach { family, withdrawn }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs_of(bytes: &'static [u8], ctx: Context) -> Decoded {
        decode(Bytes::from_static(bytes), &ctx).expect("not a session reset")
    }

    #[test]
    fn a_duplicate_attribute_after_the_first_is_discarded() {
        let d = attrs_of(&[0x40, 1, 1, 2, 0x40, 1, 1, 0], Context::default());
        assert_eq!(d.attrs.origin, Origin::Incomplete);
        assert_eq!(d.issue, Some(UpdateError::DuplicateAttribute(1)));
    }

    #[test]
    fn atomic_aggregate_with_a_value_is_discarded() {
        let d = attrs_of(&[0x40, 6, 1, 0], Context::default());
        assert!(!d.attrs.atomic_aggregate);
        assert_eq!(
            d.issue.map(|e| e.handling()),
            Some(ErrorHandling::AttributeDiscard)
        );
    }

    #[test]
    fn treat_as_withdraw_wins_over_an_earlier_discard() {
        let d = attrs_of(&[0x40, 6, 1, 0, 0x40, 1, 1, 7], Context::default());
        assert!(matches!(d.issue, Some(UpdateError::InvalidOrigin { .. })));
    }

    #[test]
    fn unknown_optional_attributes_are_kept_raw() {
        let d = attrs_of(&[0xc0, 99, 2, 1, 2], Context::default());
        assert_eq!(
            d.attrs.other,
            vec![RawAttribute {
                flags: 0xc0,
                type_code: 99,
                value: Bytes::from_static(&[1, 2]),
            }]
        );
    }

    #[test]
    fn a_four_octet_session_drops_as4_path() {
        let ctx = Context {
            four_octet_as: true,
        };
        let d = attrs_of(&[0xc0, 17, 6, 2, 1, 0xfa, 0x56, 0xea, 0x00], ctx);
        assert!(d.attrs.other.is_empty());
        assert_eq!(d.issue, None);
    }

    #[test]
    fn a_four_octet_session_reads_four_octet_asns() {
        let ctx = Context {
            four_octet_as: true,
        };
        let d = attrs_of(&[0x40, 2, 6, 2, 1, 0xfa, 0x56, 0xea, 0x00], ctx);
        assert_eq!(d.attrs.as_path[0].asns, vec![4_200_000_000]);
    }
}
