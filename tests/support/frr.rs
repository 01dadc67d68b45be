//! FRR 8 as the lab's router instead of BIRD: zebra, bgpd and bfdd, each
//! run in the foreground under the [`Lab`] with its config, sockets and pid
//! file in a directory `frr/` of the lab's (never `/run/frr`). The daemons
//! drop their privileges to the `frr` user as usual (running them as root
//! needs root in the `frrvty` group), so that directory belongs to `frr`
//! and the lab's directory is opened for traversal (mode 0711).
//!
//! The router's side is the same [`RouterSpec`] as BIRD's: one passive
//! eBGP session per neighbour, ECMP over every host (`bgp bestpath
//! as-path multipath-relax`, `maximum-paths`), import of everything (`no
//! bgp ebgp-requires-policy`), graceful restart helper or off, and with
//! [`RouterSpec::bfd`] a BFD profile used by every session. FRR installs
//! its routes through nexthop objects (`nhid`), which
//! [`super::route_watch`] resolves.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::bird::RouterSpec;
use super::netlab::{Lab, ProcId};
use super::wait;

/// Where Debian's FRR keeps its daemons.
pub const FRR_DIR: &str = "/usr/lib/frr";

/// Whether the FRR daemons and `vtysh` are installed.
pub fn available() -> bool {
    ["zebra", "bgpd", "bfdd"]
        .iter()
        .all(|d| Path::new(FRR_DIR).join(d).is_file())
        && super::find_program("vtysh").is_some()
}

/// A running FRR.
pub struct Frr {
    pub procs: Vec<ProcId>,
    /// The daemons' vty sockets, for `vtysh --vty_socket`.
    pub vty_dir: PathBuf,
}

/// bgpd's config for `spec`.
///
/// - `passive`: herald only dials out.
/// - `timers connect 1`: irrelevant while passive, but short anyway.
/// - `bgp graceful-restart-disable` unless [`RouterSpec::graceful_restart`]
///   (FRR 8 is a graceful-restart helper by default).
/// - `bgp bestpath as-path multipath-relax` is not needed while every host
///   is in the same AS, but keeps the paths equal if a test changes that.
pub fn bgpd_config(spec: &RouterSpec) -> String {
    let mut conf = format!(
        "\
hostname r1
log stdout informational
!
router bgp {asn}
 bgp router-id {router_id}
 no bgp ebgp-requires-policy
 no bgp network import-check
 bgp bestpath as-path multipath-relax
",
        asn = spec.asn,
        router_id = spec.router_id,
    );
    if !spec.graceful_restart {
        conf.push_str(" bgp graceful-restart-disable\n");
    }
    for n in &spec.neighbors {
        let a = n.address;
        let _ = writeln!(conf, " neighbor {a} remote-as {}", n.asn);
        let _ = writeln!(conf, " neighbor {a} passive");
        let _ = writeln!(conf, " neighbor {a} timers connect 1");
        if let Some(hold) = spec.hold_time {
            let _ = writeln!(conf, " neighbor {a} timers {} {hold}", (hold / 3).max(1));
        }
        if spec.bfd.is_some() {
            let _ = writeln!(conf, " neighbor {a} bfd profile lab");
        }
    }
    conf.push_str(" address-family ipv4 unicast\n  maximum-paths 16\n exit-address-family\n");
    conf.push_str(" address-family ipv6 unicast\n  maximum-paths 16\n");
    for n in spec.neighbors.iter().filter(|n| n.address.is_ipv6()) {
        let _ = writeln!(conf, "  neighbor {} activate", n.address);
    }
    conf.push_str(" exit-address-family\nexit\n");
    conf
}

/// bfdd's config: the profile `lab` with the timers of
/// [`RouterSpec::bfd`] (none without it).
pub fn bfdd_config(spec: &RouterSpec) -> String {
    let mut conf = "hostname r1\nlog stdout informational\n!\n".to_string();
    if let Some(bfd) = spec.bfd {
        let _ = write!(
            conf,
            "bfd\n profile lab\n  detect-multiplier {}\n  receive-interval {}\n  \
             transmit-interval {}\n exit\nexit\n",
            bfd.multiplier, bfd.min_rx_ms, bfd.min_tx_ms
        );
    }
    conf
}

