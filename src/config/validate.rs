//! Turns the raw mirror into a typed [`Config`], checking every rule.
//!
//! Validation stops at the first error, which names the offending value's
//! position and key. Defaults are resolved here, so the rest of herald never
//! sees an absent value: a peer's timers fall back to `[global]`, then to
//! the built-in defaults; keepalive falls back to a third of the peer's own
//! resolved hold time.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use ipnet::IpNet;
use toml::Spanned;

use super::error::{ConfigError, Position, Warning};
use super::raw::{RawConfig, RawGlobal, RawPeer, Scalar, Tree};
use super::validate_continuity::Continuity;
use super::validate_timers::Timers;
use super::validate_vip_health::HealthContext;
use super::{duration, Config, Global, Peer, RouterId, Vip};
use crate::bgp::wire::iana::BGP_PORT;

/// Converts a toml or serde error (syntax, unknown key, wrong type) into a
/// [`ConfigError`], naming the key at the reported position when there is
/// one.
pub(crate) fn toml_error(error: &toml::de::Error, text: &str, source: &Path) -> ConfigError {
    let message = error
        .message()
        .trim()
        .replace('\n', "; ")
        .replace("expected i64", "expected an integer");
    let Some(span) = error.span() else {
        return ConfigError::at(source, None, None, message);
    };
    let key = toml::from_str::<Tree>(text)
        .ok()
        .and_then(|tree| tree.path_at(span.start));
    ConfigError::at(source, Some(Position::of(text, span.start)), key, message)
}

/// Validates `raw`, read from `text`, into a [`Config`] and its warnings.
pub(crate) fn validate(
    raw: &RawConfig,
    text: &str,
    source: &Path,
) -> Result<(Config, Vec<Warning>), ConfigError> {
    let mut v = Validator {
        text,
        source,
        warnings: Vec::new(),
    };
    let Some(global) = &raw.global else {
        return Err(v.error(0..0, "global", "missing required table [global]"));
    };
    let (global_config, global_timers) = v.global(global)?;
    let global_continuity = v.continuity(global.get_ref().continuity(), "global")?;
    let mut peers = Vec::with_capacity(raw.peer.len());
    let mut by_name: HashMap<String, usize> = HashMap::new();
    let mut by_address: HashMap<(IpAddr, u16), usize> = HashMap::new();
    let mut peer_spans = Vec::with_capacity(raw.peer.len());
    for (index, raw_peer) in raw.peer.iter().enumerate() {
        let peer = v.peer(index, raw_peer, &global_timers, &global_continuity)?;
        let name_span = raw_peer
            .get_ref()
            .name
            .as_ref()
            .map_or_else(|| v.address_span(raw_peer), Spanned::span);
        if let Some(&first) = by_name.get(&peer.name) {
            let key = if raw_peer.get_ref().name.is_some() {
                "name"
            } else {
                "address"
            };
            return Err(v.error(
                name_span,
                format!("peer[{index}].{key}"),
                format!(
                    "peer name {:?} is already used by peer[{first}] (line {}); \
                     names default to the address, so set `name` to tell them apart",
                    peer.name,
                    v.line(&peer_spans, first)
                ),
            ));
        }
        if let Some(&first) = by_address.get(&(peer.address, peer.port)) {
            return Err(v.error(
                v.address_span(raw_peer),
                format!("peer[{index}].address"),
                format!(
                    "peer {} port {} is already configured as peer[{first}] (line {})",
                    peer.address,
                    peer.port,
                    v.line(&peer_spans, first)
                ),
            ));
        }
        by_name.insert(peer.name.clone(), index);
        by_address.insert((peer.address, peer.port), index);
        peer_spans.push(raw_peer.span());
        peers.push(peer);
    }
    let (checks, checks_by_name) = v.checks(&raw.check)?;
    let global_hook = global
        .get_ref()
        .hook
        .as_ref()
        .map(|hook| v.argv(hook, "global.hook"))
        .transpose()?;
    let health = HealthContext {
        by_name: checks_by_name,
        global_hook,
    };
    let mut vips = Vec::with_capacity(raw.vip.len());
    let mut by_prefix: HashMap<IpNet, usize> = HashMap::new();
    let mut vip_spans = Vec::with_capacity(raw.vip.len());
    for (index, raw_vip) in raw.vip.iter().enumerate() {
        let (vip, prefix_span) =
            v.vip(index, raw_vip, &global_config, &peers, &by_name, &health)?;
        if let Some(&first) = by_prefix.get(&vip.prefix) {
            return Err(v.error(
                prefix_span,
                format!("vip[{index}].prefix"),
                format!(
                    "{} is already configured as vip[{first}] (line {})",
                    vip.prefix,
                    v.line(&vip_spans, first)
                ),
            ));
        }
        by_prefix.insert(vip.prefix, index);
        vip_spans.push(prefix_span);
        vips.push(vip);
    }
    let mut used = vec![false; checks.len()];
    for &check in vips.iter().flat_map(|vip: &Vip| &vip.checks) {
        if let Some(used) = used.get_mut(check) {
            *used = true;
        }
    }
    v.unused_checks(&raw.check, &used);
    let daemon = v.daemon(raw, global.get_ref())?;
    let config = Config {
        source: source.to_path_buf(),
        global: global_config,
        peers,
        vips,
        checks,
        daemon,
    };
    Ok((config, v.warnings))
}

