//! Packs arbitrary prefixes with arbitrary attributes into UPDATEs; each
//! must encode within 4096 bytes and decode back with its prefixes, unless
//! the attributes alone leave no room for a prefix (documented on
//! `pack_announce`).

#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bytes::BytesMut;
use herald::bgp::wire::{
    pack_announce, pack_withdraw, try_parse, AsPathSegment, AsSegmentKind, Context, Family,
    Message, Origin, PathAttributes, Update, MAX_MESSAGE_LEN,
};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;

fn prefix(u: &mut Unstructured) -> Result<IpNet> {
    Ok(if u.arbitrary()? {
        let len = u.int_in_range(0..=32)?;
        IpNet::V4(Ipv4Net::new(Ipv4Addr::from(u.arbitrary::<u32>()?), len).unwrap_or_default())
    } else {
        let len = u.int_in_range(0..=128)?;
        IpNet::V6(Ipv6Net::new(Ipv6Addr::from(u.arbitrary::<u128>()?), len).unwrap_or_default())
    })
}

fn attributes(u: &mut Unstructured) -> Result<PathAttributes> {
    let origin = *u.choose(&[Origin::Igp, Origin::Egp, Origin::Incomplete])?;
    let kinds = [
        AsSegmentKind::Sequence,
        AsSegmentKind::Set,
        AsSegmentKind::ConfedSequence,
        AsSegmentKind::ConfedSet,
    ];
    let mut as_path = Vec::new();
    for _ in 0..u.int_in_range(0..=3)? {
        let kind = *u.choose(&kinds)?;
        let n = u.int_in_range(1..=300)?;
        let asns = (0..n)
            .map(|_| u.arbitrary::<u32>())
            .collect::<Result<Vec<_>>>()?;
        as_path.push(AsPathSegment { kind, asns });
    }
    let n = u.int_in_range(0..=40)?;
    let communities = (0..n).map(|_| u.arbitrary()).collect::<Result<_>>()?;
    let n = u.int_in_range(0..=10)?;
    let extended_communities = (0..n).map(|_| u.arbitrary()).collect::<Result<_>>()?;
    let n = u.int_in_range(0..=10)?;
    let large_communities = (0..n).map(|_| u.arbitrary()).collect::<Result<_>>()?;
    Ok(PathAttributes {
        origin,
        as_path,
        med: u.arbitrary()?,
        local_pref: u.arbitrary()?,
        atomic_aggregate: u.arbitrary()?,
        communities,
        extended_communities,
        large_communities,
        ..PathAttributes::default()
    })
}

/// Encodes `update`; `None` if the encoder refused it as too long.
fn encode(update: &Update, ctx: &Context) -> Option<BytesMut> {
    let mut out = BytesMut::new();
    Message::Update(update.clone()).encode(ctx, &mut out).ok()?;
    assert!(out.len() <= MAX_MESSAGE_LEN);
    Some(out)
}

fn decode(mut bytes: BytesMut, ctx: &Context) -> Update {
    match try_parse(&mut bytes, ctx) {
        Ok(Some(Message::Update(u))) => u,
        other => panic!("packed UPDATE does not decode: {other:?}"),
    }
}

fn run(u: &mut Unstructured) -> Result<()> {
    let ctx = Context {
        four_octet_as: u.arbitrary()?,
    };
    let family = *u.choose(&[Family::Ipv4Unicast, Family::Ipv6Unicast])?;
    let attrs = attributes(u)?;
    let next_hop = if u.arbitrary()? {
        // A valid unicast host address, as the daemon's config ensures.
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, u.int_in_range(1..=254)?))
    } else {
        IpAddr::V6(Ipv6Addr::from(u.arbitrary::<u128>()?))
    };
    let n = u.int_in_range(0..=2000)?;
    let prefixes = (0..n).map(|_| prefix(u)).collect::<Result<Vec<_>>>()?;
    let wanted: Vec<IpNet> = prefixes
        .iter()
        .filter(|p| Family::of(p) == family)
        .map(IpNet::trunc)
        .collect();

    let mut announced = Vec::new();
    let mut all_encoded = true;
    for update in pack_announce(family, &attrs, next_hop, &prefixes, &ctx) {
        let Some(bytes) = encode(&update, &ctx) else {
            all_encoded = false;
            continue;
        };
        let back = decode(bytes, &ctx);
        announced.extend(back.nlri.iter().copied().map(IpNet::V4));
        if let Some(reach) = back.attributes.and_then(|a| a.mp_reach) {
            announced.extend(reach.nlri);
        }
    }
    if all_encoded {
        assert_eq!(announced, wanted, "announced prefixes are preserved");
    }

    let mut withdrawn = Vec::new();
    for update in pack_withdraw(family, &prefixes, &ctx) {
        let bytes = encode(&update, &ctx).expect("a packed withdrawal always fits");
        let back = decode(bytes, &ctx);
        withdrawn.extend(back.withdrawn.iter().copied().map(IpNet::V4));
        if let Some(unreach) = back.attributes.and_then(|a| a.mp_unreach) {
            withdrawn.extend(unreach.withdrawn);
        }
    }
    assert_eq!(withdrawn, wanted, "withdrawn prefixes are preserved");
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
