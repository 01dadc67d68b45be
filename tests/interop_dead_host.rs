//! How long a dead host stays in the router's multipath route when herald
//! runs with its defaults for graceful restart (on, with the default
//! restart time) and BFD (off), against BIRD 2 with graceful restart on,
//! in network namespaces. One lab of four hosts, one scenario per host,
//! in sequence:
//!
//! 1. herald crashes (SIGKILL) and is started again after the systemd
//!    unit's `RestartSec=`: the router keeps the next hop throughout, which
//!    is what the default restart time is for. BIRD's graceful restart
//!    window (session down to End-of-RIB) is printed.
//! 2. herald is frozen (SIGSTOP), and 3. the host is cut off without any
//!    link going down: each leaves within hold time + restart time + 1 s.
//!    BIRD drops the routes at its hold timer expiry (it keeps routes stale
//!    after a hold timer expiry only with long-lived graceful restart); a
//!    router that follows RFC 8538 §4 keeps them for the restart time more,
//!    hence the bound.
//! 4. herald is killed and not started again: the router keeps the routes
//!    stale for the restart time, then drops them; it leaves within the
//!    same bound.
//!
//! The hold time is the one setting that is not herald's default: 6 s
//! instead of 90 s, at both ends, so that the test takes seconds rather
//! than minutes; the bound is stated in it. Everything else in herald's
//! file is a default, the reconnect timers included.
//!
//! The figures are printed (`-- --nocapture`). Needs root, iproute2 and
//! BIRD 2; skipped without them, except under CI.

mod support;

use std::net::IpAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use ::herald::config::DEFAULT_RESTART_TIME;
use support::bird::RouterSpec;
use support::herald::{self as lab_herald, HeraldSpec};
use support::route_watch::RouteWatch;
use support::specs::{self, Fleet};

const VIP: &str = "192.0.2.10/32";
/// The hold time at both ends (herald's default is 90 s, BIRD's 240 s).
const HOLD_SECS: u16 = 6;
/// The longest the route watch runs.
const WATCH_MAX: Duration = Duration::from_secs(120);

fn ms(d: Duration) -> u128 {
    d.as_millis()
}

/// `RestartSec=` of the shipped systemd unit: how long systemd waits
/// before it starts herald again after a crash.
fn unit_restart_sec() -> Duration {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd/herald.service");
    let unit = std::fs::read_to_string(&path).expect("read systemd/herald.service");
    let value = unit
        .lines()
        .find_map(|l| l.trim().strip_prefix("RestartSec="))
        .expect("the unit sets RestartSec=");
    let secs: u64 = value
        .trim()
        .trim_end_matches('s')
        .parse()
        .unwrap_or_else(|_| panic!("RestartSec={value} is not whole seconds"));
    Duration::from_secs(secs)
}

/// herald's file for a lab host with the short hold time and nothing else
/// but the lab's VIP, peer, socket and state file: the lab's usual short
/// reconnect timers are taken out, so that they are the defaults too.
fn default_config(spec: &HeraldSpec) -> String {
    let text = lab_herald::config(spec);
    let lab_timers = "connect-retry = \"1s\"\nconnect-retry-max = \"2s\"\n";
    assert!(text.contains(lab_timers), "{text}");
    text.replacen(lab_timers, "", 1)
}

/// The next hop `hop` left the route `history` saw, after `from`.
fn left(history: &support::route_watch::RouteHistory, hop: IpAddr, from: Instant) -> Duration {
    history
        .left_after(hop, from)
        .unwrap_or_else(|| panic!("{hop} never left the route:\n{}", history.describe()))
}