/// Starts zebra, bgpd and bfdd in `ns` with configs for `spec`, and waits
/// (at most 20 s) until `vtysh` reaches all three.
pub fn start(lab: &mut Lab, ns: &str, spec: &RouterSpec) -> Frr {
    let dir = lab.dir().join("frr");
    let vty_dir = dir.join("vty");
    std::fs::create_dir_all(&vty_dir).expect("create FRR's directory");
    let (uid, gid) = (id("-u"), id("-g"));
    std::fs::set_permissions(lab.dir(), std::fs::Permissions::from_mode(0o711))
        .expect("open the lab's directory for traversal");
    for path in [&dir, &vty_dir] {
        std::os::unix::fs::chown(path, Some(uid), Some(gid)).expect("give FRR its directory");
    }
    let zserv = dir.join("zserv.api");
    let configs = [
        (
            "zebra",
            "hostname r1\nlog stdout informational\n!\n".to_string(),
        ),
        ("bfdd", bfdd_config(spec)),
        ("bgpd", bgpd_config(spec)),
    ];
    let mut procs = Vec::new();
    for (daemon, config) in configs {
        let conf = dir.join(format!("{daemon}.conf"));
        std::fs::write(&conf, &config).expect("write an FRR config");
        let pid = dir.join(format!("{daemon}.pid"));
        let mut args: Vec<String> = vec![
            "-f".into(),
            conf.display().to_string(),
            "-i".into(),
            pid.display().to_string(),
            "-z".into(),
            zserv.display().to_string(),
            "--vty_socket".into(),
            vty_dir.display().to_string(),
            "--log".into(),
            "stdout".into(),
        ];
        if daemon == "bfdd" {
            args.push("--bfdctl".into());
            args.push(dir.join("bfdd.sock").display().to_string());
        }
        let program = Path::new(FRR_DIR).join(daemon);
        procs.push(lab.spawn(ns, &format!("frr-{daemon}"), &program, &args));
        if daemon == "zebra" {
            // bgpd and bfdd connect to zebra's socket at start.
            let _ = wait::wait_until(Duration::from_secs(10), Duration::from_millis(50), || {
                if zserv.exists() {
                    Ok(())
                } else {
                    Err("no zebra socket".to_string())
                }
            });
        }
    }
    let frr = Frr { procs, vty_dir };
    let ready = wait::wait_until(Duration::from_secs(20), wait::INTERVAL, || {
        frr.vtysh("show bgp summary json")?;
        frr.vtysh("show bfd peers json").map(drop)
    });
    if let Err(why) = ready {
        panic!("FRR did not come up: {why}\n{}", lab.log_tails(20));
    }
    frr
}

/// `id -u frr` or `id -g frr`.
fn id(which: &str) -> u32 {
    let out = super::netlab::run(Command::new("id").args([which, "frr"]));
    out.trim()
        .parse()
        .unwrap_or_else(|e| panic!("id {which} frr: {out:?}: {e}"))
}

impl Frr {
    /// `vtysh --vty_socket DIR -c COMMAND`: its output, or why it failed.
    pub fn vtysh(&self, command: &str) -> Result<String, String> {
        let out = Command::new(super::program("vtysh"))
            .arg("--vty_socket")
            .arg(&self.vty_dir)
            .args(["-c", command])
            .output()
            .map_err(|e| format!("run vtysh: {e}"))?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() {
            Ok(text)
        } else {
            Err(format!(
                "vtysh -c {command:?} failed ({}): {text}{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    /// The state bgpd gives the session with `neighbor` (e.g.
    /// `"Established"`), if it has one.
    pub fn bgp_state(&self, neighbor: IpAddr) -> Option<String> {
        let text = self
            .vtysh(&format!("show bgp neighbors {neighbor} json"))
            .ok()?;
        let json: serde_json::Value = serde_json::from_str(&text).ok()?;
        json[neighbor.to_string()]["bgpState"]
            .as_str()
            .map(str::to_string)
    }

    /// The state bfdd gives the session with `peer` (`"up"`, `"down"`,
    /// `"init"`), if it has one.
    pub fn bfd_state(&self, peer: IpAddr) -> Option<String> {
        let text = self.vtysh("show bfd peers json").ok()?;
        let json: serde_json::Value = serde_json::from_str(&text).ok()?;
        json.as_array()?
            .iter()
            .find(|p| p["peer"].as_str() == Some(&peer.to_string()))
            .and_then(|p| p["status"].as_str())
            .map(str::to_string)
    }

    /// `show bgp summary` and `show bfd peers`, for failure messages.
    pub fn describe(&self) -> String {
        let show = |c: &str| self.vtysh(c).unwrap_or_else(|why| why);
        format!(
            "=== show bgp summary\n{}\n=== show bfd peers\n{}",
            show("show bgp summary"),
            show("show bfd peers")
        )
    }
}
