//! Community strings as operators write them, turned into wire values.
//!
//! Standard communities (RFC 1997) become a `u32`, large communities
//! (RFC 8092) three `u32`s, extended communities (RFC 4360, RFC 5668) the
//! 8 octets of the attribute entry: type, sub-type, 6 octets of payload.

use std::net::Ipv4Addr;

use crate::bgp::wire::iana::{community, ext_community};

/// Well-known community names (IANA "BGP Well-known Communities").
const WELL_KNOWN: [(&str, u32); 7] = [
    ("graceful-shutdown", community::GRACEFUL_SHUTDOWN),
    ("accept-own", community::ACCEPT_OWN),
    ("blackhole", community::BLACKHOLE),
    ("no-export", community::NO_EXPORT),
    ("no-advertise", community::NO_ADVERTISE),
    ("no-export-subconfed", community::NO_EXPORT_SUBCONFED),
    ("nopeer", community::NOPEER),
];

/// Parses a standard community: `"A:B"` (each 0..=65535), a well-known
/// name such as `"no-export"`, or a plain decimal `u32`.
pub(crate) fn parse_standard(text: &str) -> Result<u32, String> {
    let accepted = || {
        let names: Vec<&str> = WELL_KNOWN.iter().map(|(name, _)| *name).collect();
        format!(
            "invalid community {text:?}: expected \"A:B\" with A and B in 0..=65535, \
             a decimal number in 0..=4294967295, or one of {}",
            names.join(", ")
        )
    };
    if let Some((_, value)) = WELL_KNOWN
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(text))
    {
        return Ok(*value);
    }
    match text.split_once(':') {
        Some((high, low)) => {
            let high: u16 = parse_number(high).ok_or_else(accepted)?;
            let low: u16 = parse_number(low).ok_or_else(accepted)?;
            Ok(u32::from(high) << 16 | u32::from(low))
        }
        None => parse_number(text).ok_or_else(accepted),
    }
}

/// Parses a large community `"A:B:C"`, each part a `u32` (RFC 8092 §3).
pub(crate) fn parse_large(text: &str) -> Result<[u32; 3], String> {
    let accepted = || {
        format!(
            "invalid large community {text:?}: expected \"A:B:C\" with each part in 0..=4294967295"
        )
    };
    let mut parts = text.split(':');
    let mut next = || {
        parts
            .next()
            .and_then(parse_number::<u32>)
            .ok_or_else(accepted)
    };
    let value = [next()?, next()?, next()?];
    if parts.next().is_some() {
        return Err(accepted());
    }
    Ok(value)
}

/// Parses a route target (`"rt:G:L"`) or route origin (`"soo:G:L"`)
/// extended community into its 8 octets.
///
/// The global administrator `G` picks the encoding:
/// - an ASN that fits 16 bits: two-octet-AS form, `L` a `u32` (RFC 4360 §3.1);
/// - a larger ASN: four-octet-AS form, `L` a `u16` (RFC 5668 §2);
/// - an IPv4 address: IPv4-address form, `L` a `u16` (RFC 4360 §3.2).
pub(crate) fn parse_extended(text: &str) -> Result<[u8; 8], String> {
    let accepted = || {
        format!(
            "invalid extended community {text:?}: expected \"rt:G:L\" (route target) or \
             \"soo:G:L\" (route origin), G an ASN (L in 0..=4294967295 if G <= 65535, \
             else 0..=65535) or an IPv4 address (L in 0..=65535)"
        )
    };
    let mut parts = text.splitn(3, ':');
    let kind = parts.next().unwrap_or_default();
    let (global, local) = match (parts.next(), parts.next()) {
        (Some(global), Some(local)) => (global, local),
        _ => return Err(accepted()),
    };
    let subtype = match kind.to_ascii_lowercase().as_str() {
        "rt" => ext_community::ROUTE_TARGET,
        "soo" => ext_community::ROUTE_ORIGIN,
        _ => return Err(accepted()),
    };
    let mut octets = [0u8; 8];
    octets[1] = subtype;
    if global.contains('.') {
        let address: Ipv4Addr = global.parse().map_err(|_| accepted())?;
        let local: u16 = parse_number(local).ok_or_else(accepted)?;
        octets[0] = ext_community::IPV4_ADDRESS;
        octets[2..6].copy_from_slice(&address.octets());
        octets[6..8].copy_from_slice(&local.to_be_bytes());
    } else {
        let asn: u32 = parse_number(global).ok_or_else(accepted)?;
        match u16::try_from(asn) {
            Ok(asn) => {
                let local: u32 = parse_number(local).ok_or_else(accepted)?;
                octets[0] = ext_community::TWO_OCTET_AS;
                octets[2..4].copy_from_slice(&asn.to_be_bytes());
                octets[4..8].copy_from_slice(&local.to_be_bytes());
            }
            Err(_) => {
                let local: u16 = parse_number(local).ok_or_else(accepted)?;
                octets[0] = ext_community::FOUR_OCTET_AS;
                octets[2..6].copy_from_slice(&asn.to_be_bytes());
                octets[6..8].copy_from_slice(&local.to_be_bytes());
            }
        }
    }
    Ok(octets)
}

