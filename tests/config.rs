//! The configuration file as operators meet it: the shipped examples, the
//! errors a mistake produces (with file, line, column and key), resolved
//! defaults, warnings, and robustness against garbage.

use std::path::{Path, PathBuf};
use std::time::Duration;

use herald::config::{
    CheckKind, Config, ConfigError, Damping, Degrade, DownAction, Origin, RouterId, Warning,
};

/// The warning of a peer without BFD or a short hold time, which the
/// default timers always give; [`parse`] leaves it out so that the tests
/// of other warnings need not repeat it.
const DEAD_HOST: &str = "neither BFD nor a short hold time";

/// `warnings` without the dead-host warning.
fn other(warnings: Vec<Warning>) -> Vec<Warning> {
    warnings
        .into_iter()
        .filter(|w| !w.message.contains(DEAD_HOST))
        .collect()
}

fn parse(text: &str) -> Result<(Config, Vec<Warning>), ConfigError> {
    Config::parse(text, Path::new("/etc/herald/herald.toml"))
        .map(|(config, warnings)| (config, other(warnings)))
}

/// Every warning of `text`, the dead-host one included.
fn all_warnings(text: &str) -> Vec<Warning> {
    match Config::parse(text, Path::new("/etc/herald/herald.toml")) {
        Ok((_, warnings)) => warnings,
        Err(e) => panic!("unexpected error: {e}"),
    }
}

#[test]
fn a_peer_without_bfd_and_with_the_default_hold_time_names_how_long_a_dead_host_stays() {
    let text = "[global]\nasn = 65001\n[[peer]]\naddress = \"198.51.100.1\"\nasn = 65000\n";
    let warnings = all_warnings(text);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].key, "peer[0].hold-time");
    assert!(
        warnings[0]
            .message
            .contains("for up to 95 s (hold time 90 s + restart time 5 s)"),
        "{}",
        warnings[0].message
    );
    let no_gr = text.replace("asn = 65001\n", "asn = 65001\ngraceful-restart = false\n");
    assert!(all_warnings(&no_gr)[0]
        .message
        .contains("for up to 90 s (the hold time)"));
    let silent = all_warnings(&text.replace("asn = 65001\n", "asn = 65001\nhold-time = 0\n"));
    assert!(silent[0].message.contains("maybe for ever"), "{silent:?}");
}

#[test]
fn bfd_or_a_hold_time_of_nine_seconds_or_less_is_no_dead_host_warning() {
    let peer = "[[peer]]\naddress = \"198.51.100.1\"\nasn = 65000\n";
    for global in ["bfd = true\n", "hold-time = \"9s\"\n", "hold-time = 3\n"] {
        let text = format!("[global]\nasn = 65001\n{global}{peer}");
        assert!(all_warnings(&text).is_empty(), "{global}");
    }
    let text = format!("[global]\nasn = 65001\nhold-time = \"10s\"\n{peer}");
    assert_eq!(all_warnings(&text).len(), 1);
}

fn config(text: &str) -> Config {
    match parse(text) {
        Ok((config, _)) => config,
        Err(e) => panic!("unexpected error: {e}"),
    }
}

fn warnings(text: &str) -> Vec<Warning> {
    match parse(text) {
        Ok((_, warnings)) => warnings,
        Err(e) => panic!("unexpected error: {e}"),
    }
}

fn toml_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).expect("examples directory is readable");
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            toml_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "toml") {
            found.push(path);
        }
    }
}

fn examples() -> Vec<PathBuf> {
    let mut found = Vec::new();
    toml_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"),
        &mut found,
    );
    found.sort();
    found
}

#[test]
fn every_example_file_validates() {
    let files = examples();
    assert!(files.len() >= 2, "examples found: {files:?}");
    for file in files {
        if let Err(e) = Config::load(&file) {
            panic!("{e}");
        }
    }
}

#[test]
fn the_commented_out_keys_of_the_full_example_are_valid_too() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/herald.toml");
    let text = std::fs::read_to_string(&path).expect("examples/herald.toml is readable");
    // Uncomment every line that is a table header or a `key = value`.
    let uncommented: String = text
        .lines()
        .map(|line| match line.strip_prefix('#') {
            Some(rest)
                if rest.starts_with('[') || rest.contains(" = ") && !rest.starts_with(' ') =>
            {
                rest
            }
            _ => line,
        })
        .map(|line| format!("{line}\n"))
        .collect();
    let (config, _) = Config::parse(&uncommented, &path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.peers.len(), 2);
    assert_eq!(config.vips.len(), 2);
    assert_eq!(
        config.global.router_id,
        RouterId::Fixed([198, 51, 100, 11].into())
    );
    assert_eq!(config.checks.len(), 4);
    assert_eq!(config.vips[0].checks, vec![0, 1, 2, 3]);
    assert!(matches!(config.vips[0].on_down, DownAction::Degrade(_)));
    assert!(config.vips[0].damping.is_some());
    assert_eq!(config.vips[1].checks, Vec::<usize>::new());
    assert_eq!(
        config.vips[1].hook,
        Some(vec!["/usr/local/bin/vip-changed".to_string()])
    );
}

#[test]
fn the_health_example_withdraws_one_vip_and_degrades_the_other() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/health.toml");
    let (config, warnings) = Config::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let warnings = other(warnings);
    assert!(warnings.is_empty(), "{warnings:?}");
    let names: Vec<&str> = config.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["web", "cache", "maintenance"]);
    let (web, cache) = (&config.vips[0], &config.vips[1]);
    assert_eq!(web.checks, vec![0, 2]);
    assert_eq!(web.on_down, DownAction::Withdraw);
    assert_eq!(
        web.damping.as_ref().map(|d| (d.half_life, d.max_suppress)),
        Some((Duration::from_secs(120), Duration::from_secs(600)))
    );
    assert_eq!(cache.checks, vec![1, 2]);
    assert_eq!(
        cache.on_down,
        DownAction::Degrade(Degrade {
            med: Some(1000),
            as_path_prepend: 0,
            communities: vec![0xFDE8_029A],
        })
    );
    assert_eq!(cache.damping, None);
}

#[test]
fn the_packaged_example_announces_nothing_until_edited() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/herald.toml");
    let (config, warnings) = Config::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let warnings = other(warnings);
    assert!(config.peers.is_empty());
    assert!(config.vips.is_empty());
    assert!(warnings.is_empty());
}

#[test]
fn the_minimal_example_resolves_to_one_peer_and_one_vip() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/minimal.toml");
    let (config, warnings) = Config::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let warnings = other(warnings);
    assert!(warnings.is_empty());
    assert_eq!(config.source, path);
    assert_eq!(config.global.asn, 65001);
    assert_eq!(config.peers.len(), 1);
    assert_eq!(config.vips[0].prefix, "192.0.2.10/32".parse().unwrap());
    assert_eq!(config.vips[0].peers, vec![0]);
}

