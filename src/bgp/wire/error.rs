//! Decode errors and their mapping to NOTIFICATION (RFC 4271 §6).
//!
//! Skeleton: the codec work fills in the full error tree.

use super::Notification;

/// A received message could not be decoded; carries what the NOTIFICATION
/// sent in reply must say.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("malformed message: {notification:?}")]
pub struct DecodeError {
    notification: Notification,
}

impl DecodeError {
    /// The NOTIFICATION to send before closing the session.
    pub fn notification(&self) -> Notification {
        self.notification.clone()
    }
}

/// A message could not be encoded within the limits of the protocol.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("message of {0} bytes exceeds the 4096-byte limit")]
    TooLong(usize),
}
