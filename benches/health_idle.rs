//! Idle cost of health checking: the real `herald` binary with 1,000 VIPs,
//! each with its own tcp check probing every second, and one BGP peer.
//!
//! The bench runs, on 127.0.0.1, a TCP listener that every check probes
//! (it accepts and closes at once, counting accepts) and a scripted router
//! (it answers the OPEN, replies to keepalives and discards UPDATEs). It
//! starts `herald run` on a generated config, lets it settle for
//! `SETTLE`, then samples the process over `WINDOW`:
//!
//! * CPU: utime + stime from `/proc/PID/stat`, in clock ticks
//!   (`getconf CLK_TCK`), as a percentage of one core;
//! * memory: VmRSS (and the peak, VmHWM) from `/proc/PID/status`;
//! * wake-ups: voluntary + nonvoluntary context switches of every thread
//!   (`/proc/PID/task/*/status`), a proxy for how often herald wakes;
//! * probes per second: accepts counted by the listener.
//!
//! herald logs at its default level (`info`) into a file in a temporary
//! directory. The listener and router threads run in this process, on the
//! same two cores, and are not counted in herald's figures.
//!
//! Run: `cargo bench --bench health_idle` (cargo builds the `herald` binary
//! with the bench profile, which is the release profile).

use std::fmt::Write as _;
use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use herald::bgp::wire::{self, Context, Family, Message, Open};

/// VIPs, each with its own check.
/// One measured configuration.
#[derive(Clone, Copy)]
struct Scenario {
    name: &'static str,
    vips: usize,
    /// Whether each VIP has its own tcp check at 1 s.
    checks: bool,
    peers: usize,
}

const SCENARIOS: [Scenario; 2] = [
    Scenario {
        name: "1,000 VIPs on 1,000 tcp checks at 1 s, 1 peer",
        vips: 1_000,
        checks: true,
        peers: 1,
    },
    Scenario {
        name: "100 VIPs without checks, 4 peers (keepalives only)",
        vips: 100,
        checks: false,
        peers: 4,
    },
];
/// Time herald gets to start, bring its checks up and announce.
const SETTLE: Duration = Duration::from_secs(5);
/// Measurement window.
const WINDOW: Duration = Duration::from_secs(30);
/// Upper bound on the whole run; every helper thread stops by then.
const RUN_LIMIT: Duration = Duration::from_secs(90);
/// Upper bound on accepts: 1,000 checks at 1 s (more while rising) for the
/// whole run limit, with room to spare.
const MAX_ACCEPTS: u64 = 400_000;
/// How long herald gets to exit after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(10);
/// Step of polling loops (accepting the BGP session, waiting for exit).
const POLL: Duration = Duration::from_millis(50);
const ROUTER_ASN: u32 = 65000;
const ROUTER_ID: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);

fn main() {
    // `cargo test --all-targets` also runs benchmarks, without `--bench`;
    // measuring there would only slow the tests down.
    if !std::env::args().any(|arg| arg == "--bench") {
        eprintln!("health_idle: not measuring outside `cargo bench --bench health_idle`");
        return;
    }
    for scenario in SCENARIOS {
        run(scenario);
    }
}

/// Starts herald on `scenario`, lets it settle, measures, stops it.
fn run(scenario: Scenario) {
    let herald = Path::new(env!("CARGO_BIN_EXE_herald"));
    assert!(
        herald.exists(),
        "{} is missing: run `cargo build --release` first",
        herald.display()
    );
    let deadline = Instant::now() + RUN_LIMIT;
    let stop = Arc::new(AtomicBool::new(false));

    let probes = ProbeTarget::start(Arc::clone(&stop), deadline);
    let routers: Vec<Router> = (0..scenario.peers)
        .map(|_| Router::start(Arc::clone(&stop), deadline))
        .collect();
    let ports: Vec<u16> = routers.iter().map(|r| r.port).collect();
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = dir.path().join("herald.toml");
    fs::write(
        &config,
        config_text(scenario, &ports, probes.port, dir.path()),
    )
    .expect("write config");
    let log = dir.path().join("herald.log");

    let mut child = Command::new(herald)
        .arg("run")
        .arg("--config")
        .arg(&config)
        .env_remove("RUST_LOG")
        .env_remove("JOURNAL_STREAM")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(&log).expect("create log"))
        .spawn()
        .expect("start herald");
    let pid = child.id();
    eprintln!("health_idle: herald pid {pid}, settling for {SETTLE:?}");

    thread::sleep(SETTLE);
    let measured = measure(&mut child, &probes);
    let stopped = terminate(&mut child);

    stop.store(true, Ordering::SeqCst);
    probes.join();
    let sessions: Vec<Session> = routers.into_iter().map(Router::join).collect();
    let log_lines = fs::read_to_string(&log).map_or(0, |text| text.lines().count());

    let measured = match measured {
        Ok(measured) => measured,
        Err(why) => {
            let tail = fs::read_to_string(&log).unwrap_or_default();
            panic!("{why}; herald's log:\n{tail}");
        }
    };
    print!(
        "{}",
        report(scenario, &measured, &sessions, stopped, log_lines)
    );
}

