//! Malformed input from one router, against the real daemon: each case
//! earns the exact NOTIFICATION of RFC 4271 §6 on the wire, the session
//! closes and comes back, and herald's session with another router never
//! notices.
//!
//! The codec's own table (`tests/wire_fixtures.rs`) covers every decode
//! error; this test proves the path from socket to NOTIFICATION to
//! reconnect in the running daemon, for one case of each kind.

mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::time::{interval, timeout};

use herald::bgp::wire::{Family, Message, Open};
use support::router::{RouterConn, ROUTER_ASN, ROUTER_ID, STEP};

const BIN: &str = env!("CARGO_BIN_EXE_herald");
const MARKER: &str = "ffffffffffffffffffffffffffffffff";

/// (what, bytes the router sends, NOTIFICATION expected: code, subcode
/// and data, as hex). `open:` cases replace the router's OPEN; the others
/// arrive once the session is established.
const CASES: [(&str, &str, &str); 7] = [
    (
        "marker not all ones",
        "ffffffffffffffffffffffffffffff fe 0013 04",
        "01 01",
    ),
    ("length below 19", "MARKER 0012 04", "01 02 0012"),
    ("unknown type", "MARKER 0013 06", "01 03 06"),
    (
        "withdrawn length overruns",
        "MARKER 0017 02 0010 0000",
        "03 01",
    ),
    (
        "unrecognized well-known attribute",
        "MARKER 001b 02 0000 0004 40630100",
        "03 02 40630100",
    ),
    (
        "open: version 3",
        "MARKER 001d 01 03 fde8 005a c6336401 00",
        "02 01 0004",
    ),
    (
        "open: hold time 2",
        "MARKER 001d 01 04 fde8 0002 c6336401 00",
        "02 06",
    ),
];

fn hex(text: &str) -> Vec<u8> {
    let digits: String = text
        .replace("MARKER", MARKER)
        .chars()
        .filter(char::is_ascii_hexdigit)
        .collect();
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).expect("hex"))
        .collect()
}

/// The daemon under test; killed by PID when the test ends.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(dir: &Path, port_a: u16, port_b: u16) -> Daemon {
    let peer = |name: &str, port: u16| {
        format!(
            "[[peer]]\nname = \"{name}\"\naddress = \"127.0.0.1\"\nport = {port}\nasn = {ROUTER_ASN}\n\
             hold-time = \"3s\"\nipv6 = true\nnext-hop-ipv4 = \"198.51.100.11\"\n\
             next-hop-ipv6 = \"2001:db8:100::11\"\n"
        )
    };
    let config = format!(
        "[global]\nasn = 65001\nrouter-id = \"192.0.2.1\"\nconnect-retry = \"100ms\"\n\
         connect-retry-max = \"200ms\"\nstate-file = \"{}\"\n\n[control]\nsocket = \"{}\"\n\n{}\n{}\n\
         [[vip]]\nprefix = \"192.0.2.10/32\"\n\n[[vip]]\nprefix = \"2001:db8:10::/128\"\n",
        dir.join("state.json").display(),
        dir.join("herald.sock").display(),
        peer("a", port_a),
        peer("b", port_b),
    );
    let path = dir.join("herald.toml");
    std::fs::write(&path, config).expect("write config");
    let log = std::fs::File::create(dir.join("herald.log")).expect("log");
    let child = Command::new(BIN)
        .args(["run", "--config"])
        .arg(&path)
        .stdin(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start herald");
    Daemon(child)
}

async fn accept(listener: &TcpListener) -> RouterConn {
    let (stream, _) = timeout(STEP, listener.accept())
        .await
        .expect("herald did not connect in time")
        .expect("accept");
    RouterConn::new(stream)
}

#[tokio::test]
async fn each_malformed_message_earns_its_notification_and_spares_the_other_session() {
    let dir = tempfile::tempdir().expect("temp dir");
    let a = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let b = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let ports = (
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    );
    let _daemon = start(dir.path(), ports.0, ports.1);

    // Router B: established, keeps its side alive, and reports anything
    // but KEEPALIVEs once the case loop says stop.
    let mut router_b = accept(&b).await;
    router_b.establish(3).await;
    router_b.initial_table().await;
    let (stop, mut stopped) = oneshot::channel::<()>();
    let watcher = tokio::spawn(async move {
        let mut tick = interval(Duration::from_secs(1));
        let mut keepalives = 0u32;
        // Bounded: the case loop ends well within this many seconds.
        for _ in 0..120 {
            tokio::select! {
                _ = &mut stopped => return Ok(keepalives),
                _ = tick.tick() => router_b.send(Message::Keepalive).await,
                message = router_b.recv() => match message {
                    Message::Keepalive => keepalives += 1,
                    other => return Err(format!("router B got {other:?}")),
                },
            }
        }
        Err("the case loop never ended".to_string())
    });

    for (what, bytes, expected) in CASES {
        let mut router_a = accept(&a).await;
        if what.starts_with("open:") {
            assert!(matches!(router_a.recv().await, Message::Open(_)), "{what}");
        } else {
            router_a.establish(3).await;
            router_a.initial_table().await;
        }
        router_a.stream.write_all(&hex(bytes)).await.expect("write");
        let messages = router_a.until_closed().await;
        let notification = messages.iter().find_map(|m| match m {
            Message::Notification(n) => Some(n.clone()),
            _ => None,
        });
        let notification =
            notification.unwrap_or_else(|| panic!("{what}: no NOTIFICATION in {messages:?}"));
        let mut got = vec![notification.code, notification.subcode];
        got.extend_from_slice(&notification.data);
        assert_eq!(got, hex(expected), "{what}");
    }

    // Past one full hold time, so that a session herald had dropped or
    // stopped serving would show.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let _ = stop.send(());
    let keepalives = timeout(STEP, watcher)
        .await
        .expect("router B's watcher ends")
        .expect("no panic")
        .unwrap_or_else(|why| panic!("the other session was disturbed: {why}"));
    assert!(
        keepalives >= 2,
        "router B heard {keepalives} KEEPALIVEs from herald"
    );
    // A well-formed OPEN still works after all of that.
    let mut router_a = accept(&a).await;
    let Message::Open(_) = router_a.recv().await else {
        panic!("expected OPEN");
    };
    router_a
        .send(Message::Open(Open::new(
            ROUTER_ASN,
            3,
            ROUTER_ID,
            &[Family::Ipv4Unicast],
        )))
        .await;
}
