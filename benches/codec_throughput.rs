//! Codec throughput: UPDATEs carrying /32 prefixes, packed and encoded,
//! then decoded as a byte stream, in prefixes per second.
//!
//! Run: `cargo bench --bench codec_throughput`. Prints figures only.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use ipnet::{IpNet, Ipv4Net};

use herald::bgp::wire::{
    self, AsPathSegment, AsSegmentKind, Context, Family, Message, PathAttributes,
};

/// Prefixes per round; 198.18.0.0/15 (RFC 2544) has room for them.
const PREFIXES: usize = 100_000;
/// Rounds per measurement; the best round counts, so a noisy neighbour
/// only makes the figure conservative.
const ROUNDS: usize = 10;

fn main() {
    // `cargo test --all-targets` also runs benchmarks, without `--bench`;
    // measuring there would only slow the tests down.
    if !std::env::args().any(|arg| arg == "--bench") {
        eprintln!("codec_throughput: not measuring outside `cargo bench --bench codec_throughput`");
        return;
    }
    let ctx = Context {
        four_octet_as: true,
    };
    let base = u32::from(Ipv4Addr::new(198, 18, 0, 0));
    let prefixes: Vec<IpNet> = (0..PREFIXES)
        .map(|i| {
            let address = Ipv4Addr::from(base + u32::try_from(i).expect("fits"));
            IpNet::V4(Ipv4Net::new(address, 32).expect("valid /32"))
        })
        .collect();
    let attrs = PathAttributes {
        as_path: vec![AsPathSegment {
            kind: AsSegmentKind::Sequence,
            asns: vec![65001],
        }],
        med: Some(10),
        communities: vec![(65000 << 16) | 100],
        ..PathAttributes::default()
    };
    let next_hop = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 11));

    let mut stream = BytesMut::new();
    let mut messages = 0;
    let encode = best(|| {
        stream.clear();
        let updates = wire::pack_announce(Family::Ipv4Unicast, &attrs, next_hop, &prefixes, &ctx);
        messages = updates.len();
        for update in updates {
            Message::Update(update)
                .encode(&ctx, &mut stream)
                .expect("encodes");
        }
    });
    let bytes = stream.len();
    let decode = best(|| {
        let mut input = stream.clone();
        let mut decoded = 0;
        while let Some(message) = wire::try_parse(&mut input, &ctx).expect("decodes") {
            if let Message::Update(update) = message {
                decoded += update.nlri.len();
            }
        }
        assert_eq!(decoded, PREFIXES);
        black_box(decoded);
    });
    let rate = |d: Duration| PREFIXES as f64 / d.as_secs_f64();
    println!(
        "\ncodec throughput: {PREFIXES} IPv4 /32 prefixes with one attribute set \
         (ORIGIN, AS_PATH, NEXT_HOP, MED, COMMUNITIES); best of {ROUNDS} rounds"
    );
    println!("  {messages} UPDATEs, {bytes} bytes on the wire");
    println!(
        "  pack + encode   {:>10.1} ms  {:>12.0} prefixes/s",
        encode.as_secs_f64() * 1e3,
        rate(encode)
    );
    println!(
        "  decode stream   {:>10.1} ms  {:>12.0} prefixes/s",
        decode.as_secs_f64() * 1e3,
        rate(decode)
    );
}

/// The fastest of `ROUNDS` runs of `work`.
fn best(mut work: impl FnMut()) -> Duration {
    (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            work();
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}