/// The generated configuration: one peer, `VIPS` tcp checks on the probe
/// listener, one VIP per check from 198.18.0.0/15 (RFC 2544).
fn config_text(scenario: Scenario, ports: &[u16], probe_port: u16, dir: &Path) -> String {
    let mut text = format!(
        r#"[global]
asn = 65001
router-id = "192.0.2.1"
state-file = "{state}"

[control]
socket = "{socket}"
"#,
        state = dir.join("state.json").display(),
        socket = dir.join("herald.sock").display(),
    );
    for (index, port) in ports.iter().enumerate() {
        let _ = write!(
            text,
            "\n[[peer]]\nname = \"router{index}\"\naddress = \"127.0.0.1\"\nport = {port}\n\
             asn = {ROUTER_ASN}\nnext-hop-ipv4 = \"198.51.100.11\"\n"
        );
    }
    for index in 0..scenario.vips {
        let prefix = vip_address(index);
        if scenario.checks {
            let _ = write!(
                text,
                "\n[[check]]\nname = \"c{index}\"\nkind = \"tcp\"\n\
                 address = \"127.0.0.1:{probe_port}\"\ninterval = \"1s\"\n\
                 \n[[vip]]\nprefix = \"{prefix}/32\"\nchecks = [\"c{index}\"]\n"
            );
        } else {
            let _ = write!(text, "\n[[vip]]\nprefix = \"{prefix}/32\"\n");
        }
    }
    text
}

/// The `index`-th VIP: 198.18.0.1, 198.18.0.2, ... 198.18.3.232.
fn vip_address(index: usize) -> Ipv4Addr {
    let offset = u32::try_from(index + 1).expect("VIP index fits in u32");
    Ipv4Addr::from(u32::from(Ipv4Addr::new(198, 18, 0, 0)) + offset)
}

/// What the window measured.
struct Measured {
    window: Duration,
    clock_ticks: u64,
    cpu_ticks: u64,
    switches: u64,
    threads: usize,
    rss_kib: u64,
    hwm_kib: u64,
    accepts: u64,
}

/// Samples herald at the start and end of `WINDOW`.
fn measure(child: &mut Child, probes: &ProbeTarget) -> Result<Measured, String> {
    let pid = child.id();
    let clock_ticks = clock_ticks();
    let alive = |child: &mut Child| match child.try_wait() {
        Ok(None) => Ok(()),
        Ok(Some(status)) => Err(format!("herald exited early ({status})")),
        Err(err) => Err(format!("cannot wait for herald: {err}")),
    };
    alive(child)?;
    let cpu_before = cpu_ticks(pid)?;
    let (switches_before, _) = context_switches(pid)?;
    let accepts_before = probes.accepts.load(Ordering::SeqCst);
    let start = Instant::now();

    thread::sleep(WINDOW);

    let cpu_after = cpu_ticks(pid)?;
    let (switches_after, threads) = context_switches(pid)?;
    let accepts_after = probes.accepts.load(Ordering::SeqCst);
    let window = start.elapsed();
    let status = fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|err| format!("cannot read /proc/{pid}/status: {err}"))?;
    alive(child)?;
    Ok(Measured {
        window,
        clock_ticks,
        cpu_ticks: cpu_after.saturating_sub(cpu_before),
        switches: switches_after.saturating_sub(switches_before),
        threads,
        rss_kib: status_kib(&status, "VmRSS:"),
        hwm_kib: status_kib(&status, "VmHWM:"),
        accepts: accepts_after.saturating_sub(accepts_before),
    })
}

/// Clock ticks per second (`getconf CLK_TCK`); 100 if getconf fails.
fn clock_ticks() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100)
}

/// utime + stime of the whole process, in clock ticks.
fn cpu_ticks(pid: u32) -> Result<u64, String> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_err(|err| format!("cannot read /proc/{pid}/stat: {err}"))?;
    // The command name is in parentheses and may contain spaces; the
    // fields after it start with field 3 (state), so utime (field 14) and
    // stime (field 15) are the 12th and 13th.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or("malformed /proc/PID/stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| -> Result<u64, String> {
        fields
            .get(i)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| format!("malformed /proc/{pid}/stat"))
    };
    Ok(field(11)? + field(12)?)
}

