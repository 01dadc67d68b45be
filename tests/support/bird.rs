//! BIRD 2 as the lab's router: one passive eBGP session per host and
//! address family, and ECMP into the router's kernel table.
//!
//! The config is the one `examples/lab/lab.sh` writes, with graceful
//! restart and BFD only where a test asks for them; see there, or
//! [`ecmp_router_config`], for why each setting is there.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use super::netlab::{Lab, ProcId};
use super::{program, wait};

/// One BGP neighbour of the router.
pub struct Neighbor {
    /// BIRD protocol name, e.g. `h1_v4`.
    pub name: String,
    pub address: IpAddr,
    pub asn: u32,
}

/// The router's side of the lab.
pub struct RouterSpec {
    pub router_id: IpAddr,
    pub asn: u32,
    /// The router's address on the LAN, per family: sessions of that
    /// family use it as their local address.
    pub local_v4: IpAddr,
    pub local_v6: IpAddr,
    pub neighbors: Vec<Neighbor>,
    /// `graceful restart on` (RFC 4724 helper: keep a restarting
    /// speaker's routes, marked stale, until it is back and has sent
    /// End-of-RIB or its restart time is over) instead of `off`.
    pub graceful_restart: bool,
    /// A `protocol bfd` and `bfd on` in every BGP session: a BFD session
    /// per neighbour, and the BGP session is shut down when it goes down.
    pub bfd: Option<BfdSpec>,
    /// `hold time` offered to every host (BIRD's default is 240 s); the
    /// negotiated hold time is the smaller offer.
    pub hold_time: Option<u16>,
}

/// The router's BFD timers (RFC 5880): it sends every `min_tx_ms` (when
/// the peer accepts that rate), asks for no more than one packet every
/// `min_rx_ms`, and declares the session down after `multiplier` missed
/// intervals.
#[derive(Clone, Copy, Debug)]
pub struct BfdSpec {
    pub min_tx_ms: u32,
    pub min_rx_ms: u32,
    pub multiplier: u32,
}

impl BfdSpec {
    /// The usual fast timers: 300 ms x 3, a verdict within 0.9 s.
    pub const FAST: BfdSpec = BfdSpec {
        min_tx_ms: 300,
        min_rx_ms: 300,
        multiplier: 3,
    };
}

