//! OPEN (RFC 4271 §4.2) and its capabilities (RFC 5492), including the
//! extended optional parameters length (RFC 9072).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+
//! |    Version    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     My Autonomous System      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |           Hold Time           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                         BGP Identifier                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Opt Parm Len  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |       Optional Parameters: Type (1), Length (1), Value        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!
//! Capability (inside a parameter of type 2):
//! +------------------------------+
//! | Capability Code (1 octet)    |
//! +------------------------------+
//! | Capability Length (1 octet)  |
//! +------------------------------+
//! | Capability Value (variable)  |
//! +------------------------------+
//! ```

use std::net::Ipv4Addr;

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::buf::{patch_u16, take};
use super::iana::{self, capability, graceful_restart, open_param};
use super::{Capability, Family, GracefulRestart, Open, OpenError};

/// Largest capability value one length octet can describe.
const MAX_CAPABILITY_LEN: usize = 255;
/// Octets of one AFI/SAFI entry of the Graceful Restart capability: AFI,
/// SAFI, flags (RFC 4724 §3).
const GR_FAMILY_LEN: usize = 4;
/// Most AFI/SAFI entries that fit one capability after the 2 octets of
/// flags and time.
const MAX_GR_FAMILIES: usize = (MAX_CAPABILITY_LEN - 2) / GR_FAMILY_LEN;

impl Open {
    /// Builds our OPEN: version 4, My AS = `asn` or AS_TRANS when it needs 4
    /// octets, and the capabilities multiprotocol (one per family), route
    /// refresh and 4-octet AS.
    pub fn new(asn: u32, hold_time: u16, bgp_id: Ipv4Addr, families: &[Family]) -> Open {
        let mut capabilities: Vec<Capability> = Vec::new();
        for &family in families {
            let cap = Capability::Multiprotocol(family);
            if !capabilities.contains(&cap) {
                capabilities.push(cap);
            }
        }
        capabilities.push(Capability::RouteRefresh);
        capabilities.push(Capability::FourOctetAs(asn));
        Open {
            version: iana::BGP_VERSION,
            asn,
            hold_time,
            bgp_id,
            capabilities,
        }
    }

    /// Families of the multiprotocol capabilities we carry. Without any
    /// multiprotocol capability, IPv4 unicast is implied (RFC 4760 §1).
    pub fn families(&self) -> Vec<Family> {
        let mut any_multiprotocol = false;
        let mut families = Vec::new();
        for cap in &self.capabilities {
            match cap {
                Capability::Multiprotocol(family) => {
                    any_multiprotocol = true;
                    if !families.contains(family) {
                        families.push(*family);
                    }
                }
                Capability::Unknown { code, .. } if *code == capability::MULTIPROTOCOL => {
                    any_multiprotocol = true;
                }
                _ => {}
            }
        }
        if !any_multiprotocol {
            families.push(Family::Ipv4Unicast);
        }
        families
    }

    /// The sender supports 4-octet AS numbers (RFC 6793 §3).
    pub fn four_octet_as(&self) -> bool {
        self.capabilities
            .iter()
            .any(|c| matches!(c, Capability::FourOctetAs(_)))
    }

    /// The sender accepts ROUTE-REFRESH (RFC 2918 §2).
    pub fn route_refresh(&self) -> bool {
        self.capabilities.contains(&Capability::RouteRefresh)
    }

    /// The sender's Graceful Restart capability (RFC 4724 §3). RFC 5492 §4
    /// leaves repeated capabilities to their own specification and RFC
    /// 4724 defines one instance, so the first one counts.
    pub fn graceful_restart(&self) -> Option<&GracefulRestart> {
        self.capabilities.iter().find_map(|c| match c {
            Capability::GracefulRestart(gr) => Some(gr),
            _ => None,
        })
    }

