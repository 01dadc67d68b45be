//! Adj-RIB-Out (RFC 4271 §3.2): what one session has told its peer.
//!
//! The peer task hands in the desired [`RouteSet`] whenever it changes; the
//! Adj-RIB-Out compares it with what was last sent and returns the fewest
//! UPDATEs that bring the peer in line: withdrawals first, then
//! announcements grouped by identical attributes so that one UPDATE carries
//! as many prefixes as fit (RFC 4271 §9.2).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use ipnet::IpNet;

use super::wire::iana::community;
use super::wire::{self, AsPathSegment, AsSegmentKind, Context, Family, PathAttributes, Update};
use crate::route::{RouteAttrs, RouteSet};

/// LOCAL_PREF sent on iBGP when the VIP sets none: every internal UPDATE
/// must carry one (RFC 4271 §5.1.5), and 100 is the customary default.
const DEFAULT_LOCAL_PREF: u32 = 100;

/// How routes leave this session: fixed once the session is established.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportPolicy {
    pub local_asn: u32,
    /// Peer in our own AS: empty AS_PATH, LOCAL_PREF, no prepending.
    pub ibgp: bool,
    /// Next hop for IPv4 prefixes; `None` disables the family here.
    pub next_hop_v4: Option<Ipv4Addr>,
    /// Next hop for IPv6 prefixes; `None` disables the family here.
    pub next_hop_v6: Option<Ipv6Addr>,
    /// Families negotiated on the session.
    pub families: Vec<Family>,
    pub context: Context,
}

impl ExportPolicy {
    fn next_hop(&self, family: Family) -> Option<IpAddr> {
        if !self.families.contains(&family) {
            return None;
        }
        match family {
            Family::Ipv4Unicast => self.next_hop_v4.map(IpAddr::V4),
            Family::Ipv6Unicast => self.next_hop_v6.map(IpAddr::V6),
        }
    }

    /// The path attributes of `attrs` on this session, without NLRI or
    /// next hop (the packer adds those).
    pub fn path_attributes(&self, attrs: &RouteAttrs) -> PathAttributes {
        // A route we originate carries an empty AS_PATH to internal peers
        // (RFC 4271 §5.1.2). Prepending our own ASN towards an iBGP peer
        // would make it drop the route by loop detection, so prepends only
        // apply on eBGP.
        let as_path = if self.ibgp {
            Vec::new()
        } else {
            vec![AsPathSegment {
                kind: AsSegmentKind::Sequence,
                asns: vec![self.local_asn; 1 + usize::from(attrs.as_path_prepend)],
            }]
        };
        // RFC 8326 §4: a route being drained carries GRACEFUL_SHUTDOWN, and
        // towards internal peers its LOCAL_PREF drops to 0 so that they
        // prefer any other path at once.
        let mut communities = attrs.communities.clone();
        if attrs.graceful_shutdown && !communities.contains(&community::GRACEFUL_SHUTDOWN) {
            communities.push(community::GRACEFUL_SHUTDOWN);
        }
        let local_pref = match (self.ibgp, attrs.graceful_shutdown) {
            (false, _) => None,
            (true, true) => Some(0),
            (true, false) => Some(attrs.local_pref.unwrap_or(DEFAULT_LOCAL_PREF)),
        };
        PathAttributes {
            origin: attrs.origin.into(),
            as_path,
            med: attrs.med,
            local_pref,
            communities,
            extended_communities: attrs.extended_communities.clone(),
            large_communities: attrs.large_communities.clone(),
            ..PathAttributes::default()
        }
    }
}

/// The routes sent on one session, and the diff that keeps them current.
#[derive(Debug, Default)]
pub struct AdjRibOut {
    sent: BTreeMap<IpNet, Arc<RouteAttrs>>,
}

impl AdjRibOut {
    /// Number of prefixes the peer currently holds from us.
    pub fn len(&self) -> usize {
        self.sent.len()
    }

    /// Whether nothing is announced.
    pub fn is_empty(&self) -> bool {
        self.sent.is_empty()
    }

    /// Forget everything: the session went down, so the peer dropped our
    /// routes (RFC 4271 §9.1.1 on its side).
    pub fn clear(&mut self) {
        self.sent.clear();
    }

    /// UPDATEs that turn what was sent into `desired`, as far as `policy`
    /// can carry it; records the result as sent.
    pub fn sync(&mut self, desired: &RouteSet, policy: &ExportPolicy) -> Vec<Update> {
        let exportable = |prefix: &IpNet| policy.next_hop(Family::of(prefix)).is_some();
        let withdrawn: Vec<IpNet> = self
            .sent
            .keys()
            .filter(|prefix| !desired.contains_key(prefix) || !exportable(prefix))
            .copied()
            .collect();
        let changed: Vec<(IpNet, Arc<RouteAttrs>)> = desired
            .iter()
            .filter(|(prefix, attrs)| exportable(prefix) && self.sent.get(*prefix) != Some(*attrs))
            .map(|(prefix, attrs)| (*prefix, Arc::clone(attrs)))
            .collect();

        let mut updates = withdraw_updates(&withdrawn, policy);
        for prefix in &withdrawn {
            self.sent.remove(prefix);
        }
        updates.extend(announce_updates(
            changed.iter().map(|(p, a)| (p, a)),
            policy,
        ));
        self.sent.extend(changed);
        updates
    }

