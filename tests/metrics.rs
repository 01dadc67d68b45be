//! The Prometheus exposition text and the HTTP endpoint that serves it.

use std::time::Duration;

use herald::metrics::{serve, Direction, Metrics};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

#[test]
fn an_empty_registry_renders_nothing() {
    assert_eq!(Metrics::new().render(), "");
}

#[test]
fn render_is_pinned_for_a_small_set() {
    let metrics = Metrics::new();
    metrics.peer_state("198.51.100.2", 1, None);
    metrics.peer_state("198.51.100.1", 5, Some(1_700_000_000));
    metrics.message("198.51.100.1", Direction::Sent, "OPEN");
    metrics.message("198.51.100.1", Direction::Received, "OPEN");
    metrics.message("198.51.100.1", Direction::Sent, "UPDATE");
    metrics.message("198.51.100.1", Direction::Sent, "UPDATE");
    metrics.vips_announced(2, 1, 0);
    metrics.check_result("web", true, Duration::from_millis(3));
    metrics.check_result("web", false, Duration::from_secs(2));
    metrics.check_result("web", false, Duration::from_secs(30));
    metrics.check_healthy("web", false);
    metrics.vip_transition("192.0.2.10/32", "withdrawn");
    metrics.damping_penalty("192.0.2.10/32", 1500);

    assert_eq!(
        metrics.render(),
        r#"# HELP herald_bgp_messages_total BGP messages exchanged with a peer, by direction and message type.
# TYPE herald_bgp_messages_total counter
herald_bgp_messages_total{peer="198.51.100.1",direction="received",type="OPEN"} 1
herald_bgp_messages_total{peer="198.51.100.1",direction="sent",type="OPEN"} 1
herald_bgp_messages_total{peer="198.51.100.1",direction="sent",type="UPDATE"} 2
# HELP herald_bgp_peer_established_timestamp_seconds When the BGP session reached Established, in seconds since the Unix epoch.
# TYPE herald_bgp_peer_established_timestamp_seconds gauge
herald_bgp_peer_established_timestamp_seconds{peer="198.51.100.1"} 1700000000
# HELP herald_bgp_peer_state BGP session state: 0 Idle, 1 Connect, 2 Active, 3 OpenSent, 4 OpenConfirm, 5 Established.
# TYPE herald_bgp_peer_state gauge
herald_bgp_peer_state{peer="198.51.100.1"} 5
herald_bgp_peer_state{peer="198.51.100.2"} 1
# HELP herald_check_duration_seconds How long a health check took to run.
# TYPE herald_check_duration_seconds histogram
herald_check_duration_seconds_bucket{check="web",le="0.001"} 0
herald_check_duration_seconds_bucket{check="web",le="0.0025"} 0
herald_check_duration_seconds_bucket{check="web",le="0.005"} 1
herald_check_duration_seconds_bucket{check="web",le="0.01"} 1
herald_check_duration_seconds_bucket{check="web",le="0.025"} 1
herald_check_duration_seconds_bucket{check="web",le="0.05"} 1
herald_check_duration_seconds_bucket{check="web",le="0.1"} 1
herald_check_duration_seconds_bucket{check="web",le="0.25"} 1
herald_check_duration_seconds_bucket{check="web",le="0.5"} 1
herald_check_duration_seconds_bucket{check="web",le="1"} 1
herald_check_duration_seconds_bucket{check="web",le="2.5"} 2
herald_check_duration_seconds_bucket{check="web",le="5"} 2
herald_check_duration_seconds_bucket{check="web",le="10"} 2
herald_check_duration_seconds_bucket{check="web",le="+Inf"} 3
herald_check_duration_seconds_sum{check="web"} 32.003
herald_check_duration_seconds_count{check="web"} 3
# HELP herald_check_healthy Whether a health check passes after rise/fall (1) or not (0).
# TYPE herald_check_healthy gauge
herald_check_healthy{check="web"} 0
# HELP herald_check_results_total Health check runs, by result.
# TYPE herald_check_results_total counter
herald_check_results_total{check="web",result="failure"} 2
herald_check_results_total{check="web",result="success"} 1
# HELP herald_vip_damping_penalty Flap damping penalty of a VIP.
# TYPE herald_vip_damping_penalty gauge
herald_vip_damping_penalty{vip="192.0.2.10/32"} 1500
# HELP herald_vip_transitions_total Changes of a VIP's state, by the state it changed to.
# TYPE herald_vip_transitions_total counter
herald_vip_transitions_total{vip="192.0.2.10/32",to="withdrawn"} 1
# HELP herald_vips VIPs configured on this host, by announcement state.
# TYPE herald_vips gauge
herald_vips{state="announced"} 2
herald_vips{state="degraded"} 1
herald_vips{state="withdrawn"} 0
"#
    );
}

