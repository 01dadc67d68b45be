//! Encoding of path attributes (RFC 4271 §4.3, §5), in ascending type-code
//! order, with the 2-octet AS_PATH and AS4_PATH of RFC 6793 §4.2.2.

use std::net::IpAddr;

use bytes::{BufMut, BytesMut};

use super::{OPTIONAL_NON_TRANSITIVE, OPTIONAL_TRANSITIVE, WELL_KNOWN};
use crate::bgp::wire::buf::patch_u16;
use crate::bgp::wire::iana::{self, as_path_segment, attr_flag, attr_type, origin};
use crate::bgp::wire::{
    nlri, AsPathSegment, AsSegmentKind, Context, MpReach, Origin, PathAttributes,
};

/// Most ASNs one AS_PATH segment can hold (its count is one octet).
const MAX_SEGMENT_ASNS: usize = 255;

impl Origin {
    fn to_wire(self) -> u8 {
        match self {
            Origin::Igp => origin::IGP,
            Origin::Egp => origin::EGP,
            Origin::Incomplete => origin::INCOMPLETE,
        }
    }
}

impl AsSegmentKind {
    fn to_wire(self) -> u8 {
        match self {
            AsSegmentKind::Set => as_path_segment::AS_SET,
            AsSegmentKind::Sequence => as_path_segment::AS_SEQUENCE,
            AsSegmentKind::ConfedSequence => as_path_segment::AS_CONFED_SEQUENCE,
            AsSegmentKind::ConfedSet => as_path_segment::AS_CONFED_SET,
        }
    }
}

/// Encodes `attrs` in ascending type-code order. ORIGIN and AS_PATH are
/// written only when `announces` (the UPDATE carries reachable routes,
/// RFC 4271 §5), so a withdrawal or End-of-RIB carries just what it needs.
pub(in crate::bgp::wire) fn encode(
    attrs: &PathAttributes,
    announces: bool,
    ctx: &Context,
    out: &mut BytesMut,
) {
    let mut list: Vec<(u8, u8, BytesMut)> = Vec::new();
    let mut put = |flags: u8, type_code: u8, value: BytesMut| list.push((flags, type_code, value));
    let needs_as4_path = !ctx.four_octet_as
        && attrs
            .as_path
            .iter()
            .flat_map(|s| &s.asns)
            .any(|&asn| asn > u32::from(u16::MAX));
    if announces {
        put(
            WELL_KNOWN,
            attr_type::ORIGIN,
            BytesMut::from(&[attrs.origin.to_wire()][..]),
        );
        let mut path = BytesMut::new();
        encode_as_path(attrs.as_path.iter(), ctx.four_octet_as, &mut path);
        put(WELL_KNOWN, attr_type::AS_PATH, path);
        if needs_as4_path {
            // RFC 6793 §4.2.2: the 4-octet path, without confederation
            // segments, for speakers that only see AS_TRANS in AS_PATH.
            let mut path = BytesMut::new();
            let segments = attrs
                .as_path
                .iter()
                .filter(|s| matches!(s.kind, AsSegmentKind::Sequence | AsSegmentKind::Set));
            encode_as_path(segments, true, &mut path);
            put(OPTIONAL_TRANSITIVE, attr_type::AS4_PATH, path);
        }
    }
    if let Some(nh) = attrs.next_hop {
        put(
            WELL_KNOWN,
            attr_type::NEXT_HOP,
            BytesMut::from(&nh.octets()[..]),
        );
    }
    if let Some(med) = attrs.med {
        put(
            OPTIONAL_NON_TRANSITIVE,
            attr_type::MULTI_EXIT_DISC,
            u32_value(med),
        );
    }
    if let Some(pref) = attrs.local_pref {
        put(WELL_KNOWN, attr_type::LOCAL_PREF, u32_value(pref));
    }
    if attrs.atomic_aggregate {
        put(WELL_KNOWN, attr_type::ATOMIC_AGGREGATE, BytesMut::new());
    }
    if !attrs.communities.is_empty() {
        let mut v = BytesMut::new();
        attrs.communities.iter().for_each(|&c| v.put_u32(c));
        put(OPTIONAL_TRANSITIVE, attr_type::COMMUNITIES, v);
    }
    if let Some(reach) = &attrs.mp_reach {
        put(
            OPTIONAL_NON_TRANSITIVE,
            attr_type::MP_REACH_NLRI,
            mp_reach_value(reach),
        );
    }
    if let Some(unreach) = &attrs.mp_unreach {
        let mut v = BytesMut::new();
        let (afi, safi) = unreach.family.afi_safi();
        v.put_u16(afi);
        v.put_u8(safi);
        unreach
            .withdrawn
            .iter()
            .for_each(|p| nlri::encode(p, &mut v));
        put(OPTIONAL_NON_TRANSITIVE, attr_type::MP_UNREACH_NLRI, v);
    }
    if !attrs.extended_communities.is_empty() {
        let mut v = BytesMut::new();
        attrs
            .extended_communities
            .iter()
            .for_each(|c| v.put_slice(c));
        put(OPTIONAL_TRANSITIVE, attr_type::EXTENDED_COMMUNITIES, v);
    }
    if !attrs.large_communities.is_empty() {
        let mut v = BytesMut::new();
        attrs
            .large_communities
            .iter()
            .flatten()
            .for_each(|&x| v.put_u32(x));
        put(OPTIONAL_TRANSITIVE, attr_type::LARGE_COMMUNITY, v);
    }
    for other in &attrs.other {
        // RFC 6793 §4.1: no AS4_PATH between 4-octet speakers, and never two.
        let as4_path = other.type_code == attr_type::AS4_PATH;
        if as4_path && (ctx.four_octet_as || needs_as4_path) {
            continue;
        }
        let flags = other.flags & !attr_flag::EXTENDED_LENGTH;
        put(flags, other.type_code, BytesMut::from(&other.value[..]));
    }
    list.sort_by_key(|&(_, type_code, _)| type_code);
    for (flags, type_code, value) in list {
        // RFC 4271 §4.3: the extended length only when one octet cannot do.
        if let Ok(len) = u8::try_from(value.len()) {
            out.put_slice(&[flags, type_code, len]);
        } else {
            out.put_slice(&[flags | attr_flag::EXTENDED_LENGTH, type_code]);
            let at = out.len();
            out.put_u16(0);
            patch_u16(out, at, value.len());
        }
        out.put_slice(&value);
    }
}

