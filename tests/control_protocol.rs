//! The control protocol is a public interface: these tests pin its JSON,
//! its error codes, and the behaviour of the socket server and client
//! against each other over a real Unix socket.

use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener as StdUnixListener, UnixStream as StdUnixStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ipnet::IpNet;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use herald::control::client::{self, ClientError};
use herald::control::{
    render_status, BfdStatus, CheckStatus, Command, ControlError, ControlSocket, DrainStatus,
    ErrorCode, GracefulRestartStatus, OverrideStatus, PeerStatus, Request, Response, StatusReport,
    Target, VipStatus,
};

const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);

fn net(text: &str) -> IpNet {
    text.parse().unwrap()
}

fn every_request() -> Vec<Request> {
    vec![
        Request::Status,
        Request::Withdraw {
            target: Target::Vips(vec![net("192.0.2.10/32"), net("2001:db8::10/128")]),
            reason: Some("disk replacement".to_string()),
        },
        Request::Withdraw {
            target: Target::All,
            reason: None,
        },
        Request::Announce {
            target: Target::Vips(vec![net("198.51.100.0/24")]),
        },
        Request::Auto {
            target: Target::All,
        },
        Request::Reload,
        Request::Drain {
            time: Some(Duration::from_millis(30_000)),
        },
        Request::Drain { time: None },
        Request::Undrain,
    ]
}

fn sample_report() -> StatusReport {
    StatusReport {
        version: "0.1.0".to_string(),
        pid: 4242,
        uptime_secs: 3 * 86_400 + 4 * 3_600 + 5,
        started_unix_ms: 1_700_000_000_000,
        restarted: false,
        config: "/etc/herald/herald.toml".to_string(),
        drain: DrainStatus::None,
        peers: vec![
            PeerStatus {
                name: "tor1".to_string(),
                address: "198.51.100.1".to_string(),
                asn: 65001,
                state: "Established".to_string(),
                uptime_secs: Some(12 * 60 + 3),
                hold_time: Some(90),
                last_error: None,
                prefixes_announced: 1,
                graceful_restart: Some(GracefulRestartStatus {
                    peer_restart_time: 120,
                    notification: true,
                }),
                bfd: Some(BfdStatus {
                    state: "up".to_string(),
                    remote_state: "up".to_string(),
                    local_diag: "no diagnostic".to_string(),
                    remote_diag: "no diagnostic".to_string(),
                    local_discriminator: 7,
                    remote_discriminator: 9,
                    tx_interval_ms: Some(300),
                    detect_time_ms: Some(900),
                    since_secs: 723,
                    packets_sent: 2400,
                    packets_received: 2398,
                    went_down: 0,
                }),
            },
            PeerStatus {
                name: "tor2".to_string(),
                address: "198.51.100.2".to_string(),
                asn: 65001,
                state: "Connect".to_string(),
                uptime_secs: None,
                hold_time: None,
                last_error: Some("connection refused".to_string()),
                prefixes_announced: 0,
                graceful_restart: None,
                bfd: None,
            },
        ],
        vips: vec![
            VipStatus {
                prefix: "192.0.2.10/32".to_string(),
                state: "announced".to_string(),
                health: "up".to_string(),
                override_: None,
                peers: vec!["tor1".to_string()],
                penalty: 0,
                suppressed: false,
                checks: vec!["web".to_string()],
            },
            VipStatus {
                prefix: "192.0.2.11/32".to_string(),
                state: "withdrawn".to_string(),
                health: "down".to_string(),
                override_: Some(OverrideStatus {
                    action: "withdraw".to_string(),
                    reason: Some("disk replacement".to_string()),
                    since_unix: 1_700_000_000,
                }),
                peers: vec![],
                penalty: 1500,
                suppressed: true,
                checks: vec!["web".to_string(), "db".to_string()],
            },
        ],
        checks: vec![
            CheckStatus {
                name: "web".to_string(),
                kind: "http".to_string(),
                healthy: true,
                last_success: Some(true),
                last_reason: None,
                last_elapsed_ms: Some(12),
                streak: 40,
            },
            CheckStatus {
                name: "db".to_string(),
                kind: "tcp".to_string(),
                healthy: false,
                last_success: Some(false),
                last_reason: Some("connection refused".to_string()),
                last_elapsed_ms: Some(1),
                streak: 3,
            },
        ],
    }
}

