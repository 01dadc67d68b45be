//! herald on a lab host: its config and starting it.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use super::daemon::{self, Outcome};
use super::netlab::{Lab, ProcId};

/// The herald binary Cargo built for this test run.
pub const BIN: &str = env!("CARGO_BIN_EXE_herald");

/// One `[[peer]]`.
pub struct Peer {
    pub name: String,
    pub address: IpAddr,
    pub asn: u32,
}

/// What goes into a host's herald config. Timers are short for tests.
#[derive(Default)]
pub struct HeraldSpec {
    pub asn: u32,
    pub peers: Vec<Peer>,
    pub vips: Vec<String>,
    /// Keys added to every `[[peer]]` table (e.g. `password = "..."`).
    pub peer_keys: String,
    /// Keys added to every `[[vip]]` table (e.g. `checks = ["svc"]`).
    pub vip_keys: String,
    /// Tables appended to the file (e.g. `[[check]]`).
    pub extra: String,
    /// Keys added to `[global]` (e.g. `bfd = true`).
    pub global_keys: String,
    /// `hold-time` in `[global]`; `"9s"` when not given.
    pub hold_time: Option<String>,
}

/// The TOML config for `spec`.
pub fn config(spec: &HeraldSpec) -> String {
    let mut conf = format!(
        "\
[global]
asn = {}
router-id = \"auto\"
hold-time = \"{}\"
connect-retry = \"1s\"
connect-retry-max = \"2s\"
{}
",
        spec.asn,
        spec.hold_time.as_deref().unwrap_or("9s"),
        spec.global_keys,
    );
    for peer in &spec.peers {
        let _ = write!(
            conf,
            "
[[peer]]
name = \"{}\"
address = \"{}\"
asn = {}
{}
",
            peer.name, peer.address, peer.asn, spec.peer_keys
        );
    }
    for vip in &spec.vips {
        let _ = write!(conf, "\n[[vip]]\nprefix = \"{vip}\"\n{}\n", spec.vip_keys);
    }
    conf.push_str(&spec.extra);
    conf
}

/// Writes `<name>.toml` and runs `herald run --config FILE` in `ns`, its
/// log in `<name>.log`.
pub fn spawn(lab: &mut Lab, ns: &str, name: &str, spec: &HeraldSpec) -> ProcId {
    let text = daemon_config(lab, name, &config(spec));
    let conf = lab.write_file(&format!("{name}.toml"), &text);
    lab.spawn(
        ns,
        name,
        Path::new(BIN),
        &["run".as_ref(), "--config".as_ref(), conf.as_os_str()],
    )
}

/// `text` with the daemon's socket and state file in the lab's directory,
/// so that several heralds (and the host's own) never share them.
pub fn daemon_config(lab: &Lab, name: &str, text: &str) -> String {
    daemon_config_at(lab, name, text, &socket(lab, name))
}

/// Like [`daemon_config`], but with the control socket at `socket` (e.g.
/// the default one, where the package's scripts look for the daemon).
pub fn daemon_config_at(lab: &Lab, name: &str, text: &str, socket: &Path) -> String {
    let dir = lab.dir();
    let mut text = text.replacen(
        "[global]\n",
        &format!(
            "[global]\nstate-file = \"{}\"\n",
            dir.join(format!("{name}.state.json")).display()
        ),
        1,
    );
    let _ = write!(text, "\n[control]\nsocket = \"{}\"\n", socket.display());
    text
}

/// The control socket of the herald called `name`.
pub fn socket(lab: &Lab, name: &str) -> std::path::PathBuf {
    lab.dir().join(format!("{name}.sock"))
}

/// Like [`spawn`], but with a config text of the caller's (e.g. [`config`]
/// with a timer changed); the daemon's socket and state file are added.
pub fn spawn_text(lab: &mut Lab, ns: &str, name: &str, text: &str) -> ProcId {
    let text = daemon_config(lab, name, text);
    let conf = lab.write_file(&format!("{name}.toml"), &text);
    lab.spawn(
        ns,
        name,
        Path::new(BIN),
        &["run".as_ref(), "--config".as_ref(), conf.as_os_str()],
    )
}

/// The config file [`spawn`] and [`spawn_text`] write for `name`.
pub fn config_path(lab: &Lab, name: &str) -> PathBuf {
    lab.dir().join(format!("{name}.toml"))
}

/// Runs `herald run --config CONFIG` from the binary at `bin` in `ns`,
/// with its log in `<log_name>.log`: a second run of a daemon with the
/// config (and so the socket and state file) of a first one, or a run
/// from a copy of the binary.
pub fn spawn_config(lab: &mut Lab, ns: &str, log_name: &str, bin: &Path, config: &Path) -> ProcId {
    lab.spawn(
        ns,
        log_name,
        bin,
        &["run".as_ref(), "--config".as_ref(), config.as_os_str()],
    )
}

/// Runs the one-shot command `herald ARGS... --socket SOCKET` against the
/// daemon called `name` (killed if it takes more than 20 s).
pub fn ctl(lab: &Lab, name: &str, args: &[&str]) -> Outcome {
    let socket = socket(lab, name);
    let mut all: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
    all.push("--socket".as_ref());
    all.push(socket.as_os_str());
    daemon::run(&all)
}

/// `herald status --json` of the daemon called `name`, as untyped JSON
/// (so that tests can read fields this version of the report may lack).
pub fn status_json(lab: &Lab, name: &str) -> Result<serde_json::Value, String> {
    let out = ctl(lab, name, &["status", "--json"]);
    if out.code != Some(0) {
        return Err(format!(
            "status exited with {:?}: {}{}",
            out.code, out.stdout, out.stderr
        ));
    }
    serde_json::from_str(&out.stdout).map_err(|e| format!("status --json: {e}: {}", out.stdout))
}

/// The entry of peer `peer` in a `status --json` report.
pub fn peer_status<'a>(report: &'a serde_json::Value, peer: &str) -> Option<&'a serde_json::Value> {
    report["peers"]
        .as_array()?
        .iter()
        .find(|p| p["name"].as_str() == Some(peer))
}
