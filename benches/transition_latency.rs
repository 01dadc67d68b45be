//! Transition latency: from the decisive check result to the UPDATE on the
//! wire.
//!
//! In one process, on one current-thread tokio runtime (the flavour the
//! daemon uses), this runs the real [`Announcer`] and one real [`PeerTask`]
//! against a scripted router on 127.0.0.1. The bench's own future plays
//! both the check task and the router: it sends `Event::Check` for check 0
//! (which every VIP uses) on the announcer's channel, exactly as a check
//! task does when its verdict flips, then reads the router's socket until
//! the UPDATEs that withdraw (or announce) all N prefixes have been parsed.
//!
//! The measured path therefore includes: the announcer rebuilding and
//! publishing the route set, the peer task's diff and UPDATE encoding, the
//! write to a loopback TCP socket, the runtime noticing the socket is
//! readable, and the router's read and parse of every UPDATE. It excludes
//! the probe itself and the rise/fall counting (the event is sent as if the
//! decisive probe had just completed).
//!
//! Each VIP count runs twice: with no tracing subscriber (logging costs
//! nothing), and with the daemon's default `info` filter formatting every
//! line into a sink, because the announcer logs one line per VIP whose
//! state changes.
//!
//! Run: `cargo bench --bench transition_latency`.

use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::path::Path;
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::time::timeout;

#[path = "../tests/support/router.rs"]
#[allow(dead_code)]
mod router;

use router::{RouterConn, ROUTER_ASN, ROUTER_ID, STEP};

use herald::announcer::{Announcer, Event};
use herald::bgp::peer::{PeerStop, PeerTask};
use herald::bgp::wire::{iana, Family, Message, Notification, Open, Update};
use herald::config::Config;
use herald::metrics::Metrics;
use herald::state_file::{Saved, StateFile, StateWriter};

/// VIP counts to measure, all using the same check.
const VIP_COUNTS: [usize; 3] = [1, 100, 1_000];
/// Transitions timed per VIP count.
const TRANSITIONS: usize = 2_000;
/// Transitions run first and not timed (caches, allocator, socket buffers).
const WARMUP: usize = 100;
/// Same size as the daemon's event queue.
const EVENT_QUEUE: usize = 1024;

/// Whether the announcer's log lines are formatted during the run.
#[derive(Clone, Copy)]
enum Logging {
    /// No subscriber: every `info!`/`warn!` is a cheap disabled callsite.
    Off,
    /// The daemon's default filter (`info`), formatted into `io::sink`.
    Info,
}

impl Logging {
    fn label(self) -> &'static str {
        match self {
            Logging::Off => "off",
            Logging::Info => "info>sink",
        }
    }
}

/// What one VIP count measured.
struct Outcome {
    vips: usize,
    logging: Logging,
    /// Elapsed time of each timed transition.
    samples: Vec<Duration>,
    /// The same, split by direction.
    withdraws: Vec<Duration>,
    announces: Vec<Duration>,
    /// UPDATE messages the router parsed over the timed transitions.
    updates: usize,
}