/// Validation state: the text (to turn spans into positions), the file name
/// and the warnings so far. Its methods are spread over the `validate*`
/// modules, one per part of the file.
pub(super) struct Validator<'a> {
    pub(super) text: &'a str,
    pub(super) source: &'a Path,
    pub(super) warnings: Vec<Warning>,
}

impl Validator<'_> {
    pub(super) fn error(
        &self,
        span: Range<usize>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> ConfigError {
        ConfigError::at(
            self.source,
            Some(Position::of(self.text, span.start)),
            Some(key.into()),
            message,
        )
    }

    pub(super) fn warn(
        &mut self,
        span: Range<usize>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) {
        let position = Position::of(self.text, span.start);
        self.warnings.push(Warning {
            source: self.source.to_path_buf(),
            line: position.line,
            column: position.column,
            key: key.into(),
            message: message.into(),
        });
    }

    /// The line where the entry `index` of `spans` starts.
    pub(super) fn line(&self, spans: &[Range<usize>], index: usize) -> usize {
        let offset = spans.get(index).map_or(0, |span| span.start);
        Position::of(self.text, offset).line
    }

    pub(super) fn address_span(&self, peer: &Spanned<RawPeer>) -> Range<usize> {
        peer.get_ref()
            .address
            .as_ref()
            .map_or_else(|| peer.span(), Spanned::span)
    }

    /// A required key, or an error at the table that lacks it.
    pub(super) fn required<'v, T>(
        &self,
        value: &'v Option<Spanned<T>>,
        table: Range<usize>,
        key: &str,
    ) -> Result<&'v Spanned<T>, ConfigError> {
        let name = key.rsplit('.').next().unwrap_or(key);
        value
            .as_ref()
            .ok_or_else(|| self.error(table, key, format!("missing required key `{name}`")))
    }

    /// An integer in `range`, or an error saying which range.
    pub(super) fn integer<T: TryFrom<i64>>(
        &self,
        value: &Spanned<i64>,
        key: &str,
        range: std::ops::RangeInclusive<i64>,
        what: &str,
    ) -> Result<T, ConfigError> {
        let n = *value.get_ref();
        if !range.contains(&n) {
            return Err(self.error(
                value.span(),
                key,
                format!(
                    "{what} {n} is out of range: expected {}..={}",
                    range.start(),
                    range.end()
                ),
            ));
        }
        T::try_from(n)
            .map_err(|_| self.error(value.span(), key, format!("{what} {n} is out of range")))
    }

    pub(super) fn asn(&self, value: &Spanned<i64>, key: &str) -> Result<u32, ConfigError> {
        if *value.get_ref() == 0 {
            return Err(self.error(
                value.span(),
                key,
                "ASN 0 is reserved (RFC 7607): expected 1..=4294967295",
            ));
        }
        self.integer(value, key, 1..=i64::from(u32::MAX), "ASN")
    }

    pub(super) fn parsed<T: std::str::FromStr>(
        &self,
        value: &Spanned<String>,
        key: &str,
        what: &str,
    ) -> Result<T, ConfigError> {
        value.get_ref().parse().map_err(|_| {
            self.error(
                value.span(),
                key,
                format!("{:?} is not {what}", value.get_ref()),
            )
        })
    }

    pub(super) fn duration(
        &self,
        value: &Spanned<Scalar>,
        key: &str,
    ) -> Result<Duration, ConfigError> {
        match value.get_ref() {
            Scalar::Integer(n) => u64::try_from(*n).map(Duration::from_secs).map_err(|_| {
                self.error(
                    value.span(),
                    key,
                    format!("negative duration {n}: {}", duration::ACCEPTED),
                )
            }),
            Scalar::Text(text) => {
                duration::parse(text).map_err(|message| self.error(value.span(), key, message))
            }
        }
    }

    fn global(&mut self, raw: &Spanned<RawGlobal>) -> Result<(Global, Timers), ConfigError> {
        let g = raw.get_ref();
        let asn = self.required(&g.asn, raw.span(), "global.asn")?;
        let asn = self.asn(asn, "global.asn")?;
        let router_id = match &g.router_id {
            None => RouterId::Auto,
            Some(id) if id.get_ref() == "auto" => RouterId::Auto,
            Some(id) => {
                let address: Ipv4Addr =
                    self.parsed(id, "global.router-id", "\"auto\" or an IPv4 address")?;
                if address.is_unspecified() {
                    return Err(self.error(
                        id.span(),
                        "global.router-id",
                        "router ID 0.0.0.0 is not allowed (RFC 6286 §2.1): use \"auto\" or \
                         another IPv4 address",
                    ));
                }
                RouterId::Fixed(address)
            }
        };
        let timers = self.timers(g.timers(), "global")?;
        self.resolve(&timers, &Timers::default())?;
        Ok((Global { asn, router_id }, timers))
    }

    fn peer(
        &mut self,
        index: usize,
        raw: &Spanned<RawPeer>,
        global_timers: &Timers,
        global_continuity: &Continuity,
    ) -> Result<Peer, ConfigError> {
        let p = raw.get_ref();
        let key = |name: &str| format!("peer[{index}].{name}");
        let address_value = self.required(&p.address, raw.span(), &key("address"))?;
        let address: IpAddr = self.parsed(address_value, &key("address"), "an IP address")?;
        let asn = self.required(&p.asn, raw.span(), &key("asn"))?;
        let asn = self.asn(asn, &key("asn"))?;
        let name = match &p.name {
            Some(name) if name.get_ref().trim().is_empty() => {
                return Err(self.error(name.span(), key("name"), "peer name must not be empty"));
            }
            Some(name) => name.get_ref().clone(),
            None => address.to_string(),
        };
        let port = match &p.port {
            Some(port) => self.integer(port, &key("port"), 1..=65535, "port")?,
            None => BGP_PORT,
        };
        let local_address = match &p.local_address {
            Some(local) => {
                let parsed: IpAddr = self.parsed(local, &key("local-address"), "an IP address")?;
                if parsed.is_ipv4() != address.is_ipv4() {
                    return Err(self.error(
                        local.span(),
                        key("local-address"),
                        format!(
                            "local address {parsed} and peer address {address} are of \
                             different address families"
                        ),
                    ));
                }
                Some(parsed)
            }
            None => None,
        };
        let next_hop_ipv4: Option<Ipv4Addr> = p
            .next_hop_ipv4
            .as_ref()
            .map(|v| self.parsed(v, &key("next-hop-ipv4"), "an IPv4 address"))
            .transpose()?;
        let next_hop_ipv6: Option<Ipv6Addr> = p
            .next_hop_ipv6
            .as_ref()
            .map(|v| self.parsed(v, &key("next-hop-ipv6"), "an IPv6 address"))
            .transpose()?;
        let ipv4 = self.family(
            p.ipv4.as_ref(),
            address.is_ipv4(),
            next_hop_ipv4.is_some(),
            &key("ipv4"),
            ("IPv4", "IPv6", "next-hop-ipv4"),
        )?;
        let ipv6 = self.family(
            p.ipv6.as_ref(),
            address.is_ipv6(),
            next_hop_ipv6.is_some(),
            &key("ipv6"),
            ("IPv6", "IPv4", "next-hop-ipv6"),
        )?;
        if !ipv4 && !ipv6 {
            let native = if address.is_ipv4() { &p.ipv4 } else { &p.ipv6 };
            let native_key = key(if address.is_ipv4() { "ipv4" } else { "ipv6" });
            let span = native.as_ref().map_or_else(|| raw.span(), Spanned::span);
            self.warn(
                span,
                native_key,
                format!("peer {name} carries neither IPv4 nor IPv6 VIPs: nothing is sent to it"),
            );
        }
        let timers = self.timers(p.timers(), &format!("peer[{index}]"))?;
        let resolved = self.resolve(&timers, global_timers)?;
        let continuity = self.continuity(p.continuity(), &format!("peer[{index}]"))?;
        let (graceful_restart, bfd) = self.resolve_continuity(&continuity, global_continuity);
        let peer = Peer {
            name,
            address,
            port,
            asn,
            local_address,
            hold_time: resolved.hold_time,
            keepalive: resolved.keepalive,
            connect_retry: resolved.connect_retry,
            connect_retry_max: resolved.connect_retry_max,
            ipv4,
            ipv6,
            next_hop_ipv4,
            next_hop_ipv6,
            security: self.peer_security(index, raw)?,
            graceful_restart,
            bfd,
        };
        self.warn_dead_host(&peer, raw.span(), &key("hold-time"));
        Ok(peer)
    }

    /// Whether a peer carries one address family (`names.0`): by default
    /// when the session is of that family or a next hop for it is set. A
    /// family other than the session's (`names.1`) needs a next hop
    /// (`names.2`), since the session's local address cannot serve.
    fn family(
        &self,
        value: Option<&Spanned<bool>>,
        native: bool,
        has_next_hop: bool,
        key: &str,
        names: (&str, &str, &str),
    ) -> Result<bool, ConfigError> {
        let (family, session, next_hop) = names;
        match value {
            None => Ok(native || has_next_hop),
            Some(value) if *value.get_ref() && !native && !has_next_hop => Err(self.error(
                value.span(),
                key,
                format!(
                    "sending {family} VIPs over an {session} session needs `{next_hop}`: \
                     the session's own address cannot be an {family} next hop"
                ),
            )),
            Some(value) => Ok(*value.get_ref()),
        }
    }
}
