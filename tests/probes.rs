//! Probes against real local servers, commands and files: every network
//! peer is a server this test starts on 127.0.0.1.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use herald::config::{CheckKind, HttpCheck};
use herald::health::probe::{Outcome, Probe, ProbeError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

const TIMEOUT: Duration = Duration::from_secs(5);
const SHORT: Duration = Duration::from_millis(300);

async fn run(kind: CheckKind, timeout: Duration) -> Outcome {
    Probe::new(&kind).expect("valid check").run(timeout).await
}

// ---- tcp ----

#[tokio::test]
async fn tcp_succeeds_once_a_listener_accepts() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let outcome = run(CheckKind::Tcp { address }, TIMEOUT).await;
    assert!(outcome.success, "{outcome:?}");
    assert_eq!(outcome.reason, "connected");
}

#[tokio::test]
async fn tcp_fails_with_connection_refused_on_a_closed_port() {
    let address = closed_port().await;
    let outcome = run(CheckKind::Tcp { address }, TIMEOUT).await;
    assert!(!outcome.success);
    assert!(
        outcome.reason.to_lowercase().contains("connection refused"),
        "{outcome:?}"
    );
}

/// A port that was just free: bound, then released.
async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

// ---- http ----

fn http(url: String) -> HttpCheck {
    HttpCheck {
        url,
        status: 200..=299,
        body: None,
        host: None,
        ca_file: None,
        tls_verify: true,
    }
}

fn canned(status: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// Serves one connection: reads the request head, waits `delay`, writes
/// `response`, and hands back the request it read.
async fn serve_once(response: String, delay: Duration) -> (String, JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/health", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 1024];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16 * 1024 {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => request.extend_from_slice(&buf[..n]),
            }
        }
        tokio::time::sleep(delay).await;
        let _ = socket.write_all(response.as_bytes()).await;
        let _ = socket.shutdown().await;
        String::from_utf8_lossy(&request).into_owned()
    });
    (url, server)
}

#[tokio::test]
async fn http_succeeds_on_200() {
    let (url, _server) = serve_once(canned("200 OK", "fine"), Duration::ZERO).await;
    let outcome = run(CheckKind::Http(http(url)), TIMEOUT).await;
    assert!(outcome.success, "{outcome:?}");
    assert_eq!(outcome.reason, "HTTP 200");
}

#[tokio::test]
async fn http_fails_on_a_status_outside_the_range() {
    let (url, _server) = serve_once(canned("500 Oops", ""), Duration::ZERO).await;
    let outcome = run(CheckKind::Http(http(url)), TIMEOUT).await;
    assert!(!outcome.success);
    assert_eq!(outcome.reason, "HTTP 500 (expected 200-299)");
}

#[tokio::test]
async fn http_does_not_follow_redirects() {
    let response = "HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n";
    let (url, _server) = serve_once(response.to_owned(), Duration::ZERO).await;
    let outcome = run(CheckKind::Http(http(url)), TIMEOUT).await;
    assert!(!outcome.success);
    assert_eq!(outcome.reason, "HTTP 302 (expected 200-299)");
}

#[tokio::test]
async fn http_times_out_on_a_slow_server() {
    let (url, server) = serve_once(canned("200 OK", ""), Duration::from_secs(2)).await;
    let outcome = run(CheckKind::Http(http(url)), SHORT).await;
    server.abort();
    assert!(!outcome.success);
    assert_eq!(outcome.reason, "timed out after 300ms");
    assert!(outcome.elapsed < Duration::from_secs(1), "{outcome:?}");
}

#[tokio::test]
async fn http_succeeds_when_the_body_has_the_substring() {
    let (url, _server) = serve_once(canned("200 OK", "status: OK\n"), Duration::ZERO).await;
    let mut check = http(url);
    check.body = Some("OK".into());
    let outcome = run(CheckKind::Http(check), TIMEOUT).await;
    assert!(outcome.success, "{outcome:?}");
}

