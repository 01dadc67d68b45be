//! The announcer owns the desired state: which VIP goes to which peer, with
//! which attributes.
//!
//! It publishes one [`RouteSet`] per peer on a `watch` channel. A watch
//! keeps only the latest value, so a peer that is busy (or down) never
//! queues stale intermediate states: when it next looks, it converges on
//! the current truth in one diff.

use std::sync::Arc;

use tokio::sync::watch;

use crate::bgp::wire::Family;
use crate::config::Config;
use crate::route::{RouteAttrs, RouteSet};

/// Publisher of every peer's desired routes.
pub struct Announcer {
    peers: Vec<watch::Sender<Arc<RouteSet>>>,
}

impl Announcer {
    /// Computes the initial route sets from the configuration and returns
    /// the receiving end for each peer, in `config.peers` order.
    pub fn new(config: &Config) -> (Announcer, Vec<watch::Receiver<Arc<RouteSet>>>) {
        let (senders, receivers) = desired_routes(config)
            .into_iter()
            .map(|routes| watch::channel(Arc::new(routes)))
            .unzip();
        (Announcer { peers: senders }, receivers)
    }

    /// Number of prefixes desired across all peers, counting each prefix
    /// once per peer.
    pub fn announcements(&self) -> usize {
        self.peers.iter().map(|tx| tx.borrow().len()).sum()
    }
}

/// Every VIP to every peer it names that carries its address family.
fn desired_routes(config: &Config) -> Vec<RouteSet> {
    let mut sets = vec![RouteSet::new(); config.peers.len()];
    for vip in &config.vips {
        let attrs = Arc::new(RouteAttrs::from(vip));
        let family = Family::of(&vip.prefix);
        for &index in &vip.peers {
            let (Some(peer), Some(set)) = (config.peers.get(index), sets.get_mut(index)) else {
                continue;
            };
            let carries = match family {
                Family::Ipv4Unicast => peer.ipv4,
                Family::Ipv6Unicast => peer.ipv6,
            };
            if carries {
                set.insert(vip.prefix, Arc::clone(&attrs));
            }
        }
    }
    sets
}
