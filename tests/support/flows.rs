//! TCP flows through the router to the hosts that share a VIP, as a fleet's
//! clients would see them: which host serves each connection, and which
//! connections break (reset, closed, silent) and when.
//!
//! ```text
//!   client ns --- r1 (ECMP route for the VIP) --- h1, h2, h3
//!   flow_client.py: N connections to VIP:port, a line on each every
//!   interval, each echo checked      flow_server.py on every host, bound
//!                                    on the VIP, answers with its name
//! ```
//!
//! Every host runs `flow_server.py`, bound on the VIP (which the host has
//! on its `lo`): it greets each connection with `hello <host>` and echoes
//! every line as `<host> <line>`. The client opens the connections one by
//! one (each from its own ephemeral port), learns each one's host from the
//! greeting, then sends a line on every connection every `interval` and
//! waits for its echo. A connection is broken at its first error: `reset`
//! (RST: the packet reached a host that does not know the connection),
//! `eof`, `timeout` (no echo within `timeout`), `wrong-host` (an echo from
//! another host than the greeting's) or `error:<errno>`; a broken
//! connection is closed and not used again. The client stops when the
//! stop file appears, on SIGTERM or after `max_duration`, and writes its
//! report as JSON.
//!
//! The router hashes each forwarded flow on its addresses, protocol and
//! ports (`fib_multipath_hash_policy`, [`HashPolicy`]), so each connection
//! stays on one host while the router's next-hop set stays the same.
//!
//! Times in the report are on the wall clock, which every namespace
//! shares; [`Flows::started_at`] relates them to the test's own events.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::netlab::{self, Lab, ProcId};
use super::program;
use super::topology::{self, Client, StarLan};

/// How the router hashes forwarded IPv4 flows over its next hops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashPolicy {
    /// `fib_multipath_hash_policy=1`: source and destination address,
    /// protocol and ports. The kernel uses a flow hash the packet already
    /// carries when it has one; over veth that is the sending socket's
    /// random one.
    L4,
    /// `fib_multipath_hash_policy=3` with `fib_multipath_hash_fields=0x37`
    /// (source and destination address, protocol, source and destination
    /// port): the hash is computed from the headers, the same for the same
    /// 5-tuple every time.
    L4Fields,
}

/// What [`Flows::start`] runs.
#[derive(Clone, Debug)]
pub struct FlowSpec {
    /// The VIP the hosts share (already on each host's `lo`).
    pub vip: Ipv4Addr,
    pub port: u16,
    pub connections: usize,
    /// A line on every connection this often.
    pub interval: Duration,
    /// An echo later than this breaks the connection (`timeout`).
    pub timeout: Duration,
    /// The client stops by itself after this long.
    pub max_duration: Duration,
    pub hash: HashPolicy,
}

impl FlowSpec {
    /// 48 connections to `vip`:7000, a line every 50 ms, 1 s timeout, at
    /// most 5 minutes, hashed on the 5-tuple.
    pub fn new(vip: Ipv4Addr) -> FlowSpec {
        FlowSpec {
            vip,
            port: 7000,
            connections: 48,
            interval: Duration::from_millis(50),
            timeout: Duration::from_secs(1),
            max_duration: Duration::from_secs(300),
            hash: HashPolicy::L4Fields,
        }
    }
}

/// How long the client may take to open its connections.
const OPEN_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the client may take to write its report once asked to stop.
const FINISH_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a server may take to listen.
const SERVER_TIMEOUT: Duration = Duration::from_secs(10);
/// The servers exit by themselves after this long (the lab stops them
/// long before).
const SERVER_LIFETIME_SECS: u32 = 900;

/// Running flows; [`Flows::finish`] stops them and returns the report.
pub struct Flows {
    pub client: Client,
    client_proc: ProcId,
    servers: Vec<ProcId>,
    stop_file: PathBuf,
    result_file: PathBuf,
    started_at: SystemTime,
    initial: BTreeMap<String, usize>,
}

