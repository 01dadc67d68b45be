//! herald's peer task against a scripted router on loopback: real sockets,
//! real timers, the router's side written message by message.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use ipnet::IpNet;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::timeout;

mod support;

use support::router::{RouterConn, ROUTER_ASN, ROUTER_ID, STEP};

use herald::announcer::Announcer;
use herald::bgp::peer::{PeerStop, PeerTask, SHUTDOWN_MESSAGE};
use herald::bgp::wire::{
    iana, Capability, Family, GracefulRestart, Message, Notification, Open, RouteRefresh, Update,
};
use herald::config::Config;
use herald::metrics::Metrics;
use herald::state_file::{Saved, StateFile, StateWriter};

struct Harness {
    listener: TcpListener,
    stop: watch::Sender<Option<PeerStop>>,
    task: JoinHandle<()>,
    _announcer: Announcer,
    _state: tempfile::TempDir,
}

impl Harness {
    /// Starts one peer task for a config whose single peer is a listener on
    /// loopback; `extra` is appended to the `[[peer]]` table.
    async fn start(extra: &str) -> Harness {
        Harness::start_as(extra, false).await
    }

    /// [`Harness::start`] for a daemon that took over from one that
    /// restarted (`restarting`).
    async fn start_as(extra: &str, restarting: bool) -> Harness {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let text = format!(
            r#"
[global]
asn = 65001
router-id = "192.0.2.1"

[[peer]]
name = "router"
address = "127.0.0.1"
port = {port}
asn = {ROUTER_ASN}
connect-retry = "1s"
connect-retry-max = "2s"
ipv6 = true
next-hop-ipv4 = "198.51.100.11"
next-hop-ipv6 = "2001:db8:100::11"
{extra}

[[vip]]
prefix = "192.0.2.10/32"
med = 10
communities = ["65000:100", "no-export"]

[[vip]]
prefix = "192.0.2.20/32"
med = 10
communities = ["65000:100", "no-export"]

[[vip]]
prefix = "2001:db8:10::/128"
"#
        );
        let (config, _) = Config::parse(&text, Path::new("test.toml")).expect("config");
        let state = tempfile::tempdir().expect("temp dir");
        let state_file = StateFile::new(state.path().join("state.json"));
        let (writer, _writer_task) = StateWriter::spawn(state_file, Saved::default());
        let (announcer, mut receivers) =
            Announcer::new(&config, &Saved::default(), false, writer, Metrics::new());
        let (stop, stop_rx) = watch::channel(None);
        let routes = receivers.remove(0);
        let (task, _status) = PeerTask::new(
            config.peers[0].clone(),
            &config.global,
            routes,
            stop_rx,
            restarting,
            None,
            Metrics::new(),
        );
        let task = tokio::spawn(task.run());
        Harness {
            listener,
            stop,
            task,
            _announcer: announcer,
            _state: state,
        }
    }

    /// Ends the session with `how` and returns every message herald sent
    /// until it closed the connection.
    async fn end(&self, router: &mut RouterConn, how: PeerStop) -> Vec<Message> {
        self.stop.send(Some(how)).expect("signal");
        router.until_closed().await
    }

    async fn accept(&self) -> RouterConn {
        let (stream, _) = timeout(STEP, self.listener.accept())
            .await
            .expect("herald did not connect in time")
            .expect("accept");
        RouterConn::new(stream)
    }
}

fn prefixes(updates: &[Update]) -> Vec<IpNet> {
    let mut all: Vec<IpNet> = Vec::new();
    for update in updates {
        all.extend(update.nlri.iter().map(|p| IpNet::V4(*p)));
        if let Some(reach) = update.attributes.as_ref().and_then(|a| a.mp_reach.as_ref()) {
            all.extend(reach.nlri.iter().copied());
        }
    }
    all.sort();
    all
}

/// The NOTIFICATION that ends `messages`; panics if they end otherwise.
fn last_notification(messages: &[Message]) -> &Notification {
    match messages.last() {
        Some(Message::Notification(notification)) => notification,
        _ => panic!("expected a NOTIFICATION last, got {messages:?}"),
    }
}

fn withdrawn_count(messages: &[Message]) -> usize {
    messages
        .iter()
        .filter_map(|m| match m {
            Message::Update(u) => Some(
                u.withdrawn.len()
                    + u.attributes
                        .as_ref()
                        .and_then(|a| a.mp_unreach.as_ref())
                        .map_or(0, |m| m.withdrawn.len()),
            ),
            _ => None,
        })
        .sum()
}

fn notifications(messages: &[Message]) -> Vec<(u8, u8)> {
    messages
        .iter()
        .filter_map(|m| match m {
            Message::Notification(n) => Some((n.code, n.subcode)),
            _ => None,
        })
        .collect()
}

fn net(text: &str) -> IpNet {
    text.parse().expect("prefix")
}