fn error_code(line: &str) -> ErrorCode {
    Request::from_line(line).unwrap_err().code
}

#[test]
fn every_request_round_trips_through_its_line() {
    for request in every_request() {
        let line = request.to_line();
        assert!(!line.contains('\n'), "{line}");
        assert_eq!(Request::from_line(&line), Ok(request), "{line}");
    }
}

#[test]
fn request_lines_are_pinned_because_scripts_write_them() {
    let withdraw = Request::Withdraw {
        target: Target::Vips(vec![net("192.0.2.10/32")]),
        reason: Some("disk replacement".to_string()),
    };
    assert_eq!(
        withdraw.to_line(),
        r#"{"version":1,"command":"withdraw","vips":["192.0.2.10/32"],"reason":"disk replacement"}"#
    );
    let all = Request::Withdraw {
        target: Target::All,
        reason: None,
    };
    assert_eq!(
        all.to_line(),
        r#"{"version":1,"command":"withdraw","all":true}"#
    );
    assert_eq!(
        Request::Status.to_line(),
        r#"{"version":1,"command":"status"}"#
    );
    let drain = Request::Drain {
        time: Some(Duration::from_secs(30)),
    };
    assert_eq!(
        drain.to_line(),
        r#"{"version":1,"command":"drain","time_ms":30000}"#
    );
    assert_eq!(
        Request::Drain { time: None }.to_line(),
        r#"{"version":1,"command":"drain"}"#
    );
}

#[test]
fn response_lines_are_pinned_because_scripts_read_them() {
    let done = Response::Done {
        message: "withdrawing 192.0.2.10/32".to_string(),
    };
    assert_eq!(
        done.to_line(),
        r#"{"version":1,"ok":true,"result":{"message":"withdrawing 192.0.2.10/32"}}"#
    );
    let error = Response::Error {
        code: ErrorCode::UnknownVip,
        message: "192.0.2.99/32 is not in the configuration".to_string(),
    };
    assert_eq!(
        error.to_line(),
        r#"{"version":1,"ok":false,"error":{"code":"unknown-vip","message":"192.0.2.99/32 is not in the configuration"}}"#
    );
    let mut report = sample_report();
    report.peers.truncate(1);
    report.vips.remove(0);
    report.checks.clear();
    report.drain = DrainStatus::Draining { remaining_secs: 12 };
    assert_eq!(
        Response::Status(report).to_line(),
        concat!(
            r#"{"version":1,"ok":true,"result":{"version":"0.1.0","pid":4242,"uptime_secs":273605,"#,
            r#""started_unix_ms":1700000000000,"restarted":false,"#,
            r#""config":"/etc/herald/herald.toml","drain":{"state":"draining","remaining_secs":12},"#,
            r#""peers":[{"name":"tor1","address":"198.51.100.1","asn":65001,"state":"Established","#,
            r#""uptime_secs":723,"hold_time":90,"last_error":null,"prefixes_announced":1,"#,
            r#""graceful_restart":{"peer_restart_time":120,"notification":true},"#,
            r#""bfd":{"state":"up","remote_state":"up","local_diag":"no diagnostic","#,
            r#""remote_diag":"no diagnostic","local_discriminator":7,"remote_discriminator":9,"#,
            r#""tx_interval_ms":300,"detect_time_ms":900,"since_secs":723,"packets_sent":2400,"#,
            r#""packets_received":2398,"went_down":0}}],"#,
            r#""vips":[{"prefix":"192.0.2.11/32","state":"withdrawn","health":"down","#,
            r#""override":{"action":"withdraw","reason":"disk replacement","since_unix":1700000000},"#,
            r#""peers":[],"penalty":1500,"suppressed":true,"checks":["web","db"]}],"checks":[]}}"#
        )
    );
}

