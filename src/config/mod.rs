//! herald's configuration: one TOML file, deployed unchanged to every host.
//!
//! Loading happens in three steps, each in its own file:
//!
//! 1. `raw`: toml and serde read the text into a mirror of the file with
//!    the position of every value; unknown keys and syntax errors stop here.
//! 2. `validate`: the mirror becomes the typed [`Config`], with defaults
//!    resolved (a peer's timers fall back to `[global]`, keepalive to a third
//!    of the hold time, VIPs go to every peer) and every rule checked.
//!    The work is split by part of the file: `validate_timers`,
//!    `validate_vip`, `validate_health` (`[[check]]`) and
//!    `validate_vip_health` (a VIP's checks, degrade, damping and hook).
//!    Values in their own syntax are parsed by `duration`, `community`
//!    and `health_syntax`.
//! 3. `error`: each problem becomes a [`ConfigError`] or a [`Warning`]
//!    naming file, line, column and key (`peer[0].hold-time`, 0-based).
//!
//! Nothing falls back silently: a value herald cannot honour is an error, a
//! value it honours only partly is a warning. `examples/herald.toml`
//! documents every key.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;

mod community;
mod duration;
mod error;
mod health;
mod health_syntax;
pub mod location;
mod raw;
mod validate;
mod validate_continuity;
mod validate_daemon;
mod validate_health;
mod validate_security;
mod validate_timers;
mod validate_vip;
mod validate_vip_health;

pub use duration::parse as parse_duration;
pub use error::{ConfigError, Warning};
pub use health::{Check, CheckKind, Damping, Degrade, DownAction, HttpCheck};
pub use validate_continuity::DEFAULT_RESTART_TIME;

/// Longest configuration file herald reads: far beyond any real one (a
/// thousand VIPs take about 100 KiB), short enough to parse in a moment.
pub const MAX_CONFIG_LEN: u64 = 4 << 20;

/// A validated configuration, every default resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The file this configuration was read from.
    pub source: PathBuf,
    /// Settings for the whole speaker.
    pub global: Global,
    /// BGP neighbours, in file order. May be empty: herald then announces
    /// nothing (the packaged example ships this way).
    pub peers: Vec<Peer>,
    /// Service addresses to announce, in file order.
    pub vips: Vec<Vip>,
    /// Health checks, in file order; VIPs refer to them by index.
    pub checks: Vec<Check>,
    /// How the daemon itself runs: control socket, state, drain, metrics.
    pub daemon: Daemon,
}

/// Settings of the daemon process rather than of BGP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Daemon {
    /// Unix socket of the control protocol (`[control] socket`).
    pub socket: PathBuf,
    /// Permission bits of the socket file (`[control] mode`, default 0660).
    pub socket_mode: u32,
    /// Group owning the socket file (`[control] group`), if set.
    pub socket_group: Option<String>,
    /// Where operator overrides persist (`global.state-file`).
    pub state_file: PathBuf,
    /// How long `herald drain` keeps routes up with GRACEFUL_SHUTDOWN
    /// before withdrawing them, unless the command says otherwise.
    pub drain_time: Duration,
    /// Drain for `drain_time` before withdrawing on SIGTERM/SIGINT.
    pub drain_on_stop: bool,
    /// Listen address of the Prometheus endpoint; off when `None`.
    pub metrics: Option<std::net::SocketAddr>,
    /// What SIGTERM means: a stop (withdraw) or a restart (keep routes).
    pub on_sigterm: OnSigterm,
}

/// `[global] on-sigterm`: whether SIGTERM ends the service on this host
/// (withdraw everything) or restarts herald (the router keeps the routes
/// through graceful restart). SIGINT is always a stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnSigterm {
    /// Ask systemd: a restart when it is restarting herald's own unit and
    /// the system is not shutting down; a stop otherwise, and whenever
    /// systemd cannot be asked.
    Auto,
    /// Always a stop.
    Stop,
    /// A restart, unless the system is shutting down; for supervisors
    /// other than systemd that restart herald after it exits.
    Restart,
}

/// `[global]`: the local speaker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Global {
    /// Local ASN, 1..=4294967295 (4-octet ASNs per RFC 6793).
    pub asn: u32,
    /// BGP Identifier sent in OPEN (RFC 4271 §4.2).
    pub router_id: RouterId,
}

