//! Faults between herald and a real router (BIRD 2 in network namespaces),
//! each measured: the router restarting, a link going down and up, a
//! frozen router, a killed herald, a host that vanishes without a word,
//! and a thousand short sessions in a row.
//!
//! Each test prints what it measured (`cargo test -- --nocapture`); the
//! assertions check behaviour with generous bounds, not exact timings.
//! Needs root, iproute2 and BIRD 2 (except the last test, which runs a
//! scripted router on loopback); skipped without them, except under CI.
//!
//! Every session here is IPv4 only: the faults act on the TCP connection
//! and the link, the same for both families, and one session per host
//! keeps the timings easy to read.

mod support;

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use ::herald::bgp::wire::{self, iana, Context, Family, Message, Notification, Open};
use bytes::BytesMut;
use support::bird::{self, Bird, Neighbor, RouterSpec};
use support::herald::{self, HeraldSpec, Peer};
use support::netlab::{self, kernel_route, Lab, ProcId};
use support::topology::{self, StarLan, ROUTER_V4, ROUTER_V6};
use support::wait::{wait_until, INTERVAL, SETTLE};

const ROUTER_AS: u32 = 65000;
const HOST_AS: u32 = 65001;
const VIP: &str = "192.0.2.10/32";
/// Poll interval when a figure is being timed.
const FINE: Duration = Duration::from_millis(20);

/// A router running BIRD and `hosts` hosts running herald, all announcing
/// [`VIP`] over one IPv4 session each.
struct Setup {
    lab: Lab,
    lan: StarLan,
    bird: Bird,
    bird_config: String,
    heralds: Vec<ProcId>,
}

/// BIRD's config for `lan` (IPv4 sessions only), with `hold time` set in
/// the host template when `hold` is given. The negotiated hold time is the
/// smaller offer, so this sets herald's too.
fn bird_config(lan: &StarLan, hold: Option<u16>) -> String {
    let spec = RouterSpec {
        router_id: ROUTER_V4.into(),
        asn: ROUTER_AS,
        local_v4: ROUTER_V4.into(),
        local_v6: ROUTER_V6.into(),
        neighbors: lan
            .hosts
            .iter()
            .map(|h| Neighbor {
                name: format!("h{}_v4", h.index),
                address: h.v4.into(),
                asn: HOST_AS,
            })
            .collect(),
        graceful_restart: false,
        bfd: None,
        hold_time: None,
    };
    let config = bird::ecmp_router_config(&spec);
    match hold {
        None => config,
        Some(secs) => {
            let anchor = "    passive on;\n";
            assert!(config.contains(anchor), "template changed:\n{config}");
            config.replace(anchor, &format!("{anchor}    hold time {secs};\n"))
        }
    }
}

fn herald_spec() -> HeraldSpec {
    HeraldSpec {
        asn: HOST_AS,
        peers: vec![Peer {
            name: "r1".into(),
            address: ROUTER_V4.into(),
            asn: ROUTER_AS,
        }],
        vips: vec![VIP.into()],
        ..HeraldSpec::default()
    }
}

fn setup(test: &str, hosts: u8, bird_hold: Option<u16>) -> Option<Setup> {
    if !support::lab_available(test) {
        return None;
    }
    let mut lab = Lab::new();
    let lan = topology::star(&mut lab, hosts);
    for host in &lan.hosts {
        host.add_vip(VIP);
    }
    let bird_config = bird_config(&lan, bird_hold);
    let bird = bird::start(&mut lab, &lan.router, "bird", &bird_config);
    let heralds = lan
        .hosts
        .iter()
        .map(|h| {
            herald::spawn(
                &mut lab,
                &h.ns,
                &format!("herald-h{}", h.index),
                &herald_spec(),
            )
        })
        .collect();
    let mut setup = Setup {
        lab,
        lan,
        bird,
        bird_config,
        heralds,
    };
    let all = setup.hosts(&[]);
    setup.wait_hops(&all, SETTLE, INTERVAL);
    Some(setup)
}

