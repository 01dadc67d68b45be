//! Start-up: from `herald run` being spawned to READY=1 on the
//! `NOTIFY_SOCKET` this bench binds, the moment systemd would consider the
//! service started (configuration loaded, probes built, control socket
//! listening). Also prints the release binary's size.
//!
//! Run: `cargo bench --bench startup`. Prints figures only.

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Starts measured; the median counts.
const RUNS: usize = 20;
/// VIPs in the configuration, each with a file check.
const VIPS: usize = 100;

fn main() {
    // `cargo test --all-targets` also runs benchmarks, without `--bench`;
    // measuring there would only slow the tests down.
    if !std::env::args().any(|arg| arg == "--bench") {
        eprintln!("startup: not measuring outside `cargo bench --bench startup`");
        return;
    }
    let herald = Path::new(env!("CARGO_BIN_EXE_herald"));
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = dir.path().join("herald.toml");
    std::fs::write(&config, config_text(dir.path())).expect("write config");
    let notify = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&notify).expect("bind the notify socket");
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");

    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        let mut child = Command::new(herald)
            .args(["run", "-q", "--config"])
            .arg(&config)
            .env("NOTIFY_SOCKET", &notify)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start herald");
        let mut buf = [0u8; 512];
        let ready = loop {
            match socket.recv(&mut buf) {
                Ok(n) if String::from_utf8_lossy(&buf[..n]).contains("READY=1") => {
                    break Some(start.elapsed())
                }
                Ok(_) => {}
                Err(_) => break None,
            }
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let _ = child.wait();
        // Drain what the stopping daemon sent (STOPPING=1 and the like).
        socket.set_nonblocking(true).expect("nonblocking");
        while socket.recv(&mut buf).is_ok() {}
        socket.set_nonblocking(false).expect("blocking");
        times.push(ready.expect("READY=1 within 10 s"));
    }
    times.sort();
    let size = std::fs::metadata(herald).map_or(0, |m| m.len());
    println!("\nstart-up: spawn of `herald run` -> READY=1, {VIPS} VIPs with file checks, 1 peer; {RUNS} runs");
    println!(
        "  median {:.1} ms, min {:.1} ms, max {:.1} ms",
        ms(times[RUNS / 2]),
        ms(times[0]),
        ms(times[RUNS - 1])
    );
    println!(
        "  binary {} ({:.1} MiB, not stripped)",
        herald.display(),
        size as f64 / (1024.0 * 1024.0)
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn config_text(dir: &Path) -> String {
    let mut text = format!(
        "[global]\nasn = 65001\nrouter-id = \"192.0.2.1\"\nstate-file = \"{}\"\n\n\
         [control]\nsocket = \"{}\"\n\n[[peer]]\naddress = \"127.0.0.1\"\nport = 1\nasn = 65000\n",
        dir.join("state.json").display(),
        dir.join("herald.sock").display()
    );
    for i in 0..VIPS {
        text.push_str(&format!(
            "\n[[check]]\nname = \"c{i}\"\nkind = \"file\"\npath = \"{}\"\n\
             \n[[vip]]\nprefix = \"198.18.0.{}/32\"\nchecks = [\"c{i}\"]\n",
            dir.join("maintenance").display(),
            i + 1
        ));
    }
    text
}