/// How the BGP Identifier is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouterId {
    /// Each session derives it from its own local address (see
    /// `bgp::fsm::router_id_for`).
    Auto,
    /// The same identifier on every session; never `0.0.0.0`.
    Fixed(Ipv4Addr),
}

/// One `[[peer]]`: a BGP neighbour and what to send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// Unique name; the address in canonical text form when not configured.
    pub name: String,
    /// Neighbour address herald connects to.
    pub address: IpAddr,
    /// Neighbour TCP port (179 unless configured).
    pub port: u16,
    /// Remote ASN; equal to [`Global::asn`] for iBGP.
    pub asn: u32,
    /// Local address to bind before connecting, same family as `address`.
    pub local_address: Option<IpAddr>,
    /// Hold time offered in OPEN, seconds: 0 or 3..=65535 (RFC 4271 §4.2).
    pub hold_time: u16,
    /// Keepalive interval in seconds, below `hold_time`; 0 when
    /// `hold_time` is 0 (no keepalives, RFC 4271 §4.4).
    pub keepalive: u16,
    /// First delay before reconnecting; doubles after each failure.
    pub connect_retry: Duration,
    /// Cap of the reconnect backoff, at least `connect_retry`.
    pub connect_retry_max: Duration,
    /// Send IPv4 VIPs to this peer.
    pub ipv4: bool,
    /// Send IPv6 VIPs to this peer.
    pub ipv6: bool,
    /// Next hop for IPv4 VIPs instead of the session's local address;
    /// always set when `ipv4` is true on an IPv6 session.
    pub next_hop_ipv4: Option<Ipv4Addr>,
    /// Next hop for IPv6 VIPs instead of the session's local address;
    /// always set when `ipv6` is true on an IPv4 session.
    pub next_hop_ipv6: Option<Ipv6Addr>,
    /// TCP MD5 signatures and TTL handling of the session.
    pub security: PeerSecurity,
    /// Graceful restart (RFC 4724) advertised to this peer; `None` when
    /// turned off.
    pub graceful_restart: Option<GracefulRestart>,
    /// BFD (RFC 5880, RFC 5881) with this peer; `None` when off.
    pub bfd: Option<Bfd>,
}

/// How herald asks a peer to keep its routes while herald restarts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GracefulRestart {
    /// Restart time advertised in the capability, 1..=4095 s: how long
    /// the router keeps herald's routes while waiting for it to return.
    pub restart_time: u16,
}

/// BFD timers of one peer (RFC 5880 §6.8.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bfd {
    /// Desired Min TX Interval once the session is up.
    pub min_tx: Duration,
    /// Required Min RX Interval.
    pub min_rx: Duration,
    /// Detect Mult: missed packets before the peer is declared down.
    pub multiplier: u8,
}

/// How a session's TCP connection is protected.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PeerSecurity {
    /// TCP MD5 signature key (RFC 2385), from `password` or the file
    /// `password-file` names.
    pub password: Option<Secret>,
    /// TTL (IPv6 hop limit) of outgoing packets: `ttl`, e.g. the hop count
    /// of an eBGP multihop session; the system default when `None`.
    pub ttl: Option<u8>,
    /// GTSM (RFC 5082): send with TTL 255 and accept only 255, so that a
    /// directly connected peer cannot be spoofed from further away.
    pub ttl_security: bool,
}

/// A secret that never shows in logs, status or errors: `Debug` and
/// `Display` print `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    /// The secret itself, for the one place that needs it (the socket).
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl Peer {
    /// Whether the session with this peer is internal BGP.
    pub fn is_ibgp(&self, local_asn: u32) -> bool {
        self.asn == local_asn
    }

    /// Whether this peer is sent VIPs of `prefix`'s address family.
    pub fn carries(&self, prefix: &IpNet) -> bool {
        match prefix {
            IpNet::V4(_) => self.ipv4,
            IpNet::V6(_) => self.ipv6,
        }
    }

    /// How long, by this host's own settings, the router may keep this
    /// host as a next hop after the host dies without closing its
    /// session (frozen, cut off, powered off): BFD's detection time when
    /// BFD is on; else the hold time, plus the restart time when graceful
    /// restart is on, since a router may keep the routes stale after a
    /// hold timer expiry too (RFC 8538 §4). `None` with hold time 0 and no
    /// BFD: nothing ever notices. The router's own offers may shorten it.
    pub fn dead_host_window(&self) -> Option<Duration> {
        if let Some(bfd) = self.bfd {
            return Some(bfd.min_tx * u32::from(bfd.multiplier));
        }
        if self.hold_time == 0 {
            return None;
        }
        let restart = self.graceful_restart.map_or(0, |gr| gr.restart_time);
        Some(Duration::from_secs(
            u64::from(self.hold_time) + u64::from(restart),
        ))
    }
}