    pub(super) fn encode_body(&self, out: &mut BytesMut) {
        out.put_u8(self.version);
        // RFC 6793 §4.1: an ASN that needs 4 octets is sent as AS_TRANS.
        out.put_u16(u16::try_from(self.asn).unwrap_or(iana::AS_TRANS));
        out.put_u16(self.hold_time);
        out.put_slice(&self.bgp_id.octets());
        let mut caps = BytesMut::new();
        for cap in &self.capabilities {
            encode_capability(cap, &mut caps);
        }
        if caps.is_empty() {
            out.put_u8(0);
        } else if let Ok(len) = u8::try_from(caps.len() + 2) {
            out.put_u8(len);
            out.put_u8(open_param::CAPABILITIES);
            out.put_u8(len - 2);
            out.put_slice(&caps);
        } else {
            // RFC 9072 §2: non-extended length 255, type 255, then a 2-octet
            // length and parameters with 2-octet lengths.
            out.put_u8(u8::MAX);
            out.put_u8(open_param::EXTENDED_LENGTH);
            let at = out.len();
            out.put_u16(0);
            out.put_u8(open_param::CAPABILITIES);
            out.put_u16(0);
            out.put_slice(&caps);
            patch_u16(out, at, caps.len() + 3);
            patch_u16(out, at + 3, caps.len());
        }
    }
}

fn encode_capability(cap: &Capability, out: &mut BytesMut) {
    match cap {
        Capability::Multiprotocol(family) => {
            let (afi, safi) = family.afi_safi();
            out.put_slice(&[capability::MULTIPROTOCOL, 4]);
            out.put_u16(afi);
            out.put_u8(0);
            out.put_u8(safi);
        }
        Capability::RouteRefresh => out.put_slice(&[capability::ROUTE_REFRESH, 0]),
        Capability::GracefulRestart(gr) => encode_graceful_restart(gr, out),
        Capability::FourOctetAs(asn) => {
            out.put_slice(&[capability::FOUR_OCTET_AS, 4]);
            out.put_u32(*asn);
        }
        Capability::Unknown { code, value } => {
            // A decoded capability never exceeds one length octet; a longer
            // value built in code is cut so the OPEN stays well-formed.
            let value = value.get(..MAX_CAPABILITY_LEN).unwrap_or(value);
            out.put_u8(*code);
            out.put_u8(u8::try_from(value.len()).unwrap_or(u8::MAX));
            out.put_slice(value);
        }
    }
}

/// RFC 4724 §3: flags and restart time in one 16-bit word, then AFI, SAFI
/// and flags per family. A restart time beyond 12 bits is sent as the
/// largest one; a family list built in code beyond what one length octet
/// describes is cut, so the OPEN stays well-formed.
fn encode_graceful_restart(gr: &GracefulRestart, out: &mut BytesMut) {
    let families = gr.families.get(..MAX_GR_FAMILIES).unwrap_or(&gr.families);
    let mut flags = 0;
    if gr.restart_state {
        flags |= graceful_restart::RESTART_STATE;
    }
    if gr.notification {
        flags |= graceful_restart::NOTIFICATION;
    }
    let time = gr.restart_time.min(graceful_restart::MAX_RESTART_TIME);
    out.put_u8(capability::GRACEFUL_RESTART);
    // At most 2 + 4 * 63 = 254 octets, so the length fits its octet.
    out.put_u8(u8::try_from(2 + GR_FAMILY_LEN * families.len()).unwrap_or(u8::MAX));
    out.put_u16(u16::from(flags) << graceful_restart::FLAGS_SHIFT | time);
    for &(family, forwarding) in families {
        let (afi, safi) = family.afi_safi();
        out.put_u16(afi);
        out.put_u8(safi);
        out.put_u8(if forwarding {
            graceful_restart::FORWARDING_STATE
        } else {
            0
        });
    }
}