/// One connection's first error.
#[derive(Clone, Debug)]
pub struct FlowBreak {
    /// The connection's index (0-based, in opening order).
    pub conn: usize,
    /// The host that served it.
    pub host: String,
    /// When the error showed, from [`Flows::started_at`].
    pub t: Duration,
    /// When its last echo arrived, from [`Flows::started_at`]; the break
    /// happened between the two.
    pub last_ok: Duration,
    /// `reset`, `eof`, `timeout`, `wrong-host:<host>` or `error:<errno>`.
    pub kind: String,
}

/// One connection.
#[derive(Clone, Debug)]
pub struct FlowConn {
    pub conn: usize,
    pub source_port: u16,
    pub host: String,
    /// Echoes received.
    pub echoes: u64,
    pub broken: Option<FlowBreak>,
}

/// What the client saw.
#[derive(Clone, Debug)]
pub struct FlowReport {
    /// Wall-clock time the connections were all open and the sending began.
    pub started_at: SystemTime,
    /// How long the client sent.
    pub duration: Duration,
    /// Connections per serving host.
    pub per_host: BTreeMap<String, usize>,
    /// Every broken connection, in the order the breaks showed.
    pub resets: Vec<FlowBreak>,
    pub conns: Vec<FlowConn>,
}

impl FlowReport {
    /// The broken connections that `host` served.
    pub fn broken_on(&self, host: &str) -> Vec<&FlowBreak> {
        self.resets.iter().filter(|b| b.host == host).collect()
    }

    /// How many connections `host` served.
    pub fn served_by(&self, host: &str) -> usize {
        self.per_host.get(host).copied().unwrap_or(0)
    }

    /// The breaks that showed before `t` (from [`FlowReport::started_at`]).
    pub fn broken_before(&self, t: Duration) -> Vec<&FlowBreak> {
        self.resets.iter().filter(|b| b.t < t).collect()
    }

    /// The fewest echoes any unbroken connection received.
    pub fn min_echoes_unbroken(&self) -> u64 {
        self.conns
            .iter()
            .filter(|c| c.broken.is_none())
            .map(|c| c.echoes)
            .min()
            .unwrap_or(0)
    }

    /// One line per host: connections served and broken, and the kinds.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        for (host, n) in &self.per_host {
            let broken = self.broken_on(host);
            let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
            for b in &broken {
                *kinds.entry(b.kind.as_str()).or_default() += 1;
            }
            let _ = writeln!(
                out,
                "{host}: {n} connections, {} broken {kinds:?}",
                broken.len()
            );
        }
        out
    }
}