const GLOBAL: &str = "[global]\nasn = 65001\n";
const PEER: &str = "[global]\nasn = 65001\n\n[[peer]]\naddress = \"198.51.100.1\"\nasn = 65000\n";

/// (what, config text, line, column, key, part of the message)
const BAD: &[(&str, &str, usize, usize, &str, &str)] = &[
    (
        "unknown key",
        "[global]\nasn = 65001\nhold = \"9s\"\n",
        3,
        1,
        "global.hold",
        "unknown field `hold`",
    ),
    (
        "unknown key in a peer",
        "[global]\nasn = 65001\n[[peer]]\naddress = \"198.51.100.1\"\nasn = 1\n  remote-as = 1\n",
        6,
        3,
        "peer[0].remote-as",
        "unknown field `remote-as`",
    ),
    (
        "unknown top-level table",
        "[global]\nasn = 65001\n[peers]\n",
        3,
        2,
        "peers",
        "unknown field `peers`",
    ),
    (
        "missing global table",
        "[[peer]]\naddress = \"198.51.100.1\"\nasn = 1\n",
        1,
        1,
        "global",
        "missing required table [global]",
    ),
    (
        "missing global asn",
        "\n[global]\nrouter-id = \"auto\"\n",
        2,
        1,
        "global.asn",
        "missing required key `asn`",
    ),
    (
        "missing peer address",
        "[global]\nasn = 65001\n\n[[peer]]\nasn = 65000\n",
        4,
        1,
        "peer[0].address",
        "missing required key `address`",
    ),
    (
        "wrong type",
        "[global]\nasn = \"65001\"\n",
        2,
        7,
        "global.asn",
        "expected an integer",
    ),
    (
        "global asn 0",
        "[global]\nasn = 0\n",
        2,
        7,
        "global.asn",
        "ASN 0 is reserved",
    ),
    (
        "peer asn 0",
        "[global]\nasn = 65001\n[[peer]]\naddress = \"198.51.100.1\"\nasn = 0\n",
        5,
        7,
        "peer[0].asn",
        "ASN 0 is reserved",
    ),
    (
        "asn too large",
        "[global]\nasn = 4294967296\n",
        2,
        7,
        "global.asn",
        "expected 1..=4294967295",
    ),
    (
        "router id 0.0.0.0",
        "[global]\nasn = 65001\nrouter-id = \"0.0.0.0\"\n",
        3,
        13,
        "global.router-id",
        "0.0.0.0 is not allowed",
    ),
    (
        "hold time 1",
        "[global]\nasn = 65001\nhold-time = \"1s\"\n",
        3,
        13,
        "global.hold-time",
        "hold time 1 s is not allowed",
    ),
    (
        "hold time 2 on a peer",
        "[global]\nasn = 65001\n[[peer]]\naddress = \"198.51.100.1\"\nasn = 1\nhold-time = 2\n",
        6,
        13,
        "peer[0].hold-time",
        "hold time 2 s is not allowed",
    ),
    (
        "hold time in fractions of a second",
        "[global]\nasn = 65001\nhold-time = \"3s500ms\"\n",
        3,
        13,
        "global.hold-time",
        "not a whole number of seconds",
    ),
    (
        "hold time beyond 16 bits",
        "[global]\nasn = 65001\nhold-time = \"19h\"\n",
        3,
        13,
        "global.hold-time",
        "at most 65535 s",
    ),
    (
        "bad duration unit",
        "[global]\nasn = 65001\nconnect-retry = \"5 sec\"\n",
        3,
        17,
        "global.connect-retry",
        "expected a duration such as \"90s\"",
    ),
    (
        "negative duration",
        "[global]\nasn = 65001\nconnect-retry = -5\n",
        3,
        17,
        "global.connect-retry",
        "negative duration",
    ),
    (
        "keepalive equal to hold time",
        "[global]\nasn = 65001\nhold-time = 30\nkeepalive = \"30s\"\n",
        4,
        13,
        "global.keepalive",
        "keepalive 30 s (global.keepalive) must be less than the hold time 30 s",
    ),
    (
        "peer hold time below the global keepalive",
        "[global]\nasn = 65001\nkeepalive = 10\n[[peer]]\naddress = \"198.51.100.1\"\nasn = 1\nhold-time = 9\n",
        7,
        13,
        "peer[0].hold-time",
        "keepalive 10 s (global.keepalive) must be less than the hold time 9 s (peer[0].hold-time)",
    ),
    (
        "connect-retry-max below connect-retry",
        "[global]\nasn = 65001\nconnect-retry = \"2m\"\n",
        3,
        17,
        "global.connect-retry",
        "connect-retry-max 60s (default) must be at least connect-retry 120s",
    ),
    (
        "duplicate peer address",
        "[global]\nasn = 65001\n[[peer]]\nname = \"a\"\naddress = \"198.51.100.1\"\nasn = 1\n[[peer]]\nname = \"b\"\naddress = \"198.51.100.1\"\nasn = 1\n",
        9,
        11,
        "peer[1].address",
        "already configured as peer[0] (line 3)",
    ),
    (
        "duplicate peer name",
        "[global]\nasn = 65001\n[[peer]]\nname = \"tor\"\naddress = \"198.51.100.1\"\nasn = 1\n[[peer]]\nname = \"tor\"\naddress = \"198.51.100.2\"\nasn = 1\n",
        8,
        8,
        "peer[1].name",
        "peer name \"tor\" is already used by peer[0]",
    ),
    (
        "ipv4 vips over an ipv6 session without a next hop",
        "[global]\nasn = 65001\nrouter-id = \"192.0.2.1\"\n[[peer]]\naddress = \"2001:db8::1\"\nasn = 1\nipv4 = true\n",
        7,
        8,
        "peer[0].ipv4",
        "needs `next-hop-ipv4`",
    ),
    (
        "password and password file together",
        "[global]\nasn = 65001\n[[peer]]\naddress = \"198.51.100.1\"\nasn = 1\npassword = \"k\"\npassword-file = \"/etc/herald/k\"\n",
        7,
        17,
        "peer[0].password-file",
        "not both",
    ),
    (
        "md5 key longer than the kernel takes",
        "[global]\nasn = 65001\n[[peer]]\naddress = \"198.51.100.1\"\nasn = 1\npassword = \"0123456789012345678901234567890123456789012345678901234567890123456789012345678901\"\n",
        6,
        12,
        "peer[0].password",
        "at most 80",
    ),
    (
        "ttl together with ttl security",
        "[global]\nasn = 65001\n[[peer]]\naddress = \"198.51.100.1\"\nasn = 1\nttl-security = true\nttl = 2\n",
        7,
        7,
        "peer[0].ttl",
        "exclude each other",
    ),
    (
        "host bits set",
        "[global]\nasn = 65001\n[[vip]]\nprefix = \"192.0.2.10/24\"\n",
        4,
        10,
        "vip[0].prefix",
        "192.0.2.10/24 has host bits set (did you mean 192.0.2.0/24?)",
    ),
    (
        "address without a length",
        "[global]\nasn = 65001\n[[vip]]\nprefix = \"192.0.2.10\"\n",
        4,
        10,
        "vip[0].prefix",
        "add a prefix length",
    ),
    (
        "duplicate vip",
        "[global]\nasn = 65001\n[[vip]]\nprefix = \"192.0.2.10/32\"\n[[vip]]\nprefix = \"192.0.2.10/32\"\n",
        6,
        10,
        "vip[1].prefix",
        "192.0.2.10/32 is already configured as vip[0] (line 4)",
    ),
    (
        "bad community",
        "[global]\nasn = 65001\n[[vip]]\nprefix = \"192.0.2.10/32\"\ncommunities = [\"no-export\", \"65536:1\"]\n",
        5,
        29,
        "vip[0].communities[1]",
        "invalid community \"65536:1\"",
    ),
    (
        "bad large community",
        "[global]\nasn = 65001\n[[vip]]\nprefix = \"192.0.2.10/32\"\nlarge-communities = [\"1:2\"]\n",
        5,
        22,
        "vip[0].large-communities[0]",
        "expected \"A:B:C\"",
    ),
    (
        "bad extended community",
        "[global]\nasn = 65001\n[[vip]]\nprefix = \"192.0.2.10/32\"\nextended-communities = [\"rt:4200000000:70000\"]\n",
        5,
        25,
        "vip[0].extended-communities[0]",
        "invalid extended community",
    ),
    (
        "too much prepending",
        "[global]\nasn = 65001\n[[vip]]\nprefix = \"192.0.2.10/32\"\nas-path-prepend = 33\n",
        5,
        19,
        "vip[0].as-path-prepend",
        "expected 0..=32",
    ),
    (
        "unknown origin",
        "[global]\nasn = 65001\n[[vip]]\nprefix = \"192.0.2.10/32\"\norigin = \"IGP\"\n",
        5,
        10,
        "vip[0].origin",
        "unknown origin \"IGP\"",
    ),
    (
        "unknown peer reference",
        "[global]\nasn = 65001\n[[peer]]\nname = \"tor1\"\naddress = \"198.51.100.1\"\nasn = 1\n[[vip]]\nprefix = \"192.0.2.10/32\"\npeers = [\"tor1\", \"tor2\"]\n",
        9,
        18,
        "vip[0].peers[1]",
        "unknown peer \"tor2\" (known peers: tor1)",
    ),
    (
        "empty peer list",
        "[global]\nasn = 65001\n[[peer]]\naddress = \"198.51.100.1\"\nasn = 1\n[[vip]]\nprefix = \"192.0.2.10/32\"\npeers = []\n",
        8,
        9,
        "vip[0].peers",
        "sends this VIP nowhere",
    ),
    (
        "ipv6 vip without an ipv6-capable peer",
        "[global]\nasn = 65001\n[[peer]]\naddress = \"198.51.100.1\"\nasn = 1\n[[vip]]\nprefix = \"2001:db8:10::/64\"\n",
        7,
        10,
        "vip[0].prefix",
        "IPv6 VIP 2001:db8:10::/64 reaches no peer",
    ),
    (
        "ipv4 vip sent only to an ipv6 peer",
        "[global]\nasn = 65001\nrouter-id = \"192.0.2.1\"\n[[peer]]\naddress = \"198.51.100.1\"\nasn = 1\n[[peer]]\naddress = \"2001:db8::1\"\nasn = 1\n[[vip]]\nprefix = \"192.0.2.10/32\"\npeers = [\"2001:db8::1\"]\n",
        12,
        9,
        "vip[0].peers",
        "IPv4 VIP 192.0.2.10/32 reaches no peer",
    ),
    (
        "unknown check name",
        "[global]\nasn = 65001\n[[vip]]\nprefix = \"192.0.2.10/32\"\nchecks = [\"web\"]\n[[check]]\nname = \"db\"\nkind = \"tcp\"\naddress = \"127.0.0.1:5432\"\n",
        5,
        11,
        "vip[0].checks[0]",
        "unknown check \"web\" (known checks: db)",
    ),
    (
        "check listed twice by a vip",
        "[global]\nasn = 65001\n[[check]]\nname = \"db\"\nkind = \"tcp\"\naddress = \"127.0.0.1:5432\"\n[[vip]]\nprefix = \"192.0.2.10/32\"\nchecks = [\"db\", \"db\"]\n",
        9,
        17,
        "vip[0].checks[1]",
        "check \"db\" is listed twice",
    ),
    (
        "duplicate check name",
        "[global]\nasn = 65001\n[[check]]\nname = \"m\"\nkind = \"file\"\npath = \"/a\"\n[[check]]\nname = \"m\"\nkind = \"file\"\npath = \"/b\"\n",
        8,
        8,
        "check[1].name",
        "check name \"m\" is already used by check[0] (line 3)",
    ),
    (
        "url on a tcp check",
        "[global]\nasn = 65001\n[[check]]\nname = \"c\"\nkind = \"tcp\"\naddress = \"127.0.0.1:80\"\nurl = \"http://127.0.0.1/\"\n",
        7,
        7,
        "check[0].url",
        "`url` applies to http checks only, not to tcp checks",
    ),
    (
        "path on an exec check",
        "[global]\nasn = 65001\n[[check]]\nname = \"c\"\nkind = \"exec\"\ncommand = [\"true\"]\npath = \"/a\"\n",
        7,
        8,
        "check[0].path",
        "`path` applies to file checks only, not to exec checks",
    ),
    (
        "reversed status range",
        "[global]\nasn = 65001\n[[check]]\nname = \"c\"\nkind = \"http\"\nurl = \"http://127.0.0.1/\"\nstatus = \"299-200\"\n",
        7,
        10,
        "check[0].status",
        "status range \"299-200\" is empty",
    ),
    (
        "status beyond 599",
        "[global]\nasn = 65001\n[[check]]\nname = \"c\"\nkind = \"http\"\nurl = \"http://127.0.0.1/\"\nstatus = 600\n",
        7,
        10,
        "check[0].status",
        "out of range: HTTP status codes are 100..=599",
    ),
    (
        "fast-interval longer than interval",
        "[global]\nasn = 65001\n[[check]]\nname = \"c\"\nkind = \"file\"\npath = \"/a\"\ninterval = \"1s\"\nfast-interval = \"2s\"\n",
        8,
        17,
        "check[0].fast-interval",
        "fast-interval 2s must not be longer than the interval 1s",
    ),
    (
        "zero interval",
        "[global]\nasn = 65001\n[[check]]\nname = \"c\"\nkind = \"file\"\npath = \"/a\"\ninterval = 0\n",
        7,
        12,
        "check[0].interval",
        "interval must be longer than 0",
    ),
    (
        "rise 0",
        "[global]\nasn = 65001\n[[check]]\nname = \"c\"\nkind = \"file\"\npath = \"/a\"\nrise = 0\n",
        7,
        8,
        "check[0].rise",
        "rise 0 is out of range: expected 1..=100",
    ),
    (
        "fall above 100",
        "[global]\nasn = 65001\n[[check]]\nname = \"c\"\nkind = \"file\"\npath = \"/a\"\nfall = 101\n",
        7,
        8,
        "check[0].fall",
        "fall 101 is out of range: expected 1..=100",
    ),
    (
        "unknown initial state",
        "[global]\nasn = 65001\n[[check]]\nname = \"c\"\nkind = \"file\"\npath = \"/a\"\ninitial = \"healthy\"\n",
        7,
        11,
        "check[0].initial",
        "unknown initial state \"healthy\": expected \"down\" or \"up\"",
    ),
    (
        "relative file path",
        "[global]\nasn = 65001\n[[check]]\nname = \"c\"\nkind = \"file\"\npath = \"etc/herald/maintenance\"\n",
        6,
        8,
        "check[0].path",
        "\"etc/herald/maintenance\" is not an absolute path",
    ),
    (
        "degrade without degrade keys",
        "[global]\nasn = 65001\n[[vip]]\nprefix = \"192.0.2.10/32\"\non-down = \"degrade\"\n",
        5,
        11,
        "vip[0].on-down",
        "degrade changes nothing",
    ),
    (
        "unknown on-down action",
        "[global]\nasn = 65001\n[[vip]]\nprefix = \"192.0.2.10/32\"\non-down = \"drop\"\n",
        5,
        11,
        "vip[0].on-down",
        "unknown on-down action \"drop\": expected \"withdraw\" or \"degrade\"",
    ),
    (
        "bad degrade community",
        "[global]\nasn = 65001\n[[vip]]\nprefix = \"192.0.2.10/32\"\non-down = \"degrade\"\ndegrade-communities = [\"65000:1\", \"x\"]\n",
        6,
        35,
        "vip[0].degrade-communities[1]",
        "invalid community \"x\"",
    ),
    (
        "too much degrade prepending",
        "[global]\nasn = 65001\n[[vip]]\nprefix = \"192.0.2.10/32\"\non-down = \"degrade\"\ndegrade-prepend = 33\n",
        6,
        19,
        "vip[0].degrade-prepend",
        "expected 0..=32",
    ),
    (
        "suppress not above reuse",
        "[global]\nasn = 65001\n[[vip]]\nprefix = \"192.0.2.10/32\"\n[vip.damping]\nsuppress = 500\n",
        6,
        12,
        "vip[0].damping.suppress",
        "suppress 500 (vip[0].damping.suppress) must be greater than reuse 750 (default)",
    ),
    (
        "max-suppress below half-life",
        "[global]\nasn = 65001\n[[vip]]\nprefix = \"192.0.2.10/32\"\ndamping = { half-life = \"10m\" }\n",
        5,
        25,
        "vip[0].damping.half-life",
        "max-suppress 300s (default) must be at least half-life 600s (vip[0].damping.half-life)",
    ),
    (
        "unknown damping key",
        "[global]\nasn = 65001\n[[vip]]\nprefix = \"192.0.2.10/32\"\n[vip.damping]\nhalflife = \"1m\"\n",
        6,
        1,
        "vip[0].damping.halflife",
        "unknown field `halflife`",
    ),
    (
        "unknown check kind",
        "[global]\nasn = 65001\n[[check]]\nname = \"c\"\nkind = \"ping\"\n",
        5,
        8,
        "check[0].kind",
        "unknown check kind \"ping\": expected \"tcp\", \"http\", \"exec\" or \"file\"",
    ),
    (
        "missing check kind",
        "[global]\nasn = 65001\n\n[[check]]\nname = \"c\"\n",
        4,
        1,
        "check[0].kind",
        "missing required key `kind`",
    ),
    (
        "missing address for a tcp check",
        "[global]\nasn = 65001\n\n[[check]]\nname = \"c\"\nkind = \"tcp\"\n",
        4,
        1,
        "check[0].address",
        "missing required key `address`: tcp checks need one",
    ),
    (
        "tcp address without a port",
        "[global]\nasn = 65001\n[[check]]\nname = \"c\"\nkind = \"tcp\"\naddress = \"127.0.0.1\"\n",
        6,
        11,
        "check[0].address",
        "is not an IP address and port",
    ),
    (
        "non-http scheme",
        "[global]\nasn = 65001\n[[check]]\nname = \"c\"\nkind = \"http\"\nurl = \"ftp://127.0.0.1/health\"\n",
        6,
        7,
        "check[0].url",
        "unsupported scheme \"ftp\"",
    ),
    (
        "empty command",
        "[global]\nasn = 65001\n[[check]]\nname = \"c\"\nkind = \"exec\"\ncommand = []\n",
        6,
        11,
        "check[0].command",
        "an empty command runs nothing",
    ),
    (
        "empty program name in a hook",
        "[global]\nasn = 65001\nhook = [\"\", \"x\"]\n",
        3,
        9,
        "global.hook[0]",
        "the program name must not be empty",
    ),
    (
        "unknown key in a check",
        "[global]\nasn = 65001\n[[check]]\nname = \"c\"\nkind = \"tcp\"\nport = 80\n",
        6,
        1,
        "check[0].port",
        "unknown field `port`",
    ),
    (
        "syntax error",
        "[global]\nasn = 65001\nrouter-id = 192.0.2.1\n",
        3,
        18,
        "",
        "expected newline",
    ),
];

