//! What a VIP asks the routers to carry, independent of any one session.
//!
//! The announcer decides *which* prefixes each peer should have and with
//! which [`RouteAttrs`]; each peer's Adj-RIB-Out turns them into the path
//! attributes of its own session (eBGP or iBGP, next hop, ASN width).

use std::collections::BTreeMap;
use std::sync::Arc;

use ipnet::IpNet;

use crate::bgp::wire::Origin;
use crate::config::{self, Degrade, Vip};

/// Session-independent attributes of one announced prefix; serialized
/// into the state file, so field names are a stable format.
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct RouteAttrs {
    pub origin: OriginKind,
    pub med: Option<u32>,
    /// Sent to iBGP peers only (RFC 4271 §5.1.5).
    pub local_pref: Option<u32>,
    pub communities: Vec<u32>,
    pub large_communities: Vec<[u32; 3]>,
    pub extended_communities: Vec<[u8; 8]>,
    /// Extra copies of the local ASN on eBGP sessions.
    pub as_path_prepend: u8,
    /// Planned maintenance (RFC 8326): add GRACEFUL_SHUTDOWN and, on
    /// iBGP, LOCAL_PREF 0, so routers move traffic away before the route
    /// is withdrawn.
    pub graceful_shutdown: bool,
}

impl RouteAttrs {
    /// The same route made less preferred for a VIP whose checks fail
    /// with `on-down = "degrade"`: the degraded MED replaces the VIP's,
    /// prepends add up, communities are appended.
    pub fn degraded(&self, degrade: &Degrade) -> RouteAttrs {
        let mut attrs = self.clone();
        if degrade.med.is_some() {
            attrs.med = degrade.med;
        }
        attrs.as_path_prepend = attrs
            .as_path_prepend
            .saturating_add(degrade.as_path_prepend);
        for community in &degrade.communities {
            if !attrs.communities.contains(community) {
                attrs.communities.push(*community);
            }
        }
        attrs
    }

    /// The same route marked for graceful shutdown (RFC 8326).
    pub fn draining(&self) -> RouteAttrs {
        RouteAttrs {
            graceful_shutdown: true,
            ..self.clone()
        }
    }
}

/// ORIGIN as an orderable key, so that equal attribute sets group together
/// when UPDATEs are packed.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum OriginKind {
    Igp,
    Egp,
    Incomplete,
}

impl From<OriginKind> for Origin {
    fn from(origin: OriginKind) -> Origin {
        match origin {
            OriginKind::Igp => Origin::Igp,
            OriginKind::Egp => Origin::Egp,
            OriginKind::Incomplete => Origin::Incomplete,
        }
    }
}

impl From<&Vip> for RouteAttrs {
    fn from(vip: &Vip) -> RouteAttrs {
        RouteAttrs {
            origin: match vip.origin {
                config::Origin::Igp => OriginKind::Igp,
                config::Origin::Egp => OriginKind::Egp,
                config::Origin::Incomplete => OriginKind::Incomplete,
            },
            med: vip.med,
            local_pref: vip.local_pref,
            communities: vip.communities.clone(),
            large_communities: vip.large_communities.clone(),
            extended_communities: vip.extended_communities.clone(),
            as_path_prepend: vip.as_path_prepend,
            graceful_shutdown: false,
        }
    }
}

/// The routes one peer should carry: prefix to attributes. Attributes are
/// shared so that thousands of VIPs with one policy cost one allocation.
pub type RouteSet = BTreeMap<IpNet, Arc<RouteAttrs>>;