/// RFC 4724 §3: 2 + 4k octets, else malformed (RFC 4271 §6.2: subcode 0,
/// like every known capability with a bad length). Reserved bits are
/// ignored; families herald does not carry are skipped (see
/// [`GracefulRestart`]).
fn decode_graceful_restart(mut value: Bytes) -> Result<GracefulRestart, OpenError> {
    let bad_length = || malformed("graceful restart capability length is not 2 + 4k");
    let word = value.try_get_u16().map_err(|_| bad_length())?;
    if value.len() % GR_FAMILY_LEN != 0 {
        return Err(bad_length());
    }
    // Four bits after the shift, so the conversion cannot fail.
    let flags = u8::try_from(word >> graceful_restart::FLAGS_SHIFT).unwrap_or_default();
    let mut families = Vec::with_capacity(value.len() / GR_FAMILY_LEN);
    while value.has_remaining() {
        let entry = (value.try_get_u16(), value.try_get_u8(), value.try_get_u8());
        let (Ok(afi), Ok(safi), Ok(family_flags)) = entry else {
            return Err(bad_length());
        };
        if let Some(family) = Family::from_afi_safi(afi, safi) {
            let forwarding = family_flags & graceful_restart::FORWARDING_STATE != 0;
            families.push((family, forwarding));
        }
    }
    Ok(GracefulRestart {
        restart_state: flags & graceful_restart::RESTART_STATE != 0,
        notification: flags & graceful_restart::NOTIFICATION != 0,
        restart_time: word & graceful_restart::MAX_RESTART_TIME,
        families,
    })
}

fn malformed(what: &'static str) -> OpenError {
    OpenError::Malformed(what)
}

/// Decodes the OPEN body (after the header, whose check guaranteed at least
/// the 10 fixed octets).
pub(super) fn decode(mut body: Bytes) -> Result<Open, OpenError> {
    let short = || malformed("message too short");
    let version = body.try_get_u8().map_err(|_| short())?;
    let my_as = body.try_get_u16().map_err(|_| short())?;
    let hold_time = body.try_get_u16().map_err(|_| short())?;
    let bgp_id = Ipv4Addr::from(body.try_get_u32().map_err(|_| short())?);
    let opt_len = body.try_get_u8().map_err(|_| short())?;
    if version != iana::BGP_VERSION {
        return Err(OpenError::UnsupportedVersion(version));
    }
    // RFC 4271 §6.2: zero or at least three seconds.
    if hold_time == 1 || hold_time == 2 {
        return Err(OpenError::UnacceptableHoldTime(hold_time));
    }
    if bgp_id.is_unspecified() {
        return Err(OpenError::BadBgpIdentifier(bgp_id));
    }
    let extended = opt_len == u8::MAX && body.first() == Some(&open_param::EXTENDED_LENGTH);
    let params_len = if extended {
        body.advance(1);
        usize::from(body.try_get_u16().map_err(|_| short())?)
    } else {
        usize::from(opt_len)
    };
    if params_len != body.len() {
        return Err(malformed(
            "optional parameters length disagrees with the message",
        ));
    }
    let mut capabilities = Vec::new();
    while body.has_remaining() {
        let kind = body.try_get_u8().map_err(|_| short())?;
        let len = if extended {
            body.try_get_u16().map(usize::from)
        } else {
            body.try_get_u8().map(usize::from)
        };
        let len = len.map_err(|_| malformed("truncated optional parameter"))?;
        let value = take(&mut body, len).ok_or(malformed("optional parameter overruns"))?;
        if kind != open_param::CAPABILITIES {
            return Err(OpenError::UnsupportedOptionalParameter(kind));
        }
        decode_capabilities(value, &mut capabilities)?;
    }
    let asn = capabilities
        .iter()
        .find_map(|c| match c {
            Capability::FourOctetAs(asn) => Some(*asn),
            _ => None,
        })
        .unwrap_or(u32::from(my_as));
    Ok(Open {
        version,
        asn,
        hold_time,
        bgp_id,
        capabilities,
    })
}