impl Flows {
    /// Sets the router's multipath hash, adds a client namespace to `lan`,
    /// starts a flow server on every host, then the client, and waits until
    /// the client has opened every connection. Panics (with the logs) if
    /// any step fails or takes too long.
    pub fn start(lab: &mut Lab, lan: &StarLan, spec: &FlowSpec) -> Flows {
        set_hash_policy(&lan.router, spec.hash);
        let client = topology::add_client(lab, lan);
        let server_py = lab.write_file("flow_server.py", SERVER);
        let client_py = lab.write_file("flow_client.py", CLIENT);
        let python = program("python3");

        let vip = spec.vip.to_string();
        let port = spec.port.to_string();
        let lifetime = SERVER_LIFETIME_SECS.to_string();
        let mut servers = Vec::new();
        for host in &lan.hosts {
            let name = format!("h{}", host.index);
            let id = lab.spawn(
                &host.ns,
                &format!("flow-server-{name}"),
                &python,
                &[
                    "-u".as_ref(),
                    server_py.as_os_str(),
                    name.as_ref(),
                    vip.as_ref(),
                    port.as_ref(),
                    lifetime.as_ref(),
                ],
            );
            servers.push(id);
        }
        for &id in &servers {
            wait_for(lab, SERVER_TIMEOUT, "a flow server to listen", |lab| {
                lab.log_tail(id, 5).contains("listening")
            });
        }

        let dir = lab.dir().to_path_buf();
        let ready_file = dir.join("flows.ready.json");
        let stop_file = dir.join("flows.stop");
        let result_file = dir.join("flows.result.json");
        let secs = |d: Duration| format!("{:.3}", d.as_secs_f64());
        let client_proc = lab.spawn(
            &client.ns,
            "flow-client",
            &python,
            &[
                "-u".as_ref(),
                client_py.as_os_str(),
                vip.as_ref(),
                port.as_ref(),
                spec.connections.to_string().as_ref(),
                secs(spec.interval).as_ref(),
                secs(spec.timeout).as_ref(),
                secs(spec.max_duration).as_ref(),
                ready_file.as_os_str(),
                stop_file.as_os_str(),
                result_file.as_os_str(),
            ],
        );
        wait_for(
            lab,
            OPEN_TIMEOUT,
            "the flow client to open its connections",
            |_| ready_file.exists(),
        );
        let ready = read_json(&ready_file);
        let started_at = epoch(&ready["started"]);
        let mut initial = BTreeMap::new();
        for host in ready["hosts"].as_array().into_iter().flatten() {
            let host = host.as_str().unwrap_or("(none)").to_string();
            *initial.entry(host).or_default() += 1;
        }
        Flows {
            client,
            client_proc,
            servers,
            stop_file,
            result_file,
            started_at,
            initial,
        }
    }

    /// Connections per serving host when they were opened (`(none)`: the
    /// connection could not be opened).
    pub fn per_host(&self) -> &BTreeMap<String, usize> {
        &self.initial
    }

    /// Wall-clock time the sending began; report times count from here.
    pub fn started_at(&self) -> SystemTime {
        self.started_at
    }

    /// Time since [`Flows::started_at`] now: to note an event's time on the
    /// report's scale.
    pub fn now(&self) -> Duration {
        SystemTime::now()
            .duration_since(self.started_at)
            .unwrap_or_default()
    }

    /// Stops the client (stop file; SIGTERM if it does not exit in 10 s)
    /// and the servers, and returns the client's report.
    pub fn finish(self, lab: &mut Lab) -> FlowReport {
        std::fs::write(&self.stop_file, b"stop\n").expect("write the flows' stop file");
        let client = self.client_proc;
        let start = Instant::now();
        while lab.is_running(client) && start.elapsed() < FINISH_TIMEOUT {
            std::thread::sleep(Duration::from_millis(20));
        }
        lab.terminate(client);
        for &id in &self.servers {
            lab.terminate(id);
        }
        if !self.result_file.exists() {
            panic!(
                "the flow client wrote no report\n{}",
                lab.log_tail(client, 40)
            );
        }
        parse_report(&read_json(&self.result_file), self.started_at)
    }
}

/// Sets the multipath hash of forwarded IPv4 flows in the router `ns`.
pub fn set_hash_policy(ns: &str, hash: HashPolicy) {
    match hash {
        HashPolicy::L4 => netlab::sysctl(ns, &[("net.ipv4.fib_multipath_hash_policy", "1")]),
        HashPolicy::L4Fields => netlab::sysctl(
            ns,
            &[
                ("net.ipv4.fib_multipath_hash_policy", "3"),
                ("net.ipv4.fib_multipath_hash_fields", "0x37"),
            ],
        ),
    }
}

