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
use super::raw::{RawConfig, RawGlobal, RawPeer, RawTimers, RawVip, Scalar, Tree};
use super::{community, duration, Config, DownAction, Global, Origin, Peer, RouterId, Vip};
use crate::bgp::wire::iana::BGP_PORT;

/// Hold time when neither the peer nor `[global]` sets one.
const DEFAULT_HOLD_TIME: u16 = 90;
/// First reconnect delay when neither the peer nor `[global]` sets one.
const DEFAULT_CONNECT_RETRY: Duration = Duration::from_secs(5);
/// Reconnect backoff cap when neither the peer nor `[global]` sets one.
const DEFAULT_CONNECT_RETRY_MAX: Duration = Duration::from_secs(60);
/// Most extra copies of the local ASN a VIP may prepend.
const MAX_AS_PATH_PREPEND: i64 = 32;

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
    let mut peers = Vec::with_capacity(raw.peer.len());
    let mut by_name: HashMap<String, usize> = HashMap::new();
    let mut by_address: HashMap<(IpAddr, u16), usize> = HashMap::new();
    let mut peer_spans = Vec::with_capacity(raw.peer.len());
    for (index, raw_peer) in raw.peer.iter().enumerate() {
        let peer = v.peer(index, raw_peer, &global_timers)?;
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
    let mut vips = Vec::with_capacity(raw.vip.len());
    let mut by_prefix: HashMap<IpNet, usize> = HashMap::new();
    let mut vip_spans = Vec::with_capacity(raw.vip.len());
    for (index, raw_vip) in raw.vip.iter().enumerate() {
        let (vip, prefix_span) = v.vip(index, raw_vip, &global_config, &peers, &by_name)?;
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
    let config = Config {
        source: source.to_path_buf(),
        global: global_config,
        peers,
        vips,
        checks: Vec::new(),
    };
    Ok((config, v.warnings))
}

/// A validated value with where it was written, to blame it later.
#[derive(Debug, Clone)]
struct Setting<T> {
    value: T,
    span: Range<usize>,
    key: String,
}

/// The timer keys of one table, each parsed but not yet resolved.
#[derive(Debug, Default)]
struct Timers {
    hold_time: Option<Setting<u16>>,
    keepalive: Option<Setting<u16>>,
    connect_retry: Option<Setting<Duration>>,
    connect_retry_max: Option<Setting<Duration>>,
}

/// Where a resolved value came from: its key, or "default".
fn provenance<T>(setting: Option<&Setting<T>>) -> String {
    setting.map_or_else(|| "default".to_string(), |s| s.key.clone())
}

/// Timers with every default applied.
struct Resolved {
    hold_time: u16,
    keepalive: u16,
    connect_retry: Duration,
    connect_retry_max: Duration,
}

struct Validator<'a> {
    text: &'a str,
    source: &'a Path,
    warnings: Vec<Warning>,
}