/// Decodes the capabilities of one parameter (RFC 5492 §4); a known
/// capability with the wrong length is malformed (RFC 4271 §6.2: subcode 0).
fn decode_capabilities(mut buf: Bytes, out: &mut Vec<Capability>) -> Result<(), OpenError> {
    while buf.has_remaining() {
        let code = buf
            .try_get_u8()
            .map_err(|_| malformed("truncated capability"))?;
        let len = buf
            .try_get_u8()
            .map_err(|_| malformed("truncated capability"))?;
        let mut value = take(&mut buf, usize::from(len)).ok_or(malformed("capability overruns"))?;
        let cap = match code {
            capability::MULTIPROTOCOL => {
                if value.len() != 4 {
                    return Err(malformed("multiprotocol capability length is not 4"));
                }
                let raw = value.clone();
                // The length was checked above, so these reads cannot fail.
                let afi = value.get_u16();
                let _reserved = value.get_u8();
                let safi = value.get_u8();
                match Family::from_afi_safi(afi, safi) {
                    Some(family) => Capability::Multiprotocol(family),
                    None => Capability::Unknown { code, value: raw },
                }
            }
            capability::ROUTE_REFRESH => {
                if !value.is_empty() {
                    return Err(malformed("route refresh capability length is not 0"));
                }
                Capability::RouteRefresh
            }
            capability::GRACEFUL_RESTART => {
                Capability::GracefulRestart(decode_graceful_restart(value)?)
            }
            capability::FOUR_OCTET_AS => {
                let asn = value
                    .try_get_u32()
                    .ok()
                    .filter(|_| value.is_empty())
                    .ok_or(malformed("4-octet AS capability length is not 4"))?;
                Capability::FourOctetAs(asn)
            }
            _ => Capability::Unknown { code, value },
        };
        out.push(cap);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(hex: &[u8]) -> Bytes {
        Bytes::copy_from_slice(hex)
    }

    const ID: [u8; 4] = [192, 0, 2, 1];

    fn fixed(version: u8, hold: u16, id: [u8; 4]) -> Vec<u8> {
        let mut v = vec![version, 0xfd, 0xe8];
        v.extend_from_slice(&hold.to_be_bytes());
        v.extend_from_slice(&id);
        v
    }

    #[test]
    fn hold_time_of_one_second_is_rejected() {
        let mut b = fixed(4, 1, ID);
        b.push(0);
        assert_eq!(decode(body(&b)), Err(OpenError::UnacceptableHoldTime(1)));
    }

    #[test]
    fn an_open_without_multiprotocol_implies_ipv4_unicast() {
        let mut b = fixed(4, 90, ID);
        b.push(0);
        let open = decode(body(&b)).expect("valid");
        assert_eq!(open.families(), vec![Family::Ipv4Unicast]);
        assert!(!open.four_octet_as());
        assert_eq!(open.asn, 65000);
    }

    #[test]
    fn multiprotocol_for_another_family_is_kept_raw_and_implies_nothing() {
        let mut b = fixed(4, 90, ID);
        b.extend_from_slice(&[8, 2, 6, 1, 4, 0, 25, 0, 70]);
        let open = decode(body(&b)).expect("valid");
        assert_eq!(open.families(), vec![]);
        let mut out = BytesMut::new();
        open.encode_body(&mut out);
        assert_eq!(&out[..], &b[..]);
    }

    #[test]
    fn extended_optional_parameters_are_understood() {
        let mut b = fixed(4, 90, ID);
        // RFC 9072: 255, type 255, length 5, then type 2 with a 2-octet length.
        b.extend_from_slice(&[255, 255, 0, 5, 2, 0, 2, 2, 0]);
        let open = decode(body(&b)).expect("valid");
        assert!(open.route_refresh());
    }

    #[test]
    fn many_capabilities_use_the_extended_parameters_length() {
        let mut open = Open::new(65000, 90, Ipv4Addr::new(192, 0, 2, 1), &[]);
        for code in 100..200 {
            open.capabilities.push(Capability::Unknown {
                code,
                value: Bytes::from_static(&[1]),
            });
        }
        let mut out = BytesMut::new();
        open.encode_body(&mut out);
        assert_eq!(out.get(9..11), Some(&[255u8, 255][..]));
        assert_eq!(decode(out.freeze()), Ok(open));
    }

    #[test]
    fn a_four_octet_asn_goes_as_as_trans_in_the_fixed_field() {
        let open = Open::new(4_200_000_000, 90, Ipv4Addr::new(192, 0, 2, 1), &[]);
        let mut out = BytesMut::new();
        open.encode_body(&mut out);
        assert_eq!(out.get(1..3), Some(&iana::AS_TRANS.to_be_bytes()[..]));
        assert_eq!(decode(out.freeze()).map(|o| o.asn), Ok(4_200_000_000));
    }

    fn graceful_restart_of(value: &[u8]) -> Result<Option<GracefulRestart>, OpenError> {
        let mut b = fixed(4, 90, ID);
        let cap_len = u8::try_from(value.len()).expect("short");
        b.extend_from_slice(&[cap_len + 4, 2, cap_len + 2, 64, cap_len]);
        b.extend_from_slice(value);
        decode(body(&b)).map(|open| open.graceful_restart().cloned())
    }

    #[test]
    fn graceful_restart_flags_time_and_families_decode() {
        // R and N set, restart time 300, IPv6 unicast with F, IPv4 without.
        let gr = graceful_restart_of(&[0xc1, 0x2c, 0, 2, 1, 0x80, 0, 1, 1, 0]);
        assert_eq!(
            gr,
            Ok(Some(GracefulRestart {
                restart_state: true,
                notification: true,
                restart_time: 300,
                families: vec![(Family::Ipv6Unicast, true), (Family::Ipv4Unicast, false)],
            }))
        );
    }

    #[test]
    fn graceful_restart_reserved_bits_are_ignored() {
        // Both reserved restart flags and the reserved family flag bits set.
        let gr = graceful_restart_of(&[0x30, 0x78, 0, 1, 1, 0x7f]);
        assert_eq!(
            gr,
            Ok(Some(GracefulRestart {
                restart_state: false,
                notification: false,
                restart_time: 120,
                families: vec![(Family::Ipv4Unicast, false)],
            }))
        );
    }

    #[test]
    fn graceful_restart_entries_for_other_families_are_skipped() {
        // IPv4 multicast (1/2) and L2VPN EVPN (25/70) around IPv4 unicast.
        let gr = graceful_restart_of(&[0, 90, 0, 1, 2, 0x80, 0, 1, 1, 0x80, 0, 25, 70, 0]);
        assert_eq!(
            gr.map(|gr| gr.map(|gr| gr.families)),
            Ok(Some(vec![(Family::Ipv4Unicast, true)]))
        );
    }

    #[test]
    fn graceful_restart_without_families_is_a_helper_only_speaker() {
        let gr = graceful_restart_of(&[0, 120])
            .expect("valid")
            .expect("present");
        assert!(gr.families.is_empty());
        assert_eq!(gr.restart_time, 120);
    }

    #[test]
    fn graceful_restart_of_other_than_two_plus_four_k_octets_is_malformed() {
        for value in [
            &[][..],
            &[0],
            &[0, 120, 0],
            &[0, 120, 0, 1, 1],
            &[0, 120, 0, 1, 1, 0, 0],
        ] {
            assert!(
                matches!(graceful_restart_of(value), Err(OpenError::Malformed(_))),
                "{value:?}"
            );
        }
    }

    #[test]
    fn graceful_restart_time_beyond_twelve_bits_is_sent_as_4095() {
        let mut open = Open::new(65000, 90, Ipv4Addr::new(192, 0, 2, 1), &[]);
        open.capabilities = vec![Capability::GracefulRestart(GracefulRestart {
            restart_state: false,
            notification: true,
            restart_time: 5000,
            families: vec![],
        })];
        let mut out = BytesMut::new();
        open.encode_body(&mut out);
        assert_eq!(out.get(9..), Some(&[6u8, 2, 4, 64, 2, 0x4f, 0xff][..]));
        let back = decode(out.freeze()).expect("valid");
        assert_eq!(
            back.graceful_restart().map(|gr| gr.restart_time),
            Some(4095)
        );
    }

    #[test]
    fn graceful_restart_with_too_many_families_is_cut_to_fit_its_length_octet() {
        let mut open = Open::new(65000, 90, Ipv4Addr::new(192, 0, 2, 1), &[]);
        open.capabilities = vec![Capability::GracefulRestart(GracefulRestart {
            restart_state: false,
            notification: false,
            restart_time: 120,
            families: vec![(Family::Ipv4Unicast, true); 100],
        })];
        let mut out = BytesMut::new();
        open.encode_body(&mut out);
        let back = decode(out.freeze()).expect("valid");
        assert_eq!(
            back.graceful_restart().map(|gr| gr.families.len()),
            Some(63)
        );
    }
}