#[tokio::test]
async fn open_carries_our_asn_router_id_and_capabilities() {
    let harness = Harness::start("hold-time = \"30s\"").await;
    let mut router = harness.accept().await;
    let open = router.establish(30).await;
    assert_eq!(open.version, 4);
    assert_eq!(open.asn, 65001);
    assert_eq!(open.hold_time, 30);
    assert_eq!(open.bgp_id, Ipv4Addr::new(192, 0, 2, 1));
    for capability in [
        Capability::Multiprotocol(Family::Ipv4Unicast),
        Capability::Multiprotocol(Family::Ipv6Unicast),
        Capability::RouteRefresh,
        Capability::FourOctetAs(65001),
    ] {
        assert!(
            open.capabilities.contains(&capability),
            "missing {capability:?}"
        );
    }
}

#[tokio::test]
async fn established_session_receives_all_vips_packed_then_end_of_rib() {
    let harness = Harness::start("").await;
    let mut router = harness.accept().await;
    router.establish(90).await;
    let updates = router.initial_table().await;
    assert_eq!(
        prefixes(&updates),
        vec![
            net("192.0.2.10/32"),
            net("192.0.2.20/32"),
            net("2001:db8:10::/128")
        ]
    );
    // Both IPv4 VIPs share attributes, so one UPDATE carries them.
    let v4: Vec<&Update> = updates.iter().filter(|u| !u.nlri.is_empty()).collect();
    assert_eq!(v4.len(), 1);
    let attrs = v4[0].attributes.as_ref().expect("attributes");
    assert_eq!(attrs.next_hop, Some(Ipv4Addr::new(198, 51, 100, 11)));
    assert_eq!(attrs.med, Some(10));
    assert_eq!(
        attrs.local_pref, None,
        "LOCAL_PREF must not go to an eBGP peer"
    );
    assert_eq!(attrs.as_path.len(), 1);
    assert_eq!(attrs.as_path[0].asns, vec![65001]);
    assert_eq!(
        attrs.communities,
        vec![(65000 << 16) | 100, iana::community::NO_EXPORT]
    );
    let v6 = updates
        .iter()
        .find_map(|u| u.attributes.as_ref()?.mp_reach.clone())
        .expect("IPv6 announcement");
    let next_hop: IpAddr = "2001:db8:100::11".parse().expect("address");
    assert_eq!(v6.next_hops, vec![next_hop]);
}

#[tokio::test]
async fn hold_timer_expiry_sends_notification_4_0_and_closes() {
    let harness = Harness::start("hold-time = \"3s\"").await;
    let mut router = harness.accept().await;
    router.establish(3).await;
    // The router now falls silent (keepalives from herald are read and
    // ignored); herald's hold timer must fire.
    let messages = router.until_closed().await;
    assert_eq!(
        notifications(&messages),
        vec![(iana::error_code::HOLD_TIMER_EXPIRED, 0)]
    );
}

#[tokio::test]
async fn malformed_header_gets_exact_notification_and_herald_reconnects() {
    let harness = Harness::start("").await;
    let mut router = harness.accept().await;
    router.establish(90).await;
    router.initial_table().await;
    // A header whose marker is not all ones (RFC 4271 §6.1).
    let mut bad = vec![0xffu8; 16];
    bad[3] = 0;
    bad.extend_from_slice(&[0, 19, 4]);
    router.stream.write_all(&bad).await.expect("write");
    let messages = router.until_closed().await;
    assert!(messages.contains(&Message::Notification(Notification::new(
        iana::error_code::MESSAGE_HEADER,
        iana::header_subcode::CONNECTION_NOT_SYNCHRONIZED,
        Vec::new(),
    ))));
    // Backoff (connect-retry 1 s with jitter), then a fresh OPEN.
    let mut again = harness.accept().await;
    assert!(matches!(again.recv().await, Message::Open(_)));
}

#[tokio::test]
async fn wrong_peer_asn_is_refused_with_bad_peer_as() {
    let harness = Harness::start("").await;
    let mut router = harness.accept().await;
    let Message::Open(_) = router.recv().await else {
        panic!("expected OPEN")
    };
    router
        .send(Message::Open(Open::new(
            64999,
            90,
            ROUTER_ID,
            &[Family::Ipv4Unicast],
        )))
        .await;
    let messages = router.until_closed().await;
    assert_eq!(
        notifications(&messages),
        vec![(
            iana::error_code::OPEN_MESSAGE,
            iana::open_subcode::BAD_PEER_AS
        )]
    );
}

#[tokio::test]
async fn route_refresh_is_answered_with_the_family_routes() {
    let harness = Harness::start("").await;
    let mut router = harness.accept().await;
    router.establish(90).await;
    router.initial_table().await;
    let (afi, safi) = Family::Ipv4Unicast.afi_safi();
    router
        .send(Message::RouteRefresh(RouteRefresh { afi, safi }))
        .await;
    let Message::Update(update) = router.recv().await else {
        panic!("expected UPDATE")
    };
    assert_eq!(
        prefixes(&[update]),
        vec![net("192.0.2.10/32"), net("192.0.2.20/32")]
    );
}