impl Setup {
    /// The LAN addresses of every host except those at `except` (0-based).
    fn hosts(&self, except: &[usize]) -> Vec<IpAddr> {
        self.lan
            .hosts
            .iter()
            .enumerate()
            .filter(|(i, _)| !except.contains(i))
            .map(|(_, h)| h.v4.into())
            .collect()
    }

    /// Waits until the router's kernel route for [`VIP`] has exactly the
    /// next hops `want` (none: no route); returns how long that took, or
    /// panics with the router's and every daemon's state.
    fn wait_hops(&mut self, want: &[IpAddr], timeout: Duration, every: Duration) -> Duration {
        let start = Instant::now();
        let mut want = want.to_vec();
        want.sort();
        let router = self.lan.router.clone();
        let result = wait_until(timeout, every, || {
            let got = kernel_route(&router, VIP);
            let matches = match &got {
                None => want.is_empty(),
                Some(hops) => !want.is_empty() && *hops == want,
            };
            if matches {
                Ok(())
            } else {
                Err(format!("{VIP}: next hops {got:?}, want {want:?}"))
            }
        });
        if let Err(why) = result {
            panic!(
                "{why}\n\n=== birdc show protocols all\n{}\n=== logs\n{}",
                self.bird.protocols_all(),
                self.lab.log_tails(30)
            );
        }
        start.elapsed()
    }

    /// The whole log of herald on host `i` (0-based).
    fn herald_log(&self, i: usize) -> String {
        self.lab.log_tail(self.heralds[i], 100_000)
    }

    /// Waits until herald's log on host `i` satisfies `ok`; returns how
    /// long that took.
    fn wait_log(&mut self, i: usize, what: &str, ok: impl Fn(&str) -> bool) -> Duration {
        let start = Instant::now();
        let result = wait_until(SETTLE, FINE, || {
            if ok(&self.herald_log(i)) {
                Ok(())
            } else {
                Err(format!("herald-h{}: {what}", i + 1))
            }
        });
        if let Err(why) = result {
            panic!(
                "{why}\n\n=== birdc show protocols all\n{}\n=== logs\n{}",
                self.bird.protocols_all(),
                self.lab.log_tails(30)
            );
        }
        start.elapsed()
    }
}

