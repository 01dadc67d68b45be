//! NOTIFICATION (RFC 4271 §4.5), the shutdown communication carried by
//! Cease / Administrative Shutdown and Administrative Reset (RFC 9003 §2),
//! and Cease / Hard Reset, which wraps another NOTIFICATION (RFC 8538 §3).
//!
//! ```text
//! +-----------+--------------+------------------+
//! | Code (1)  | Subcode (1)  | Data (variable)  |
//! +-----------+--------------+------------------+
//!
//! Shutdown communication, as the Data of Cease 2 and 4:
//! +-----------+------------------------------------+
//! | Length(1) | UTF-8 message (at most 255 octets) |
//! +-----------+------------------------------------+
//!
//! Data of Cease 9 (Hard Reset): the wrapped NOTIFICATION's fields:
//! +-----------+--------------+------------------+
//! | Code (1)  | Subcode (1)  | Data (variable)  |
//! +-----------+--------------+------------------+
//! ```

use std::fmt;

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::iana::{self, cease_subcode, error_code, MAX_SHUTDOWN_MESSAGE_LEN};
use super::{Notification, HEADER_LEN, MAX_MESSAGE_LEN};

/// Most data a NOTIFICATION can carry: a whole message less the header and
/// the code and subcode octets (RFC 4271 §4.5).
const MAX_DATA_LEN: usize = MAX_MESSAGE_LEN - HEADER_LEN - 2;

/// Decodes the body; the header check guaranteed at least the two code
/// octets. The data is kept raw.
pub(super) fn decode(mut body: Bytes) -> Notification {
    let code = body.try_get_u8().unwrap_or_default();
    let subcode = body.try_get_u8().unwrap_or_default();
    Notification::new(code, subcode, body)
}

impl Notification {
    /// A NOTIFICATION with the given code, subcode and raw data.
    pub fn new(code: u8, subcode: u8, data: impl Into<Bytes>) -> Notification {
        Notification {
            code,
            subcode,
            data: data.into(),
        }
    }

    /// Cease with a shutdown communication (RFC 9003 §2): one length octet
    /// and the UTF-8 message, cut to 255 octets on a character boundary.
    pub fn cease(subcode: u8, message: &str) -> Notification {
        let mut end = message.len().min(MAX_SHUTDOWN_MESSAGE_LEN);
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        let text = message.get(..end).unwrap_or_default();
        let mut data = BytesMut::with_capacity(1 + text.len());
        // `end` is at most 255, so it fits the length octet.
        data.put_u8(u8::try_from(text.len()).unwrap_or(u8::MAX));
        data.put_slice(text.as_bytes());
        Notification::new(error_code::CEASE, subcode, data.freeze())
    }

    /// Cease / Hard Reset wrapping `inner` (RFC 8538 §3): the data is the
    /// inner NOTIFICATION's code, subcode and data, so the peer still learns
    /// the real reason while dropping our routes at once instead of keeping
    /// them for a graceful restart. Inner data too long to fit one message
    /// is cut (no NOTIFICATION herald builds comes near that).
    pub fn hard_reset(inner: &Notification) -> Notification {
        let data = inner.data.get(..MAX_DATA_LEN - 2).unwrap_or(&inner.data);
        let mut wrapped = BytesMut::with_capacity(2 + data.len());
        wrapped.put_u8(inner.code);
        wrapped.put_u8(inner.subcode);
        wrapped.put_slice(data);
        Notification::new(
            error_code::CEASE,
            cease_subcode::HARD_RESET,
            wrapped.freeze(),
        )
    }

    /// This is Cease / Hard Reset (RFC 8538 §3).
    pub fn is_hard_reset(&self) -> bool {
        self.code == error_code::CEASE && self.subcode == cease_subcode::HARD_RESET
    }

    /// The NOTIFICATION a Hard Reset wraps (RFC 8538 §3); `None` for any
    /// other NOTIFICATION, or a Hard Reset whose data is too short to hold
    /// a code and subcode.
    pub fn hard_reset_inner(&self) -> Option<Notification> {
        if !self.is_hard_reset() {
            return None;
        }
        let mut data = self.data.clone();
        let code = data.try_get_u8().ok()?;
        let subcode = data.try_get_u8().ok()?;
        Some(Notification::new(code, subcode, data))
    }

    /// The shutdown communication, if this is Cease / Administrative
    /// Shutdown or Administrative Reset and the data is a well-formed,
    /// non-empty RFC 9003 communication. A Hard Reset has none of its own:
    /// look into [`Notification::hard_reset_inner`].
    pub fn shutdown_message(&self) -> Option<String> {
        let shutdown = matches!(
            self.subcode,
            cease_subcode::ADMINISTRATIVE_SHUTDOWN | cease_subcode::ADMINISTRATIVE_RESET
        );
        if self.code != error_code::CEASE || !shutdown {
            return None;
        }
        let (&len, text) = self.data.split_first()?;
        let text = text.get(..usize::from(len))?;
        if text.is_empty() {
            return None;
        }
        std::str::from_utf8(text).ok().map(str::to_owned)
    }

    pub(super) fn encode_body(&self, out: &mut BytesMut) {
        out.put_u8(self.code);
        out.put_u8(self.subcode);
        out.put_slice(&self.data);
    }
}