/// A plain decimal number: digits only (no sign, no spaces) that fit `T`.
fn parse_number<T: std::str::FromStr>(text: &str) -> Option<T> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_communities_pack_high_and_low_halves() {
        assert_eq!(parse_standard("65000:100"), Ok(0xFDE8_0064));
        assert_eq!(parse_standard("0:0"), Ok(0));
        assert_eq!(parse_standard("65535:65535"), Ok(u32::MAX));
        assert_eq!(parse_standard("4259840100"), Ok(4_259_840_100));
    }

    #[test]
    fn well_known_names_map_to_the_iana_values() {
        assert_eq!(parse_standard("no-export"), Ok(0xFFFF_FF01));
        assert_eq!(parse_standard("no-advertise"), Ok(0xFFFF_FF02));
        assert_eq!(parse_standard("no-export-subconfed"), Ok(0xFFFF_FF03));
        assert_eq!(parse_standard("nopeer"), Ok(0xFFFF_FF04));
        assert_eq!(parse_standard("blackhole"), Ok(0xFFFF_029A));
        assert_eq!(parse_standard("graceful-shutdown"), Ok(0xFFFF_0000));
        assert_eq!(parse_standard("accept-own"), Ok(0xFFFF_0001));
        assert_eq!(parse_standard("NO-EXPORT"), Ok(0xFFFF_FF01));
    }

    #[test]
    fn out_of_range_or_malformed_communities_are_rejected() {
        for bad in [
            "65536:1",
            "1:65536",
            "-1:1",
            "1:",
            ":1",
            "1:2:3",
            "",
            "4294967296",
            "+5",
            "no_export",
        ] {
            let err = parse_standard(bad).unwrap_err();
            assert!(err.contains("expected \"A:B\""), "{bad:?}: {err}");
        }
    }

    #[test]
    fn large_communities_need_exactly_three_u32_parts() {
        assert_eq!(parse_large("65000:1:2"), Ok([65000, 1, 2]));
        assert_eq!(
            parse_large("4294967295:0:4294967295"),
            Ok([u32::MAX, 0, u32::MAX])
        );
        for bad in ["1:2", "1:2:3:4", "1:2:4294967296", "a:b:c", "1::3"] {
            assert!(parse_large(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_route_target_with_a_two_octet_asn_carries_a_four_octet_value() {
        assert_eq!(
            parse_extended("rt:65000:100"),
            Ok([0x00, 0x02, 0xFD, 0xE8, 0x00, 0x00, 0x00, 0x64])
        );
        assert_eq!(
            parse_extended("rt:65000:4294967295"),
            Ok([0x00, 0x02, 0xFD, 0xE8, 0xFF, 0xFF, 0xFF, 0xFF])
        );
    }

    #[test]
    fn a_route_origin_uses_sub_type_three() {
        assert_eq!(
            parse_extended("soo:65000:100"),
            Ok([0x00, 0x03, 0xFD, 0xE8, 0x00, 0x00, 0x00, 0x64])
        );
    }

    #[test]
    fn an_ipv4_global_administrator_uses_the_ipv4_address_form() {
        assert_eq!(
            parse_extended("rt:192.0.2.1:100"),
            Ok([0x01, 0x02, 192, 0, 2, 1, 0x00, 0x64])
        );
        assert!(parse_extended("rt:192.0.2.1:65536").is_err());
        assert!(parse_extended("rt:192.0.2:1").is_err());
    }

    #[test]
    fn a_four_octet_asn_uses_the_rfc_5668_form_with_a_two_octet_value() {
        // 4200000000 = 0xFA56EA00
        assert_eq!(
            parse_extended("rt:4200000000:100"),
            Ok([0x02, 0x02, 0xFA, 0x56, 0xEA, 0x00, 0x00, 0x64])
        );
        assert!(parse_extended("rt:4200000000:65536").is_err());
        // 65536 is the smallest ASN that needs four octets.
        assert_eq!(
            parse_extended("soo:65536:1"),
            Ok([0x02, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01])
        );
    }

    #[test]
    fn unknown_extended_community_kinds_are_rejected() {
        for bad in ["xx:1:2", "rt:1", "rt", "", "rt:4294967296:1", "rt:-1:1"] {
            let err = parse_extended(bad).unwrap_err();
            assert!(err.contains("route target"), "{bad:?}: {err}");
        }
    }
}
