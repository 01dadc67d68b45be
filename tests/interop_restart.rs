//! What a client sees when herald stops or restarts on one of three hosts
//! that share a VIP behind a real router (BIRD 2 in network namespaces):
//! 48 TCP connections from a client network through the router's ECMP
//! route ([`support::flows`]), and the router's kernel route sampled every
//! 10 ms ([`support::route_watch`]).
//!
//! A Linux router spreads flows over next hops by hash-threshold: when the
//! set of next hops changes, the ranges of the hash that map to each host
//! move, and some connections to hosts that stayed land on another host,
//! which answers with a reset. So a stop, which must withdraw, breaks the
//! stopped host's connections and some of the others'; herald's own
//! restarts (graceful restart, RFC 4724) must not change the set at all.
//!
//! Every test prints its figures (`-- --nocapture`). Needs root, iproute2,
//! BIRD 2 and python3; skipped without them, except under CI.

mod support;

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use support::bird::RouterSpec;
use support::flows::{FlowSpec, Flows};
use support::herald::{self, HeraldSpec};
use support::netlab::ProcId;
use support::route_watch::RouteWatch;
use support::specs::{self, Fleet};
use support::wait::{wait_until, SETTLE};

const VIP: &str = "192.0.2.10/32";
const VIP_ADDR: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);
/// The longest any route watch here runs.
const WATCH_MAX: Duration = Duration::from_secs(180);
/// herald's graceful restart settings in the tests of it.
const GR_KEYS: &str = "graceful-restart = true\nrestart-time = \"30s\"\n";

/// Three hosts behind BIRD, herald on each with `herald_keys` in
/// `[global]`, BIRD adjusted by `router`.
fn fleet(test: &str, router: impl FnOnce(&mut RouterSpec), herald_keys: &str) -> Option<Fleet> {
    if !support::lab_available_with(test, &["python3"]) {
        return None;
    }
    Some(Fleet::start(3, VIP, router, |_| HeraldSpec {
        global_keys: herald_keys.to_string(),
        ..specs::herald(&[VIP])
    }))
}

fn gr_on(spec: &mut RouterSpec) {
    spec.graceful_restart = true;
}

fn ms(d: Duration) -> u128 {
    d.as_millis()
}

fn set(hops: &[IpAddr]) -> BTreeSet<IpAddr> {
    hops.iter().copied().collect()
}

/// Panics unless every host of the fleet serves at least one connection.
fn assert_spread(f: &Fleet, flows: &Flows) {
    for host in &f.lan.hosts {
        let name = format!("h{}", host.index);
        assert!(
            flows.per_host().get(&name).copied().unwrap_or(0) >= 1,
            "no connection landed on {name}: {:?}",
            flows.per_host()
        );
    }
    assert!(
        !flows.per_host().contains_key("(none)"),
        "some connections could not be opened: {:?}",
        flows.per_host()
    );
}

#[test]
fn flows_spread_over_every_host_and_none_breaks_while_nothing_changes() {
    let Some(mut f) = fleet("interop_restart", |_| {}, "") else {
        return;
    };
    let watch = RouteWatch::start(&f.lan.router, VIP, WATCH_MAX);
    let flows = Flows::start(&mut f.lab, &f.lan, &FlowSpec::new(VIP_ADDR));
    assert_spread(&f, &flows);
    std::thread::sleep(Duration::from_secs(3));
    let report = flows.finish(&mut f.lab);
    let history = watch.stop();
    eprintln!(
        "steady state: {} connections over {:.1} s, per host {:?}; breaks: {}; \
         fewest echoes on a connection: {}; route samples: {}, changes: {}",
        report.conns.len(),
        report.duration.as_secs_f64(),
        report.per_host,
        report.resets.len(),
        report.min_echoes_unbroken(),
        history.samples,
        history.changes.len() - 1,
    );
    assert!(
        report.resets.is_empty(),
        "connections broke while nothing changed: {:?}\n{}",
        report.resets,
        f.lab.log_tails(20)
    );
    // A line every 50 ms for 3 s: 60 round trips; allow for a slow machine.
    assert!(
        report.min_echoes_unbroken() >= 10,
        "a connection carried too little traffic to count: {:?}",
        report.conns
    );
    assert_eq!(
        history.sets(),
        vec![&set(&f.hops(&[]))],
        "the route changed:\n{}",
        history.describe()
    );
}