/// ORIGIN attribute value (RFC 4271 §5.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Origin {
    /// Learned from an interior protocol: the default.
    #[default]
    Igp,
    /// Learned from EGP.
    Egp,
    /// Learned some other way.
    Incomplete,
}

impl Origin {
    /// The attribute's wire value.
    pub fn code(self) -> u8 {
        use crate::bgp::wire::iana::origin;
        match self {
            Origin::Igp => origin::IGP,
            Origin::Egp => origin::EGP,
            Origin::Incomplete => origin::INCOMPLETE,
        }
    }
}

/// One `[[vip]]`: a prefix and the attributes it is announced with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vip {
    /// The announced prefix, host bits clear.
    pub prefix: IpNet,
    /// MULTI_EXIT_DISC (RFC 4271 §5.1.4).
    pub med: Option<u32>,
    /// LOCAL_PREF (RFC 4271 §5.1.5), sent to iBGP peers only.
    pub local_pref: Option<u32>,
    /// Standard communities (RFC 1997), in file order.
    pub communities: Vec<u32>,
    /// Large communities (RFC 8092), in file order.
    pub large_communities: Vec<[u32; 3]>,
    /// Extended communities (RFC 4360), each its 8 wire octets.
    pub extended_communities: Vec<[u8; 8]>,
    /// How many extra times the local ASN is prepended, 0..=32.
    pub as_path_prepend: u8,
    /// ORIGIN attribute.
    pub origin: Origin,
    /// Indices into [`Config::peers`] this VIP is sent to, ascending;
    /// every peer when the file does not say.
    pub peers: Vec<usize>,
    /// Indices into [`Config::checks`] that must all pass for the VIP to be
    /// healthy; empty means always healthy.
    pub checks: Vec<usize>,
    /// What happens to the route while the VIP is unhealthy.
    pub on_down: DownAction,
    /// Flap damping; `None` (the default) when off.
    pub damping: Option<Damping>,
    /// Command run on every change of the VIP's state (argv), not waited
    /// on by the announcing path.
    pub hook: Option<Vec<String>>,
}

impl Config {
    /// Reads and validates the file at `path`.
    ///
    /// Warnings are returned for the caller to print; they never stop herald.
    /// A file other users could change is refused (see [`location`]); so is
    /// anything but a regular file of at most [`MAX_CONFIG_LEN`] bytes (see
    /// [`crate::fsutil::read`]). What is read is the file the checked path
    /// resolved to, so a symlink swapped after the check changes nothing.
    pub fn load(path: &Path) -> Result<(Config, Vec<Warning>), ConfigError> {
        let resolved = location::resolve(path).map_err(|e| ConfigError::io(path, e))?;
        if let Some(why) = resolved.exposed {
            return Err(ConfigError::at(
                path,
                None,
                None,
                format!("refusing a configuration other users could change: {why}"),
            ));
        }
        let bytes = crate::fsutil::read_regular(&resolved.path, MAX_CONFIG_LEN)
            .map_err(|e| ConfigError::io(path, e))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            ConfigError::io(
                path,
                std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            )
        })?;
        Config::parse(&text, path)
    }

    /// Validates `text`, naming `source` in errors and warnings.
    pub fn parse(text: &str, source: &Path) -> Result<(Config, Vec<Warning>), ConfigError> {
        let raw: raw::RawConfig =
            toml::from_str(text).map_err(|e| validate::toml_error(&e, text, source))?;
        validate::validate(&raw, text, source)
    }
}