/// BIRD's config for `spec`.
///
/// - `merge paths on` in each `kernel` protocol: BIRD merges the equally
///   good BGP routes of a prefix into one multipath kernel route; without
///   it only the best path is installed. The BGP routes are equally good
///   because every host is in the same AS with the same attributes.
/// - `export where source = RTS_BGP` on the kernel channels: a kernel
///   protocol exports nothing without an export filter.
/// - `import all; export none;` on each BGP channel: eBGP channels accept
///   nothing unless told to (RFC 8212); the router sends nothing back.
/// - `passive on`: herald only dials out, so the router only listens; it
///   would otherwise also dial the hosts' closed port 179 and log refusals.
/// - `error wait time 1, 5`: a speaker that restarts is accepted again
///   after 1-5 s, not 60-300 s. `connect retry time` matters only if
///   `passive` is turned off.
/// - `graceful restart off` (the default of [`RouterSpec`]): a speaker
///   that dies without a NOTIFICATION loses its routes at once instead of
///   leaving them stale. With [`RouterSpec::graceful_restart`] it is
///   `graceful restart on` plus `long lived graceful restart off`: BIRD
///   keeps the routes of a speaker that advertised the capability and
///   closed its connection, for the restart time the speaker advertised,
///   and never keeps them after a hold timer expiry (which only long-lived
///   graceful restart, RFC 9494, would do).
/// - With [`RouterSpec::bfd`]: `protocol bfd` with the timers on every
///   interface and `bfd on` in the BGP template; without it BIRD runs no
///   BFD at all. A session whose BFD peer never answers stays up: BIRD
///   acts only on a BFD session going from up to down.
/// - With either: `debug { states, events }` in the BGP template, so that
///   BIRD's log shows every session's state changes and graceful restarts
///   ("Neighbor graceful restart detected", "... done").
pub fn ecmp_router_config(spec: &RouterSpec) -> String {
    let mut conf = format!(
        "\
# BIRD 2 router of a herald lab test.
log stderr all;
router id {router_id};

protocol device {{
}}

protocol kernel kernel4 {{
    ipv4 {{
        import none;
        export where source = RTS_BGP;
    }};
    merge paths on;
}}

protocol kernel kernel6 {{
    ipv6 {{
        import none;
        export where source = RTS_BGP;
    }};
    merge paths on;
}}
",
        router_id = spec.router_id,
    );
    if let Some(bfd) = spec.bfd {
        let _ = write!(
            conf,
            "
protocol bfd {{
    interface \"*\" {{
        min rx interval {rx} ms;
        min tx interval {tx} ms;
        multiplier {mult};
    }};
}}
",
            rx = bfd.min_rx_ms,
            tx = bfd.min_tx_ms,
            mult = bfd.multiplier,
        );
    }
    let mut session_options = String::new();
    if spec.graceful_restart {
        session_options
            .push_str("    graceful restart on;\n    long lived graceful restart off;\n");
    } else {
        session_options.push_str("    graceful restart off;\n");
    }
    if spec.bfd.is_some() {
        session_options.push_str("    bfd on;\n");
    }
    if spec.graceful_restart || spec.bfd.is_some() {
        // So that the log shows each session's state changes, graceful
        // restarts and their end (BIRD traces them only when asked).
        session_options.push_str("    debug { states, events };\n");
    }
    if let Some(secs) = spec.hold_time {
        let _ = writeln!(session_options, "    hold time {secs};");
    }
    for (family, local) in [("ipv4", spec.local_v4), ("ipv6", spec.local_v6)] {
        let _ = write!(
            conf,
            "
template bgp host_{family} {{
    local {local} as {asn};
    passive on;
    error wait time 1, 5;
    connect retry time 1;
{session_options}    {family} {{
        import all;
        export none;
    }};
}}
",
            asn = spec.asn,
        );
    }
    conf.push('\n');
    for n in &spec.neighbors {
        let family = if n.address.is_ipv4() { "ipv4" } else { "ipv6" };
        let _ = writeln!(
            conf,
            "protocol bgp {} from host_{family} {{ neighbor {} as {}; }}",
            n.name, n.address, n.asn
        );
    }
    conf
}

/// A running BIRD.
pub struct Bird {
    pub proc: ProcId,
    pub socket: PathBuf,
}

/// Checks `config` (`bird -p`), then runs BIRD with it in `ns`, in the
/// foreground under the lab, and waits (at most 10 s) for its control
/// socket to answer.
pub fn start(lab: &mut Lab, ns: &str, name: &str, config: &str) -> Bird {
    let conf = lab.write_file(&format!("{name}.conf"), config);
    let socket = lab.dir().join(format!("{name}.ctl"));
    let pidfile = lab.dir().join(format!("{name}.pid"));
    let check = Command::new(program("bird"))
        .arg("-p")
        .arg("-c")
        .arg(&conf)
        .output()
        .expect("run bird -p");
    assert!(
        check.status.success(),
        "BIRD rejects its config: {}\n{config}",
        String::from_utf8_lossy(&check.stderr)
    );
    let proc = lab.spawn(
        ns,
        name,
        &program("bird"),
        &[
            "-f".as_ref(),
            "-c".as_ref(),
            conf.as_os_str(),
            "-s".as_ref(),
            socket.as_os_str(),
            "-P".as_ref(),
            pidfile.as_os_str(),
        ],
    );
    let bird = Bird { proc, socket };
    if let Err(why) = wait::wait_until(Duration::from_secs(10), wait::INTERVAL, || {
        bird.birdc(&["show", "status"]).map(drop)
    }) {
        panic!("BIRD did not come up: {why}\n{}", lab.log_tails(20));
    }
    bird
}