#[test]
fn a_stopped_herald_withdraws_at_once_and_the_connections_it_served_break() {
    // Graceful restart is on at the router: a stop must withdraw even so.
    let Some(mut f) = fleet("interop_restart", gr_on, "") else {
        return;
    };
    let h1 = f.addr(0);
    // The daemon's own view before the stop: its session is up.
    let status = herald::status_json(&f.lab, &Fleet::name(1)).expect("status");
    let peer = herald::peer_status(&status, "r1")
        .cloned()
        .unwrap_or_default();
    assert_eq!(peer["state"], "Established", "{status}");
    assert_eq!(
        status["pid"].as_u64(),
        Some(u64::from(f.lab.pid(f.heralds[0]))),
        "{status}"
    );
    let watch = RouteWatch::start(&f.lan.router, VIP, WATCH_MAX);
    let flows = Flows::start(&mut f.lab, &f.lan, &FlowSpec::new(VIP_ADDR));
    assert_spread(&f, &flows);
    std::thread::sleep(Duration::from_secs(1));

    let stop_t = flows.now();
    let stopped = Instant::now();
    assert!(
        f.lab.terminate(f.heralds[0]),
        "herald on h1 did not exit within 5 s of SIGTERM\n{}",
        f.lab.log_tails(30)
    );
    let exited = stopped.elapsed();
    let rest = f.hops(&[0]);
    f.wait_hops(&rest, Duration::from_secs(10));
    // Let every connection send a few more lines over the new route.
    std::thread::sleep(Duration::from_secs(2));
    let report = flows.finish(&mut f.lab);
    let history = watch.stop();

    let left = history
        .left_after(h1, stopped)
        .unwrap_or_else(|| panic!("h1 never left the route:\n{}", history.describe()));
    let others_served: usize = report
        .per_host
        .iter()
        .filter(|(h, _)| *h != "h1")
        .map(|(_, n)| n)
        .sum();
    let others_broken = report.resets.iter().filter(|b| b.host != "h1").count();
    let last_break = report.resets.iter().map(|b| b.t).max().unwrap_or_default();
    eprintln!(
        "stop of h1's herald: it exited after {} ms; h1's next hop left the router's \
         kernel route {} ms after SIGTERM; connections: {}\
         h1's broken: {} of {}; other hosts' broken by the rehash: {others_broken} of \
         {others_served}; last break {} ms after SIGTERM",
        ms(exited),
        ms(left),
        report.summary(),
        report.broken_on("h1").len(),
        report.served_by("h1"),
        ms(last_break.saturating_sub(stop_t)),
    );

    assert!(
        left < Duration::from_secs(1),
        "h1's next hop stayed {left:?} after SIGTERM:\n{}",
        history.describe()
    );
    assert_eq!(
        history.back_after(h1, stopped + left),
        None,
        "h1's next hop came back:\n{}",
        history.describe()
    );
    for &other in &rest {
        assert_eq!(
            history.absence(other).count,
            0,
            "{other} left the route too:\n{}",
            history.describe()
        );
    }
    assert!(
        report.broken_before(stop_t).is_empty(),
        "connections broke before the stop: {:?}",
        report.broken_before(stop_t)
    );
    // Every connection h1 served broke, with a reset: its packets now go to
    // a host that does not know the connection.
    let h1_broken = report.broken_on("h1");
    assert_eq!(
        h1_broken.len(),
        report.served_by("h1"),
        "h1's connections that did not break: {:?}",
        report
            .conns
            .iter()
            .filter(|c| c.host == "h1" && c.broken.is_none())
            .collect::<Vec<_>>()
    );
    assert!(
        h1_broken.iter().all(|b| b.kind == "reset"),
        "h1's connections broke otherwise than by a reset: {h1_broken:?}"
    );
    // Nothing breaks later: the route changed once.
    assert!(
        last_break < stop_t + left + Duration::from_secs(1),
        "a connection broke more than 1 s after the route changed: {:?}",
        report.resets
    );
}