#[test]
fn a_dead_host_leaves_the_multipath_route_within_hold_plus_restart_time() {
    if !support::lab_available("interop_dead_host") {
        return;
    }
    let mut f = Fleet::start_with(
        4,
        VIP,
        |spec: &mut RouterSpec| {
            spec.graceful_restart = true;
            spec.hold_time = Some(HOLD_SECS);
        },
        |lab, host| {
            let spec = HeraldSpec {
                hold_time: Some(format!("{HOLD_SECS}s")),
                ..specs::herald(&[VIP])
            };
            lab_herald::spawn_text(
                lab,
                &host.ns,
                &Fleet::name(host.index),
                &default_config(&spec),
            )
        },
    );
    let restart = Duration::from_secs(u64::from(DEFAULT_RESTART_TIME));
    let hold = Duration::from_secs(u64::from(HOLD_SECS));
    let dead_bound = hold + restart + Duration::from_secs(1);
    let watch = RouteWatch::start(&f.lan.router, VIP, WATCH_MAX);

    // 1. A crash, and systemd's restart after RestartSec.
    let restart_sec = unit_restart_sec();
    let crashed = Instant::now();
    f.lab.kill(f.heralds[0]);
    std::thread::sleep(restart_sec);
    let name = Fleet::name(1);
    let config = lab_herald::config_path(&f.lab, &name);
    let ns = f.lan.hosts[0].ns.clone();
    let again = lab_herald::spawn_config(
        &mut f.lab,
        &ns,
        &format!("{name}-again"),
        Path::new(lab_herald::BIN),
        &config,
    );
    f.heralds[0] = again;
    f.wait_gr_done("h1_v4", 1);
    let back = crashed.elapsed();

    // 2. Frozen.
    let frozen = Instant::now();
    f.lab.signal(f.heralds[1], "STOP");
    f.wait_hops(&f.hops(&[1]), dead_bound + Duration::from_secs(5));

    // 3. Cut off.
    let cut = Instant::now();
    f.cut_off(2, true);
    f.wait_hops(&f.hops(&[1, 2]), dead_bound + Duration::from_secs(5));

    // 4. Killed, not started again.
    let killed = Instant::now();
    f.lab.kill(f.heralds[3]);
    f.wait_hops(&f.hops(&[1, 2, 3]), dead_bound + Duration::from_secs(5));

    let history = watch.stop();
    f.lab.signal(f.heralds[1], "CONT");
    f.cut_off(2, false);

    let log = f.bird.log(&f.lab);
    let gr = support::bird::gr_windows(&log, "h1_v4");
    let h1_absence = history.absence(f.addr(0));
    let frozen_kept = left(&history, f.addr(1), frozen);
    let cut_kept = left(&history, f.addr(2), cut);
    let killed_kept = left(&history, f.addr(3), killed);
    eprintln!(
        "defaults: graceful restart on, restart time {} s, BFD off; hold time {HOLD_SECS} s. \
         crash + restart after RestartSec={} s: back {} ms after SIGKILL, BIRD's graceful \
         restart {:?} ms (session down to End-of-RIB), next hop absent {} times; frozen \
         herald left the route after {} ms, cut-off host after {} ms (bound: hold + restart \
         time + 1 s = {} ms); killed herald after {} ms (restart time {} ms, same bound)",
        DEFAULT_RESTART_TIME,
        restart_sec.as_secs(),
        ms(back),
        gr.iter().map(|d| ms(*d)).collect::<Vec<_>>(),
        h1_absence.count,
        ms(frozen_kept),
        ms(cut_kept),
        ms(dead_bound),
        ms(killed_kept),
        ms(restart),
    );

    assert_eq!(
        h1_absence.count,
        0,
        "the router dropped a herald that systemd restarted after a crash:\n{}",
        history.describe()
    );
    assert_eq!(gr.len(), 1, "BIRD's graceful restarts of h1_v4: {gr:?}");
    for (what, kept) in [("frozen", frozen_kept), ("cut off", cut_kept)] {
        assert!(
            kept <= dead_bound,
            "{what}: the dead next hop stayed {kept:?}, more than {dead_bound:?}:\n{}",
            history.describe()
        );
    }
    // BIRD drops the routes when the restart time is over, some 5-6 s
    // here; the promise is the same as for any dead host.
    assert!(
        killed_kept <= dead_bound,
        "killed: the dead next hop stayed {killed_kept:?}, more than {dead_bound:?}\n\
         === BIRD's log of h4_v4\n{}",
        log.lines()
            .filter(|l| l.contains("h4_v4"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        support::bird::log_count(&log, "h4_v4", "Neighbor graceful restart detected") == 1,
        "BIRD did not keep the killed herald's routes for its restart time:\n{log}"
    );
}
