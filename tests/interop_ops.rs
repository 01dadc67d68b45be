//! Operating herald against BIRD 2 in network namespaces: a reload changes
//! a VIP's MED at the router without resetting the session, an invalid file
//! changes nothing, and a drain shows GRACEFUL_SHUTDOWN (65535:0) at the
//! router before the routes go, while the session stays established.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use support::bird::{self, Bird};
use support::herald::{self, HeraldSpec};
use support::netlab::Lab;
use support::specs;
use support::topology::{self, StarLan};
use support::wait::{wait_until, INTERVAL, SETTLE};

const VIP: &str = "192.0.2.10/32";
const NAME: &str = "herald-h1";

/// One host running herald, one router running BIRD.
struct Setup {
    lab: Lab,
    _lan: StarLan,
    bird: Bird,
    config: PathBuf,
    socket: PathBuf,
}

fn spec(vip_keys: &str) -> HeraldSpec {
    HeraldSpec {
        vip_keys: vip_keys.into(),
        ..specs::herald(&[VIP])
    }
}

fn setup(test: &str, vip_keys: &str) -> Option<Setup> {
    if !support::lab_available(test) {
        return None;
    }
    let mut lab = Lab::new();
    let lan = topology::star(&mut lab, 1);
    lan.hosts[0].add_vip(VIP);
    let bird = bird::start(
        &mut lab,
        &lan.router,
        "bird",
        &bird::ecmp_router_config(&specs::router(&lan, false)),
    );
    let ns = lan.hosts[0].ns.clone();
    herald::spawn(&mut lab, &ns, NAME, &spec(vip_keys));
    let config = lab.dir().join(format!("{NAME}.toml"));
    let socket = herald::socket(&lab, NAME);
    Some(Setup {
        lab,
        _lan: lan,
        bird,
        config,
        socket,
    })
}

impl Setup {
    /// BIRD's view of the VIP, attributes included.
    fn route(&self) -> String {
        self.bird
            .birdc(&["show", "route", "all", "for", VIP])
            .unwrap_or_default()
    }

    /// Waits until BIRD's view of the VIP satisfies `ok`.
    fn expect_route(&mut self, what: &str, ok: impl Fn(&str) -> bool) {
        let result = wait_until(SETTLE, INTERVAL, || {
            let route = self.route();
            if ok(&route) {
                Ok(())
            } else {
                Err(format!("{what}; BIRD has:\n{route}"))
            }
        });
        if let Err(why) = result {
            panic!("{why}\n=== logs\n{}", self.lab.log_tails(30));
        }
    }

    /// The session's state and the time it entered it, from
    /// `birdc show protocols`: a reset changes the time.
    fn session(&self) -> (String, String) {
        let text = self
            .bird
            .birdc(&["show", "protocols", "h1_v4"])
            .unwrap_or_default();
        let line = text
            .lines()
            .find(|l| l.starts_with("h1_v4"))
            .unwrap_or_default();
        let fields: Vec<&str> = line.split_whitespace().collect();
        let field = |i: usize| fields.get(i).copied().unwrap_or_default().to_string();
        (field(5), field(4))
    }

    /// Runs a one-shot herald command against this host's daemon.
    fn herald(&self, args: &[&str]) -> (i32, String) {
        let output = Command::new(herald::BIN)
            .args(args)
            .arg("--socket")
            .arg(&self.socket)
            .output()
            .expect("run herald");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.code().unwrap_or(-1), text)
    }

    /// Rewrites the daemon's config with `vip_keys` in the VIP table.
    fn rewrite(&self, vip_keys: &str) {
        let text = herald::daemon_config(&self.lab, NAME, &herald::config(&spec(vip_keys)));
        write(&self.config, &text);
    }
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

#[test]
fn reload_changes_the_med_at_the_router_without_resetting_the_session() {
    let Some(mut s) = setup("interop_ops", "med = 10") else {
        return;
    };
    s.expect_route("MED 10", |r| r.contains("BGP.med: 10"));
    let before = s.session();
    assert_eq!(before.0, "Established", "session at the start: {before:?}");

    s.rewrite("med = 20");
    let (code, out) = s.herald(&["reload"]);
    assert_eq!(code, 0, "reload: {out}");
    s.expect_route("MED 20 after reload", |r| r.contains("BGP.med: 20"));
    assert_eq!(s.session(), before, "the reload reset the BGP session");

    // An invalid file is refused and nothing changes.
    write(&s.config, "[global]\nasn = 0\n");
    let (code, out) = s.herald(&["reload"]);
    assert_eq!(code, 5, "reload of an invalid file: {out}");
    assert!(out.contains("global.asn"), "the error names the key: {out}");
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        s.route().contains("BGP.med: 20"),
        "route changed:\n{}",
        s.route()
    );
    assert_eq!(s.session(), before, "the refused reload reset the session");
}

#[test]
fn drain_announces_graceful_shutdown_then_withdraws_with_the_session_up() {
    let Some(mut s) = setup("interop_ops", "") else {
        return;
    };
    s.expect_route("the VIP", |r| r.contains("BGP.as_path: 65001"));
    let before = s.session();

    let (code, out) = s.herald(&["drain", "--time", "3s"]);
    assert_eq!(code, 0, "drain: {out}");
    s.expect_route("GRACEFUL_SHUTDOWN on the route", |r| {
        r.contains("(65535,0)")
    });
    s.expect_route("the route withdrawn after the drain time", |r| {
        !r.contains(VIP.trim_end_matches("/32"))
    });
    assert_eq!(s.session(), before, "the drain reset the BGP session");

    let (code, out) = s.herald(&["undrain"]);
    assert_eq!(code, 0, "undrain: {out}");
    s.expect_route("the VIP back without the community", |r| {
        r.contains("BGP.as_path: 65001") && !r.contains("(65535,0)")
    });
}
