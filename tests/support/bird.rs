//! BIRD 2 as the lab's router: one passive eBGP session per host and
//! address family, and ECMP into the router's kernel table.
//!
//! The config is the same as `examples/lab/lab.sh` writes; see there, or
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
/// - `graceful restart off`: a speaker that dies without a NOTIFICATION
///   loses its routes at once instead of leaving them stale.
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
    for (family, local) in [("ipv4", spec.local_v4), ("ipv6", spec.local_v6)] {
        let _ = write!(
            conf,
            "
template bgp host_{family} {{
    local {local} as {asn};
    passive on;
    error wait time 1, 5;
    connect retry time 1;
    graceful restart off;
    {family} {{
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
