//! `[[vip]]` tables: the prefix, its path attributes and the peers it
//! goes to. The health keys of a VIP are in `validate_vip_health`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::ops::Range;

use ipnet::IpNet;
use toml::Spanned;

use super::error::ConfigError;
use super::raw::{RawVip, Scalar};
use super::validate::Validator;
use super::validate_vip_health::HealthContext;
use super::{community, Global, Origin, Peer, Vip};

/// Most extra copies of the local ASN a VIP may prepend.
const MAX_AS_PATH_PREPEND: i64 = 32;

impl Validator<'_> {
    pub(super) fn vip(
        &mut self,
        index: usize,
        raw: &Spanned<RawVip>,
        global: &Global,
        peers: &[Peer],
        by_name: &HashMap<String, usize>,
        health: &HealthContext,
    ) -> Result<(Vip, Range<usize>), ConfigError> {
        let r = raw.get_ref();
        let key = |name: &str| format!("vip[{index}].{name}");
        let prefix_value = self.required(&r.prefix, raw.span(), &key("prefix"))?;
        let prefix = self.prefix(prefix_value, &key("prefix"))?;
        let med = r
            .med
            .as_ref()
            .map(|v| self.integer(v, &key("med"), 0..=i64::from(u32::MAX), "MED"))
            .transpose()?;
        let local_pref = r
            .local_pref
            .as_ref()
            .map(|v| self.integer(v, &key("local-pref"), 0..=i64::from(u32::MAX), "LOCAL_PREF"))
            .transpose()?;
        let communities = self.standard_communities(&r.communities, &key("communities"))?;
        let mut large_communities = Vec::with_capacity(r.large_communities.len());
        for (i, value) in r.large_communities.iter().enumerate() {
            let key = format!("vip[{index}].large-communities[{i}]");
            let parsed = community::parse_large(value.get_ref());
            large_communities.push(parsed.map_err(|m| self.error(value.span(), key, m))?);
        }
        let mut extended_communities = Vec::with_capacity(r.extended_communities.len());
        for (i, value) in r.extended_communities.iter().enumerate() {
            let key = format!("vip[{index}].extended-communities[{i}]");
            let parsed = community::parse_extended(value.get_ref());
            extended_communities.push(parsed.map_err(|m| self.error(value.span(), key, m))?);
        }
        let as_path_prepend = match &r.as_path_prepend {
            Some(v) => self.integer(
                v,
                &key("as-path-prepend"),
                0..=MAX_AS_PATH_PREPEND,
                "as-path-prepend",
            )?,
            None => 0,
        };
        let origin = match &r.origin {
            None => Origin::Igp,
            Some(v) => {
                match v.get_ref().as_str() {
                    "igp" => Origin::Igp,
                    "egp" => Origin::Egp,
                    "incomplete" => Origin::Incomplete,
                    other => {
                        return Err(self.error(
                        v.span(),
                        key("origin"),
                        format!("unknown origin {other:?}: expected \"igp\", \"egp\" or \"incomplete\""),
                    ));
                    }
                }
            }
        };
        let selected = self.vip_peers(index, r, by_name)?;
        let health = self.vip_health(index, r, health)?;
        let vip = Vip {
            prefix,
            med,
            local_pref,
            communities,
            large_communities,
            extended_communities,
            as_path_prepend,
            origin,
            peers: selected,
            checks: health.checks,
            on_down: health.on_down,
            damping: health.damping,
            hook: health.hook,
        };
        self.vip_reach(index, r, prefix_value.span(), &vip, global, peers)?;
        Ok((vip, prefix_value.span()))
    }

    /// Standard communities (`communities`, `degrade-communities`); `key`
    /// names the list.
    pub(super) fn standard_communities(
        &self,
        values: &[Spanned<Scalar>],
        key: &str,
    ) -> Result<Vec<u32>, ConfigError> {
        let mut communities = Vec::with_capacity(values.len());
        for (i, value) in values.iter().enumerate() {
            let parsed = match value.get_ref() {
                Scalar::Integer(n) => u32::try_from(*n)
                    .map_err(|_| format!("community {n} is out of range: expected 0..=4294967295")),
                Scalar::Text(text) => community::parse_standard(text),
            };
            communities
                .push(parsed.map_err(|m| self.error(value.span(), format!("{key}[{i}]"), m))?);
        }
        Ok(communities)
    }

    fn prefix(&self, value: &Spanned<String>, key: &str) -> Result<IpNet, ConfigError> {
        let text = value.get_ref();
        let Ok(prefix) = text.parse::<IpNet>() else {
            let hint = if text.parse::<IpAddr>().is_ok() {
                format!(": add a prefix length, such as {text}/32 or {text}/128")
            } else {
                String::new()
            };
            return Err(self.error(
                value.span(),
                key,
                format!("{text:?} is not an IP prefix{hint}"),
            ));
        };
        if prefix.trunc() != prefix {
            return Err(self.error(
                value.span(),
                key,
                format!(
                    "{prefix} has host bits set (did you mean {}?)",
                    prefix.trunc()
                ),
            ));
        }
        Ok(prefix)
    }

    /// Indices of the peers a VIP goes to, ascending.
    fn vip_peers(
        &self,
        index: usize,
        raw: &RawVip,
        by_name: &HashMap<String, usize>,
    ) -> Result<Vec<usize>, ConfigError> {
        let Some(list) = &raw.peers else {
            return Ok((0..by_name.len()).collect());
        };
        if list.get_ref().is_empty() {
            return Err(self.error(
                list.span(),
                format!("vip[{index}].peers"),
                "an empty peer list sends this VIP nowhere: list peer names, or remove \
                 `peers` to send it to every peer",
            ));
        }
        let mut selected = Vec::with_capacity(list.get_ref().len());
        for (i, name) in list.get_ref().iter().enumerate() {
            let key = format!("vip[{index}].peers[{i}]");
            let Some(&peer) = by_name.get(name.get_ref()) else {
                let mut known: Vec<&str> = by_name.keys().map(String::as_str).collect();
                known.sort_unstable();
                let known = if known.is_empty() {
                    "no peers are configured".to_string()
                } else {
                    format!("known peers: {}", known.join(", "))
                };
                return Err(self.error(
                    name.span(),
                    key,
                    format!("unknown peer {:?} ({known})", name.get_ref()),
                ));
            };
            if selected.contains(&peer) {
                return Err(self.error(
                    name.span(),
                    key,
                    format!("peer {:?} is listed twice", name.get_ref()),
                ));
            }
            selected.push(peer);
        }
        selected.sort_unstable();
        Ok(selected)
    }

    /// Checks that a VIP reaches someone and warns about attributes that
    /// some of its peers will not get.
    fn vip_reach(
        &mut self,
        index: usize,
        raw: &RawVip,
        prefix_span: Range<usize>,
        vip: &Vip,
        global: &Global,
        peers: &[Peer],
    ) -> Result<(), ConfigError> {
        let family = match vip.prefix {
            IpNet::V4(_) => "IPv4",
            IpNet::V6(_) => "IPv6",
        };
        let selected: Vec<&Peer> = vip.peers.iter().filter_map(|&i| peers.get(i)).collect();
        if peers.is_empty() {
            self.warn(
                prefix_span,
                format!("vip[{index}].prefix"),
                format!(
                    "no [[peer]] is configured, so {} is announced to no one",
                    vip.prefix
                ),
            );
            return Ok(());
        }
        let (blame_span, blame_key) = match &raw.peers {
            Some(list) => (list.span(), format!("vip[{index}].peers")),
            None => (prefix_span, format!("vip[{index}].prefix")),
        };
        if !selected.iter().any(|p| p.carries(&vip.prefix)) {
            let names: Vec<&str> = selected.iter().map(|p| p.name.as_str()).collect();
            return Err(self.error(
                blame_span,
                blame_key,
                format!(
                    "{family} VIP {} reaches no peer: none of its peers ({}) carries {family} \
                     (set `ipv4`/`ipv6` and a next hop on a peer)",
                    vip.prefix,
                    names.join(", ")
                ),
            ));
        }
        if raw.peers.is_some() {
            for peer in selected.iter().filter(|p| !p.carries(&vip.prefix)) {
                self.warn(
                    blame_span.clone(),
                    blame_key.clone(),
                    format!(
                        "peer {} does not carry {family}, so {} is not sent to it",
                        peer.name, vip.prefix
                    ),
                );
            }
        }
        if let Some(local_pref) = &raw.local_pref {
            let ebgp: Vec<&str> = selected
                .iter()
                .filter(|p| !p.is_ibgp(global.asn))
                .map(|p| p.name.as_str())
                .collect();
            if !ebgp.is_empty() {
                self.warn(
                    local_pref.span(),
                    format!("vip[{index}].local-pref"),
                    format!(
                        "local-pref is sent to iBGP peers only (RFC 4271 §5.1.5); it is \
                         ignored for the eBGP peers {}",
                        ebgp.join(", ")
                    ),
                );
            }
        }
        Ok(())
    }
}
