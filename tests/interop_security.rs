//! Session security against BIRD 2 in network namespaces: TCP MD5
//! signatures (RFC 2385) with matching and mismatched keys, GTSM (RFC
//! 5082), and the key never showing in herald's logs, status or errors.

mod support;

use std::net::IpAddr;
use std::process::Command;
use std::time::Duration;

use support::bird::{self, Bird};
use support::herald::{self, HeraldSpec};
use support::netlab::{kernel_route, Lab};
use support::specs::{self, HOST_AS};
use support::topology::{self, StarLan};
use support::wait::{wait_until, INTERVAL, SETTLE};

const VIP: &str = "192.0.2.10/32";
const KEY: &str = "k3y-of-the-lab";
const NAME: &str = "herald-h1";
/// How long a session that must not come up is given to prove it.
const REFUSED_FOR: Duration = Duration::from_secs(6);

struct Setup {
    lab: Lab,
    lan: StarLan,
    bird: Bird,
}

/// BIRD with `router_keys` added to the host's protocol, herald with
/// `peer_keys` added to its `[[peer]]`.
fn setup(router_keys: &str, peer_keys: &str) -> Option<Setup> {
    if !support::lab_available("interop_security") {
        return None;
    }
    let mut lab = Lab::new();
    let lan = topology::star(&mut lab, 1);
    lan.hosts[0].add_vip(VIP);
    let host = IpAddr::from(lan.hosts[0].v4);
    let plain = format!("neighbor {host} as {HOST_AS};");
    let config = bird::ecmp_router_config(&specs::router(&lan, false))
        .replace(&plain, &format!("{plain} {router_keys}"));
    assert!(
        config.contains(router_keys),
        "router keys not placed:\n{config}"
    );
    let bird = bird::start(&mut lab, &lan.router, "bird", &config);
    let spec = HeraldSpec {
        peer_keys: peer_keys.into(),
        ..specs::herald(&[VIP])
    };
    let ns = lan.hosts[0].ns.clone();
    herald::spawn(&mut lab, &ns, NAME, &spec);
    Some(Setup { lab, lan, bird })
}

impl Setup {
    fn established(&self) -> bool {
        self.bird
            .birdc(&["show", "protocols", "h1_v4"])
            .unwrap_or_default()
            .contains("Established")
    }

    fn expect_up(&mut self) {
        let host = IpAddr::from(self.lan.hosts[0].v4);
        let result = wait_until(SETTLE, INTERVAL, || {
            match kernel_route(&self.lan.router, VIP) {
                Some(hops) if hops == [host] => Ok(()),
                other => Err(format!("{VIP}: {other:?}")),
            }
        });
        if let Err(why) = result {
            panic!(
                "{why}\n{}\n=== logs\n{}",
                self.bird.protocols_all(),
                self.lab.log_tails(30)
            );
        }
    }

    fn expect_refused(&mut self) {
        std::thread::sleep(REFUSED_FOR);
        assert!(
            !self.established() && kernel_route(&self.lan.router, VIP).is_none(),
            "the session came up although it must not\n{}\n=== logs\n{}",
            self.bird.protocols_all(),
            self.lab.log_tails(30)
        );
    }
}

#[test]
fn a_matching_md5_key_brings_the_session_up_and_never_shows() {
    let Some(mut s) = setup(
        &format!("password \"{KEY}\";"),
        &format!("password = \"{KEY}\""),
    ) else {
        return;
    };
    s.expect_up();
    let socket = herald::socket(&s.lab, NAME);
    let status = Command::new(herald::BIN)
        .args(["status", "--json", "--socket"])
        .arg(&socket)
        .output()
        .expect("herald status");
    let config = s.lab.dir().join(format!("{NAME}.toml"));
    let check = Command::new(herald::BIN)
        .args(["check", "--config"])
        .arg(&config)
        .output()
        .expect("herald check");
    let mut seen = String::from_utf8_lossy(&status.stdout).into_owned();
    seen.push_str(&String::from_utf8_lossy(&check.stdout));
    seen.push_str(&String::from_utf8_lossy(&check.stderr));
    seen.push_str(&s.lab.log_tails(1000));
    assert!(status.status.success() && check.status.success(), "{seen}");
    assert!(!seen.contains(KEY), "the key leaked:\n{seen}");
}

#[test]
fn a_mismatched_md5_key_keeps_the_session_down() {
    let Some(mut s) = setup(
        &format!("password \"{KEY}\";"),
        "password = \"another-key\"",
    ) else {
        return;
    };
    s.expect_refused();
}

#[test]
fn gtsm_on_both_sides_brings_the_session_up() {
    let Some(mut s) = setup("ttl security on;", "ttl-security = true") else {
        return;
    };
    s.expect_up();
}

#[test]
fn a_router_requiring_gtsm_refuses_a_speaker_without_it() {
    let Some(mut s) = setup("ttl security on;", "") else {
        return;
    };
    s.expect_refused();
}