#[test]
fn each_mistake_is_reported_at_its_line_column_and_key() {
    for (what, text, line, column, key, message) in BAD {
        let error = match parse(text) {
            Ok(_) => panic!("{what}: accepted"),
            Err(error) => error,
        };
        let shown = error.to_string();
        assert_eq!(error.line(), Some(*line), "{what}: {shown}");
        assert_eq!(error.column(), Some(*column), "{what}: {shown}");
        assert!(error.message().contains(message), "{what}: {shown}");
        let expected = if key.is_empty() {
            format!("/etc/herald/herald.toml:{line}:{column}: ")
        } else {
            assert_eq!(error.key(), Some(*key), "{what}: {shown}");
            format!("/etc/herald/herald.toml:{line}:{column}: {key}: ")
        };
        assert!(shown.starts_with(&expected), "{what}: {shown}");
    }
}

#[test]
fn the_error_display_names_file_position_and_key() {
    let text = format!("{PEER}\n[[vip]]\nprefix   =  \"192.0.2.10/24\"\n");
    let error = parse(&text).unwrap_err();
    assert_eq!(
        error.to_string(),
        "/etc/herald/herald.toml:9:13: vip[0].prefix: 192.0.2.10/24 has host bits set \
         (did you mean 192.0.2.0/24?)"
    );
}

