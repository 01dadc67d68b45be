//! NOTIFICATION (RFC 4271 §4.5) and the shutdown communication carried by
//! Cease / Administrative Shutdown and Administrative Reset (RFC 9003 §2).
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
//! ```

use std::fmt;

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::iana::{self, cease_subcode, error_code, MAX_SHUTDOWN_MESSAGE_LEN};
use super::Notification;

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

    /// The shutdown communication, if this is Cease / Administrative
    /// Shutdown or Administrative Reset and the data is a well-formed,
    /// non-empty RFC 9003 communication.
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
    /// for codes and subcodes without a name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match iana::error_code_name(self.code) {
            Some(name) => f.write_str(name)?,
            None => write!(f, "error code {}", self.code)?,
        }
        let has_subcodes = !matches!(self.code, error_code::HOLD_TIMER_EXPIRED);
        if has_subcodes || self.subcode != 0 {
            match iana::error_subcode_name(self.code, self.subcode) {
                Some(name) => write!(f, " / {name}")?,
                None => write!(f, " / subcode {}", self.subcode)?,
            }
        }
        if let Some(message) = self.shutdown_message() {
            return write!(f, ": {message:?}");
        }
        if !self.data.is_empty() {
            f.write_str(" (data 0x")?;
            for b in &self.data {
                write!(f, "{b:02x}")?;
            }
            f.write_str(")")?;
        }
        Ok(())
    }
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
}