fn wait_for(lab: &mut Lab, timeout: Duration, what: &str, mut done: impl FnMut(&mut Lab) -> bool) {
    let start = Instant::now();
    loop {
        if done(lab) {
            return;
        }
        if let Some(dead) = lab.unexpected_exits() {
            panic!("waiting for {what}: {dead}\n{}", lab.log_tails(20));
        }
        if start.elapsed() >= timeout {
            panic!(
                "waiting for {what}: not after {timeout:?}\n{}",
                lab.log_tails(20)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn read_json(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}: {text}", path.display()))
}

fn epoch(value: &Value) -> SystemTime {
    let secs = value
        .as_f64()
        .unwrap_or_else(|| panic!("not a time: {value}"));
    UNIX_EPOCH + Duration::from_secs_f64(secs)
}

fn since(t: SystemTime, value: &Value) -> Duration {
    epoch(value).duration_since(t).unwrap_or_default()
}

fn parse_report(json: &Value, started_at: SystemTime) -> FlowReport {
    let mut conns = Vec::new();
    let mut per_host: BTreeMap<String, usize> = BTreeMap::new();
    for c in json["conns"].as_array().into_iter().flatten() {
        let conn = c["id"].as_u64().unwrap_or(0) as usize;
        let host = c["host"].as_str().unwrap_or("(none)").to_string();
        *per_host.entry(host.clone()).or_default() += 1;
        let broken = c["error"].as_object().map(|e| FlowBreak {
            conn,
            host: host.clone(),
            t: since(started_at, &e["at"]),
            last_ok: since(started_at, &e["last_ok"]),
            kind: e["kind"].as_str().unwrap_or("?").to_string(),
        });
        conns.push(FlowConn {
            conn,
            source_port: c["sport"].as_u64().unwrap_or(0) as u16,
            host,
            echoes: c["echoes"].as_u64().unwrap_or(0),
            broken,
        });
    }
    let mut resets: Vec<FlowBreak> = conns.iter().filter_map(|c| c.broken.clone()).collect();
    resets.sort_by_key(|b| b.t);
    FlowReport {
        started_at,
        duration: since(started_at, &json["ended"]),
        per_host,
        resets,
        conns,
    }
}

/// The flow server: `flow_server.py HOST ADDRESS PORT LIFETIME_SECS`.
const SERVER: &str = r#"
import selectors, socket, sys, time

host, address, port, lifetime = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
name = host.encode()
srv = socket.create_server((address, port), backlog=256)
srv.setblocking(False)
sel = selectors.DefaultSelector()
sel.register(srv, selectors.EVENT_READ, None)
buffers = {}
print("listening on %s:%d as %s" % (address, port, host), flush=True)


def drop(conn):
    sel.unregister(conn)
    buffers.pop(conn, None)
    conn.close()


end = time.monotonic() + lifetime
while time.monotonic() < end:
    for key, _ in sel.select(timeout=0.5):
        if key.data is None:
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.setblocking(False)
            try:
                conn.send(b"hello " + name + b"\n")
            except OSError:
                conn.close()
                continue
            buffers[conn] = b""
            sel.register(conn, selectors.EVENT_READ, "conn")
            continue
        conn = key.fileobj
        try:
            data = conn.recv(4096)
        except BlockingIOError:
            continue
        except OSError:
            data = b""
        if not data:
            drop(conn)
            continue
        lines = (buffers[conn] + data).split(b"\n")
        buffers[conn] = lines.pop()
        try:
            for line in lines:
                conn.send(name + b" " + line + b"\n")
        except OSError:
            drop(conn)
"#;

/// The flow client: `flow_client.py VIP PORT COUNT INTERVAL TIMEOUT
/// MAX_DURATION READY_FILE STOP_FILE RESULT_FILE` (times in seconds).
const CLIENT: &str = r#"
import errno, json, os, selectors, signal, socket, sys, time

vip, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
interval, timeout, limit = float(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
ready_file, stop_file, result_file = sys.argv[7], sys.argv[8], sys.argv[9]

stopping = False


def on_term(signum, frame):
    global stopping
    stopping = True


signal.signal(signal.SIGTERM, on_term)


def write_json(path, value):
    with open(path + ".tmp", "w") as f:
        json.dump(value, f)
    os.rename(path + ".tmp", path)


def kind_of(err):
    if isinstance(err, (ConnectionResetError, BrokenPipeError)):
        return "reset"
    if isinstance(err, socket.timeout):
        return "timeout"
    if getattr(err, "errno", None):
        return "error:" + errno.errorcode.get(err.errno, str(err.errno))
    return "error:" + type(err).__name__


conns = []
started = None
sel = selectors.DefaultSelector()


def fail(c, kind):
    now = time.time()
    c["error"] = {"kind": kind, "at": now, "last_ok": c["last_ok"]}
    print("%.3f conn %d (%s, port %s): %s" % (now - (started or now), c["id"], c["host"], c["sport"], kind), flush=True)
    sock = c.pop("sock", None)
    if sock is not None:
        try:
            sel.unregister(sock)
        except (KeyError, ValueError):
            pass
        sock.close()


def read_greeting(sock):
    data = b""
    deadline = time.monotonic() + 5
    while b"\n" not in data:
        if time.monotonic() > deadline:
            raise socket.timeout("no greeting")
        chunk = sock.recv(256)
        if not chunk:
            raise ConnectionError("closed before the greeting")
        data += chunk
    line, rest = data.split(b"\n", 1)
    words = line.decode().split()
    if len(words) != 2 or words[0] != "hello":
        raise ConnectionError("bad greeting %r" % line)
    return words[1], rest


for i in range(count):
    c = {"id": i, "sport": None, "host": None, "echoes": 0, "error": None,
         "buf": b"", "sent": None, "seq": 0, "last_ok": None}
    conns.append(c)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(5)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.connect((vip, port))
        c["sport"] = sock.getsockname()[1]
        c["host"], c["buf"] = read_greeting(sock)
    except OSError as err:
        sock.close()
        c["error"] = {"kind": "open:" + kind_of(err), "at": time.time(), "last_ok": time.time()}
        print("conn %d: cannot open: %r" % (i, err), flush=True)
        continue
    sock.setblocking(False)
    c["sock"] = sock
    sel.register(sock, selectors.EVENT_READ, c)

started = time.time()
for c in conns:
    if c["error"] is None:
        c["last_ok"] = started
    else:
        c["error"]["at"] = started
        c["error"]["last_ok"] = started
write_json(ready_file, {"started": started, "hosts": [c["host"] for c in conns]})
print("ready: %d connections" % len(conns), flush=True)

end = time.monotonic() + limit
next_tick = time.monotonic()
while not stopping and time.monotonic() < end and not os.path.exists(stop_file):
    now = time.monotonic()
    if now >= next_tick:
        next_tick = now + interval
        for c in conns:
            if "sock" in c and c["sent"] is None:
                c["seq"] += 1
                try:
                    c["sock"].send(b"%d\n" % c["seq"])
                    c["sent"] = now
                except OSError as err:
                    fail(c, kind_of(err))
    wait = max(0.0, min(next_tick - time.monotonic(), 0.05))
    for key, _ in sel.select(timeout=wait):
        c = key.data
        if "sock" not in c:
            continue
        try:
            data = c["sock"].recv(4096)
        except BlockingIOError:
            continue
        except OSError as err:
            fail(c, kind_of(err))
            continue
        if not data:
            fail(c, "eof")
            continue
        lines = (c["buf"] + data).split(b"\n")
        c["buf"] = lines.pop()
        for line in lines:
            host = line.decode(errors="replace").split(" ")[0]
            if host != c["host"]:
                fail(c, "wrong-host:" + host)
                break
            c["echoes"] += 1
            c["sent"] = None
            c["last_ok"] = time.time()
    now = time.monotonic()
    for c in conns:
        if "sock" in c and c["sent"] is not None and now - c["sent"] > timeout:
            fail(c, "timeout")

ended = time.time()
for c in conns:
    sock = c.pop("sock", None)
    if sock is not None:
        sock.close()
write_json(result_file, {
    "started": started,
    "ended": ended,
    "conns": [{"id": c["id"], "sport": c["sport"], "host": c["host"],
               "echoes": c["echoes"], "error": c["error"]} for c in conns],
})
print("done after %.3f s" % (ended - started), flush=True)
"#;