#[tokio::test]
async fn shutdown_withdraws_then_sends_cease_with_a_message() {
    let harness = Harness::start("").await;
    let mut router = harness.accept().await;
    router.establish(90).await;
    router.initial_table().await;
    let cease = Notification::cease(
        iana::cease_subcode::ADMINISTRATIVE_SHUTDOWN,
        SHUTDOWN_MESSAGE,
    );
    let messages = harness.end(&mut router, PeerStop::Stop(cease)).await;
    assert_eq!(withdrawn_count(&messages), 3);
    let cease = last_notification(&messages);
    assert_eq!(cease.code, iana::error_code::CEASE);
    assert_eq!(cease.subcode, iana::cease_subcode::ADMINISTRATIVE_SHUTDOWN);
    assert_eq!(
        cease.shutdown_message().as_deref(),
        Some("herald is shutting down")
    );
    timeout(STEP, harness.task)
        .await
        .expect("task ends")
        .expect("no panic");
}

/// The graceful restart capability a router such as BIRD sends: no restart
/// of its own, `notification` as given, IPv4 and IPv6 unicast.
fn router_gr(notification: bool) -> Capability {
    Capability::GracefulRestart(GracefulRestart {
        restart_state: false,
        notification,
        restart_time: 120,
        families: vec![(Family::Ipv4Unicast, false), (Family::Ipv6Unicast, false)],
    })
}

/// herald's graceful restart capability in `open`.
fn herald_gr(open: &Open) -> GracefulRestart {
    open.capabilities
        .iter()
        .find_map(|c| match c {
            Capability::GracefulRestart(gr) => Some(gr.clone()),
            _ => None,
        })
        .expect("herald advertises graceful restart")
}

#[tokio::test]
async fn open_offers_graceful_restart_with_notification_and_forwarding_state() {
    let harness = Harness::start("restart-time = \"45s\"").await;
    let mut router = harness.accept().await;
    let open = router.establish_with(90, &[router_gr(true)]).await;
    let gr = herald_gr(&open);
    assert!(!gr.restart_state, "a fresh start is not a restart");
    assert!(gr.notification);
    assert_eq!(gr.restart_time, 45);
    assert_eq!(
        gr.families,
        vec![(Family::Ipv4Unicast, true), (Family::Ipv6Unicast, true)]
    );
}

#[tokio::test]
async fn a_daemon_taking_over_sets_restart_state_and_sends_routes_before_end_of_rib() {
    let harness = Harness::start_as("", true).await;
    let mut router = harness.accept().await;
    let open = router.establish_with(90, &[router_gr(true)]).await;
    assert!(herald_gr(&open).restart_state);
    // initial_table() reads up to both End-of-RIB markers and fails on
    // anything else, so the routes came first.
    assert_eq!(prefixes(&router.initial_table().await).len(), 3);
}

#[tokio::test]
async fn restart_with_notification_keeps_routes_and_sends_administrative_reset() {
    let harness = Harness::start("").await;
    let mut router = harness.accept().await;
    router.establish_with(90, &[router_gr(true)]).await;
    router.initial_table().await;
    let message = "herald is restarting".to_string();
    let messages = harness
        .end(&mut router, PeerStop::Restart(message.clone()))
        .await;
    assert_eq!(withdrawn_count(&messages), 0, "a restart withdraws nothing");
    let cease = last_notification(&messages);
    assert_eq!(
        (cease.code, cease.subcode),
        (
            iana::error_code::CEASE,
            iana::cease_subcode::ADMINISTRATIVE_RESET
        )
    );
    assert_eq!(cease.shutdown_message(), Some(message));
}

#[tokio::test]
async fn restart_without_notification_closes_silently() {
    let harness = Harness::start("").await;
    let mut router = harness.accept().await;
    router.establish_with(90, &[router_gr(false)]).await;
    router.initial_table().await;
    let messages = harness
        .end(&mut router, PeerStop::Restart("restarting".into()))
        .await;
    assert!(
        messages.iter().all(|m| matches!(m, Message::Keepalive)),
        "RFC 4724 helpers keep routes only after a close without NOTIFICATION: {messages:?}"
    );
}

#[tokio::test]
async fn a_stop_with_notification_negotiated_is_a_hard_reset() {
    let harness = Harness::start("").await;
    let mut router = harness.accept().await;
    router.establish_with(90, &[router_gr(true)]).await;
    router.initial_table().await;
    let cease = Notification::cease(
        iana::cease_subcode::ADMINISTRATIVE_SHUTDOWN,
        SHUTDOWN_MESSAGE,
    );
    let messages = harness.end(&mut router, PeerStop::Stop(cease)).await;
    assert_eq!(withdrawn_count(&messages), 3);
    let hard = last_notification(&messages);
    assert_eq!(
        (hard.code, hard.subcode),
        (iana::error_code::CEASE, iana::cease_subcode::HARD_RESET)
    );
    assert_eq!(
        hard.data.get(..2),
        Some(
            &[
                iana::error_code::CEASE,
                iana::cease_subcode::ADMINISTRATIVE_SHUTDOWN
            ][..]
        )
    );
}