fn established_count(log: &str) -> usize {
    log.matches("session established").count()
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

#[test]
fn herald_reconnects_and_reannounces_after_the_router_restarts() {
    let Some(mut s) = setup("interop_faults", 2, None) else {
        return;
    };
    let all = s.hosts(&[]);

    let stopped = Instant::now();
    assert!(
        s.lab.terminate(s.bird.proc),
        "BIRD did not exit within 5 s of SIGTERM\n{}",
        s.lab.log_tails(30)
    );
    // BIRD's kernel protocol removes its routes when it shuts down.
    let gone = s.wait_hops(&[], Duration::from_secs(10), FINE);

    let config = s.bird_config.clone();
    let router = s.lan.router.clone();
    s.bird = bird::start(&mut s.lab, &router, "bird", &config);
    let back = s.wait_hops(&all, SETTLE, FINE);
    println!(
        "router restart: route gone {:.3} s after SIGTERM; back with {} next hops \
         {:.3} s after the new BIRD started (stop to back: {:.3} s)",
        secs(gone),
        all.len(),
        secs(back),
        secs(stopped.elapsed()),
    );

    // Exactly one path per host in BIRD's table, also a moment later: no
    // duplicate from the new session, none lost.
    for _ in 0..2 {
        let paths = s.bird.paths(VIP);
        assert_eq!(
            paths,
            all,
            "BIRD's paths for {VIP}\n{}",
            s.bird
                .birdc(&["show", "route", "for", VIP, "all"])
                .unwrap_or_default()
        );
        std::thread::sleep(Duration::from_secs(1));
    }
    for i in 0..all.len() {
        let log = s.herald_log(i);
        assert!(established_count(&log) >= 2, "herald-h{}:\n{log}", i + 1);
    }
}

#[test]
fn herald_reconnects_after_the_link_goes_down_and_up() {
    let hold = 3;
    let Some(mut s) = setup("interop_faults", 2, Some(hold)) else {
        return;
    };
    let h2 = s.lan.hosts[1].ns.clone();

    netlab::ip(&h2, &["link", "set", "dev", "eth0", "down"]);
    let left = s.wait_hops(&s.hosts(&[1]), SETTLE, FINE);

    let up = Instant::now();
    netlab::ip(&h2, &["link", "set", "dev", "eth0", "up"]);
    // Taking the link down removed the host's IPv4 default route (and its
    // IPv6 addresses, which these IPv4-only sessions do not need); the
    // session to the router on the LAN needs neither, but restore the route
    // so that the host is as before.
    let gw4 = ROUTER_V4.to_string();
    netlab::ip(&h2, &["-4", "route", "replace", "default", "via", &gw4]);
    let all = s.hosts(&[]);
    s.wait_hops(&all, SETTLE, FINE);
    let back = up.elapsed();
    println!(
        "link down/up (hold time {hold} s): next hop left {:.3} s after link down, \
         back {:.3} s after link up",
        secs(left),
        secs(back)
    );
    assert!(
        left <= Duration::from_secs(u64::from(hold) + 3),
        "the next hop stayed {left:?}, longer than the hold time"
    );
    assert!(established_count(&s.herald_log(1)) >= 2);
}

#[test]
fn a_frozen_router_makes_herald_send_hold_timer_expired_and_reconnect_after_it_resumes() {
    let hold = 3;
    let Some(mut s) = setup("interop_faults", 1, Some(hold)) else {
        return;
    };
    let bird_proc = s.bird.proc;

    s.lab.signal(bird_proc, "STOP");
    let expired = s.wait_log(0, "no \"hold timer expired\" while BIRD is frozen", |log| {
        log.contains("hold timer expired")
    });
    let resumed = Instant::now();
    s.lab.signal(bird_proc, "CONT");
    s.wait_log(0, "no second \"session established\"", |log| {
        established_count(log) >= 2
    });
    let all = s.hosts(&[]);
    s.wait_hops(&all, SETTLE, FINE);
    // herald logs "session down" after its close, which waits up to 1 s
    // for the frozen router's FIN; the timer itself fires that much sooner.
    let bird_saw = s
        .lab
        .log_tail(bird_proc, 1_000)
        .lines()
        .filter(|l| l.to_lowercase().contains("hold timer"))
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" | ");
    println!(
        "frozen router (hold time {hold} s): herald logged \"hold timer expired\" {:.3} s \
         after SIGSTOP; session and route back {:.3} s after SIGCONT; BIRD logged: {bird_saw}",
        secs(expired),
        secs(resumed.elapsed())
    );
    let log = s.herald_log(0);
    let down = log
        .lines()
        .find(|l| l.contains("session down"))
        .unwrap_or_default();
    assert!(
        down.contains("hold timer expired"),
        "the first session down is not the hold timer: {down:?}\n{log}"
    );
    assert!(
        expired >= Duration::from_secs(u64::from(hold) - 2)
            && expired <= Duration::from_secs(u64::from(hold) + 5),
        "hold timer expired after {expired:?} with a {hold} s hold time"
    );
}

#[test]
fn a_killed_herald_loses_its_routes_at_once() {
    let Some(mut s) = setup("interop_faults", 3, None) else {
        return;
    };
    let killed = Instant::now();
    s.lab.signal(s.heralds[2], "KILL");
    let rest = s.hosts(&[2]);
    s.wait_hops(&rest, Duration::from_secs(10), Duration::from_millis(5));
    let dropped = killed.elapsed();
    println!(
        "killed herald: its next hop left the router's kernel route {:.3} s after SIGKILL",
        secs(dropped)
    );
    assert!(
        dropped < Duration::from_secs(2),
        "the router kept the killed host's next hop for {dropped:?}"
    );
}