impl Validator<'_> {
    fn error(
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

    fn warn(&mut self, span: Range<usize>, key: impl Into<String>, message: impl Into<String>) {
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
    fn line(&self, spans: &[Range<usize>], index: usize) -> usize {
        let offset = spans.get(index).map_or(0, |span| span.start);
        Position::of(self.text, offset).line
    }

    fn address_span(&self, peer: &Spanned<RawPeer>) -> Range<usize> {
        peer.get_ref()
            .address
            .as_ref()
            .map_or_else(|| peer.span(), Spanned::span)
    }

    /// A required key, or an error at the table that lacks it.
    fn required<'v, T>(
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
    fn integer<T: TryFrom<i64>>(
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

    fn asn(&self, value: &Spanned<i64>, key: &str) -> Result<u32, ConfigError> {
        if *value.get_ref() == 0 {
            return Err(self.error(
                value.span(),
                key,
                "ASN 0 is reserved (RFC 7607): expected 1..=4294967295",
            ));
        }
        self.integer(value, key, 1..=i64::from(u32::MAX), "ASN")
    }

    fn parsed<T: std::str::FromStr>(
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

    fn duration(&self, value: &Spanned<Scalar>, key: &str) -> Result<Duration, ConfigError> {
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

    /// A duration that must be a whole number of seconds fitting 16 bits,
    /// as the OPEN hold time does (RFC 4271 §4.2).
    fn seconds(&self, value: &Spanned<Scalar>, key: &str) -> Result<u16, ConfigError> {
        let d = self.duration(value, key)?;
        if d.subsec_nanos() != 0 {
            return Err(self.error(
                value.span(),
                key,
                format!("{d:?} is not a whole number of seconds"),
            ));
        }
        u16::try_from(d.as_secs()).map_err(|_| {
            self.error(
                value.span(),
                key,
                format!("{} s is too long: at most 65535 s", d.as_secs()),
            )
        })
    }

    /// Parses the timer keys of one table; `prefix` is its key path.
    fn timers(&self, raw: RawTimers<'_>, prefix: &str) -> Result<Timers, ConfigError> {
        let key = |name: &str| format!("{prefix}.{name}");
        let seconds = |value: &Spanned<Scalar>, key: String| {
            let seconds = self.seconds(value, &key)?;
            Ok::<_, ConfigError>(Setting {
                value: seconds,
                span: value.span(),
                key,
            })
        };
        let duration = |value: &Spanned<Scalar>, key: String| {
            let duration = self.duration(value, &key)?;
            Ok::<_, ConfigError>(Setting {
                value: duration,
                span: value.span(),
                key,
            })
        };
        let hold_time = raw
            .hold_time
            .map(|v| seconds(v, key("hold-time")))
            .transpose()?;
        if let Some(hold) = &hold_time {
            if hold.value == 1 || hold.value == 2 {
                return Err(self.error(
                    hold.span.clone(),
                    &hold.key,
                    format!(
                        "hold time {} s is not allowed: expected 0 (no keepalives) or \
                         3..=65535 s (RFC 4271 §4.2)",
                        hold.value
                    ),
                ));
            }
        }
        let keepalive = raw
            .keepalive
            .map(|v| seconds(v, key("keepalive")))
            .transpose()?;
        let connect_retry = raw
            .connect_retry
            .map(|v| duration(v, key("connect-retry")))
            .transpose()?;
        if let Some(retry) = &connect_retry {
            if retry.value.is_zero() {
                return Err(self.error(
                    retry.span.clone(),
                    &retry.key,
                    "connect-retry must be longer than 0",
                ));
            }
        }
        let connect_retry_max = raw
            .connect_retry_max
            .map(|v| duration(v, key("connect-retry-max")))
            .transpose()?;
        Ok(Timers {
            hold_time,
            keepalive,
            connect_retry,
            connect_retry_max,
        })
    }

    /// Applies `own` over `inherited` over the defaults and checks that the
    /// result is consistent, blaming the most specific key.
    fn resolve(&mut self, own: &Timers, inherited: &Timers) -> Result<Resolved, ConfigError> {
        let hold = own.hold_time.as_ref().or(inherited.hold_time.as_ref());
        let hold_time = hold.map_or(DEFAULT_HOLD_TIME, |s| s.value);
        let keepalive = if hold_time == 0 {
            if let Some(k) = own.keepalive.as_ref().filter(|k| k.value != 0) {
                self.warn(
                    k.span.clone(),
                    k.key.clone(),
                    format!(
                        "keepalive is ignored: the hold time ({}) is 0, so no keepalives are sent",
                        provenance(hold)
                    ),
                );
            }
            0
        } else {
            match own.keepalive.as_ref().or(inherited.keepalive.as_ref()) {
                None => hold_time / 3,
                Some(k) if k.value == 0 => {
                    return Err(self.error(
                        k.span.clone(),
                        &k.key,
                        "keepalive 0 is only allowed with hold time 0",
                    ));
                }
                Some(k) if k.value >= hold_time => {
                    let blame = own
                        .keepalive
                        .as_ref()
                        .or(own.hold_time.as_ref())
                        .unwrap_or(k);
                    return Err(self.error(
                        blame.span.clone(),
                        &blame.key,
                        format!(
                            "keepalive {} s ({}) must be less than the hold time {} s ({})",
                            k.value,
                            k.key,
                            hold_time,
                            provenance(hold)
                        ),
                    ));
                }
                Some(k) => k.value,
            }
        };
        let retry = own
            .connect_retry
            .as_ref()
            .or(inherited.connect_retry.as_ref());
        let retry_max = own
            .connect_retry_max
            .as_ref()
            .or(inherited.connect_retry_max.as_ref());
        let connect_retry = retry.map_or(DEFAULT_CONNECT_RETRY, |s| s.value);
        let connect_retry_max = retry_max.map_or(DEFAULT_CONNECT_RETRY_MAX, |s| s.value);
        if connect_retry_max < connect_retry {
            let blame = own
                .connect_retry_max
                .as_ref()
                .or(own.connect_retry.as_ref())
                .or(retry_max)
                .or(retry);
            if let Some(blame) = blame {
                return Err(self.error(
                    blame.span.clone(),
                    &blame.key,
                    format!(
                        "connect-retry-max {connect_retry_max:?} ({}) must be at least \
                         connect-retry {connect_retry:?} ({})",
                        provenance(retry_max),
                        provenance(retry)
                    ),
                ));
            }
        }
        Ok(Resolved {
            hold_time,
            keepalive,
            connect_retry,
            connect_retry_max,
        })
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
        Ok(Peer {
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
        })
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

    fn vip(
        &mut self,
        index: usize,
        raw: &Spanned<RawVip>,
        global: &Global,
        peers: &[Peer],
        by_name: &HashMap<String, usize>,
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
        let mut communities = Vec::with_capacity(r.communities.len());
        for (i, value) in r.communities.iter().enumerate() {
            let key = format!("vip[{index}].communities[{i}]");
            let parsed = match value.get_ref() {
                Scalar::Integer(n) => u32::try_from(*n)
                    .map_err(|_| format!("community {n} is out of range: expected 0..=4294967295")),
                Scalar::Text(text) => community::parse_standard(text),
            };
            communities.push(parsed.map_err(|m| self.error(value.span(), key, m))?);
        }
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
            checks: Vec::new(),
            on_down: DownAction::Withdraw,
            damping: None,
            hook: None,
        };
        self.vip_reach(index, r, prefix_value.span(), &vip, global, peers)?;
        Ok((vip, prefix_value.span()))
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