    /// Every route of `family` again, for a ROUTE-REFRESH (RFC 2918 §4).
    pub fn refresh(&self, family: Family, policy: &ExportPolicy) -> Vec<Update> {
        announce_updates(
            self.sent.iter().filter(|(p, _)| Family::of(p) == family),
            policy,
        )
    }

    /// Withdraw everything that was sent, e.g. before a clean shutdown.
    pub fn withdraw_all(&mut self, policy: &ExportPolicy) -> Vec<Update> {
        let all: Vec<IpNet> = self.sent.keys().copied().collect();
        self.sent.clear();
        withdraw_updates(&all, policy)
    }
}

fn withdraw_updates(prefixes: &[IpNet], policy: &ExportPolicy) -> Vec<Update> {
    let mut updates = Vec::new();
    for family in [Family::Ipv4Unicast, Family::Ipv6Unicast] {
        let of_family: Vec<IpNet> = prefixes
            .iter()
            .filter(|p| Family::of(p) == family)
            .copied()
            .collect();
        if !of_family.is_empty() {
            updates.extend(wire::pack_withdraw(family, &of_family, &policy.context));
        }
    }
    updates
}

fn announce_updates<'a>(
    routes: impl Iterator<Item = (&'a IpNet, &'a Arc<RouteAttrs>)>,
    policy: &ExportPolicy,
) -> Vec<Update> {
    // Group by (family, attributes): each group becomes as few UPDATEs as
    // the 4096-byte limit allows.
    let mut groups: BTreeMap<(Family, &RouteAttrs), Vec<IpNet>> = BTreeMap::new();
    for (prefix, attrs) in routes {
        groups
            .entry((Family::of(prefix), attrs.as_ref()))
            .or_default()
            .push(*prefix);
    }
    let mut updates = Vec::new();
    for ((family, attrs), prefixes) in groups {
        let Some(next_hop) = policy.next_hop(family) else {
            continue;
        };
        let path = policy.path_attributes(attrs);
        updates.extend(wire::pack_announce(
            family,
            &path,
            next_hop,
            &prefixes,
            &policy.context,
        ));
    }
    updates
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::route::OriginKind;

    fn attrs(med: u32) -> Arc<RouteAttrs> {
        Arc::new(RouteAttrs {
            origin: OriginKind::Igp,
            med: Some(med),
            local_pref: None,
            communities: Vec::new(),
            large_communities: Vec::new(),
            extended_communities: Vec::new(),
            as_path_prepend: 0,
            graceful_shutdown: false,
        })
    }

    fn policy(ibgp: bool) -> ExportPolicy {
        ExportPolicy {
            local_asn: 65001,
            ibgp,
            next_hop_v4: Some(Ipv4Addr::new(198, 51, 100, 11)),
            next_hop_v6: Some("2001:db8:100::11".parse().unwrap()),
            families: vec![Family::Ipv4Unicast, Family::Ipv6Unicast],
            context: Context {
                four_octet_as: true,
            },
        }
    }

    fn set(routes: &[(&str, &Arc<RouteAttrs>)]) -> RouteSet {
        routes
            .iter()
            .map(|(p, a)| (p.parse().unwrap(), Arc::clone(a)))
            .collect()
    }

    fn announced(updates: &[Update]) -> Vec<IpNet> {
        let mut all = Vec::new();
        for update in updates {
            all.extend(update.nlri.iter().map(|p| IpNet::V4(*p)));
            if let Some(reach) = update.attributes.as_ref().and_then(|a| a.mp_reach.as_ref()) {
                all.extend(reach.nlri.iter().copied());
            }
        }
        all
    }

    fn withdrawn(updates: &[Update]) -> Vec<IpNet> {
        let mut all = Vec::new();
        for update in updates {
            all.extend(update.withdrawn.iter().map(|p| IpNet::V4(*p)));
            if let Some(unreach) = update
                .attributes
                .as_ref()
                .and_then(|a| a.mp_unreach.as_ref())
            {
                all.extend(unreach.withdrawn.iter().copied());
            }
        }
        all
    }

    #[test]
    fn prefixes_sharing_attributes_travel_in_one_update() {
        let (a, b) = (attrs(10), attrs(20));
        let desired = set(&[
            ("192.0.2.10/32", &a),
            ("192.0.2.11/32", &a),
            ("192.0.2.12/32", &b),
        ]);
        let mut rib = AdjRibOut::default();
        let updates = rib.sync(&desired, &policy(false));
        assert_eq!(updates.len(), 2);
        assert_eq!(rib.len(), 3);
    }

    #[test]
    fn an_unchanged_route_set_sends_nothing() {
        let a = attrs(10);
        let desired = set(&[("192.0.2.10/32", &a), ("2001:db8:10::/128", &a)]);
        let mut rib = AdjRibOut::default();
        rib.sync(&desired, &policy(false));
        assert!(rib.sync(&desired, &policy(false)).is_empty());
    }

    #[test]
    fn a_removed_prefix_is_withdrawn_before_new_ones_are_announced() {
        let a = attrs(10);
        let mut rib = AdjRibOut::default();
        rib.sync(
            &set(&[("192.0.2.10/32", &a), ("2001:db8:10::/128", &a)]),
            &policy(false),
        );
        let updates = rib.sync(&set(&[("192.0.2.11/32", &a)]), &policy(false));
        let first_announce = updates
            .iter()
            .position(|u| !u.nlri.is_empty())
            .expect("an announcement");
        assert!(withdrawn(&updates[..first_announce]).len() == 2);
        assert_eq!(announced(&updates), vec!["192.0.2.11/32".parse().unwrap()]);
        assert_eq!(rib.len(), 1);
    }

    #[test]
    fn changed_attributes_reannounce_without_a_withdraw() {
        let mut rib = AdjRibOut::default();
        rib.sync(&set(&[("192.0.2.10/32", &attrs(10))]), &policy(false));
        let updates = rib.sync(&set(&[("192.0.2.10/32", &attrs(500))]), &policy(false));
        assert!(withdrawn(&updates).is_empty());
        assert_eq!(updates.len(), 1);
        let med = updates[0].attributes.as_ref().and_then(|a| a.med);
        assert_eq!(med, Some(500));
    }

    #[test]
    fn a_family_the_session_did_not_negotiate_is_never_sent() {
        let a = attrs(10);
        let mut only_v4 = policy(false);
        only_v4.families = vec![Family::Ipv4Unicast];
        let mut rib = AdjRibOut::default();
        let updates = rib.sync(
            &set(&[("192.0.2.10/32", &a), ("2001:db8:10::/128", &a)]),
            &only_v4,
        );
        assert_eq!(announced(&updates), vec!["192.0.2.10/32".parse().unwrap()]);
        assert_eq!(rib.len(), 1);
    }

    #[test]
    fn ebgp_paths_carry_our_asn_and_prepends_but_no_local_pref() {
        let mut with_prepend = (*attrs(10)).clone();
        with_prepend.as_path_prepend = 2;
        with_prepend.local_pref = Some(300);
        let path = policy(false).path_attributes(&with_prepend);
        assert_eq!(path.as_path.len(), 1);
        assert_eq!(path.as_path[0].kind, AsSegmentKind::Sequence);
        assert_eq!(path.as_path[0].asns, vec![65001, 65001, 65001]);
        assert_eq!(path.local_pref, None);
    }

    #[test]
    fn ibgp_paths_have_an_empty_as_path_and_always_a_local_pref() {
        let mut with_prepend = (*attrs(10)).clone();
        with_prepend.as_path_prepend = 2;
        let path = policy(true).path_attributes(&with_prepend);
        assert!(path.as_path.is_empty());
        assert_eq!(path.local_pref, Some(DEFAULT_LOCAL_PREF));
        with_prepend.local_pref = Some(300);
        assert_eq!(
            policy(true).path_attributes(&with_prepend).local_pref,
            Some(300)
        );
    }

    #[test]
    fn a_draining_route_carries_graceful_shutdown_and_zero_local_pref_on_ibgp() {
        let draining = attrs(10).draining();
        let ebgp = policy(false).path_attributes(&draining);
        assert!(ebgp.communities.contains(&community::GRACEFUL_SHUTDOWN));
        assert_eq!(ebgp.local_pref, None);
        let ibgp = policy(true).path_attributes(&draining);
        assert!(ibgp.communities.contains(&community::GRACEFUL_SHUTDOWN));
        assert_eq!(ibgp.local_pref, Some(0));
    }

    #[test]
    fn refresh_resends_only_the_requested_family() {
        let a = attrs(10);
        let mut rib = AdjRibOut::default();
        rib.sync(
            &set(&[("192.0.2.10/32", &a), ("2001:db8:10::/128", &a)]),
            &policy(false),
        );
        let updates = rib.refresh(Family::Ipv6Unicast, &policy(false));
        assert_eq!(
            announced(&updates),
            vec!["2001:db8:10::/128".parse().unwrap()]
        );
    }

    #[test]
    fn withdraw_all_empties_the_rib() {
        let a = attrs(10);
        let mut rib = AdjRibOut::default();
        rib.sync(
            &set(&[("192.0.2.10/32", &a), ("2001:db8:10::/128", &a)]),
            &policy(false),
        );
        let updates = rib.withdraw_all(&policy(false));
        assert_eq!(withdrawn(&updates).len(), 2);
        assert!(rib.is_empty());
    }
}