#[test]
fn drain_states_are_tagged_by_state() {
    let json = |drain| serde_json::to_string(&drain).unwrap();
    assert_eq!(json(DrainStatus::None), r#"{"state":"none"}"#);
    assert_eq!(json(DrainStatus::Drained), r#"{"state":"drained"}"#);
}

#[test]
fn every_response_round_trips_through_its_line() {
    let codes = [
        ErrorCode::BadRequest,
        ErrorCode::TooLarge,
        ErrorCode::UnsupportedVersion,
        ErrorCode::UnknownVip,
        ErrorCode::InvalidConfig,
        ErrorCode::Internal,
    ];
    let mut responses = vec![
        Response::Status(sample_report()),
        Response::Done {
            message: "reloaded".to_string(),
        },
    ];
    responses.extend(codes.iter().map(|&code| Response::Error {
        code,
        message: format!("a {code} error"),
    }));
    for response in responses {
        let line = response.to_line();
        assert_eq!(Response::from_line(&line), Ok(response), "{line}");
    }
}

#[test]
fn error_codes_are_kebab_case_on_the_wire() {
    let wire = |code| serde_json::to_string(&code).unwrap();
    assert_eq!(wire(ErrorCode::BadRequest), r#""bad-request""#);
    assert_eq!(wire(ErrorCode::TooLarge), r#""too-large""#);
    assert_eq!(
        wire(ErrorCode::UnsupportedVersion),
        r#""unsupported-version""#
    );
    assert_eq!(wire(ErrorCode::UnknownVip), r#""unknown-vip""#);
    assert_eq!(wire(ErrorCode::InvalidConfig), r#""invalid-config""#);
    assert_eq!(wire(ErrorCode::Internal), r#""internal""#);
}

#[test]
fn malformed_json_is_a_bad_request() {
    assert_eq!(
        error_code(r#"{"version":1,"command":"status""#),
        ErrorCode::BadRequest
    );
    assert_eq!(error_code("status"), ErrorCode::BadRequest);
    assert_eq!(error_code("[]"), ErrorCode::BadRequest);
    assert_eq!(error_code(r#"{"command":"status"}"#), ErrorCode::BadRequest);
}

#[test]
fn an_unknown_field_is_a_bad_request() {
    assert_eq!(
        error_code(r#"{"version":1,"command":"status","verbose":true}"#),
        ErrorCode::BadRequest
    );
}

#[test]
fn a_field_the_command_does_not_take_is_a_bad_request() {
    let err = Request::from_line(r#"{"version":1,"command":"announce","all":true,"reason":"x"}"#)
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::BadRequest);
    assert_eq!(err.message, "`announce` takes no `reason`");
    assert_eq!(
        error_code(r#"{"version":1,"command":"status","all":true}"#),
        ErrorCode::BadRequest
    );
    assert_eq!(
        error_code(r#"{"version":1,"command":"reload","time_ms":5}"#),
        ErrorCode::BadRequest
    );
}

#[test]
fn an_unknown_command_is_a_bad_request() {
    let err = Request::from_line(r#"{"version":1,"command":"explode"}"#).unwrap_err();
    assert_eq!(err.code, ErrorCode::BadRequest);
    assert_eq!(err.message, "unknown command `explode`");
}

#[test]
fn another_version_is_unsupported_even_with_fields_we_do_not_know() {
    assert_eq!(
        error_code(r#"{"version":2,"command":"status"}"#),
        ErrorCode::UnsupportedVersion
    );
    assert_eq!(
        error_code(r#"{"version":2,"command":"frobnicate","new_field":[1]}"#),
        ErrorCode::UnsupportedVersion
    );
    assert_eq!(
        error_code(r#"{"version":0,"command":"status"}"#),
        ErrorCode::UnsupportedVersion
    );
    let response = Response::from_line(r#"{"version":7,"ok":true,"result":{}}"#).unwrap_err();
    assert_eq!(response.code, ErrorCode::UnsupportedVersion);
}

#[test]
fn both_or_neither_of_vips_and_all_is_a_bad_request() {
    for line in [
        r#"{"version":1,"command":"withdraw","vips":["192.0.2.10/32"],"all":true}"#,
        r#"{"version":1,"command":"withdraw"}"#,
        r#"{"version":1,"command":"auto","vips":[]}"#,
        r#"{"version":1,"command":"announce","all":false}"#,
    ] {
        assert_eq!(error_code(line), ErrorCode::BadRequest, "{line}");
    }
}

#[test]
fn a_bad_prefix_is_a_bad_request_that_quotes_it() {
    let err = Request::from_line(r#"{"version":1,"command":"announce","vips":["192.0.2.300/32"]}"#)
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::BadRequest);
    assert!(err.message.contains("192.0.2.300/32"), "{}", err.message);
    let err = Request::from_line(r#"{"version":1,"command":"announce","vips":["192.0.2.10/24"]}"#)
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::BadRequest);
    assert!(
        err.message.contains("did you mean 192.0.2.0/24"),
        "{}",
        err.message
    );
}

#[test]
fn a_bare_address_is_a_host_route() {
    let request =
        Request::from_line(r#"{"version":1,"command":"auto","vips":["192.0.2.10","2001:db8::1"]}"#)
            .unwrap();
    assert_eq!(
        request,
        Request::Auto {
            target: Target::Vips(vec![net("192.0.2.10/32"), net("2001:db8::1/128")]),
        }
    );
}

#[test]
fn a_response_with_both_result_and_error_is_refused() {
    let line = r#"{"version":1,"ok":true,"result":{"message":"x"},"error":{"code":"internal","message":"y"}}"#;
    assert!(Response::from_line(line).is_err());
}

#[test]
fn status_renders_peers_vips_and_checks_as_tables() {
    let text = render_status(&sample_report());
    for expected in [
        "herald 0.1.0, pid 4242, up 3d4h, not draining",
        "config /etc/herald/herald.toml",
        "PEERS",
        "NAME  ADDRESS       ASN    STATE        UPTIME  HOLD  PREFIXES  BFD       LAST ERROR",
        "tor1  198.51.100.1  65001  Established  12m3s   90s   1         up/900ms  -",
        "tor2  198.51.100.2  65001  Connect      -       -     0         -         connection refused",
        "VIPS",
        "PREFIX",
        "OVERRIDE",
        "withdraw (disk replacement)",
        "1500 suppressed",
        "web:ok,db:FAIL",
        "CHECKS",
        "VERDICT",
        "12ms",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    assert!(text.is_ascii());
}

#[test]
fn empty_sections_say_none() {
    let mut report = sample_report();
    report.peers.clear();
    report.drain = DrainStatus::Drained;
    let text = render_status(&report);
    assert!(text.contains("PEERS\n(none)\n"), "{text}");
    assert!(text.contains(", drained\n"), "{text}");
}

/// A server on a socket in a temporary directory, with a responder task
/// playing the daemon.
struct Daemon {
    _dir: tempfile::TempDir,
    path: PathBuf,
    shutdown: watch::Sender<bool>,
    server: JoinHandle<()>,
}

impl Daemon {
    async fn start(read_timeout: Duration) -> Daemon {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("control.sock");
        let socket = ControlSocket::bind(&path, 0o660, None)
            .unwrap()
            .with_read_timeout(read_timeout);
        let (commands, receiver) = mpsc::channel(8);
        let (shutdown, shutdown_rx) = watch::channel(false);
        tokio::spawn(respond(receiver));
        let server = tokio::spawn(socket.serve(commands, shutdown_rx));
        Daemon {
            _dir: dir,
            path,
            shutdown,
            server,
        }
    }

    async fn request(&self, request: Request) -> Result<Response, ClientError> {
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || client::request(&path, &request, CLIENT_TIMEOUT))
            .await
            .unwrap()
    }

    async fn stop(self) -> PathBuf {
        self.shutdown.send(true).unwrap();
        self.server.await.unwrap();
        self.path.clone()
    }
}

/// Answers like a daemon configured with 192.0.2.10/32 only; holds the
/// reply to `reload` until it stops, to test client timeouts.
async fn respond(mut commands: mpsc::Receiver<Command>) {
    let mut held = Vec::new();
    while let Some(Command { request, reply }) = commands.recv().await {
        let response = match request {
            Request::Status => Response::Status(sample_report()),
            Request::Withdraw {
                target: Target::Vips(vips),
                ..
            } if vips.iter().any(|v| *v != net("192.0.2.10/32")) => Response::Error {
                code: ErrorCode::UnknownVip,
                message: format!("{} is not in the configuration", vips[0]),
            },
            Request::Reload => {
                held.push(reply);
                continue;
            }
            other => Response::Done {
                message: format!("{} done", other.command()),
            },
        };
        let _ = reply.send(response);
    }
}

fn raw_exchange(path: &Path, bytes: &[u8]) -> String {
    let mut stream = StdUnixStream::connect(path).unwrap();
    stream.set_read_timeout(Some(CLIENT_TIMEOUT)).unwrap();
    let _ = stream.write_all(bytes);
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

#[tokio::test]
async fn the_client_gets_the_daemons_status_report() {
    let daemon = Daemon::start(Duration::from_secs(5)).await;
    let response = daemon.request(Request::Status).await.unwrap();
    assert_eq!(response, Response::Status(sample_report()));
    daemon.stop().await;
}

#[tokio::test]
async fn withdrawing_an_unknown_vip_gets_the_daemons_unknown_vip_error() {
    let daemon = Daemon::start(Duration::from_secs(5)).await;
    let request = Request::Withdraw {
        target: Target::Vips(vec![net("192.0.2.99/32")]),
        reason: None,
    };
    let response = daemon.request(request).await.unwrap();
    assert_eq!(
        response,
        Response::Error {
            code: ErrorCode::UnknownVip,
            message: "192.0.2.99/32 is not in the configuration".to_string(),
        }
    );
    let known = Request::Withdraw {
        target: Target::Vips(vec![net("192.0.2.10/32")]),
        reason: Some("disk replacement".to_string()),
    };
    let response = daemon.request(known).await.unwrap();
    assert_eq!(
        response,
        Response::Done {
            message: "withdraw done".to_string()
        }
    );
    daemon.stop().await;
}

#[tokio::test]
async fn a_malformed_request_gets_an_error_response_on_the_socket() {
    let daemon = Daemon::start(Duration::from_secs(5)).await;
    let path = daemon.path.clone();
    let answer = tokio::task::spawn_blocking(move || raw_exchange(&path, b"hello\n"))
        .await
        .unwrap();
    let response = Response::from_line(answer.trim_end()).unwrap();
    assert!(
        matches!(
            response,
            Response::Error {
                code: ErrorCode::BadRequest,
                ..
            }
        ),
        "{answer}"
    );
    daemon.stop().await;
}

#[tokio::test]
async fn an_oversized_request_is_too_large_and_the_server_keeps_serving() {
    let daemon = Daemon::start(Duration::from_secs(5)).await;
    let huge = Request::Withdraw {
        target: Target::All,
        reason: Some("x".repeat(100 * 1024)),
    };
    let response = daemon.request(huge).await.unwrap();
    assert!(
        matches!(
            response,
            Response::Error {
                code: ErrorCode::TooLarge,
                ..
            }
        ),
        "{response:?}"
    );
    let path = daemon.path.clone();
    let raw = tokio::task::spawn_blocking(move || raw_exchange(&path, &[b'{'; 100 * 1024]))
        .await
        .unwrap();
    assert!(raw.contains(r#""code":"too-large""#), "{raw}");
    let response = daemon.request(Request::Status).await.unwrap();
    assert_eq!(response, Response::Status(sample_report()));
    daemon.stop().await;
}

#[tokio::test]
async fn a_silent_client_is_cut_after_the_timeout_without_blocking_others() {
    let timeout = Duration::from_millis(1000);
    let daemon = Daemon::start(timeout).await;
    let path = daemon.path.clone();
    let silent = tokio::task::spawn_blocking(move || {
        let mut stream = StdUnixStream::connect(&path).unwrap();
        stream.set_read_timeout(Some(CLIENT_TIMEOUT)).unwrap();
        let started = Instant::now();
        let mut answer = Vec::new();
        let read = stream.read_to_end(&mut answer);
        (read.map(|_| answer), started.elapsed())
    });
    let started = Instant::now();
    let response = daemon.request(Request::Status).await.unwrap();
    assert_eq!(response, Response::Status(sample_report()));
    assert!(started.elapsed() < timeout, "{:?}", started.elapsed());
    let (answer, waited) = silent.await.unwrap();
    assert_eq!(answer.unwrap(), Vec::<u8>::new());
    assert!(waited >= timeout - Duration::from_millis(50), "{waited:?}");
    assert!(waited < CLIENT_TIMEOUT, "{waited:?}");
    daemon.stop().await;
}

#[tokio::test]
async fn the_client_times_out_when_the_daemon_does_not_answer() {
    let daemon = Daemon::start(Duration::from_secs(5)).await;
    let path = daemon.path.clone();
    let result = tokio::task::spawn_blocking(move || {
        client::request(&path, &Request::Reload, Duration::from_millis(200))
    })
    .await
    .unwrap();
    let err = result.unwrap_err();
    assert!(matches!(err, ClientError::Timeout), "{err:?}");
    assert_eq!(err.exit_code(), 4);
    daemon.stop().await;
}

#[tokio::test]
async fn the_socket_file_is_removed_when_serving_stops() {
    let daemon = Daemon::start(Duration::from_secs(5)).await;
    let path = daemon.stop().await;
    assert!(!path.exists());
}

#[test]
fn the_socket_has_mode_0660_after_bind() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("control.sock");
    let _socket = ControlSocket::bind(&path, 0o660, None).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o660);
}

#[test]
fn a_missing_parent_directory_is_created_with_mode_0755() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run/herald/control.sock");
    let _socket = ControlSocket::bind(&path, 0o660, None).unwrap();
    let parent = std::fs::metadata(path.parent().unwrap()).unwrap();
    assert_eq!(parent.permissions().mode() & 0o777, 0o755);
}

#[test]
fn a_numeric_group_sets_the_sockets_group() {
    let dir = tempfile::tempdir().unwrap();
    let own_gid = std::fs::metadata(dir.path()).unwrap().gid();
    let path = dir.path().join("control.sock");
    let _socket = ControlSocket::bind(&path, 0o660, Some(&own_gid.to_string())).unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().gid(), own_gid);
}

#[test]
fn a_stale_socket_file_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("control.sock");
    drop(StdUnixListener::bind(&path).unwrap());
    assert!(path.exists());
    let socket = ControlSocket::bind(&path, 0o660, None).unwrap();
    assert!(StdUnixStream::connect(&path).is_ok());
    drop(socket);
    assert!(!path.exists());
}

#[test]
fn a_live_daemon_is_detected_and_its_socket_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("control.sock");
    let _live = ControlSocket::bind(&path, 0o660, None).unwrap();
    let err = ControlSocket::bind(&path, 0o660, None).unwrap_err();
    assert!(
        matches!(err, ControlError::AnotherRunning { .. }),
        "{err:?}"
    );
    assert!(err.to_string().starts_with("another herald is running"));
    assert!(StdUnixStream::connect(&path).is_ok());
}

#[test]
fn a_regular_file_in_the_way_is_never_removed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("control.sock");
    std::fs::write(&path, "precious").unwrap();
    let err = ControlSocket::bind(&path, 0o660, None).unwrap_err();
    assert!(matches!(err, ControlError::NotASocket { .. }), "{err:?}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "precious");
}

#[test]
fn a_missing_socket_means_herald_is_not_running() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("control.sock");
    let err = client::request(&path, &Request::Status, CLIENT_TIMEOUT).unwrap_err();
    assert!(matches!(err, ClientError::NotRunning { .. }), "{err:?}");
    assert_eq!(err.exit_code(), 4);
    assert_eq!(
        err.to_string(),
        format!("herald is not running (no socket at {})", path.display())
    );
}

#[test]
fn a_stale_socket_nobody_listens_on_means_herald_is_not_running() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("control.sock");
    drop(StdUnixListener::bind(&path).unwrap());
    let err = client::request(&path, &Request::Status, CLIENT_TIMEOUT).unwrap_err();
    assert!(matches!(err, ClientError::NotRunning { .. }), "{err:?}");
}

#[test]
fn a_path_that_is_not_a_socket_is_reported_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("control.sock");
    std::fs::write(&path, "").unwrap();
    let err = client::request(&path, &Request::Status, CLIENT_TIMEOUT).unwrap_err();
    assert!(matches!(err, ClientError::NotASocket { .. }), "{err:?}");
    assert_eq!(err.exit_code(), 4);
}

#[test]
fn a_status_report_missing_a_field_is_refused_naming_the_field() {
    let line = r#"{"version":1,"ok":true,"result":{"version":"0.1.0","pid":1}}"#;
    let err = Response::from_line(line).unwrap_err();
    assert!(
        err.message.contains("invalid status report"),
        "{}",
        err.message
    );
    assert!(err.message.contains("uptime_secs"), "{}", err.message);
}

#[test]
fn a_status_report_with_a_field_from_a_newer_daemon_is_accepted() {
    let line = Response::Status(sample_report()).to_line();
    let newer = line.replacen(r#""pid":4242"#, r#""pid":4242,"hostname":"lb1""#, 1);
    assert_eq!(
        Response::from_line(&newer),
        Ok(Response::Status(sample_report()))
    );
}