#[test]
fn columns_count_characters_not_bytes() {
    let error = parse("# café ☕\n[global]\nasn = 65001\nrouter-id = \"é\"\n").unwrap_err();
    assert_eq!((error.line(), error.column()), (Some(4), Some(13)));
    let error = parse("[global]\nasn = 65001 # ☕☕\nfoo = 1\n").unwrap_err();
    assert_eq!((error.line(), error.column()), (Some(3), Some(1)));
}

#[test]
fn an_unreadable_file_is_named_in_the_error() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("missing.toml");
    let error = Config::load(&path).unwrap_err();
    assert_eq!(error.path(), path);
    assert_eq!(error.line(), None);
    assert!(error.to_string().starts_with(&path.display().to_string()));
    assert!(std::error::Error::source(&error).is_some());
}

#[test]
fn a_file_on_disk_is_loaded_and_remembers_its_path() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("herald.toml");
    std::fs::write(&path, PEER).expect("write config");
    let (config, _) = Config::load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.source, path);
}

#[test]
fn peers_may_be_absent_and_then_nothing_is_announced() {
    let config = config(GLOBAL);
    assert!(config.peers.is_empty());
    assert!(config.vips.is_empty());
    assert_eq!(config.global.router_id, RouterId::Auto);
}

#[test]
fn a_vip_without_peers_is_accepted_with_a_warning() {
    let text = format!("{GLOBAL}[[vip]]\nprefix = \"192.0.2.10/32\"\n");
    let warnings = warnings(&text);
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].key, "vip[0].prefix");
    assert!(warnings[0].message.contains("announced to no one"));
}

