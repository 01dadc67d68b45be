//! Packing many prefixes into as few UPDATEs as fit in 4096 bytes each.
//!
//! The attributes are encoded once to learn their size; prefixes then fill
//! what is left of each message, in the order given.

use std::net::IpAddr;

use bytes::BytesMut;
use ipnet::{IpNet, Ipv4Net};

use super::{
    attributes, nlri, Context, Family, MpReach, MpUnreach, PathAttributes, Update, HEADER_LEN,
    MAX_MESSAGE_LEN,
};

/// Withdrawn Routes Length and Total Path Attribute Length (RFC 4271 §4.3).
const UPDATE_FIXED_LEN: usize = 4;
/// Header of an attribute with the extended length, and AFI plus SAFI, as
/// an MP_UNREACH_NLRI costs before its first prefix (RFC 4760 §4).
const MP_UNREACH_OVERHEAD: usize = 4 + 3;
/// The length octet an MP_REACH_NLRI gains when its prefixes push its value
/// past 255 octets (RFC 4271 §4.3).
const EXTENDED_LENGTH_GROWTH: usize = 1;

/// Splits `prefixes` into runs whose encodings fit `room` octets each.
fn chunk(prefixes: Vec<IpNet>, room: usize) -> Vec<Vec<IpNet>> {
    let mut runs = Vec::new();
    let mut run = Vec::new();
    let mut used = 0;
    for prefix in prefixes {
        let len = nlri::encoded_len(&prefix);
        if used + len > room && !run.is_empty() {
            runs.push(std::mem::take(&mut run));
            used = 0;
        }
        used += len;
        run.push(prefix);
    }
    if !run.is_empty() {
        runs.push(run);
    }
    runs
}

fn of_family(family: Family, prefixes: &[IpNet]) -> Vec<IpNet> {
    prefixes
        .iter()
        .filter(|p| Family::of(p) == family)
        .map(IpNet::trunc)
        .collect()
}

fn v4_only(run: Vec<IpNet>) -> Vec<Ipv4Net> {
    run.into_iter()
        .filter_map(|p| match p {
            IpNet::V4(p) => Some(p),
            IpNet::V6(_) => None,
        })
        .collect()
}

fn room_after(attrs: &PathAttributes, ctx: &Context) -> usize {
    let mut buf = BytesMut::new();
    attributes::encode(attrs, true, ctx, &mut buf);
    MAX_MESSAGE_LEN.saturating_sub(HEADER_LEN + UPDATE_FIXED_LEN + buf.len())
}

/// Announces `prefixes` of `family` with `attrs` in as few UPDATEs as fit
/// in 4096 bytes each. Prefixes of another family are skipped, and any
/// NEXT_HOP, MP_REACH_NLRI or MP_UNREACH_NLRI in `attrs` is replaced.
///
/// IPv4 goes in the NLRI field with a NEXT_HOP, so `next_hop` should be
/// IPv4; an IPv6 next hop for IPv4 routes is sent in MP_REACH_NLRI, which
/// the peer only accepts if it negotiated RFC 8950 extended next hops.
/// IPv6 goes in MP_REACH_NLRI; an IPv4 next hop is sent IPv4-mapped
/// (RFC 4798 §2).
///
/// Attributes that leave no room for a single prefix give UPDATEs that
/// [`Message::encode`](super::Message::encode) refuses as too long.
pub fn pack_announce(
    family: Family,
    attrs: &PathAttributes,
    next_hop: IpAddr,
    prefixes: &[IpNet],
    ctx: &Context,
) -> Vec<Update> {
    let prefixes = of_family(family, prefixes);
    let mut base = PathAttributes {
        next_hop: None,
        mp_reach: None,
        mp_unreach: None,
        ..attrs.clone()
    };
    let classic_v4 = match (family, next_hop) {
        (Family::Ipv4Unicast, IpAddr::V4(nh)) => Some(nh),
        _ => None,
    };
    if let Some(nh) = classic_v4 {
        base.next_hop = Some(nh);
        let room = room_after(&base, ctx);
        return chunk(prefixes, room)
            .into_iter()
            .map(|run| Update {
                attributes: Some(base.clone()),
                nlri: v4_only(run),
                ..Update::default()
            })
            .collect();
    }
    let next_hop = match next_hop {
        IpAddr::V4(nh) if family == Family::Ipv6Unicast => IpAddr::V6(nh.to_ipv6_mapped()),
        nh => nh,
    };
    base.mp_reach = Some(MpReach {
        family,
        next_hops: vec![next_hop],
        nlri: Vec::new(),
    });
    let room = room_after(&base, ctx).saturating_sub(EXTENDED_LENGTH_GROWTH);
    chunk(prefixes, room)
        .into_iter()
        .map(|run| {
            let mut attrs = base.clone();
            attrs.mp_reach = Some(MpReach {
                family,
                next_hops: vec![next_hop],
                nlri: run,
            });
            Update {
                attributes: Some(attrs),
                ..Update::default()
            }
        })
        .collect()
}