#[test]
fn leaving_established_drops_the_since_timestamp() {
    let metrics = Metrics::new();
    metrics.peer_state("peer", 5, Some(1));
    metrics.peer_state("peer", 0, None);
    let text = metrics.render();
    assert!(!text.contains("established_timestamp"), "{text}");
    assert!(text.contains("herald_bgp_peer_state{peer=\"peer\"} 0\n"));
}

#[test]
fn label_values_escape_backslash_quote_and_newline() {
    let metrics = Metrics::new();
    metrics.check_healthy("C:\\probe \"x\"\nnext", true);
    let text = metrics.render();
    assert!(
        text.contains("herald_check_healthy{check=\"C:\\\\probe \\\"x\\\"\\nnext\"} 1\n"),
        "{text}"
    );
}

#[test]
fn clones_share_one_registry() {
    let metrics = Metrics::new();
    metrics.clone().vip_transition("v", "announced");
    assert!(metrics
        .render()
        .contains("herald_vip_transitions_total{vip=\"v\",to=\"announced\"} 1\n"));
}

struct Server {
    address: std::net::SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

async fn start(metrics: Metrics) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, shutdown) = watch::channel(false);
    let task = tokio::spawn(serve(listener, metrics, shutdown));
    Server {
        address,
        stop,
        task,
    }
}

/// Sends one request by hand and reads the whole response.
async fn get(address: std::net::SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(address).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: herald\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_string(&mut response))
        .await
        .expect("the server answers and closes")
        .unwrap();
    response
}

#[tokio::test]
async fn get_metrics_returns_the_exposition_text() {
    let metrics = Metrics::new();
    metrics.vips_announced(3, 0, 1);
    let server = start(metrics.clone()).await;

    let response = get(server.address, "/metrics").await;
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("\r\ncontent-type: text/plain; version=0.0.4"),
        "{head}"
    );
    assert_eq!(body, metrics.render());
    assert!(body.contains("herald_vips{state=\"announced\"} 3\n"));

    // Later changes show in the next scrape.
    metrics.vips_announced(2, 0, 2);
    let response = get(server.address, "/metrics").await;
    assert!(response.contains("herald_vips{state=\"announced\"} 2\n"));

    server.stop.send(true).unwrap();
    server.task.await.unwrap();
}

#[tokio::test]
async fn other_paths_are_not_found() {
    let server = start(Metrics::new()).await;
    for path in ["/", "/metrics/", "/favicon.ico"] {
        let response = get(server.address, path).await;
        assert!(
            response.starts_with("HTTP/1.1 404 Not Found\r\n"),
            "{path}: {response}"
        );
    }
    server.stop.send(true).unwrap();
    server.task.await.unwrap();
}

#[tokio::test]
async fn the_server_stops_on_shutdown_even_with_an_idle_connection_open() {
    let server = start(Metrics::new()).await;
    // A keep-alive connection that has finished one scrape and stays open.
    let mut idle = TcpStream::connect(server.address).await.unwrap();
    idle.write_all(b"GET /metrics HTTP/1.1\r\nHost: herald\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = idle.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200 OK\r\n"));

    server.stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), server.task)
        .await
        .expect("serve returns promptly after shutdown")
        .unwrap();
    assert!(
        TcpStream::connect(server.address).await.is_err(),
        "the listener is closed"
    );
}

#[tokio::test]
async fn the_server_stops_when_the_shutdown_sender_is_dropped() {
    let server = start(Metrics::new()).await;
    drop(server.stop);
    tokio::time::timeout(Duration::from_secs(5), server.task)
        .await
        .expect("serve returns when nobody can signal it any more")
        .unwrap();
}