#[test]
fn peer_defaults_follow_the_schema() {
    let peer = config(PEER).peers.remove(0);
    assert_eq!(peer.name, "198.51.100.1");
    assert_eq!(peer.port, 179);
    assert_eq!(peer.asn, 65000);
    assert_eq!(peer.local_address, None);
    assert_eq!(peer.hold_time, 90);
    assert_eq!(peer.keepalive, 30);
    assert_eq!(peer.connect_retry, Duration::from_secs(5));
    assert_eq!(peer.connect_retry_max, Duration::from_secs(60));
    assert!(peer.ipv4);
    assert!(!peer.ipv6);
    assert_eq!(peer.next_hop_ipv4, None);
    assert_eq!(peer.next_hop_ipv6, None);
    assert!(!peer.is_ibgp(65001));
    assert!(peer.is_ibgp(65000));
}

#[test]
fn keepalive_defaults_to_a_third_of_the_peers_own_hold_time() {
    let text = "[global]\nasn = 65001\nhold-time = \"30s\"\n\
                [[peer]]\naddress = \"198.51.100.1\"\nasn = 1\n\
                [[peer]]\naddress = \"198.51.100.2\"\nasn = 1\nhold-time = \"9s\"\n\
                [[peer]]\naddress = \"198.51.100.3\"\nasn = 1\nhold-time = 4\n";
    let peers = config(text).peers;
    let timers: Vec<(u16, u16)> = peers.iter().map(|p| (p.hold_time, p.keepalive)).collect();
    assert_eq!(timers, vec![(30, 10), (9, 3), (4, 1)]);
}

#[test]
fn a_peer_inherits_every_global_timer_it_does_not_override() {
    let text = "[global]\nasn = 65001\nhold-time = \"3m\"\nkeepalive = \"1m\"\n\
                connect-retry = \"500ms\"\nconnect-retry-max = \"1m30s\"\n\
                [[peer]]\naddress = \"198.51.100.1\"\nasn = 1\n\
                [[peer]]\naddress = \"198.51.100.2\"\nasn = 1\nkeepalive = 20\nconnect-retry-max = \"2m\"\n";
    let peers = config(text).peers;
    assert_eq!((peers[0].hold_time, peers[0].keepalive), (180, 60));
    assert_eq!(peers[0].connect_retry, Duration::from_millis(500));
    assert_eq!(peers[0].connect_retry_max, Duration::from_secs(90));
    assert_eq!((peers[1].hold_time, peers[1].keepalive), (180, 20));
    assert_eq!(peers[1].connect_retry, Duration::from_millis(500));
    assert_eq!(peers[1].connect_retry_max, Duration::from_secs(120));
}

#[test]
fn hold_time_zero_means_no_keepalives() {
    let text = "[global]\nasn = 65001\nhold-time = 0\n\
                [[peer]]\naddress = \"198.51.100.1\"\nasn = 1\n";
    let (config, warnings) = parse(text).unwrap();
    assert_eq!(
        (config.peers[0].hold_time, config.peers[0].keepalive),
        (0, 0)
    );
    assert!(warnings.is_empty());
}

#[test]
fn a_keepalive_next_to_hold_time_zero_is_ignored_with_a_warning() {
    let text = format!("{PEER}hold-time = 0\nkeepalive = 10\n");
    let (config, warnings) = parse(&text).unwrap();
    assert_eq!(config.peers[0].keepalive, 0);
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].key, "peer[0].keepalive");
}

#[test]
fn address_families_default_to_the_session_and_the_next_hops() {
    let text = "[global]\nasn = 65001\nrouter-id = \"192.0.2.1\"\n\
                [[peer]]\nname = \"v4\"\naddress = \"198.51.100.1\"\nasn = 1\n\
                [[peer]]\nname = \"v4-with-v6\"\naddress = \"198.51.100.2\"\nasn = 1\nnext-hop-ipv6 = \"2001:db8::2\"\n\
                [[peer]]\nname = \"v6\"\naddress = \"2001:db8::1\"\nasn = 1\n\
                [[peer]]\nname = \"v6-with-v4\"\naddress = \"2001:db8::3\"\nasn = 1\nnext-hop-ipv4 = \"192.0.2.3\"\n\
                [[peer]]\nname = \"v4-only\"\naddress = \"198.51.100.4\"\nasn = 1\nipv6 = false\nnext-hop-ipv6 = \"2001:db8::4\"\n";
    let families: Vec<(String, bool, bool)> = config(text)
        .peers
        .into_iter()
        .map(|p| (p.name, p.ipv4, p.ipv6))
        .collect();
    assert_eq!(
        families,
        vec![
            ("v4".to_string(), true, false),
            ("v4-with-v6".to_string(), true, true),
            ("v6".to_string(), false, true),
            ("v6-with-v4".to_string(), true, true),
            ("v4-only".to_string(), true, false),
        ]
    );
}

#[test]
fn vip_defaults_follow_the_schema() {
    let text = format!("{PEER}[[peer]]\naddress = \"198.51.100.2\"\nasn = 1\n[[vip]]\nprefix = \"192.0.2.10/32\"\n");
    let vip = config(&text).vips.remove(0);
    assert_eq!(vip.med, None);
    assert_eq!(vip.local_pref, None);
    assert!(vip.communities.is_empty());
    assert!(vip.large_communities.is_empty());
    assert!(vip.extended_communities.is_empty());
    assert_eq!(vip.as_path_prepend, 0);
    assert_eq!(vip.origin, Origin::Igp);
    assert_eq!(vip.peers, vec![0, 1]);
}