impl Bird {
    /// `birdc -s SOCKET ARGS...`: its output, or why it failed.
    pub fn birdc(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new(program("birdc"))
            .arg("-s")
            .arg(&self.socket)
            .args(args)
            .output()
            .map_err(|e| format!("run birdc: {e}"))?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() {
            Ok(text)
        } else {
            Err(format!(
                "birdc {args:?} failed ({}): {text}{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    /// `show protocols all`, or why it could not be read; for failure
    /// messages.
    pub fn protocols_all(&self) -> String {
        self.birdc(&["show", "protocols", "all"])
            .unwrap_or_else(|why| why)
    }
}

/// Reading BIRD's own table, for tests that count paths.
impl Bird {
    /// The next hops of every path BIRD holds for exactly `prefix`, one
    /// entry per path (so a duplicate path shows twice), sorted; empty if
    /// there is no route or BIRD does not answer. Reads the `via ADDR`
    /// lines of `birdc show route for PREFIX all`.
    pub fn paths(&self, prefix: &str) -> Vec<IpAddr> {
        let text = self
            .birdc(&["show", "route", "for", prefix, "all"])
            .unwrap_or_default();
        let mut hops: Vec<IpAddr> = text
            .lines()
            .filter_map(|line| line.trim_start().strip_prefix("via "))
            .filter_map(|rest| rest.split_whitespace().next())
            .filter_map(|addr| addr.parse().ok())
            .collect();
        hops.sort();
        hops
    }
}

/// Sessions and BIRD's own account of them.
impl Bird {
    /// The state of protocol `name` and when it entered it, from `birdc
    /// show protocols NAME`: e.g. `("Established", "12:00:01.123")`. A
    /// session reset changes the time. Empty strings if BIRD does not
    /// answer.
    pub fn session(&self, name: &str) -> (String, String) {
        let text = self.birdc(&["show", "protocols", name]).unwrap_or_default();
        let line = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_default();
        let fields: Vec<&str> = line.split_whitespace().collect();
        let field = |i: usize| fields.get(i).copied().unwrap_or_default().to_string();
        (field(5), field(4))
    }

    /// `show protocols all NAME`, or why it could not be read.
    pub fn protocol_all(&self, name: &str) -> String {
        self.birdc(&["show", "protocols", "all", name])
            .unwrap_or_else(|why| why)
    }

    /// `show bfd sessions`, or why it could not be read.
    pub fn bfd_sessions(&self) -> String {
        self.birdc(&["show", "bfd", "sessions"])
            .unwrap_or_else(|why| why)
    }

    /// The state BIRD's BFD gives the session with `neighbor` (`"Up"`,
    /// `"Down"`, `"Init"`, `"AdminDown"`), if it lists one.
    pub fn bfd_state(&self, neighbor: IpAddr) -> Option<String> {
        let text = self.bfd_sessions();
        let addr = neighbor.to_string();
        text.lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .find(|f| f.first() == Some(&addr.as_str()))
            .and_then(|f| f.get(2).map(|s| s.to_string()))
    }

    /// BIRD's log so far (`log stderr all` goes to the lab's log file).
    pub fn log(&self, lab: &Lab) -> String {
        lab.log_tail(self.proc, 1_000_000)
    }
}

/// How many lines of `log` are about protocol `name` and contain `what`
/// (e.g. `"Neighbor graceful restart detected"`).
pub fn log_count(log: &str, name: &str, what: &str) -> usize {
    let prefix = format!("{name}: ");
    log.lines()
        .filter(|l| l.contains(&prefix) && l.contains(what))
        .count()
}

/// How long each graceful restart of protocol `name` in `log` lasted, in
/// order: from the line that began it ("Neighbor graceful restart
/// detected") to the next one that ended it with End-of-RIB ("... done").
/// BIRD's log times have milliseconds; an unfinished restart is left out.
pub fn gr_windows(log: &str, name: &str) -> Vec<Duration> {
    let prefix = format!("{name}: ");
    // "2026-11-22 08:21:53.575 <TRACE> h1_v4: ..."
    let time_of = |line: &str| {
        let clock = line.split_whitespace().nth(1)?;
        let (hms, millis) = clock.split_once('.')?;
        let mut fields = hms.split(':').map(|n| n.parse::<u64>().ok());
        let (h, m, s) = (fields.next()??, fields.next()??, fields.next()??);
        Some(((h * 60 + m) * 60 + s) * 1000 + millis.parse::<u64>().ok()?)
    };
    let mut windows = Vec::new();
    let mut begun = None;
    for line in log.lines().filter(|l| l.contains(&prefix)) {
        if line.contains("Neighbor graceful restart detected") {
            begun = time_of(line);
        } else if line.contains("Neighbor graceful restart done") {
            if let (Some(start), Some(end)) = (begun.take(), time_of(line)) {
                windows.extend(end.checked_sub(start).map(Duration::from_millis));
            }
        }
    }
    windows
}