/// `herald restart` against herald-hN: returns how long the command took
/// (it returns once the new process answers), and checks that the daemon
/// answers `status` afterwards with the same PID.
fn herald_restart(f: &mut Fleet, index: u8, pid: u32) -> Duration {
    let name = Fleet::name(index);
    let start = Instant::now();
    let out = herald::ctl(&f.lab, &name, &["restart"]);
    let took = start.elapsed();
    assert_eq!(
        out.code,
        Some(0),
        "herald restart: {out:?}\n{}",
        f.lab.log_tails(30)
    );
    let report = herald::status_json(&f.lab, &name)
        .unwrap_or_else(|why| panic!("status after the restart: {why}"));
    assert_eq!(
        report["pid"].as_u64(),
        Some(u64::from(pid)),
        "the restarted daemon has another PID: {report}"
    );
    took
}

#[test]
fn herald_restart_keeps_the_next_hop_and_every_connection() {
    let Some(mut f) = fleet("interop_restart", gr_on, GR_KEYS) else {
        return;
    };
    let pid = f.lab.pid(f.heralds[0]);
    let status = herald::status_json(&f.lab, &Fleet::name(1)).expect("status");
    let peer = herald::peer_status(&status, "r1")
        .cloned()
        .unwrap_or_default();
    assert!(
        !peer["graceful_restart"].is_null(),
        "no graceful restart state in the status: {peer}"
    );
    let watch = RouteWatch::start(&f.lan.router, VIP, WATCH_MAX);
    let flows = Flows::start(&mut f.lab, &f.lan, &FlowSpec::new(VIP_ADDR));
    assert_spread(&f, &flows);
    std::thread::sleep(Duration::from_secs(1));

    for round in 1..=2 {
        let answered = herald_restart(&mut f, 1, pid);
        let recovered = f.wait_gr_done("h1_v4", round);
        eprintln!(
            "herald restart #{round} on h1: answered again after {} ms; BIRD had the \
             End-of-RIB and the session Established {} ms later",
            ms(answered),
            ms(recovered)
        );
        std::thread::sleep(Duration::from_secs(1));
    }
    let report = flows.finish(&mut f.lab);
    let history = watch.stop();
    f.assert_hitless(0, "h1_v4", 2, &report, &history);
}

/// Replaces `path` by a copy of itself the way a package manager installs
/// a new version: written next to it, then renamed over it, so the running
/// process keeps the old (now deleted) file.
fn replace_by_rename(path: &Path) {
    let new = path.with_extension("dpkg-new");
    std::fs::copy(path, &new).expect("copy the binary");
    std::fs::rename(&new, path).expect("rename the copy over the binary");
}

/// The binary a process runs, as the kernel sees it (`... (deleted)` if
/// the file was replaced since).
fn exe(pid: u32) -> String {
    std::fs::read_link(format!("/proc/{pid}/exe"))
        .map(|p| p.display().to_string())
        .unwrap_or_else(|e| format!("(unreadable: {e})"))
}