#[test]
fn vip_peers_are_resolved_by_name_or_address_to_ascending_indices() {
    let text = "[global]\nasn = 65001\n\
                [[peer]]\naddress = \"198.51.100.1\"\nasn = 1\n\
                [[peer]]\nname = \"tor2\"\naddress = \"198.51.100.2\"\nasn = 1\n\
                [[peer]]\naddress = \"198.51.100.3\"\nasn = 1\n\
                [[vip]]\nprefix = \"192.0.2.0/24\"\npeers = [\"198.51.100.3\", \"tor2\"]\n";
    assert_eq!(config(text).vips[0].peers, vec![1, 2]);
}

#[test]
fn every_vip_attribute_is_carried_into_the_typed_config() {
    let text = format!(
        "{PEER}[[vip]]\nprefix = \"2001:db8:10::/48\"\nmed = 4294967295\nlocal-pref = 0\n\
         communities = [\"65000:100\", \"no-export\", 7]\nlarge-communities = [\"4200000000:1:2\"]\n\
         extended-communities = [\"rt:65000:100\"]\nas-path-prepend = 32\norigin = \"incomplete\"\n"
    )
    .replace("asn = 65000\n", "asn = 65000\nnext-hop-ipv6 = \"2001:db8::11\"\n");
    let vip = config(&text).vips.remove(0);
    assert_eq!(vip.prefix, "2001:db8:10::/48".parse().unwrap());
    assert_eq!(vip.med, Some(u32::MAX));
    assert_eq!(vip.local_pref, Some(0));
    assert_eq!(vip.communities, vec![0xFDE8_0064, 0xFFFF_FF01, 7]);
    assert_eq!(vip.large_communities, vec![[4_200_000_000, 1, 2]]);
    assert_eq!(
        vip.extended_communities,
        vec![[0, 2, 0xFD, 0xE8, 0, 0, 0, 100]]
    );
    assert_eq!(vip.as_path_prepend, 32);
    assert_eq!(vip.origin, Origin::Incomplete);
    assert_eq!(Origin::Incomplete.code(), 2);
}

#[test]
fn extended_communities_pick_the_encoding_from_the_global_administrator() {
    let text = format!(
        "{PEER}[[vip]]\nprefix = \"192.0.2.10/32\"\nextended-communities = [\
         \"rt:65000:100\", \"soo:65000:100\", \"rt:192.0.2.1:100\", \"rt:4200000000:100\"]\n"
    );
    let vip = config(&text).vips.remove(0);
    assert_eq!(
        vip.extended_communities,
        vec![
            [0x00, 0x02, 0xFD, 0xE8, 0x00, 0x00, 0x00, 0x64],
            [0x00, 0x03, 0xFD, 0xE8, 0x00, 0x00, 0x00, 0x64],
            [0x01, 0x02, 0xC0, 0x00, 0x02, 0x01, 0x00, 0x64],
            [0x02, 0x02, 0xFA, 0x56, 0xEA, 0x00, 0x00, 0x64],
        ]
    );
}

#[test]
fn local_pref_towards_ebgp_peers_is_a_warning_not_an_error() {
    let text = "[global]\nasn = 65001\n\
                [[peer]]\nname = \"ibgp\"\naddress = \"198.51.100.1\"\nasn = 65001\n\
                [[peer]]\nname = \"ebgp\"\naddress = \"198.51.100.2\"\nasn = 65000\n\
                [[vip]]\nprefix = \"192.0.2.10/32\"\nlocal-pref = 200\n";
    let (config, warnings) = parse(text).unwrap();
    assert_eq!(config.vips[0].local_pref, Some(200));
    assert_eq!(warnings.len(), 1);
    let warning = &warnings[0];
    assert_eq!((warning.line, warning.column), (13, 14));
    assert_eq!(warning.key, "vip[0].local-pref");
    assert!(warning.message.contains("ignored for the eBGP peers ebgp"));
    assert!(warning
        .to_string()
        .starts_with("/etc/herald/herald.toml:13:14: warning: vip[0].local-pref: "));
}

#[test]
fn local_pref_towards_ibgp_peers_only_is_silent() {
    let text = "[global]\nasn = 65001\n\
                [[peer]]\nname = \"ibgp\"\naddress = \"198.51.100.1\"\nasn = 65001\n\
                [[peer]]\nname = \"ebgp\"\naddress = \"198.51.100.2\"\nasn = 65000\n\
                [[vip]]\nprefix = \"192.0.2.10/32\"\nlocal-pref = 200\npeers = [\"ibgp\"]\n";
    assert!(warnings(text).is_empty());
}

#[test]
fn four_octet_asns_are_accepted() {
    let text =
        "[global]\nasn = 4294967295\n[[peer]]\naddress = \"198.51.100.1\"\nasn = 4200000000\n";
    let config = config(text);
    assert_eq!(config.global.asn, u32::MAX);
    assert_eq!(config.peers[0].asn, 4_200_000_000);
}

#[test]
fn the_same_address_on_two_ports_needs_names() {
    let text = "[global]\nasn = 65001\n\
                [[peer]]\naddress = \"198.51.100.1\"\nasn = 1\n\
                [[peer]]\naddress = \"198.51.100.1\"\nport = 1179\nasn = 1\n";
    let error = parse(text).unwrap_err();
    assert_eq!(error.key(), Some("peer[1].address"));
    assert!(error.message().contains("set `name`"));
    let named = text.replace("port = 1179", "name = \"alt\"\nport = 1179");
    assert_eq!(config(&named).peers[1].port, 1179);
}

/// [`PEER`] and one VIP with the extra keys `vip`, followed by `checks`.
fn with_checks(vip: &str, checks: &str) -> String {
    format!("{PEER}[[vip]]\nprefix = \"192.0.2.10/32\"\n{vip}{checks}")
}

#[test]
fn check_settings_default_as_documented() {
    let text = with_checks(
        "checks = [\"t\", \"h\", \"f\"]\n",
        "[[check]]\nname = \"t\"\nkind = \"tcp\"\naddress = \"[::1]:80\"\n\
         [[check]]\nname = \"h\"\nkind = \"http\"\nurl = \"https://127.0.0.1/\"\n\
         [[check]]\nname = \"f\"\nkind = \"file\"\npath = \"/etc/herald/maintenance\"\n",
    );
    let (config, warnings) = parse(&text).unwrap_or_else(|e| panic!("{e}"));
    assert!(warnings.is_empty(), "{warnings:?}");
    for check in &config.checks {
        assert_eq!(check.interval, Duration::from_secs(1), "{}", check.name);
        assert_eq!(check.fast_interval, Duration::from_millis(250));
        assert_eq!(check.timeout, Duration::from_secs(1));
        assert_eq!((check.rise, check.fall), (3, 2));
        assert!(!check.initially_healthy);
    }
    assert_eq!(
        config.checks[0].kind,
        CheckKind::Tcp {
            address: "[::1]:80".parse().unwrap()
        }
    );
    let CheckKind::Http(http) = &config.checks[1].kind else {
        panic!("not http: {:?}", config.checks[1].kind);
    };
    assert_eq!(http.status, 200..=299);
    assert_eq!(
        (&http.body, &http.host, &http.ca_file),
        (&None, &None, &None)
    );
    assert!(http.tls_verify);
    assert_eq!(
        config.checks[2].kind,
        CheckKind::File {
            path: "/etc/herald/maintenance".into(),
            healthy_when_present: false
        }
    );
    let vip = &config.vips[0];
    assert_eq!(vip.checks, vec![0, 1, 2]);
    assert_eq!(vip.on_down, DownAction::Withdraw);
    assert_eq!((&vip.damping, &vip.hook), (&None, &None));
}