/// Withdraws `prefixes` of `family` in as few UPDATEs as fit: IPv4 in
/// Withdrawn Routes, IPv6 in MP_UNREACH_NLRI. Prefixes of another family
/// are skipped; no prefixes give no UPDATE (use [`Update::end_of_rib`] for
/// the marker). Withdrawals carry no AS numbers, so `ctx` does not change
/// the result; it is taken for symmetry with [`pack_announce`].
pub fn pack_withdraw(family: Family, prefixes: &[IpNet], _ctx: &Context) -> Vec<Update> {
    let prefixes = of_family(family, prefixes);
    let room = MAX_MESSAGE_LEN - HEADER_LEN - UPDATE_FIXED_LEN;
    match family {
        Family::Ipv4Unicast => chunk(prefixes, room)
            .into_iter()
            .map(|run| Update {
                withdrawn: v4_only(run),
                ..Update::default()
            })
            .collect(),
        Family::Ipv6Unicast => chunk(prefixes, room - MP_UNREACH_OVERHEAD)
            .into_iter()
            .map(|withdrawn| Update {
                attributes: Some(PathAttributes {
                    mp_unreach: Some(MpUnreach { family, withdrawn }),
                    ..PathAttributes::default()
                }),
                ..Update::default()
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bgp::wire::{AsPathSegment, AsSegmentKind, Message};
    use std::net::Ipv4Addr;

    fn encoded_len(update: &Update) -> usize {
        let mut out = BytesMut::new();
        Message::Update(update.clone())
            .encode(&Context::default(), &mut out)
            .expect("fits");
        out.len()
    }

    #[test]
    fn a_prefix_of_another_family_is_skipped() {
        let prefixes: Vec<IpNet> = vec!["2001:db8::/32".parse().expect("net")];
        let nh = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        let attrs = PathAttributes {
            as_path: vec![AsPathSegment {
                kind: AsSegmentKind::Sequence,
                asns: vec![65000],
            }],
            ..PathAttributes::default()
        };
        let ctx = Context::default();
        assert!(pack_announce(Family::Ipv4Unicast, &attrs, nh, &prefixes, &ctx).is_empty());
    }

    #[test]
    fn an_ipv6_next_hop_for_ipv4_routes_goes_in_mp_reach() {
        let prefixes: Vec<IpNet> = vec!["192.0.2.10/32".parse().expect("net")];
        let nh: IpAddr = "2001:db8::1".parse().expect("addr");
        let ctx = Context::default();
        let updates = pack_announce(
            Family::Ipv4Unicast,
            &PathAttributes::default(),
            nh,
            &prefixes,
            &ctx,
        );
        assert_eq!(updates.len(), 1);
        let reach = updates[0]
            .attributes
            .as_ref()
            .and_then(|a| a.mp_reach.clone());
        assert_eq!(
            reach.map(|r| (r.next_hops, r.nlri)),
            Some((vec![nh], prefixes))
        );
        assert!(encoded_len(&updates[0]) < MAX_MESSAGE_LEN);
    }
}