fn u32_value(v: u32) -> BytesMut {
    BytesMut::from(&v.to_be_bytes()[..])
}

fn mp_reach_value(reach: &MpReach) -> BytesMut {
    let mut v = BytesMut::new();
    let (afi, safi) = reach.family.afi_safi();
    v.put_u16(afi);
    v.put_u8(safi);
    let at = v.len();
    v.put_u8(0);
    for nh in &reach.next_hops {
        match nh {
            IpAddr::V4(a) => v.put_slice(&a.octets()),
            IpAddr::V6(a) => v.put_slice(&a.octets()),
        }
    }
    // At most two addresses of 16 octets are meaningful; more is the
    // caller's error and is cut to a length the receiver will reject.
    let nh_len = u8::try_from(v.len() - at - 1).unwrap_or(u8::MAX);
    if let Some(slot) = v.get_mut(at) {
        *slot = nh_len;
    }
    v.put_u8(0);
    reach.nlri.iter().for_each(|p| nlri::encode(p, &mut v));
    v
}

/// Writes segments with 2- or 4-octet ASNs; with 2 octets, ASNs that need
/// 4 become AS_TRANS (RFC 6793 §4.2.2). Long segments are split.
fn encode_as_path<'a>(
    segments: impl Iterator<Item = &'a AsPathSegment>,
    four_octet: bool,
    out: &mut BytesMut,
) {
    for segment in segments {
        for chunk in segment.asns.chunks(MAX_SEGMENT_ASNS) {
            out.put_u8(segment.kind.to_wire());
            // `chunks` yields at most 255 ASNs.
            out.put_u8(u8::try_from(chunk.len()).unwrap_or(u8::MAX));
            for &asn in chunk {
                if four_octet {
                    out.put_u32(asn);
                } else {
                    out.put_u16(u16::try_from(asn).unwrap_or(iana::AS_TRANS));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use bytes::BytesMut;

    use super::encode;
    use crate::bgp::wire::attributes::decode;
    use crate::bgp::wire::{AsPathSegment, AsSegmentKind, Context, PathAttributes};

    #[test]
    fn a_two_octet_path_with_a_large_asn_gets_as_trans_and_as4_path() {
        let attrs = PathAttributes {
            as_path: vec![AsPathSegment {
                kind: AsSegmentKind::Sequence,
                asns: vec![65001, 4_200_000_000],
            }],
            next_hop: Some(Ipv4Addr::new(192, 0, 2, 1)),
            ..PathAttributes::default()
        };
        let mut out = BytesMut::new();
        encode(&attrs, true, &Context::default(), &mut out);
        let expected: &[u8] = &[
            0x40, 1, 1, 0, // ORIGIN IGP
            0x40, 2, 6, 2, 2, 0xfd, 0xe9, 0x5b, 0xa0, // AS_PATH 65001 23456
            0x40, 3, 4, 192, 0, 2, 1, // NEXT_HOP
            0xc0, 17, 10, 2, 2, 0, 0, 0xfd, 0xe9, 0xfa, 0x56, 0xea, 0x00, // AS4_PATH
        ];
        assert_eq!(&out[..], expected);
        let back = decode(out.freeze(), &Context::default()).expect("valid");
        assert_eq!(back.attrs.as_path[0].asns, vec![65001, 23456]);
        assert_eq!(back.issue, None);
    }

    #[test]
    fn a_value_over_255_bytes_uses_the_extended_length() {
        let attrs = PathAttributes {
            communities: (0..64).collect(),
            ..PathAttributes::default()
        };
        let mut out = BytesMut::new();
        encode(&attrs, false, &Context::default(), &mut out);
        assert_eq!(out.get(..4), Some(&[0xd0u8, 8, 1, 0][..]));
        let back = decode(out.freeze(), &Context::default()).expect("valid");
        assert_eq!(back.attrs, attrs);
    }
}