#[test]
fn a_vip_without_checks_is_always_healthy_and_checks_may_come_first() {
    let text = format!(
        "[global]\nasn = 65001\n[[check]]\nname = \"a\"\nkind = \"exec\"\ncommand = [\"true\"]\n\
         {}\n[[vip]]\nprefix = \"192.0.2.10/32\"\nchecks = [\"a\"]\n[[vip]]\nprefix = \"192.0.2.11/32\"\n\
         [[vip]]\nprefix = \"192.0.2.12/32\"\nchecks = []\n",
        &PEER["[global]\nasn = 65001\n".len()..]
    );
    let config = config(&text);
    assert_eq!(config.vips[0].checks, vec![0]);
    assert!(config.vips[1].checks.is_empty());
    assert!(config.vips[2].checks.is_empty());
    assert_eq!(
        config.checks[0].kind,
        CheckKind::Exec {
            argv: vec!["true".to_string()]
        }
    );
}

#[test]
fn the_fast_interval_defaults_to_the_interval_when_that_is_shorter() {
    let text = with_checks(
        "checks = [\"f\"]\n",
        "[[check]]\nname = \"f\"\nkind = \"file\"\npath = \"/a\"\ninterval = \"100ms\"\n",
    );
    assert_eq!(
        config(&text).checks[0].fast_interval,
        Duration::from_millis(100)
    );
}

#[test]
fn every_check_key_is_carried_into_the_typed_config() {
    let text = with_checks(
        "checks = [\"h\", \"f\"]\n",
        "[[check]]\nname = \"h\"\nkind = \"http\"\nurl = \"https://[::1]:8443/health\"\n\
         status = 204\nbody = \"OK\"\nhost = \"www.example.com\"\nca-file = \"/etc/ssl/ca.pem\"\n\
         tls-verify = false\ninterval = \"5s\"\nfast-interval = \"1s\"\ntimeout = \"2s\"\n\
         rise = 100\nfall = 1\ninitial = \"up\"\n\
         [[check]]\nname = \"f\"\nkind = \"file\"\npath = \"/run/ready\"\nhealthy-when = \"present\"\n",
    );
    let config = config(&text);
    let check = &config.checks[0];
    assert_eq!(
        (check.interval, check.fast_interval, check.timeout),
        (
            Duration::from_secs(5),
            Duration::from_secs(1),
            Duration::from_secs(2)
        )
    );
    assert_eq!(
        (check.rise, check.fall, check.initially_healthy),
        (100, 1, true)
    );
    let CheckKind::Http(http) = &check.kind else {
        panic!("not http: {:?}", check.kind);
    };
    assert_eq!(http.url, "https://[::1]:8443/health");
    assert_eq!(http.status, 204..=204);
    assert_eq!(http.body.as_deref(), Some("OK"));
    assert_eq!(http.host.as_deref(), Some("www.example.com"));
    assert_eq!(http.ca_file, Some("/etc/ssl/ca.pem".into()));
    assert!(!http.tls_verify);
    assert_eq!(
        config.checks[1].kind,
        CheckKind::File {
            path: "/run/ready".into(),
            healthy_when_present: true
        }
    );
}

#[test]
fn a_status_may_be_a_code_in_a_string() {
    let text = with_checks(
        "checks = [\"h\"]\n",
        "[[check]]\nname = \"h\"\nkind = \"http\"\nurl = \"http://h/\"\nstatus = \"200\"\n",
    );
    let CheckKind::Http(http) = &config(&text).checks[0].kind else {
        panic!("not http");
    };
    assert_eq!(http.status, 200..=200);
}

#[test]
fn degrade_keys_and_damping_are_carried_into_the_typed_config() {
    let text = with_checks(
        "on-down = \"degrade\"\ndegrade-med = 1000\ndegrade-prepend = 3\n\
         degrade-communities = [\"65000:666\", \"no-export\"]\n\
         [vip.damping]\npenalty = 500\nsuppress = 2000\nreuse = 1000\nhalf-life = \"30s\"\nmax-suppress = \"30s\"\n",
        "",
    );
    let vip = config(&text).vips.remove(0);
    assert_eq!(
        vip.on_down,
        DownAction::Degrade(Degrade {
            med: Some(1000),
            as_path_prepend: 3,
            communities: vec![0xFDE8_029A, 0xFFFF_FF01],
        })
    );
    assert_eq!(
        vip.damping,
        Some(Damping {
            penalty: 500,
            suppress: 2000,
            reuse: 1000,
            half_life: Duration::from_secs(30),
            max_suppress: Duration::from_secs(30),
        })
    );
}

#[test]
fn an_empty_damping_table_turns_damping_on_with_the_defaults() {
    let vip = config(&with_checks("damping = {}\n", "")).vips.remove(0);
    assert_eq!(
        vip.damping,
        Some(Damping {
            penalty: 1000,
            suppress: 3000,
            reuse: 750,
            half_life: Duration::from_secs(60),
            max_suppress: Duration::from_secs(300),
        })
    );
}

#[test]
fn a_vip_hook_overrides_the_global_hook_and_others_inherit_it() {
    let text = format!(
        "{PEER}[[vip]]\nprefix = \"192.0.2.10/32\"\n\
         [[vip]]\nprefix = \"192.0.2.11/32\"\nhook = [\"vip-hook\", \"--one\"]\n"
    )
    .replace(
        "asn = 65001\n",
        "asn = 65001\nhook = [\"/usr/local/bin/vip-changed\"]\n",
    );
    let config = config(&text);
    assert_eq!(
        config.vips[0].hook,
        Some(vec!["/usr/local/bin/vip-changed".to_string()])
    );
    assert_eq!(
        config.vips[1].hook,
        Some(vec!["vip-hook".to_string(), "--one".to_string()])
    );
}

#[test]
fn without_any_hook_vips_have_none() {
    let text = format!("{PEER}[[vip]]\nprefix = \"192.0.2.10/32\"\n");
    assert_eq!(config(&text).vips[0].hook, None);
}

