//! Feeds one byte stream to `try_parse` in arbitrary chunks; the messages
//! and the first error must be the same as when the whole stream is there
//! at once.
//!
//! Input: byte 0 selects the context (low bit) and how many of the next
//! bytes are chunk sizes (bits 1-4); the rest is the stream.

#![no_main]

use bytes::BytesMut;
use herald::bgp::wire::{try_parse, Context, DecodeError, Message};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, PartialEq)]
enum Outcome {
    Messages(Vec<Message>),
    Failed(Vec<Message>, DecodeError),
}

fn drain(buf: &mut BytesMut, ctx: &Context, seen: &mut Vec<Message>) -> Option<DecodeError> {
    loop {
        match try_parse(buf, ctx) {
            Ok(Some(msg)) => seen.push(msg),
            Ok(None) => return None,
            Err(e) => return Some(e),
        }
    }
}

fn whole(stream: &[u8], ctx: &Context) -> Outcome {
    let mut buf = BytesMut::from(stream);
    let mut seen = Vec::new();
    match drain(&mut buf, ctx, &mut seen) {
        Some(e) => Outcome::Failed(seen, e),
        None => Outcome::Messages(seen),
    }
}

fn chunked(stream: &[u8], sizes: &[u8], ctx: &Context) -> Outcome {
    let mut buf = BytesMut::new();
    let mut seen = Vec::new();
    let mut rest = stream;
    let mut sizes = sizes.iter().cycle();
    while !rest.is_empty() {
        // A size byte of n feeds n + 1 bytes; with no size bytes, one at a time.
        let n = sizes
            .next()
            .map_or(1, |&s| usize::from(s) + 1)
            .min(rest.len());
        let (chunk, tail) = rest.split_at(n);
        rest = tail;
        buf.extend_from_slice(chunk);
        if let Some(e) = drain(&mut buf, ctx, &mut seen) {
            return Outcome::Failed(seen, e);
        }
    }
    Outcome::Messages(seen)
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let ctx = Context {
        four_octet_as: first & 1 == 1,
    };
    let n_sizes = usize::from((first >> 1) & 0x0f).min(rest.len());
    let (sizes, stream) = rest.split_at(n_sizes);
    assert_eq!(chunked(stream, sizes, &ctx), whole(stream, &ctx));
});