#[tokio::test]
async fn http_fails_when_the_body_lacks_the_substring() {
    let (url, _server) = serve_once(canned("200 OK", "status: DEGRADED\n"), Duration::ZERO).await;
    let mut check = http(url);
    check.body = Some("OK".into());
    let outcome = run(CheckKind::Http(check), TIMEOUT).await;
    assert!(!outcome.success);
    assert_eq!(outcome.reason, "body lacks \"OK\"");
}

#[tokio::test]
async fn http_sends_the_host_override() {
    let (url, server) = serve_once(canned("200 OK", ""), Duration::ZERO).await;
    let mut check = http(url);
    check.host = Some("vip.example.test".into());
    let outcome = run(CheckKind::Http(check), TIMEOUT).await;
    assert!(outcome.success, "{outcome:?}");
    let request = tokio::time::timeout(TIMEOUT, server)
        .await
        .unwrap()
        .unwrap();
    assert!(request.starts_with("GET /health HTTP/1.1\r\n"), "{request}");
    let hosts: Vec<&str> = request
        .lines()
        .filter(|line| line.to_lowercase().starts_with("host:"))
        .collect();
    assert_eq!(hosts, ["host: vip.example.test"], "{request}");
}

#[tokio::test]
async fn http_connection_errors_fit_on_one_line() {
    let url = format!("http://{}/", closed_port().await);
    let outcome = run(CheckKind::Http(http(url)), TIMEOUT).await;
    assert!(!outcome.success);
    assert!(!outcome.reason.contains('\n'), "{outcome:?}");
    assert!(
        outcome.reason.to_lowercase().contains("connection refused"),
        "{outcome:?}"
    );
}

#[test]
fn http_rejects_a_malformed_url() {
    let result = Probe::new(&CheckKind::Http(http("http://[::1".into())));
    assert!(
        matches!(result, Err(ProbeError::BadUrl { .. })),
        "{result:?}"
    );
    let result = Probe::new(&CheckKind::Http(http("ftp://127.0.0.1/".into())));
    assert!(matches!(result, Err(ProbeError::UnsupportedScheme { .. })));
}

#[test]
fn http_rejects_an_unreadable_or_empty_ca_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut check = http("https://127.0.0.1/".into());
    check.ca_file = Some(dir.path().join("missing.pem"));
    let result = Probe::new(&CheckKind::Http(check.clone()));
    assert!(matches!(result, Err(ProbeError::CaFileUnreadable { .. })));

    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "no certificate here\n").unwrap();
    check.ca_file = Some(empty);
    let result = Probe::new(&CheckKind::Http(check));
    assert!(
        matches!(result, Err(ProbeError::CaFileEmpty { .. })),
        "{result:?}"
    );
}

// ---- exec ----

fn exec(argv: &[&str]) -> CheckKind {
    CheckKind::Exec {
        argv: argv.iter().map(|arg| arg.to_string()).collect(),
    }
}

#[tokio::test]
async fn exec_succeeds_on_exit_status_0() {
    let outcome = run(exec(&["true"]), TIMEOUT).await;
    assert!(outcome.success, "{outcome:?}");
    assert_eq!(outcome.reason, "exit status 0");
}

#[tokio::test]
async fn exec_fails_on_a_nonzero_exit_status() {
    let outcome = run(exec(&["false"]), TIMEOUT).await;
    assert!(!outcome.success);
    assert_eq!(outcome.reason, "exit status 1");
}

#[tokio::test]
async fn exec_quotes_the_first_line_of_stderr() {
    let outcome = run(exec(&["sh", "-c", "echo broken >&2; exit 3"]), TIMEOUT).await;
    assert!(!outcome.success);
    assert_eq!(outcome.reason, "exit status 3: broken");
}

#[tokio::test]
async fn exec_reports_a_command_that_cannot_run() {
    let outcome = run(exec(&["/nonexistent/herald-check"]), TIMEOUT).await;
    assert!(!outcome.success);
    assert_eq!(
        outcome.reason,
        "cannot run /nonexistent/herald-check: No such file or directory"
    );
}