#[test]
fn questionable_health_settings_are_warnings_with_their_key() {
    let text = with_checks(
        "checks = [\"h\", \"x\"]\ndegrade-med = 5\n",
        "[[check]]\nname = \"h\"\nkind = \"http\"\nurl = \"http://127.0.0.1/\"\nca-file = \"/ca.pem\"\n\
         [[check]]\nname = \"x\"\nkind = \"exec\"\ncommand = [\"bin/check\"]\n\
         [[check]]\nname = \"unused\"\nkind = \"file\"\npath = \"/a\"\n",
    );
    let (config, warnings) = parse(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.vips[0].on_down, DownAction::Withdraw);
    let keys: Vec<(&str, usize, usize)> = warnings
        .iter()
        .map(|w| (w.key.as_str(), w.line, w.column))
        .collect();
    assert_eq!(
        keys,
        [
            ("check[0].ca-file", 15, 11),
            ("check[1].command[0]", 19, 12),
            ("vip[0].degrade-med", 10, 15),
            ("check[2].name", 21, 8),
        ],
        "{warnings:?}"
    );
    assert!(warnings[0].message.contains("the url is http://"));
    assert!(warnings[1].message.contains("working directory"));
    assert!(warnings[2].message.contains("on-down is \"withdraw\""));
    assert!(warnings[3].message.contains("in no VIP's `checks`"));
}

#[test]
fn a_vip_whose_checks_all_start_up_is_fine() {
    let text = with_checks(
        "checks = [\"f\"]\n",
        "[[check]]\nname = \"f\"\nkind = \"file\"\npath = \"/a\"\ninitial = \"up\"\n",
    );
    let (config, warnings) = parse(&text).unwrap_or_else(|e| panic!("{e}"));
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(config.checks[0].initially_healthy);
}

/// A tiny deterministic generator, so failures reproduce.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n.max(1) as u64).unwrap_or(0)
    }
}

#[test]
fn garbage_never_panics() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut seeds: Vec<Vec<u8>> = examples()
        .iter()
        .map(|p| std::fs::read(p).expect("example is readable"))
        .collect();
    seeds.push(PEER.as_bytes().to_vec());
    seeds.extend(BAD.iter().map(|(_, text, ..)| text.as_bytes().to_vec()));
    let alphabet = b"[]{}=\"',.:#\n -_0123456789abcdefghijklmnopqrstuvwxyz\\";
    for round in 0..4000 {
        let mut input = if round % 4 == 0 {
            let len = rng.below(200);
            (0..len).map(|_| rng.next() as u8).collect()
        } else {
            seeds[rng.below(seeds.len())].clone()
        };
        for _ in 0..rng.below(8) {
            let at = rng.below(input.len() + 1);
            match rng.below(3) {
                0 => input.insert(at, alphabet[rng.below(alphabet.len())]),
                1 if at < input.len() => {
                    input.remove(at);
                }
                _ => input.insert(at, rng.next() as u8),
            }
        }
        let text = String::from_utf8_lossy(&input);
        let _ = Config::parse(&text, Path::new("fuzz.toml"));
    }
}

#[test]
fn deeply_nested_input_never_panics() {
    for depth in [10, 100, 1000, 10_000] {
        let arrays = format!("a = {}{}\n", "[".repeat(depth), "]".repeat(depth));
        let tables = format!("a = {}{}\n", "{b = ".repeat(depth), "}".repeat(depth));
        let dotted = format!("[{}]\n", vec!["a"; depth].join("."));
        let unclosed = "[[".repeat(depth);
        for text in [arrays, tables, dotted, unclosed] {
            assert!(Config::parse(&text, Path::new("deep.toml")).is_err());
            let in_global = format!("[global]\nasn = 1\n{text}");
            assert!(Config::parse(&in_global, Path::new("deep.toml")).is_err());
        }
    }
}

#[test]
fn a_world_readable_password_file_is_refused_and_the_key_is_never_quoted() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let key_file = dir.path().join("tor1.key");
    std::fs::write(&key_file, "s3cret-key\n").expect("write key");
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let text = format!(
        "[global]\nasn = 65001\n[[peer]]\naddress = \"198.51.100.1\"\nasn = 1\npassword-file = \"{}\"\n",
        key_file.display()
    );
    let err = Config::parse(&text, Path::new("t.toml"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("readable by every user"), "{err}");
    assert!(!err.contains("s3cret"), "{err}");

    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let (config, _) = Config::parse(&text, Path::new("t.toml")).expect("valid");
    let key = config.peers[0].security.password.as_ref().expect("key");
    assert_eq!(key.expose(), b"s3cret-key");
    assert!(
        !format!("{config:?}").contains("s3cret"),
        "Debug shows the key"
    );
}

#[test]
fn a_configuration_other_users_could_change_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("herald.toml");
    std::fs::write(&path, "[global]\nasn = 65001\n").expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    let err = Config::load(&path).unwrap_err().to_string();
    assert!(err.contains("other users could change"), "{err}");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    assert!(Config::load(&path).is_ok());
}

#[test]
fn the_refusal_of_exposed_configurations_sees_through_symlinks_ancestors_and_owners() {
    use std::os::unix::fs::PermissionsExt;
    let chmod = |path: &Path, mode| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod")
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let open = dir.path().join("open");
    let inner = open.join("inner");
    std::fs::create_dir_all(&inner).expect("mkdir");
    let real = inner.join("herald.toml");
    std::fs::write(&real, "[global]\nasn = 65001\n").expect("write");
    chmod(&real, 0o644);
    let link = dir.path().join("herald.toml");
    std::os::unix::fs::symlink(&real, &link).expect("symlink");
    assert!(Config::load(&link).is_ok());

    // Any user may replace `inner`, and with it the file.
    chmod(&open, 0o777);
    for path in [&link, &real] {
        let err = Config::load(path).unwrap_err().to_string();
        assert!(err.contains("other users could change"), "{err}");
        assert!(err.contains("/open is writable by every user"), "{err}");
    }
    chmod(&open, 0o755);

    nix::unistd::chown(&real, Some(nix::unistd::Uid::from_raw(65534)), None).expect("chown");
    let err = Config::load(&link).unwrap_err().to_string();
    assert!(err.contains("owned by uid 65534"), "{err}");
}

#[test]
fn a_password_file_others_could_change_or_a_fifo_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let key_file = dir.path().join("tor1.key");
    let text = format!(
        "[global]\nasn = 65001\n[[peer]]\naddress = \"198.51.100.1\"\nasn = 1\npassword-file = \"{}\"\n",
        key_file.display()
    );
    std::fs::write(&key_file, "s3cret-key\n").expect("write key");
    nix::unistd::chown(&key_file, Some(nix::unistd::Uid::from_raw(65534)), None).expect("chown");
    let err = Config::parse(&text, Path::new("t.toml"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("owned by uid 65534"), "{err}");

    std::fs::remove_file(&key_file).expect("remove");
    nix::unistd::mkfifo(&key_file, nix::sys::stat::Mode::from_bits_truncate(0o600))
        .expect("mkfifo");
    let err = Config::parse(&text, Path::new("t.toml"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("a FIFO"), "{err}");
}
