//! ROUTE-REFRESH (RFC 2918 §3): asks the peer to resend its routes of one
//! family.
//!
//! ```text
//!  0       7      15      23      31
//! +-------+-------+-------+-------+
//! |      AFI      | Res.  | SAFI  |
//! +-------+-------+-------+-------+
//! ```

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::RouteRefresh;

/// Decodes the 4-byte body; the header check already pinned the length to
/// 23, so a short body cannot reach here and would decode as zeros. The
/// reserved octet is ignored (RFC 2918 §3).
pub(super) fn decode(mut body: Bytes) -> RouteRefresh {
    let afi = body.try_get_u16().unwrap_or_default();
    let _reserved = body.try_get_u8().unwrap_or_default();
    let safi = body.try_get_u8().unwrap_or_default();
    RouteRefresh { afi, safi }
}

impl RouteRefresh {
    pub(super) fn encode_body(&self, out: &mut BytesMut) {
        out.put_u16(self.afi);
        out.put_u8(0);
        out.put_u8(self.safi);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_family_is_kept_raw() {
        let rr = decode(Bytes::from_static(&[0, 25, 0, 70]));
        assert_eq!(rr, RouteRefresh { afi: 25, safi: 70 });
        let mut out = BytesMut::new();
        rr.encode_body(&mut out);
        assert_eq!(&out[..], &[0, 25, 0, 70]);
    }
}