#[test]
fn a_host_that_vanishes_is_dropped_only_when_the_router_hold_timer_expires() {
    let hold: u16 = 6;
    let keepalive = hold / 3;
    let Some(mut s) = setup("interop_faults", 2, Some(hold)) else {
        return;
    };
    let h2_addr = s.lan.hosts[1].v4.to_string();
    let h2_ns = s.lan.hosts[1].ns.clone();
    // The host and the router send each other's frames to MAC addresses
    // that nobody owns: every packet between them is lost, nothing is
    // closed and no link changes state, as when a host hangs or its cable
    // is cut behind a switch. (sch_netem, the usual tool for this, is not
    // available on every kernel.)
    netlab::ip(
        &s.lan.router,
        &[
            "neigh",
            "replace",
            &h2_addr,
            "lladdr",
            "02:00:00:00:00:01",
            "dev",
            "br0",
            "nud",
            "permanent",
        ],
    );
    netlab::ip(
        &h2_ns,
        &[
            "neigh",
            "replace",
            &ROUTER_V4.to_string(),
            "lladdr",
            "02:00:00:00:00:02",
            "dev",
            "eth0",
            "nud",
            "permanent",
        ],
    );
    let kept = s.wait_hops(&s.hosts(&[1]), SETTLE, FINE);
    println!(
        "vanished host: the router kept its next hop {:.3} s (hold time {hold} s, \
         keepalive {keepalive} s); a faster verdict needs BFD",
        secs(kept)
    );
    let least = Duration::from_secs(u64::from(hold - keepalive)) - Duration::from_millis(500);
    let most = Duration::from_secs(u64::from(hold)) + Duration::from_secs(2);
    assert!(
        kept >= least && kept <= most,
        "the dead next hop stayed {kept:?}, outside {least:?}..={most:?}"
    );
}

/// The router's end of one short session in the reconnect test.
struct Scripted {
    stream: TcpStream,
    buf: BytesMut,
    ctx: Context,
}

impl Scripted {
    fn recv(&mut self) -> Result<Message, String> {
        let mut chunk = [0u8; 4096];
        for _ in 0..1_000 {
            match wire::try_parse(&mut self.buf, &self.ctx) {
                Ok(Some(message)) => return Ok(message),
                Ok(None) => {}
                Err(err) => return Err(format!("malformed message from herald: {err}")),
            }
            let n = self
                .stream
                .read(&mut chunk)
                .map_err(|e| format!("read: {e}"))?;
            if n == 0 {
                return Err("herald closed the connection".into());
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
        Err("no complete message after 1,000 reads".into())
    }

    fn send(&mut self, message: Message) -> Result<(), String> {
        let mut out = BytesMut::new();
        message
            .encode(&self.ctx, &mut out)
            .map_err(|e| format!("encode: {e}"))?;
        self.stream
            .write_all(&out)
            .map_err(|e| format!("write: {e}"))
    }

    /// OPEN, KEEPALIVE, herald's KEEPALIVE (Established on both sides),
    /// then Cease / Administrative Reset and a close after herald's.
    fn cycle(stream: TcpStream) -> Result<(), String> {
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .map_err(|e| e.to_string())?;
        let mut conn = Scripted {
            stream,
            buf: BytesMut::new(),
            ctx: Context::default(),
        };
        let Message::Open(_) = conn.recv()? else {
            return Err("expected OPEN first".into());
        };
        let router_id = Ipv4Addr::new(198, 51, 100, 1);
        conn.send(Message::Open(Open::new(
            ROUTER_AS,
            9,
            router_id,
            &[Family::Ipv4Unicast],
        )))?;
        conn.send(Message::Keepalive)?;
        if conn.recv()? != Message::Keepalive {
            return Err("expected KEEPALIVE after the OPENs".into());
        }
        conn.ctx.four_octet_as = true;
        conn.send(Message::Notification(Notification::cease(
            iana::cease_subcode::ADMINISTRATIVE_RESET,
            "reconnect test",
        )))?;
        let _ = conn.stream.shutdown(std::net::Shutdown::Write);
        // Read what herald sent meanwhile (its table) until it closes, so
        // that neither side resets the connection.
        let mut scratch = [0u8; 4096];
        for _ in 0..1_000 {
            match conn.stream.read(&mut scratch) {
                Ok(0) | Err(_) => return Ok(()),
                Ok(_) => {}
            }
        }
        Err("herald did not close after the Cease".into())
    }
}

/// VmRSS in KiB and the number of open file descriptors of `pid`.
fn footprint(pid: u32) -> (u64, usize) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0);
    (rss, fds)
}