/// Voluntary + nonvoluntary context switches summed over every thread,
/// and the number of threads.
fn context_switches(pid: u32) -> Result<(u64, usize), String> {
    let tasks = fs::read_dir(format!("/proc/{pid}/task"))
        .map_err(|err| format!("cannot list /proc/{pid}/task: {err}"))?;
    let mut total = 0;
    let mut threads = 0;
    for task in tasks.flatten() {
        let Ok(status) = fs::read_to_string(task.path().join("status")) else {
            continue;
        };
        threads += 1;
        total += status_number(&status, "voluntary_ctxt_switches:")
            + status_number(&status, "nonvoluntary_ctxt_switches:");
    }
    Ok((total, threads))
}

/// A `Key: 1234 kB` value of `/proc/PID/status`, in KiB.
fn status_kib(status: &str, key: &str) -> u64 {
    status_number(status, key)
}

/// The first number after `key` at the start of a line; 0 if absent.
fn status_number(status: &str, key: &str) -> u64 {
    status
        .lines()
        .find_map(|line| line.strip_prefix(key))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// How herald stopped.
enum Stopped {
    /// It exited on SIGTERM within the grace period.
    Cleanly(Duration),
    /// It had to be killed.
    Killed,
}

/// SIGTERM, a bounded wait, SIGKILL if it is still running.
fn terminate(child: &mut Child) -> Stopped {
    let pid = Pid::from_raw(i32::try_from(child.id()).expect("pid fits in i32"));
    let start = Instant::now();
    if kill(pid, Signal::SIGTERM).is_ok() {
        while start.elapsed() < STOP_GRACE {
            if let Ok(Some(_)) = child.try_wait() {
                return Stopped::Cleanly(start.elapsed());
            }
            thread::sleep(POLL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    Stopped::Killed
}

/// The service every check probes: accept, close, count.
struct ProbeTarget {
    port: u16,
    accepts: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl ProbeTarget {
    fn start(stop: Arc<AtomicBool>, deadline: Instant) -> ProbeTarget {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind probe listener");
        let port = listener.local_addr().expect("local address").port();
        let accepts = Arc::new(AtomicU64::new(0));
        let thread = {
            let accepts = Arc::clone(&accepts);
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                // Blocking accept; `join` wakes it with one last connection.
                while !stop.load(Ordering::SeqCst)
                    && Instant::now() < deadline
                    && accepts.load(Ordering::SeqCst) < MAX_ACCEPTS
                {
                    if let Ok((stream, _)) = listener.accept() {
                        accepts.fetch_add(1, Ordering::SeqCst);
                        drop(stream);
                    }
                }
            })
        };
        ProbeTarget {
            port,
            accepts,
            stop,
            thread,
        }
    }

    fn join(self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&([127, 0, 0, 1], self.port).into(), POLL * 20);
        let _ = self.thread.join();
    }
}

/// What the scripted router saw.
#[derive(Default)]
struct Session {
    established: bool,
    /// Prefixes announced minus prefixes withdrawn, over the session.
    routes: i64,
    /// The most routes held at any time.
    peak_routes: i64,
    updates: u64,
    keepalives: u64,
    /// Code and subcode of herald's NOTIFICATION (a Cease on shutdown).
    notification: Option<(u8, u8)>,
}

/// A BGP router on loopback: accepts herald's session, completes the OPEN
/// exchange, answers keepalives and counts (then discards) UPDATEs.
struct Router {
    port: u16,
    thread: JoinHandle<Session>,
}

impl Router {
    fn start(stop: Arc<AtomicBool>, deadline: Instant) -> Router {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind router listener");
        let port = listener.local_addr().expect("local address").port();
        let thread = thread::spawn(move || {
            let mut session = Session::default();
            listener
                .set_nonblocking(true)
                .expect("nonblocking listener");
            let stream = loop {
                match listener.accept() {
                    Ok((stream, _)) => break stream,
                    Err(err) if err.kind() == ErrorKind::WouldBlock => {}
                    Err(_) => return session,
                }
                if stop.load(Ordering::SeqCst) || Instant::now() >= deadline {
                    return session;
                }
                thread::sleep(POLL);
            };
            serve(stream, &stop, deadline, &mut session);
            session
        });
        Router { port, thread }
    }

    fn join(self) -> Session {
        self.thread.join().unwrap_or_default()
    }
}

/// The router's side of one session, until herald closes or time is up.
fn serve(mut stream: TcpStream, stop: &AtomicBool, deadline: Instant, session: &mut Session) {
    stream
        .set_nonblocking(false)
        .and_then(|()| stream.set_read_timeout(Some(POLL * 4)))
        .expect("socket options");
    let mut ctx = Context::default();
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let mut chunk = vec![0; 16 * 1024];
    // After `stop`, keep reading briefly for herald's Cease, then give up.
    let mut stop_by: Option<Instant> = None;
    loop {
        let now = Instant::now();
        if now >= deadline || stop_by.is_some_and(|at| now >= at) {
            break;
        }
        if stop_by.is_none() && stop.load(Ordering::SeqCst) {
            stop_by = Some(now + Duration::from_secs(1));
        }
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                continue
            }
            Err(_) => break,
        }
        loop {
            let message = match wire::try_parse(&mut buf, &ctx) {
                Ok(Some(message)) => message,
                Ok(None) => break,
                Err(err) => panic!("herald sent a malformed message: {err}"),
            };
            let reply = match message {
                Message::Open(_) => {
                    let open = Open::new(ROUTER_ASN, 90, ROUTER_ID, &[Family::Ipv4Unicast]);
                    Some(vec![Message::Open(open), Message::Keepalive])
                }
                Message::Keepalive => {
                    session.keepalives += 1;
                    if !session.established {
                        session.established = true;
                        ctx.four_octet_as = true;
                        None
                    } else {
                        Some(vec![Message::Keepalive])
                    }
                }
                Message::Update(update) => {
                    session.updates += 1;
                    let announced = update.nlri.len() as i64;
                    let withdrawn = update.withdrawn.len() as i64;
                    session.routes += announced - withdrawn;
                    session.peak_routes = session.peak_routes.max(session.routes);
                    None
                }
                Message::Notification(n) => {
                    session.notification = Some((n.code, n.subcode));
                    None
                }
                Message::RouteRefresh(_) => None,
            };
            for message in reply.into_iter().flatten() {
                let mut out = BytesMut::new();
                message.encode(&ctx, &mut out).expect("encode");
                if stream.write_all(&out).is_err() {
                    return;
                }
            }
        }
    }
    let _ = stream.shutdown(Shutdown::Both);
}