#[test]
fn sigterm_with_on_sigterm_restart_and_a_new_run_keep_the_next_hop_and_every_connection() {
    let keys = format!("{GR_KEYS}on-sigterm = \"restart\"\n");
    let Some(mut f) = fleet("interop_restart", gr_on, &keys) else {
        return;
    };
    let name = Fleet::name(1);
    let ns = f.lan.hosts[0].ns.clone();
    let config = herald::config_path(&f.lab, &name);
    // The "installed" binary: a copy in the lab's directory.
    let bin_dir = f.lab.dir().join("bin");
    std::fs::create_dir_all(&bin_dir).expect("create the bin directory");
    let bin: PathBuf = bin_dir.join("herald");
    std::fs::copy(herald::BIN, &bin).expect("copy herald");

    let watch = RouteWatch::start(&f.lan.router, VIP, WATCH_MAX);
    let flows = Flows::start(&mut f.lab, &f.lan, &FlowSpec::new(VIP_ADDR));
    assert_spread(&f, &flows);
    std::thread::sleep(Duration::from_secs(1));

    // Rounds 1 and 2: what `systemctl restart` does (SIGTERM, then a new
    // process), first onto the installed binary, then after an upgrade
    // replaced it.
    let mut current: ProcId = f.heralds[0];
    for round in 1..=2 {
        if round == 2 {
            replace_by_rename(&bin);
        }
        let start = Instant::now();
        assert!(
            f.lab.terminate(current),
            "herald did not exit within 5 s of SIGTERM\n{}",
            f.lab.log_tails(30)
        );
        let exited = start.elapsed();
        current = herald::spawn_config(
            &mut f.lab,
            &ns,
            &format!("{name}-run{}", round + 1),
            &bin,
            &config,
        );
        let answered = wait_until(SETTLE, Duration::from_millis(20), || {
            herald::status_json(&f.lab, &name).map(drop)
        });
        if let Err(why) = answered {
            panic!(
                "the new herald does not answer: {why}\n{}",
                f.lab.log_tails(30)
            );
        }
        let answered = start.elapsed();
        let recovered = f.wait_gr_done("h1_v4", round);
        eprintln!(
            "SIGTERM (on-sigterm = restart) and a new run #{round}: exited after {} ms, \
             the new one answered {} ms after SIGTERM; BIRD had the End-of-RIB and the \
             session Established {} ms later",
            ms(exited),
            ms(answered),
            ms(recovered)
        );
        std::thread::sleep(Duration::from_secs(1));
    }

    // Round 3: an upgrade replaces the binary, then `herald restart`
    // re-executes the new file in place.
    replace_by_rename(&bin);
    let pid = f.lab.pid(current);
    assert!(exe(pid).ends_with("(deleted)"), "{}", exe(pid));
    let answered = herald_restart(&mut f, 1, pid);
    let recovered = f.wait_gr_done("h1_v4", 3);
    eprintln!(
        "herald restart after the binary was replaced: answered after {} ms, \
         recovered {} ms later; now running {}",
        ms(answered),
        ms(recovered),
        exe(pid)
    );
    assert_eq!(
        exe(pid),
        bin.display().to_string(),
        "herald restart did not run the file now at the path it was started from"
    );
    std::thread::sleep(Duration::from_secs(1));

    let report = flows.finish(&mut f.lab);
    let history = watch.stop();
    f.assert_hitless(0, "h1_v4", 3, &report, &history);
}

#[test]
fn sigterm_with_on_sigterm_stop_or_auto_withdraws_at_once() {
    if !support::lab_available("interop_restart") {
        return;
    }
    // h1 says "stop"; h2 says "auto", which is "stop" without a systemd
    // restart job (there is no systemd here); h3 keeps the route up.
    let mut f = Fleet::start(3, VIP, gr_on, |h| {
        let on_sigterm = match h.index {
            1 => "on-sigterm = \"stop\"\n",
            2 => "on-sigterm = \"auto\"\n",
            _ => "",
        };
        HeraldSpec {
            global_keys: format!("{GR_KEYS}{on_sigterm}"),
            ..specs::herald(&[VIP])
        }
    });
    let watch = RouteWatch::start(&f.lan.router, VIP, WATCH_MAX);
    let mut figures = Vec::new();
    for i in [0, 1] {
        let stopped = Instant::now();
        assert!(
            f.lab.terminate(f.heralds[i]),
            "herald on h{} did not exit within 5 s of SIGTERM\n{}",
            i + 1,
            f.lab.log_tails(30)
        );
        let gone: Vec<usize> = (0..=i).collect();
        let rest = f.hops(&gone);
        f.wait_hops(&rest, Duration::from_secs(10));
        figures.push((i, stopped));
    }
    // Long enough for a stale route to show if a stop had been taken for
    // a restart.
    std::thread::sleep(Duration::from_secs(2));
    let history = watch.stop();
    for (i, stopped) in figures {
        let hop = f.addr(i);
        let left = history
            .left_after(hop, stopped)
            .unwrap_or_else(|| panic!("h{} never left:\n{}", i + 1, history.describe()));
        eprintln!(
            "SIGTERM with on-sigterm = {}: h{}'s next hop left {} ms after it",
            if i == 0 { "stop" } else { "auto" },
            i + 1,
            ms(left)
        );
        assert!(
            left < Duration::from_secs(1),
            "h{}'s next hop stayed {left:?}:\n{}",
            i + 1,
            history.describe()
        );
        assert_eq!(history.back_after(hop, stopped + left), None);
    }
    let (state, _) = f.bird.session("h3_v4");
    assert_eq!(state, "Established", "{}", f.diagnostics());
}
