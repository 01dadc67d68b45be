//! Prefixes as NLRI, Withdrawn Routes and inside MP_REACH/MP_UNREACH
//! (RFC 4271 §4.3, RFC 4760 §5).
//!
//! ```text
//! +---------------------------+
//! |   Length (1 octet, bits)  |
//! +---------------------------+
//! |   Prefix (ceil(Length/8)) |
//! +---------------------------+
//! ```
//!
//! Bits beyond the prefix length are irrelevant (RFC 4271 §4.3) and are
//! masked off on decode.

use std::net::{Ipv4Addr, Ipv6Addr};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use super::{Family, UpdateError};

/// Octets `prefix` takes on the wire.
pub(super) fn encoded_len(prefix: &IpNet) -> usize {
    1 + usize::from(prefix.prefix_len()).div_ceil(8)
}

/// Appends one prefix in NLRI encoding.
pub(super) fn encode(prefix: &IpNet, out: &mut BytesMut) {
    let octets = usize::from(prefix.prefix_len()).div_ceil(8);
    out.put_u8(prefix.prefix_len());
    match prefix.trunc() {
        IpNet::V4(p) => out.put_slice(p.addr().octets().get(..octets).unwrap_or_default()),
        IpNet::V6(p) => out.put_slice(p.addr().octets().get(..octets).unwrap_or_default()),
    }
}

/// Reads one prefix of at most `max_len` bits into a 16-octet buffer.
fn read(buf: &mut Bytes, max_len: u8) -> Result<(u8, [u8; 16]), UpdateError> {
    let len = buf
        .try_get_u8()
        .map_err(|_| UpdateError::InvalidNetworkField("missing prefix length"))?;
    if len > max_len {
        return Err(UpdateError::InvalidNetworkField("prefix length too long"));
    }
    let octets = usize::from(len).div_ceil(8);
    let mut addr = [0u8; 16];
    let (Some(dst), true) = (addr.get_mut(..octets), buf.remaining() >= octets) else {
        return Err(UpdateError::InvalidNetworkField(
            "prefix overruns its field",
        ));
    };
    buf.copy_to_slice(dst);
    Ok((len, addr))
}

/// Decodes a run of IPv4 prefixes filling `buf`.
pub(super) fn decode_v4(mut buf: Bytes) -> Result<Vec<Ipv4Net>, UpdateError> {
    let mut out = Vec::new();
    while buf.has_remaining() {
        let (len, a) = read(&mut buf, 32)?;
        let addr = Ipv4Addr::new(a[0], a[1], a[2], a[3]);
        let net = Ipv4Net::new(addr, len)
            .map_err(|_| UpdateError::InvalidNetworkField("prefix length too long"))?;
        out.push(net.trunc());
    }
    Ok(out)
}

/// Decodes a run of IPv6 prefixes filling `buf`.
pub(super) fn decode_v6(mut buf: Bytes) -> Result<Vec<Ipv6Net>, UpdateError> {
    let mut out = Vec::new();
    while buf.has_remaining() {
        let (len, a) = read(&mut buf, 128)?;
        let net = Ipv6Net::new(Ipv6Addr::from(a), len)
            .map_err(|_| UpdateError::InvalidNetworkField("prefix length too long"))?;
        out.push(net.trunc());
    }
    Ok(out)
}

/// Decodes a run of prefixes of `family` filling `buf`.
pub(super) fn decode(family: Family, buf: Bytes) -> Result<Vec<IpNet>, UpdateError> {
    Ok(match family {
        Family::Ipv4Unicast => decode_v4(buf)?.into_iter().map(IpNet::V4).collect(),
        Family::Ipv6Unicast => decode_v6(buf)?.into_iter().map(IpNet::V6).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_bits_beyond_the_prefix_length_are_masked_off() {
        let nets = decode_v4(Bytes::from_static(&[23, 192, 0, 3, 31, 10, 1, 2, 3])).expect("ok");
        let expected: Vec<Ipv4Net> = ["192.0.2.0/23", "10.1.2.2/31"]
            .iter()
            .map(|s| s.parse().expect("net"))
            .collect();
        assert_eq!(nets, expected);
    }

    #[test]
    fn a_prefix_longer_than_the_family_allows_is_invalid() {
        let err = decode_v4(Bytes::from_static(&[33, 1, 2, 3, 4, 5])).expect_err("bad");
        assert_eq!(
            err,
            UpdateError::InvalidNetworkField("prefix length too long")
        );
    }

    #[test]
    fn a_truncated_prefix_is_invalid() {
        let err = decode_v6(Bytes::from_static(&[64, 0x20, 0x01])).expect_err("bad");
        assert_eq!(
            err,
            UpdateError::InvalidNetworkField("prefix overruns its field")
        );
    }

    #[test]
    fn prefixes_round_trip_with_minimal_octets() {
        let p: IpNet = "2001:db8::/33".parse().expect("net");
        let mut out = BytesMut::new();
        encode(&p, &mut out);
        assert_eq!(out.len(), encoded_len(&p));
        assert_eq!(&out[..], &[33, 0x20, 0x01, 0x0d, 0xb8, 0x00]);
        assert_eq!(decode(Family::Ipv6Unicast, out.freeze()), Ok(vec![p]));
    }
}