/// The figures, as printed.
fn report(
    scenario: Scenario,
    m: &Measured,
    sessions: &[Session],
    stopped: Stopped,
    log_lines: usize,
) -> String {
    let secs = m.window.as_secs_f64();
    let cpu_secs = m.cpu_ticks as f64 / m.clock_ticks as f64;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nidle cost: herald with {}; all on 127.0.0.1",
        scenario.name
    );
    let _ = writeln!(
        out,
        "settled {:.0} s, measured {secs:.1} s; listener and router run in the bench \
         process and are not counted",
        SETTLE.as_secs_f64()
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "  CPU               {:>8.2} % of one core  ({cpu_secs:.2} s in {secs:.1} s, \
         CLK_TCK {})",
        100.0 * cpu_secs / secs,
        m.clock_ticks
    );
    let _ = writeln!(
        out,
        "  CPU per hour      {:>8.1} s",
        3600.0 * cpu_secs / secs
    );
    let _ = writeln!(
        out,
        "  RSS               {:>8.1} MiB  (peak {:.1} MiB)",
        m.rss_kib as f64 / 1024.0,
        m.hwm_kib as f64 / 1024.0
    );
    let _ = writeln!(
        out,
        "  probes            {:>8.1} /s  (accepts at the listener)",
        m.accepts as f64 / secs
    );
    let _ = writeln!(
        out,
        "  wake-ups          {:>8.1} /s  (voluntary + nonvoluntary context switches, \
         {} thread(s))",
        m.switches as f64 / secs,
        m.threads
    );
    let _ = writeln!(out);
    for (index, session) in sessions.iter().enumerate() {
        let _ = writeln!(
            out,
            "  router {index}: session {}, up to {} routes held ({} at the end), {} UPDATEs, {} keepalives from herald, \
             NOTIFICATION {}",
            if session.established {
                "established"
            } else {
                "NOT established"
            },
            session.peak_routes,
            session.routes,
            session.updates,
            session.keepalives,
            session
                .notification
                .map_or("none".to_owned(), |(code, sub)| format!("{code}/{sub}")),
        );
    }
    let _ = writeln!(
        out,
        "  herald: {}; {log_lines} log lines at the default level",
        match stopped {
            Stopped::Cleanly(took) => format!("exited on SIGTERM in {} ms", took.as_millis()),
            Stopped::Killed => "did NOT exit on SIGTERM in time, killed".to_owned(),
        }
    );
    out
}