impl fmt::Display for Notification {
    /// `Cease / Administrative Shutdown: "maintenance"`,
    /// `OPEN Message Error / Bad Peer AS (data 0xfde9)`; numbers stand in
    /// for codes and subcodes without a name. A Hard Reset shows what it
    /// wraps: `Cease / Hard Reset (Cease / Administrative Shutdown:
    /// "maintenance")`. Only one level is unwrapped, so hostile data
    /// nesting Hard Resets cannot make this recurse.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.hard_reset_inner() {
            Some(inner) => {
                write_names(self, f)?;
                f.write_str(" (")?;
                write_one(&inner, f)?;
                f.write_str(")")
            }
            None => write_one(self, f),
        }
    }
}

/// Code and subcode names.
fn write_names(n: &Notification, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match iana::error_code_name(n.code) {
        Some(name) => f.write_str(name)?,
        None => write!(f, "error code {}", n.code)?,
    }
    let has_subcodes = !matches!(n.code, error_code::HOLD_TIMER_EXPIRED);
    if has_subcodes || n.subcode != 0 {
        match iana::error_subcode_name(n.code, n.subcode) {
            Some(name) => write!(f, " / {name}")?,
            None => write!(f, " / subcode {}", n.subcode)?,
        }
    }
    Ok(())
}

/// Names, then the shutdown message or the data in hex.
fn write_one(n: &Notification, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    write_names(n, f)?;
    if let Some(message) = n.shutdown_message() {
        return write!(f, ": {message:?}");
    }
    if !n.data.is_empty() {
        f.write_str(" (data 0x")?;
        for b in &n.data {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cease_carries_a_length_prefixed_message() {
        let n = Notification::cease(cease_subcode::ADMINISTRATIVE_SHUTDOWN, "maintenance");
        assert_eq!(&n.data[..], b"\x0bmaintenance");
        assert_eq!(n.shutdown_message().as_deref(), Some("maintenance"));
    }

    #[test]
    fn a_long_shutdown_message_is_cut_on_a_character_boundary() {
        let long = "é".repeat(200);
        let n = Notification::cease(cease_subcode::ADMINISTRATIVE_RESET, &long);
        assert_eq!(n.data.first(), Some(&254));
        assert_eq!(n.shutdown_message().map(|m| m.chars().count()), Some(127));
    }

    #[test]
    fn a_shutdown_length_beyond_the_data_is_not_a_message() {
        let n = Notification::new(6, 2, &b"\x09short"[..]);
        assert_eq!(n.shutdown_message(), None);
        assert_eq!(
            n.to_string(),
            "Cease / Administrative Shutdown (data 0x0973686f7274)"
        );
    }

    #[test]
    fn invalid_utf8_is_not_a_message() {
        let n = Notification::new(6, 4, &[2u8, 0xc3, 0x28][..]);
        assert_eq!(n.shutdown_message(), None);
    }

    #[test]
    fn display_names_codes_and_shows_data() {
        let n = Notification::cease(2, "maintenance");
        assert_eq!(
            n.to_string(),
            "Cease / Administrative Shutdown: \"maintenance\""
        );
        let n = Notification::new(2, 2, &[0xfd, 0xe9][..]);
        assert_eq!(
            n.to_string(),
            "OPEN Message Error / Bad Peer AS (data 0xfde9)"
        );
        assert_eq!(
            Notification::new(4, 0, Bytes::new()).to_string(),
            "Hold Timer Expired"
        );
        assert_eq!(
            Notification::new(9, 7, Bytes::new()).to_string(),
            "error code 9 / subcode 7"
        );
    }

    #[test]
    fn hard_reset_wraps_code_subcode_and_data() {
        let inner = Notification::cease(cease_subcode::ADMINISTRATIVE_SHUTDOWN, "bye");
        let n = Notification::hard_reset(&inner);
        assert_eq!((n.code, n.subcode), (6, 9));
        assert_eq!(&n.data[..], b"\x06\x02\x03bye");
        assert_eq!(n.hard_reset_inner(), Some(inner));
        assert_eq!(n.shutdown_message(), None);
    }

    #[test]
    fn a_hard_reset_displays_what_it_wraps_with_its_message() {
        let inner = Notification::cease(cease_subcode::ADMINISTRATIVE_SHUTDOWN, "maintenance");
        assert_eq!(
            Notification::hard_reset(&inner).to_string(),
            "Cease / Hard Reset (Cease / Administrative Shutdown: \"maintenance\")"
        );
        let bfd = Notification::new(6, 10, Bytes::new());
        assert_eq!(
            Notification::hard_reset(&bfd).to_string(),
            "Cease / Hard Reset (Cease / BFD Down)"
        );
    }

    #[test]
    fn nested_hard_resets_are_unwrapped_one_level_only() {
        let innermost = Notification::new(4, 0, Bytes::new());
        let n = Notification::hard_reset(&Notification::hard_reset(&innermost));
        assert_eq!(
            n.to_string(),
            "Cease / Hard Reset (Cease / Hard Reset (data 0x0400))"
        );
    }

    #[test]
    fn a_hard_reset_too_short_to_wrap_anything_shows_its_data() {
        let n = Notification::new(6, 9, &[6u8][..]);
        assert_eq!(n.hard_reset_inner(), None);
        assert_eq!(n.to_string(), "Cease / Hard Reset (data 0x06)");
        let empty = Notification::new(6, 9, Bytes::new());
        assert_eq!(empty.to_string(), "Cease / Hard Reset");
    }

    #[test]
    fn a_hard_reset_of_oversized_data_still_fits_one_message() {
        let inner = Notification::new(3, 1, vec![0u8; 5000]);
        let n = Notification::hard_reset(&inner);
        assert_eq!(HEADER_LEN + 2 + n.data.len(), MAX_MESSAGE_LEN);
    }
}
