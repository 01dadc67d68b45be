//! Message framing: the 19-byte header (RFC 4271 §4.1), stream parsing and
//! the top-level encoder.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                                               |
//! +                     Marker (16 x 0xff)                        +
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |          Length               |      Type     |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use bytes::{BufMut, Bytes, BytesMut};

use super::buf::patch_u16;
use super::iana::message_type;
use super::{
    notification, open, route_refresh, update, Context, DecodeError, EncodeError, HeaderError,
    Message, HEADER_LEN, MAX_MESSAGE_LEN,
};

const MARKER_LEN: usize = 16;

/// Smallest valid length of each message type (RFC 4271 §4.2, §4.3, §4.5,
/// §4.4; RFC 2918 §3), and whether that is also the only valid length.
fn length_bounds(kind: u8) -> Option<(usize, bool)> {
    match kind {
        message_type::OPEN => Some((29, false)),
        message_type::UPDATE => Some((23, false)),
        message_type::NOTIFICATION => Some((21, false)),
        message_type::KEEPALIVE => Some((HEADER_LEN, true)),
        message_type::ROUTE_REFRESH => Some((23, true)),
        _ => None,
    }
}

/// Takes one message off the front of `buf`.
///
/// Returns `Ok(None)` when `buf` does not hold a whole message yet; nothing
/// is consumed then. The header is validated as soon as its 19 bytes are
/// there, so a bad header is reported without waiting for a body that may
/// never come. On `Ok(Some(_))` the message's bytes are consumed; on a body
/// error they are consumed too, while a header error leaves `buf` as it
/// was. Either way the session must be closed after an error, sending
/// [`DecodeError::notification`].
pub fn try_parse(buf: &mut BytesMut, ctx: &Context) -> Result<Option<Message>, DecodeError> {
    let Some(header) = buf.get(..HEADER_LEN) else {
        return Ok(None);
    };
    let (marker, rest) = header.split_at(MARKER_LEN);
    if marker.iter().any(|&b| b != 0xff) {
        return Err(HeaderError::NotSynchronized.into());
    }
    let &[len_hi, len_lo, kind] = rest else {
        return Err(HeaderError::NotSynchronized.into());
    };
    let length = u16::from_be_bytes([len_hi, len_lo]);
    let len = usize::from(length);
    if !(HEADER_LEN..=MAX_MESSAGE_LEN).contains(&len) {
        return Err(HeaderError::BadLength(length).into());
    }
    let Some((min, exact)) = length_bounds(kind) else {
        return Err(HeaderError::BadType(kind).into());
    };
    if len < min || (exact && len != min) {
        return Err(HeaderError::BadLength(length).into());
    }
    if buf.len() < len {
        buf.reserve(len - buf.len());
        return Ok(None);
    }
    let mut body = buf.split_to(len).freeze();
    let body = body.split_off(HEADER_LEN);
    decode_body(kind, body, ctx).map(Some)
}

fn decode_body(kind: u8, body: Bytes, ctx: &Context) -> Result<Message, DecodeError> {
    Ok(match kind {
        message_type::OPEN => Message::Open(open::decode(body)?),
        message_type::UPDATE => Message::Update(update::decode(body, ctx)?),
        message_type::NOTIFICATION => Message::Notification(notification::decode(body)),
        message_type::ROUTE_REFRESH => Message::RouteRefresh(route_refresh::decode(body)),
        // KEEPALIVE has no body, and its length was checked with the header;
        // other types were rejected there too.
        _ => Message::Keepalive,
    })
}

impl Message {
    /// Appends this message, header included, to `out`. Fails without
    /// touching `out` if the result would exceed 4096 bytes.
    pub fn encode(&self, ctx: &Context, out: &mut BytesMut) -> Result<(), EncodeError> {
        let start = out.len();
        out.put_bytes(0xff, MARKER_LEN);
        out.put_u16(0);
        let kind = match self {
            Message::Open(_) => message_type::OPEN,
            Message::Update(_) => message_type::UPDATE,
            Message::Notification(_) => message_type::NOTIFICATION,
            Message::Keepalive => message_type::KEEPALIVE,
            Message::RouteRefresh(_) => message_type::ROUTE_REFRESH,
        };
        out.put_u8(kind);
        match self {
            Message::Open(m) => m.encode_body(out),
            Message::Update(m) => m.encode_body(ctx, out),
            Message::Notification(m) => m.encode_body(out),
            Message::Keepalive => {}
            Message::RouteRefresh(m) => m.encode_body(out),
        }
        let len = out.len() - start;
        if len > MAX_MESSAGE_LEN {
            out.truncate(start);
            return Err(EncodeError::TooLong(len));
        }
        patch_u16(out, start + MARKER_LEN, len);
        Ok(())
    }

    /// The message type's name, for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Message::Open(_) => "OPEN",
            Message::Update(_) => "UPDATE",
            Message::Notification(_) => "NOTIFICATION",
            Message::Keepalive => "KEEPALIVE",
            Message::RouteRefresh(_) => "ROUTE-REFRESH",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keepalive() -> BytesMut {
        let mut b = BytesMut::new();
        b.put_bytes(0xff, 16);
        b.put_slice(&[0, 19, 4]);
        b
    }

    #[test]
    fn a_partial_header_needs_more_bytes() {
        let mut buf = keepalive();
        buf.truncate(18);
        assert_eq!(try_parse(&mut buf, &Context::default()), Ok(None));
        assert_eq!(buf.len(), 18);
    }

    #[test]
    fn a_keepalive_is_parsed_and_consumed() {
        let mut buf = keepalive();
        buf.put_u8(0xff);
        let msg = try_parse(&mut buf, &Context::default()).expect("valid");
        assert_eq!(msg, Some(Message::Keepalive));
        assert_eq!(&buf[..], &[0xff]);
    }

    #[test]
    fn a_bad_length_is_reported_before_the_body_arrives() {
        let mut buf = keepalive();
        if let Some(len) = buf.get_mut(16..18) {
            len.copy_from_slice(&[0x10, 0x01]);
        }
        let err = try_parse(&mut buf, &Context::default()).expect_err("too long");
        assert_eq!(err, DecodeError::Header(HeaderError::BadLength(4097)));
    }

    #[test]
    fn an_oversized_message_is_not_encoded() {
        let n = crate::bgp::wire::Notification::new(6, 2, vec![0u8; 4096]);
        let mut out = BytesMut::from(&b"x"[..]);
        let err = Message::Notification(n).encode(&Context::default(), &mut out);
        assert_eq!(err, Err(EncodeError::TooLong(4096 + 21)));
        assert_eq!(&out[..], b"x");
    }

    #[test]
    fn kinds_are_named_like_the_rfc() {
        assert_eq!(Message::Keepalive.kind(), "KEEPALIVE");
    }
}