#[test]
fn a_thousand_reconnect_cycles_leave_memory_and_file_descriptors_flat() {
    const CYCLES: usize = 1_000;
    const FIRST_SAMPLE: usize = 100;
    const BUDGET: Duration = Duration::from_secs(60);

    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the scripted router");
    let port = listener.local_addr().expect("local address").port();
    listener.set_nonblocking(true).expect("non-blocking accept");
    let mut lab = Lab::new();
    // The backoff returns to connect-retry whenever a session reaches
    // Established, so every cycle waits only 7.5-10 ms before the next.
    let config = format!(
        r#"[global]
asn = {HOST_AS}
router-id = "192.0.2.1"
hold-time = "9s"
connect-retry = "10ms"
connect-retry-max = "20ms"

[[peer]]
name = "scripted"
address = "127.0.0.1"
port = {port}
asn = {ROUTER_AS}
next-hop-ipv4 = "198.51.100.11"

[[vip]]
prefix = "{VIP}"
"#
    );
    let text = herald::daemon_config(&lab, "herald", &config);
    let path = lab.write_file("herald.toml", &text);
    let proc = lab.spawn_here(
        "herald",
        std::path::Path::new(herald::BIN),
        &["run".as_ref(), "--config".as_ref(), path.as_os_str()],
    );
    let pid = lab.pid(proc);

    let start = Instant::now();
    let mut cycles = 0;
    let mut first = None;
    while cycles < CYCLES && start.elapsed() < BUDGET {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).expect("blocking stream");
                if let Err(why) = Scripted::cycle(stream) {
                    panic!("cycle {}: {why}\n{}", cycles + 1, lab.log_tail(proc, 30));
                }
                cycles += 1;
                if cycles == FIRST_SAMPLE {
                    first = Some(footprint(pid));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                assert!(
                    lab.is_running(proc),
                    "herald exited\n{}",
                    lab.log_tail(proc, 30)
                );
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
    let elapsed = start.elapsed();
    // Let the last session's close finish before the final sample.
    std::thread::sleep(Duration::from_millis(200));
    let last = footprint(pid);
    let (rss_first, fds_first) =
        first.unwrap_or_else(|| panic!("only {cycles} cycles in {elapsed:?}"));
    let (rss_last, fds_last) = last;
    println!(
        "reconnect cycles: {cycles} in {:.1} s ({:.1} ms each); after {FIRST_SAMPLE}: \
         VmRSS {rss_first} KiB, {fds_first} fds; after {cycles}: VmRSS {rss_last} KiB, \
         {fds_last} fds",
        secs(elapsed),
        secs(elapsed) * 1000.0 / cycles as f64,
    );
    assert!(
        cycles >= 500,
        "only {cycles} cycles in {elapsed:?}: too slow to measure a trend"
    );
    assert!(
        fds_last <= fds_first + 3,
        "file descriptors grew from {fds_first} to {fds_last}"
    );
    assert!(
        rss_last <= rss_first + 2048,
        "VmRSS grew from {rss_first} KiB to {rss_last} KiB"
    );
}