fn main() {
    // `cargo test --all-targets` also runs benchmarks, without `--bench`;
    // measuring there would only slow the tests down.
    if !std::env::args().any(|arg| arg == "--bench") {
        eprintln!(
            "transition_latency: not measuring outside `cargo bench --bench transition_latency`"
        );
        return;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut outcomes = Vec::new();
    for logging in [Logging::Off, Logging::Info] {
        for vips in VIP_COUNTS {
            let _guard = match logging {
                Logging::Off => None,
                Logging::Info => Some(tracing::subscriber::set_default(
                    tracing_subscriber::fmt()
                        .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
                        .with_writer(std::io::sink)
                        .with_ansi(false)
                        .with_target(false)
                        .finish(),
                )),
            };
            let outcome = runtime.block_on(measure(vips, logging));
            eprintln!(
                "transition_latency: {vips} VIPs, logging {}: done",
                logging.label()
            );
            outcomes.push(outcome);
        }
    }
    print!("{}", report(&outcomes));
}

/// Brings a session up with `vips` VIPs on one check and times
/// `WARMUP + TRANSITIONS` flips of that check.
async fn measure(vips: usize, logging: Logging) -> Outcome {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("local address").port();
    let (config, _warnings) =
        Config::parse(&config_text(port, vips), Path::new("bench.toml")).expect("config");

    let state = tempfile::tempdir().expect("temp dir");
    let state_file = StateFile::new(state.path().join("state.json"));
    let (writer, _writer_task) = StateWriter::spawn(state_file, Saved::default());
    let (announcer, mut receivers) =
        Announcer::new(&config, &Saved::default(), false, writer, Metrics::new());
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let (stop_tx, stop_rx) = watch::channel(None);
    let (events_tx, events_rx) = mpsc::channel(EVENT_QUEUE);
    let announcer_task = tokio::spawn(announcer.run(events_rx, shutdown_rx));
    let (peer, _status) = PeerTask::new(
        config.peers[0].clone(),
        &config.global,
        receivers.remove(0),
        stop_rx,
        false,
        None,
        Metrics::new(),
    );
    let peer_task = tokio::spawn(peer.run());

    let (stream, _) = timeout(STEP, listener.accept())
        .await
        .expect("herald did not connect in time")
        .expect("accept");
    let mut router = Router(RouterConn::new(stream));
    router.establish().await;
    let initial = router.initial_table().await;
    assert_eq!(initial, vips, "the initial table should carry every VIP");

    // The check starts up, so the first flip withdraws.
    let mut healthy = true;
    let mut samples = Vec::with_capacity(TRANSITIONS);
    let mut withdraws = Vec::with_capacity(TRANSITIONS / 2);
    let mut announces = Vec::with_capacity(TRANSITIONS / 2);
    let mut updates = 0;
    for round in 0..WARMUP + TRANSITIONS {
        healthy = !healthy;
        let start = Instant::now();
        events_tx
            .send(Event::Check {
                name: "service".to_owned(),
                generation: 0,
                healthy,
                reason: "bench".to_owned(),
            })
            .await
            .expect("the announcer stopped");
        let parsed = router.until_change(vips, healthy).await;
        let elapsed = start.elapsed();
        if round >= WARMUP {
            samples.push(elapsed);
            if healthy {
                announces.push(elapsed);
            } else {
                withdraws.push(elapsed);
            }
            updates += parsed;
        }
    }

    // The peer task withdraws and sends its Cease; read until it closes.
    let _ = stop_tx.send(Some(PeerStop::Stop(Notification::cease(
        iana::cease_subcode::ADMINISTRATIVE_SHUTDOWN,
        "benchmark done",
    ))));
    let _ = shutdown_tx.send(true);
    router.0.until_closed().await;
    for task in [announcer_task, peer_task] {
        timeout(STEP, task)
            .await
            .expect("a task did not stop in time")
            .expect("a task panicked");
    }
    Outcome {
        vips,
        logging,
        samples,
        withdraws,
        announces,
        updates,
    }
}

/// One peer on `port` with no keepalives (hold time 0, so no timer noise),
/// one check that starts up, and `vips` /32s from 198.18.0.0/15 using it.
/// The check is never probed: the bench sends its verdicts itself.
fn config_text(port: u16, vips: usize) -> String {
    let mut text = format!(
        r#"[global]
asn = 65001
router-id = "192.0.2.1"

[[peer]]
name = "router"
address = "127.0.0.1"
port = {port}
asn = {ROUTER_ASN}
hold-time = 0
next-hop-ipv4 = "198.51.100.11"

[[check]]
name = "service"
kind = "tcp"
address = "127.0.0.1:9"
initial = "up"
"#
    );
    for index in 0..vips {
        let _ = write!(
            text,
            "\n[[vip]]\nprefix = \"{}/32\"\nchecks = [\"service\"]\n",
            vip_address(index)
        );
    }
    text
}

/// The `index`-th VIP: 198.18.0.1, 198.18.0.2, ... (RFC 2544 range).
fn vip_address(index: usize) -> Ipv4Addr {
    let offset = u32::try_from(index + 1).expect("VIP index fits in u32");
    Ipv4Addr::from(u32::from(Ipv4Addr::new(198, 18, 0, 0)) + offset)
}

/// The bench's side of the router: the shared scripted router, with a
/// hold time of 0 (no keepalives to time around) and IPv4 only.
struct Router(RouterConn);

impl Router {
    /// The router's half of the OPEN exchange, up to Established.
    async fn establish(&mut self) {
        let Message::Open(_) = self.0.recv().await else {
            panic!("expected OPEN first");
        };
        self.0
            .send(Message::Open(Open::new(
                ROUTER_ASN,
                0,
                ROUTER_ID,
                &[Family::Ipv4Unicast],
            )))
            .await;
        self.0.send(Message::Keepalive).await;
        assert_eq!(self.0.recv().await, Message::Keepalive);
        self.0.ctx.four_octet_as = true;
    }

    /// Reads the initial table up to the IPv4 End-of-RIB; returns how many
    /// prefixes it announced.
    async fn initial_table(&mut self) -> usize {
        let mut announced = 0;
        loop {
            match self.0.recv().await {
                Message::Update(update) => {
                    if update.end_of_rib_family() == Some(Family::Ipv4Unicast) {
                        return announced;
                    }
                    announced += count(&update).0;
                }
                Message::Keepalive => {}
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    /// Reads UPDATEs until `vips` prefixes were announced (`healthy`) or
    /// withdrawn; returns how many UPDATEs that took.
    async fn until_change(&mut self, vips: usize, healthy: bool) -> usize {
        let mut seen = 0;
        let mut updates = 0;
        while seen < vips {
            match self.0.recv().await {
                Message::Update(update) => {
                    let (announced, withdrawn) = count(&update);
                    let (expected, unexpected) = if healthy {
                        (announced, withdrawn)
                    } else {
                        (withdrawn, announced)
                    };
                    assert_eq!(unexpected, 0, "UPDATE moved the wrong way: {update:?}");
                    seen += expected;
                    updates += 1;
                }
                Message::Keepalive => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(seen, vips, "more prefixes changed than there are VIPs");
        updates
    }
}

/// (announced, withdrawn) prefixes in one UPDATE, both families.
fn count(update: &Update) -> (usize, usize) {
    let attrs = update.attributes.as_ref();
    let announced = update.nlri.len()
        + attrs
            .and_then(|a| a.mp_reach.as_ref())
            .map_or(0, |r| r.nlri.len());
    let withdrawn = update.withdrawn.len()
        + attrs
            .and_then(|a| a.mp_unreach.as_ref())
            .map_or(0, |u| u.withdrawn.len());
    (announced, withdrawn)
}

/// The table printed at the end.
fn report(outcomes: &[Outcome]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\ntransition latency: Event::Check sent -> router has parsed the UPDATE(s) \
         completing the change"
    );
    let _ = writeln!(
        out,
        "path: announcer (route set) -> peer task (diff, encode, write) -> loopback TCP \
         -> router task (read, parse)"
    );
    let _ = writeln!(
        out,
        "one current-thread runtime for herald's tasks and the router; probe and rise/fall \
         excluded; {WARMUP} warm-up transitions not counted; alternating withdraw (wdr) and \
         announce (ann)"
    );
    let _ = writeln!(
        out,
        "\n{:>5}  {:>9}  {:>11}  {:>12}  {:>9}  {:>9}  {:>9}  {:>9}  {:>10}  {:>10}",
        "VIPs",
        "logging",
        "transitions",
        "UPDATEs/each",
        "median us",
        "p90 us",
        "p99 us",
        "max us",
        "med wdr us",
        "med ann us"
    );
    for outcome in outcomes {
        let sorted = |samples: &[Duration]| {
            let mut samples = samples.to_vec();
            samples.sort_unstable();
            samples
        };
        let samples = sorted(&outcome.samples);
        let per = outcome.updates as f64 / samples.len().max(1) as f64;
        let _ = writeln!(
            out,
            "{:>5}  {:>9}  {:>11}  {:>12.1}  {:>9.1}  {:>9.1}  {:>9.1}  {:>9.1}  {:>10.1}  {:>10.1}",
            outcome.vips,
            outcome.logging.label(),
            samples.len(),
            per,
            micros(percentile(&samples, 0.50)),
            micros(percentile(&samples, 0.90)),
            micros(percentile(&samples, 0.99)),
            micros(samples.last().copied().unwrap_or_default()),
            micros(percentile(&sorted(&outcome.withdraws), 0.50)),
            micros(percentile(&sorted(&outcome.announces), 0.50)),
        );
    }
    out
}

/// Nearest-rank percentile of sorted samples.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
