//! Decodes one BGP message from hostile bytes; whatever decodes must
//! re-encode and decode again, and whatever fails must yield a sendable
//! NOTIFICATION.
//!
//! Input: the low bit of the first byte selects the 4-octet AS context, the
//! rest is the stream.

#![no_main]

use bytes::BytesMut;
use herald::bgp::wire::{try_parse, Context, Message, MAX_MESSAGE_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let ctx = Context {
        four_octet_as: first & 1 == 1,
    };
    let mut buf = BytesMut::from(rest);
    match try_parse(&mut buf, &ctx) {
        Ok(None) => assert_eq!(&buf[..], rest, "nothing is consumed while waiting"),
        Ok(Some(msg)) => round_trip(&msg, &ctx),
        Err(err) => {
            let notification = Message::Notification(err.notification());
            let mut out = BytesMut::new();
            notification
                .encode(&ctx, &mut out)
                .expect("the NOTIFICATION for a decode error always encodes");
            assert!(out.len() <= MAX_MESSAGE_LEN);
            let _ = err.to_string();
        }
    }
});

/// What the codec promises (`src/bgp/wire/mod.rs`): OPEN, NOTIFICATION,
/// KEEPALIVE and ROUTE-REFRESH come back equal. A received UPDATE is not
/// re-encoded byte for byte (attribute order, dropped ORIGIN/AS_PATH on
/// withdrawals, AS_TRANS handling, treat-as-withdraw leftovers), so for it
/// only decoding must succeed and, when it was clean, the prefixes must
/// survive.
fn round_trip(msg: &Message, ctx: &Context) {
    let mut out = BytesMut::new();
    if msg.encode(ctx, &mut out).is_err() {
        return;
    }
    assert!(out.len() <= MAX_MESSAGE_LEN);
    let encoded = out.clone();
    let again = try_parse(&mut out, ctx)
        .unwrap_or_else(|e| panic!("re-encoded {msg:?} does not decode: {e}"))
        .expect("re-encoded message is complete");
    assert!(out.is_empty(), "re-encoded message leaves bytes over");
    match (msg, &again) {
        (Message::Update(a), Message::Update(b)) => {
            if a.treat_as_withdraw.is_none() && b.treat_as_withdraw.is_none() {
                assert_eq!(a.withdrawn, b.withdrawn);
                assert_eq!(a.nlri, b.nlri);
                let reach = |m: &herald::bgp::wire::Update| {
                    m.attributes.as_ref().and_then(|x| x.mp_reach.clone())
                };
                let unreach = |m: &herald::bgp::wire::Update| {
                    m.attributes.as_ref().and_then(|x| x.mp_unreach.clone())
                };
                assert_eq!(reach(a), reach(b));
                assert_eq!(unreach(a), unreach(b));
            }
        }
        _ => {
            assert_eq!(msg, &again);
            let mut twice = BytesMut::new();
            again.encode(ctx, &mut twice).expect("encoded once");
            assert_eq!(encoded, twice, "encoding is stable");
        }
    }
}
