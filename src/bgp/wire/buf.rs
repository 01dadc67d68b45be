//! Buffer helpers every message codec shares: a checked split for
//! decoding and length back-patching for encoding. A leaf, so that the
//! codecs of the header, OPEN and UPDATE do not import one another.

use bytes::{Bytes, BytesMut};

/// Writes `len` as a big-endian u16 at `at`. A value that does not fit is
/// written as `u16::MAX`: it only happens for content that makes the whole
/// message longer than 4096 bytes, which the encoder then rejects.
pub(super) fn patch_u16(out: &mut BytesMut, at: usize, len: usize) {
    let value = u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes();
    if let Some(slot) = out.get_mut(at..at + 2) {
        slot.copy_from_slice(&value);
    }
}

/// Splits `n` bytes off the front of `buf`, or `None` if there are fewer.
pub(super) fn take(buf: &mut Bytes, n: usize) -> Option<Bytes> {
    (buf.len() >= n).then(|| buf.split_to(n))
}