#[tokio::test]
async fn exec_kills_and_reaps_a_hung_command() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let script = format!("echo $$ > {}; exec sleep 30", pid_file.display());
    let outcome = run(exec(&["sh", "-c", &script]), SHORT).await;
    assert!(!outcome.success);
    assert_eq!(outcome.reason, "timed out after 300ms");
    assert!(outcome.elapsed < Duration::from_secs(3), "{outcome:?}");
    // Reaped, not merely killed: a zombie would still have its /proc entry.
    let pid = read_pid(&pid_file).await;
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "pid {pid} remains"
    );
}

#[tokio::test]
async fn exec_timeout_kills_grandchildren_too() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let script = format!("echo $$ > {}; sleep 30 & sleep 30", pid_file.display());
    let outcome = run(exec(&["sh", "-c", &script]), SHORT).await;
    assert!(!outcome.success);
    assert_eq!(outcome.reason, "timed out after 300ms");
    let group = read_pid(&pid_file).await;
    assert_group_dies(group).await;
}

#[tokio::test]
async fn exec_leftover_background_processes_are_killed_after_exit() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let script = format!("echo $$ > {}; sleep 30 & exit 0", pid_file.display());
    let outcome = run(exec(&["sh", "-c", &script]), TIMEOUT).await;
    assert!(outcome.success, "{outcome:?}");
    assert!(outcome.elapsed < Duration::from_secs(3), "{outcome:?}");
    let group = read_pid(&pid_file).await;
    assert_group_dies(group).await;
}

#[tokio::test]
async fn exec_group_dies_when_the_probe_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let script = format!("echo $$ > {}; sleep 30 & sleep 30", pid_file.display());
    let probe = Probe::new(&exec(&["sh", "-c", &script])).unwrap();
    let task = tokio::spawn(async move { probe.run(Duration::from_secs(60)).await });

    let group = read_pid(&pid_file).await;
    // The shell and both sleeps, so the grandchildren exist before the drop.
    for _ in 0..100 {
        if live_members(group).len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(live_members(group).len() >= 3, "{:?}", live_members(group));
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    assert_group_dies(group).await;
}

/// Waits (bounded) until the script has written its pid, then reads it.
async fn read_pid(path: &PathBuf) -> i32 {
    for _ in 0..250 {
        if let Ok(text) = std::fs::read_to_string(path) {
            if let Ok(pid) = text.trim().parse() {
                return pid;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no pid in {}", path.display());
}

/// Waits (bounded) until no live process is left in the group. Zombies
/// are not counted: orphaned grandchildren are reaped by init, not by us.
async fn assert_group_dies(group: i32) {
    for _ in 0..100 {
        if live_members(group).is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("group {group} still has {:?}", live_members(group));
}

/// Pids of the processes in process group `group` that are not zombies.
fn live_members(group: i32) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            // "pid (comm) state ppid pgrp ...": comm may hold spaces.
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            let Some((_, rest)) = stat.rsplit_once(')') else {
                return false;
            };
            let fields: Vec<&str> = rest.split_whitespace().collect();
            fields.first() != Some(&"Z") && fields.get(2) == Some(&group.to_string().as_str())
        })
        .collect()
}

// ---- file ----

fn flag(path: PathBuf, healthy_when_present: bool) -> CheckKind {
    CheckKind::File {
        path,
        healthy_when_present,
    }
}

#[tokio::test]
async fn file_absent_is_healthy_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let outcome = run(flag(dir.path().join("drain"), false), TIMEOUT).await;
    assert!(outcome.success, "{outcome:?}");
    assert!(outcome.reason.ends_with("is absent"), "{outcome:?}");
}

#[tokio::test]
async fn file_present_drains_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("drain");
    std::fs::write(&path, "").unwrap();
    let outcome = run(flag(path, false), TIMEOUT).await;
    assert!(!outcome.success);
    assert!(outcome.reason.ends_with("is present"), "{outcome:?}");
}

#[tokio::test]
async fn file_present_is_healthy_when_so_configured() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ready");
    std::fs::write(&path, "").unwrap();
    assert!(run(flag(path, true), TIMEOUT).await.success);
}

#[tokio::test]
async fn file_absent_fails_when_presence_is_required() {
    let dir = tempfile::tempdir().unwrap();
    assert!(
        !run(flag(dir.path().join("ready"), true), TIMEOUT)
            .await
            .success
    );
}
