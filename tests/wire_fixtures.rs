//! Wire fixtures: byte-exact encode/decode pairs written from the RFC
//! layouts, the NOTIFICATION every malformed input earns, stream framing,
//! a bounded deterministic fuzz loop, and UPDATE packing at scale.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bytes::{Bytes, BytesMut};
use herald::bgp::wire::{
    iana, pack_announce, pack_withdraw, try_parse, AsPathSegment, AsSegmentKind, Capability,
    Context, Family, GracefulRestart, Message, MpReach, MpUnreach, Notification, Open, Origin,
    PathAttributes, RouteRefresh, Update,
};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};

const FOUR: Context = Context {
    four_octet_as: true,
};
const TWO: Context = Context {
    four_octet_as: false,
};

/// Hex with whitespace; `#` starts a comment that runs to the end of line.
fn hex(text: &str) -> Vec<u8> {
    let digits: String = text
        .lines()
        .map(|l| l.split('#').next().unwrap_or_default())
        .flat_map(|l| l.chars().filter(|c| !c.is_whitespace()))
        .collect();
    assert!(digits.len() % 2 == 0, "odd hex: {digits}");
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).expect("hex digit"))
        .collect()
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Prefixes `body` with a header of the right length.
fn message(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![0xff; 16];
    let len = u16::try_from(19 + body.len()).expect("short message");
    m.extend_from_slice(&len.to_be_bytes());
    m.push(kind);
    m.extend_from_slice(body);
    m
}

fn parse_one(bytes: &[u8], ctx: &Context) -> Message {
    let mut buf = BytesMut::from(bytes);
    let msg = try_parse(&mut buf, ctx)
        .expect("decodes")
        .expect("complete");
    assert!(buf.is_empty(), "{} bytes left over", buf.len());
    msg
}

/// Encoding `msg` gives `fixture` exactly, and decoding `fixture` gives `msg`.
fn assert_pair(fixture: &str, msg: &Message, ctx: &Context) {
    let bytes = hex(fixture);
    let mut out = BytesMut::new();
    msg.encode(ctx, &mut out).expect("encodes");
    assert_eq!(to_hex(&out), to_hex(&bytes), "encoding of {msg:?}");
    assert_eq!(&parse_one(&bytes, ctx), msg);
}

fn net4(s: &str) -> Ipv4Net {
    s.parse().expect("IPv4 prefix")
}

fn net(s: &str) -> IpNet {
    s.parse().expect("prefix")
}

fn sequence(asns: &[u32]) -> Vec<AsPathSegment> {
    vec![AsPathSegment {
        kind: AsSegmentKind::Sequence,
        asns: asns.to_vec(),
    }]
}

const OPEN_TWO_OCTET_AS: &str = "
    ffffffffffffffffffffffffffffffff  # marker
    0033 01                           # length 51, OPEN
    04                                # version 4
    fde9                              # my AS 65001
    005a                              # hold time 90
    c0000201                          # BGP identifier 192.0.2.1
    16                                # optional parameters length 22
    02 14                             # parameter: capabilities, 20 octets
    01 04 0001 00 01                  # multiprotocol IPv4 unicast
    01 04 0002 00 01                  # multiprotocol IPv6 unicast
    02 00                             # route refresh
    41 04 0000fde9                    # 4-octet AS 65001
";

#[test]
fn open_with_a_two_octet_asn_matches_its_fixture() {
    let open = Open::new(
        65001,
        90,
        Ipv4Addr::new(192, 0, 2, 1),
        &[Family::Ipv4Unicast, Family::Ipv6Unicast],
    );
    assert_pair(OPEN_TWO_OCTET_AS, &Message::Open(open.clone()), &TWO);
    assert_eq!(
        open.families(),
        vec![Family::Ipv4Unicast, Family::Ipv6Unicast]
    );
    assert!(open.four_octet_as() && open.route_refresh());
}

const OPEN_FOUR_OCTET_AS: &str = "
    ffffffffffffffffffffffffffffffff  # marker
    002d 01                           # length 45, OPEN
    04                                # version 4
    5ba0                              # my AS: AS_TRANS 23456
    00b4                              # hold time 180
    c6336401                          # BGP identifier 198.51.100.1
    10                                # optional parameters length 16
    02 0e                             # parameter: capabilities, 14 octets
    01 04 0001 00 01                  # multiprotocol IPv4 unicast
    02 00                             # route refresh
    41 04 fa56ea01                    # 4-octet AS 4200000001
";

#[test]
fn open_with_a_four_octet_asn_sends_as_trans_and_the_capability() {
    let open = Open::new(
        4_200_000_001,
        180,
        Ipv4Addr::new(198, 51, 100, 1),
        &[Family::Ipv4Unicast],
    );
    assert_pair(OPEN_FOUR_OCTET_AS, &Message::Open(open), &FOUR);
}

/// A router's OPEN offering graceful restart the way BIRD 2 does with
/// `graceful restart on` and its default restart time: R = 0, N = 0,
/// restart time 120, IPv4 and IPv6 unicast with F = 0 (nothing preserved
/// yet on a fresh start). Laid out by hand from RFC 4724 §3, not captured.
const OPEN_GRACEFUL_RESTART_ROUTER: &str = "
    ffffffffffffffffffffffffffffffff  # marker
    003f 01                           # length 63, OPEN
    04                                # version 4
    fde8                              # my AS 65000
    00f0                              # hold time 240
    c6336401                          # BGP identifier 198.51.100.1
    22                                # optional parameters length 34
    02 20                             # parameter: capabilities, 32 octets
    01 04 0001 00 01                  # multiprotocol IPv4 unicast
    01 04 0002 00 01                  # multiprotocol IPv6 unicast
    02 00                             # route refresh
    40 0a                             # graceful restart, 10 octets
    0078                              # flags R=0 N=0, restart time 120
    0001 01 00                        # IPv4 unicast, F=0
    0002 01 00                        # IPv6 unicast, F=0
    41 04 0000fde8                    # 4-octet AS 65000
";

#[test]
fn a_routers_graceful_restart_capability_decodes_per_rfc4724() {
    let open = Open {
        version: 4,
        asn: 65000,
        hold_time: 240,
        bgp_id: Ipv4Addr::new(198, 51, 100, 1),
        capabilities: vec![
            Capability::Multiprotocol(Family::Ipv4Unicast),
            Capability::Multiprotocol(Family::Ipv6Unicast),
            Capability::RouteRefresh,
            Capability::GracefulRestart(GracefulRestart {
                restart_state: false,
                notification: false,
                restart_time: 120,
                families: vec![(Family::Ipv4Unicast, false), (Family::Ipv6Unicast, false)],
            }),
            Capability::FourOctetAs(65000),
        ],
    };
    assert_pair(OPEN_GRACEFUL_RESTART_ROUTER, &Message::Open(open), &FOUR);
}

/// herald's OPEN in the first session after its own graceful restart:
/// R = 1, N = 1, restart time 120, F = 1 for both families.
const OPEN_GRACEFUL_RESTART_RESTARTING: &str = "
    ffffffffffffffffffffffffffffffff  # marker
    0031 01                           # length 49, OPEN
    04                                # version 4
    fde9                              # my AS 65001
    005a                              # hold time 90
    c000020a                          # BGP identifier 192.0.2.10
    14                                # optional parameters length 20
    02 12                             # parameter: capabilities, 18 octets
    40 0a                             # graceful restart, 10 octets
    c078                              # flags R=1 N=1, restart time 120
    0001 01 80                        # IPv4 unicast, F=1
    0002 01 80                        # IPv6 unicast, F=1
    41 04 0000fde9                    # 4-octet AS 65001
";

#[test]
fn a_restarting_speaker_sets_r_n_and_f() {
    let open = Open {
        version: 4,
        asn: 65001,
        hold_time: 90,
        bgp_id: Ipv4Addr::new(192, 0, 2, 10),
        capabilities: vec![
            Capability::GracefulRestart(GracefulRestart {
                restart_state: true,
                notification: true,
                restart_time: 120,
                families: vec![(Family::Ipv4Unicast, true), (Family::Ipv6Unicast, true)],
            }),
            Capability::FourOctetAs(65001),
        ],
    };
    assert_pair(
        OPEN_GRACEFUL_RESTART_RESTARTING,
        &Message::Open(open),
        &FOUR,
    );
}

const KEEPALIVE: &str = "ffffffffffffffffffffffffffffffff 0013 04";

#[test]
fn keepalive_is_a_bare_header() {
    assert_pair(KEEPALIVE, &Message::Keepalive, &FOUR);
}

const NOTIFICATION_SHUTDOWN: &str = "
    ffffffffffffffffffffffffffffffff  # marker
    0021 03                           # length 33, NOTIFICATION
    06 02                             # Cease / Administrative Shutdown
    0b                                # shutdown communication length 11
    6d61696e74656e616e6365            # \"maintenance\"
";

#[test]
fn notification_carries_an_rfc9003_shutdown_communication() {
    let n = Notification::cease(iana::cease_subcode::ADMINISTRATIVE_SHUTDOWN, "maintenance");
    assert_pair(
        NOTIFICATION_SHUTDOWN,
        &Message::Notification(n.clone()),
        &FOUR,
    );
    assert_eq!(n.shutdown_message().as_deref(), Some("maintenance"));
    assert_eq!(
        n.to_string(),
        "Cease / Administrative Shutdown: \"maintenance\""
    );
}

const NOTIFICATION_HARD_RESET: &str = "
    ffffffffffffffffffffffffffffffff  # marker
    0023 03                           # length 35, NOTIFICATION
    06 09                             # Cease / Hard Reset
    06 02                             # wraps Cease / Administrative Shutdown
    0b                                # shutdown communication length 11
    6d61696e74656e616e6365            # \"maintenance\"
";

#[test]
fn hard_reset_carries_the_wrapped_notification_per_rfc8538() {
    let inner = Notification::cease(iana::cease_subcode::ADMINISTRATIVE_SHUTDOWN, "maintenance");
    let n = Notification::hard_reset(&inner);
    assert_pair(
        NOTIFICATION_HARD_RESET,
        &Message::Notification(n.clone()),
        &FOUR,
    );
    assert_eq!(n.hard_reset_inner(), Some(inner));
    assert_eq!(
        n.to_string(),
        "Cease / Hard Reset (Cease / Administrative Shutdown: \"maintenance\")"
    );
}

const ROUTE_REFRESH: &str = "
    ffffffffffffffffffffffffffffffff  # marker
    0017 05                           # length 23, ROUTE-REFRESH
    0002 00 01                        # AFI IPv6, reserved, SAFI unicast
";

#[test]
fn route_refresh_names_its_family() {
    let rr = RouteRefresh { afi: 2, safi: 1 };
    assert_pair(ROUTE_REFRESH, &Message::RouteRefresh(rr), &FOUR);
}

const UPDATE_IPV4_ALL_ATTRIBUTES: &str = "
    ffffffffffffffffffffffffffffffff  # marker
    006b 02                           # length 107, UPDATE
    0000                              # no withdrawn routes
    004b                              # total path attribute length 75
    40 01 01 00                       # ORIGIN IGP
    40 02 0a 02 02 0000fde9 0000fdea  # AS_PATH sequence 65001 65002
    40 03 04 c0000201                 # NEXT_HOP 192.0.2.1
    80 04 04 00000064                 # MULTI_EXIT_DISC 100
    40 05 04 000000c8                 # LOCAL_PREF 200
    c0 08 08 fde90064 ffffff01        # COMMUNITIES 65001:100 no-export
    c0 10 08 0002fde900000064         # EXTENDED_COMMUNITIES rt 65001:100
    c0 20 0c 0000fde9 00000001 00000002  # LARGE_COMMUNITY 65001:1:2
    20 c000020a                       # NLRI 192.0.2.10/32
    18 c63364                         # NLRI 198.51.100.0/24
";

fn all_attributes() -> PathAttributes {
    PathAttributes {
        origin: Origin::Igp,
        as_path: sequence(&[65001, 65002]),
        next_hop: Some(Ipv4Addr::new(192, 0, 2, 1)),
        med: Some(100),
        local_pref: Some(200),
        communities: vec![0xfde9_0064, iana::community::NO_EXPORT],
        extended_communities: vec![[0x00, 0x02, 0xfd, 0xe9, 0, 0, 0, 0x64]],
        large_communities: vec![[65001, 1, 2]],
        ..PathAttributes::default()
    }
}

#[test]
fn ipv4_update_with_every_attribute_matches_its_fixture() {
    let update = Update {
        attributes: Some(all_attributes()),
        nlri: vec![net4("192.0.2.10/32"), net4("198.51.100.0/24")],
        ..Update::default()
    };
    assert_pair(UPDATE_IPV4_ALL_ATTRIBUTES, &Message::Update(update), &FOUR);
}

const UPDATE_IPV6_MP_REACH: &str = "
    ffffffffffffffffffffffffffffffff  # marker
    004d 02                           # length 77, UPDATE
    0000                              # no withdrawn routes
    0036                              # total path attribute length 54
    40 01 01 00                       # ORIGIN IGP
    40 02 06 02 01 0000fde9           # AS_PATH sequence 65001
    80 0e 26                          # MP_REACH_NLRI, 38 octets
    0002 01                           # AFI IPv6, SAFI unicast
    10 2001 0db8 0000 0000 0000 0000 0000 0001  # next hop 2001:db8::1
    00                                # reserved
    80 2001 0db8 0000 0000 0000 0000 0000 000a  # NLRI 2001:db8::a/128
";

#[test]
fn ipv6_update_goes_in_mp_reach_nlri() {
    let update = Update {
        attributes: Some(PathAttributes {
            as_path: sequence(&[65001]),
            mp_reach: Some(MpReach {
                family: Family::Ipv6Unicast,
                next_hops: vec!["2001:db8::1".parse().expect("address")],
                nlri: vec![net("2001:db8::a/128")],
            }),
            ..PathAttributes::default()
        }),
        ..Update::default()
    };
    assert_pair(UPDATE_IPV6_MP_REACH, &Message::Update(update), &FOUR);
}

const UPDATE_IPV4_WITHDRAW: &str = "
    ffffffffffffffffffffffffffffffff  # marker
    0020 02                           # length 32, UPDATE
    0009                              # withdrawn routes length 9
    20 c000020a                       # 192.0.2.10/32
    18 c63364                         # 198.51.100.0/24
    0000                              # no path attributes
";

#[test]
fn ipv4_withdrawals_go_in_withdrawn_routes() {
    let update = Update {
        withdrawn: vec![net4("192.0.2.10/32"), net4("198.51.100.0/24")],
        ..Update::default()
    };
    assert_pair(UPDATE_IPV4_WITHDRAW, &Message::Update(update), &FOUR);
}

const UPDATE_IPV6_WITHDRAW: &str = "
    ffffffffffffffffffffffffffffffff  # marker
    002e 02                           # length 46, UPDATE
    0000                              # no withdrawn routes
    0017                              # total path attribute length 23
    80 0f 14                          # MP_UNREACH_NLRI, 20 octets
    0002 01                           # AFI IPv6, SAFI unicast
    80 2001 0db8 0000 0000 0000 0000 0000 000a  # 2001:db8::a/128
";

#[test]
fn ipv6_withdrawals_go_in_mp_unreach_nlri() {
    let update = Update {
        attributes: Some(PathAttributes {
            mp_unreach: Some(MpUnreach {
                family: Family::Ipv6Unicast,
                withdrawn: vec![net("2001:db8::a/128")],
            }),
            ..PathAttributes::default()
        }),
        ..Update::default()
    };
    assert_pair(UPDATE_IPV6_WITHDRAW, &Message::Update(update), &FOUR);
}

const END_OF_RIB_IPV4: &str = "
    ffffffffffffffffffffffffffffffff  # marker
    0017 02                           # length 23, UPDATE
    0000 0000                         # nothing withdrawn, no attributes
";

const END_OF_RIB_IPV6: &str = "
    ffffffffffffffffffffffffffffffff  # marker
    001d 02                           # length 29, UPDATE
    0000                              # no withdrawn routes
    0006                              # total path attribute length 6
    80 0f 03 0002 01                  # MP_UNREACH_NLRI IPv6 unicast, empty
";

#[test]
fn both_end_of_rib_markers_match_rfc4724() {
    for (fixture, family) in [
        (END_OF_RIB_IPV4, Family::Ipv4Unicast),
        (END_OF_RIB_IPV6, Family::Ipv6Unicast),
    ] {
        let eor = Update::end_of_rib(family);
        assert_pair(fixture, &Message::Update(eor), &FOUR);
        let Message::Update(decoded) = parse_one(&hex(fixture), &FOUR) else {
            panic!("not an UPDATE");
        };
        assert_eq!(decoded.end_of_rib_family(), Some(family));
    }
}

#[test]
fn a_two_octet_session_sees_as_trans_and_as4_path() {
    let update = Update {
        attributes: Some(PathAttributes {
            as_path: sequence(&[4_200_000_001]),
            next_hop: Some(Ipv4Addr::new(192, 0, 2, 1)),
            ..PathAttributes::default()
        }),
        nlri: vec![net4("192.0.2.10/32")],
        ..Update::default()
    };
    let fixture = "
        ffffffffffffffffffffffffffffffff  # marker
        0037 02                           # length 55, UPDATE
        0000 001b                         # no withdrawn, attributes 27 octets
        40 01 01 00                       # ORIGIN IGP
        40 02 04 02 01 5ba0               # AS_PATH sequence AS_TRANS
        40 03 04 c0000201                 # NEXT_HOP 192.0.2.1
        c0 11 06 02 01 fa56ea01           # AS4_PATH sequence 4200000001
        20 c000020a                       # NLRI 192.0.2.10/32
    ";
    let mut out = BytesMut::new();
    Message::Update(update)
        .encode(&TWO, &mut out)
        .expect("encodes");
    assert_eq!(to_hex(&out), to_hex(&hex(fixture)));
    let Message::Update(back) = parse_one(&out, &TWO) else {
        panic!("not an UPDATE");
    };
    let attrs = back.attributes.expect("attributes");
    assert_eq!(attrs.as_path, sequence(&[23456]));
    assert_eq!(attrs.other.first().map(|a| a.type_code), Some(17));
}

// ---------------------------------------------------------------------------
// Malformed input and the NOTIFICATION it earns.

const MARKER: &str = "ffffffffffffffffffffffffffffffff";

fn open_body(rest: &str) -> Vec<u8> {
    message(1, &hex(rest))
}

fn update_body(rest: &str) -> Vec<u8> {
    message(2, &hex(rest))
}

/// An UPDATE for 192.0.2.10/32 with the given attributes.
fn update_with_attrs(attrs: &str) -> Vec<u8> {
    let attrs = hex(attrs);
    let mut body = vec![0, 0];
    body.extend_from_slice(&u16::try_from(attrs.len()).expect("short").to_be_bytes());
    body.extend_from_slice(&attrs);
    body.extend_from_slice(&hex("20 c000020a"));
    message(2, &body)
}

const ORIGIN: &str = "40 01 01 00";
const AS_PATH: &str = "40 02 00";
const NEXT_HOP: &str = "40 03 04 c0000201";

#[test]
fn malformed_messages_earn_the_exact_notification() {
    // (what, message bytes, expected code, subcode and data as hex)
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "marker not all ones",
            hex(&format!("{} 0013 04", "ff".repeat(15) + "fe")),
            "01 01",
        ),
        (
            "length below 19",
            hex(&format!("{MARKER} 0012 04")),
            "01 02 0012",
        ),
        (
            "length above 4096",
            hex(&format!("{MARKER} 1001 02")),
            "01 02 1001",
        ),
        (
            "unknown type",
            hex(&format!("{MARKER} 0013 06")),
            "01 03 06",
        ),
        (
            "long keepalive",
            hex(&format!("{MARKER} 0014 04 00")),
            "01 02 0014",
        ),
        (
            "short open",
            hex(&format!("{MARKER} 001c 01")),
            "01 02 001c",
        ),
        (
            "short update",
            hex(&format!("{MARKER} 0016 02")),
            "01 02 0016",
        ),
        (
            "short notification",
            hex(&format!("{MARKER} 0014 03 06")),
            "01 02 0014",
        ),
        (
            "long route refresh",
            hex(&format!("{MARKER} 0018 05")),
            "01 02 0018",
        ),
        (
            "open version 3",
            open_body("03 fde9 005a c0000201 00"),
            "02 01 0004",
        ),
        (
            "open hold time 2",
            open_body("04 fde9 0002 c0000201 00"),
            "02 06",
        ),
        (
            "open identifier 0",
            open_body("04 fde9 005a 00000000 00"),
            "02 03",
        ),
        (
            "open authentication parameter",
            open_body("04 fde9 005a c0000201 03 01 01 00"),
            "02 04",
        ),
        (
            "open parameters overrun",
            open_body("04 fde9 005a c0000201 05 02 02 02 00"),
            "02 00",
        ),
        (
            "open parameter overruns its list",
            open_body("04 fde9 005a c0000201 04 02 04 02 00"),
            "02 00",
        ),
        (
            "open multiprotocol of 3 octets",
            open_body("04 fde9 005a c0000201 07 02 05 01 03 0001 00"),
            "02 00",
        ),
        (
            "open 4-octet AS of 2 octets",
            open_body("04 fde9 005a c0000201 06 02 04 41 02 fde9"),
            "02 00",
        ),
        (
            "open graceful restart of 0 octets",
            open_body("04 fde9 005a c0000201 04 02 02 40 00"),
            "02 00",
        ),
        (
            "open graceful restart of 1 octet",
            open_body("04 fde9 005a c0000201 05 02 03 40 01 00"),
            "02 00",
        ),
        (
            "open graceful restart of 2 + 3 octets",
            open_body("04 fde9 005a c0000201 09 02 07 40 05 0078 000101"),
            "02 00",
        ),
        (
            "open graceful restart of 2 + 4 + 1 octets",
            open_body("04 fde9 005a c0000201 0b 02 09 40 07 0078 00010180 00"),
            "02 00",
        ),
        (
            "withdrawn length overruns",
            update_body("0010 0000"),
            "03 01",
        ),
        (
            "attribute length overruns",
            update_body("0000 0010 40"),
            "03 01",
        ),
        (
            "unrecognized well-known attribute",
            update_body("0000 0004 40630100"),
            "03 02 40630100",
        ),
        (
            "MP_UNREACH_NLRI with well-known flags",
            update_body("0000 0006 400f03000201"),
            "03 04 400f03000201",
        ),
        (
            "MP_REACH_NLRI with an IPv4-sized IPv6 next hop",
            update_body("0000 000c 800e09 0002 01 04 c0000201 00"),
            "03 09 800e09000201 04c0000201 00",
        ),
        (
            "MP_REACH_NLRI cut short",
            update_body("0000 0005 800e02 0002"),
            "03 09 800e020002",
        ),
        (
            "duplicate MP_UNREACH_NLRI",
            update_body("0000 000c 800f03000201 800f03000201"),
            "03 01",
        ),
        (
            "duplicate MP_REACH_NLRI",
            update_with_attrs(&format!(
                "{ORIGIN} {AS_PATH} {n} {n}",
                n = "800e 15 0002 01 10 20010db8000000000000000000000001 00"
            )),
            "03 01",
        ),
        (
            "NLRI prefix of 33 bits",
            update_body("0000 0000 21 c0000201 00"),
            "03 0a",
        ),
        (
            "NLRI prefix overruns",
            update_body("0000 0000 18 c000"),
            "03 0a",
        ),
        (
            "withdrawn prefix of 40 bits",
            update_body("0002 2801 0000"),
            "03 0a",
        ),
        (
            "IPv6 NLRI prefix of 129 bits",
            update_body("0000 0008 800f05 0002 01 81 20"),
            "03 0a",
        ),
    ];
    for (what, bytes, expected) in cases {
        let mut buf = BytesMut::from(&bytes[..]);
        let err = try_parse(&mut buf, &FOUR).expect_err(what);
        let n = err.notification();
        let mut got = vec![n.code, n.subcode];
        got.extend_from_slice(&n.data);
        assert_eq!(to_hex(&got), to_hex(&hex(expected)), "{what}: {err}");
    }
}

#[test]
fn recoverable_attribute_errors_are_treated_as_withdraw() {
    // (what, attributes, text the treat-as-withdraw reason must contain)
    let cases = [
        (
            "ORIGIN 5",
            format!("40 01 01 05 {AS_PATH} {NEXT_HOP}"),
            "invalid ORIGIN",
        ),
        (
            "ORIGIN of 2 octets",
            format!("40 01 02 0000 {AS_PATH} {NEXT_HOP}"),
            "length is wrong for ORIGIN",
        ),
        (
            "ORIGIN with optional flags",
            format!("c0 01 01 00 {AS_PATH} {NEXT_HOP}"),
            "flags are wrong for ORIGIN",
        ),
        (
            "AS_PATH segment type 7",
            format!("{ORIGIN} 40 02 06 07 01 0000fde9 {NEXT_HOP}"),
            "malformed AS_PATH",
        ),
        (
            "AS_PATH segment overruns",
            format!("{ORIGIN} 40 02 06 02 02 0000fde9 {NEXT_HOP}"),
            "malformed AS_PATH",
        ),
        (
            "empty AS_PATH segment",
            format!("{ORIGIN} 40 02 02 02 00 {NEXT_HOP}"),
            "malformed AS_PATH",
        ),
        (
            "NEXT_HOP 0.0.0.0",
            format!("{ORIGIN} {AS_PATH} 40 03 04 00000000"),
            "invalid NEXT_HOP 0.0.0.0",
        ),
        (
            "multicast NEXT_HOP",
            format!("{ORIGIN} {AS_PATH} 40 03 04 e0000001"),
            "invalid NEXT_HOP 224.0.0.1",
        ),
        (
            "NEXT_HOP of 5 octets",
            format!("{ORIGIN} {AS_PATH} 40 03 05 c000020100"),
            "length is wrong for NEXT_HOP",
        ),
        (
            "MED of 3 octets",
            format!("{ORIGIN} {AS_PATH} {NEXT_HOP} 80 04 03 000064"),
            "length is wrong for MULTI_EXIT_DISC",
        ),
        (
            "COMMUNITIES of 5 octets",
            format!("{ORIGIN} {AS_PATH} {NEXT_HOP} c0 08 05 fde9006400"),
            "length is wrong for COMMUNITIES",
        ),
        (
            "EXTENDED_COMMUNITIES of 4 octets",
            format!("{ORIGIN} {AS_PATH} {NEXT_HOP} c0 10 04 00020000"),
            "length is wrong for EXTENDED_COMMUNITIES",
        ),
        (
            "LARGE_COMMUNITY of 8 octets",
            format!("{ORIGIN} {AS_PATH} {NEXT_HOP} c0 20 08 0000fde900000001"),
            "length is wrong for LARGE_COMMUNITY",
        ),
        (
            "missing ORIGIN",
            format!("{AS_PATH} {NEXT_HOP}"),
            "missing well-known attribute ORIGIN",
        ),
        (
            "attribute overruns the list",
            format!("{ORIGIN} {AS_PATH} {NEXT_HOP} c0 08 08 fde9"),
            "runs past the attribute list",
        ),
    ];
    for (what, attrs, reason) in cases {
        let Message::Update(update) = parse_one(&update_with_attrs(&attrs), &FOUR) else {
            panic!("{what}: not an UPDATE");
        };
        let got = update.treat_as_withdraw.unwrap_or_default();
        assert!(got.contains(reason), "{what}: {got:?}");
        assert_eq!(update.nlri, vec![net4("192.0.2.10/32")], "{what}");
    }
}

// ---------------------------------------------------------------------------
// Framing.

fn all_fixtures() -> Vec<u8> {
    [
        OPEN_TWO_OCTET_AS,
        KEEPALIVE,
        UPDATE_IPV4_ALL_ATTRIBUTES,
        UPDATE_IPV6_MP_REACH,
        UPDATE_IPV4_WITHDRAW,
        UPDATE_IPV6_WITHDRAW,
        END_OF_RIB_IPV4,
        END_OF_RIB_IPV6,
        ROUTE_REFRESH,
        NOTIFICATION_SHUTDOWN,
        OPEN_FOUR_OCTET_AS,
        OPEN_GRACEFUL_RESTART_ROUTER,
        OPEN_GRACEFUL_RESTART_RESTARTING,
        NOTIFICATION_HARD_RESET,
    ]
    .iter()
    .flat_map(|f| hex(f))
    .collect()
}

fn parse_in_chunks(stream: &[u8], chunk: usize) -> Vec<Message> {
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for piece in stream.chunks(chunk) {
        buf.extend_from_slice(piece);
        while let Some(msg) = try_parse(&mut buf, &FOUR).expect("valid stream") {
            out.push(msg);
        }
    }
    assert!(buf.is_empty());
    out
}

#[test]
fn a_stream_parses_the_same_whatever_the_chunk_size() {
    let stream = all_fixtures();
    let whole = parse_in_chunks(&stream, stream.len());
    assert_eq!(whole.len(), 14);
    for chunk in [1, 7, 19, 100] {
        assert_eq!(parse_in_chunks(&stream, chunk), whole, "chunks of {chunk}");
    }
}

/// A deterministic xorshift64 generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n).expect("small")).expect("small")
    }

    fn byte(&mut self) -> u8 {
        self.next().to_be_bytes()[0]
    }
}

/// Parses all of `bytes`, re-encoding what decodes; counts (messages, errors).
fn parse_everything(bytes: &[u8], ctx: &Context, counts: &mut (usize, usize)) {
    let mut buf = BytesMut::from(bytes);
    loop {
        match try_parse(&mut buf, ctx) {
            Ok(Some(msg)) => {
                counts.0 += 1;
                let mut out = BytesMut::new();
                // Only the absence of a panic matters here.
                let _ = msg.encode(ctx, &mut out);
            }
            Ok(None) => return,
            Err(err) => {
                counts.1 += 1;
                assert!(!err.notification().to_string().is_empty());
                return;
            }
        }
    }
}

#[test]
fn try_parse_never_panics_on_random_or_mutated_input() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let valid: Vec<Vec<u8>> = all_fixtures_split();
    let mut counts = (0, 0);
    for round in 0..20_000 {
        let ctx = if round % 2 == 0 { FOUR } else { TWO };
        // Random bytes, half of them behind a plausible header.
        let len = rng.below(120);
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.byte()).collect();
        if round % 4 < 2 {
            let kind = 1 + u8::try_from(rng.below(5)).expect("small");
            bytes = message(kind, &bytes);
        }
        parse_everything(&bytes, &ctx, &mut counts);
        // A valid message with a few bytes changed, its length kept right.
        let mut m = valid[rng.below(valid.len())].clone();
        for _ in 0..1 + rng.below(4) {
            let at = 19 + rng.below(m.len().saturating_sub(19).max(1));
            if let Some(b) = m.get_mut(at) {
                *b = rng.byte();
            }
        }
        parse_everything(&m, &ctx, &mut counts);
        // The same message cut short, with the header still claiming all.
        m.truncate(rng.below(m.len() + 1));
        let mut fixed = m.clone();
        if let Some(len) = fixed.get_mut(16..18) {
            let n = u16::try_from(m.len().max(19)).expect("short");
            len.copy_from_slice(&n.to_be_bytes());
        }
        parse_everything(&m, &ctx, &mut counts);
        parse_everything(&fixed, &ctx, &mut counts);
    }
    // Both paths were exercised in depth, not just header rejections.
    assert!(counts.0 > 5_000 && counts.1 > 5_000, "{counts:?}");
}

fn all_fixtures_split() -> Vec<Vec<u8>> {
    let stream = all_fixtures();
    let mut buf = BytesMut::from(&stream[..]);
    let mut out = Vec::new();
    while buf.len() >= 19 {
        let len = usize::from(u16::from_be_bytes([buf[16], buf[17]]));
        out.push(buf.split_to(len).to_vec());
    }
    out
}

// ---------------------------------------------------------------------------
// Packing.

fn vip_attributes() -> PathAttributes {
    PathAttributes {
        as_path: sequence(&[65001]),
        med: Some(0),
        communities: vec![0xfde9_0001, iana::community::NO_EXPORT],
        large_communities: vec![[65001, 0, 1]],
        ..PathAttributes::default()
    }
}

/// Encodes and decodes each UPDATE, checks the size limit, and returns the
/// prefixes announced and withdrawn in order.
fn unpack(updates: &[Update], ctx: &Context) -> (Vec<IpNet>, Vec<IpNet>) {
    let mut announced = Vec::new();
    let mut withdrawn = Vec::new();
    for update in updates {
        let mut out = BytesMut::new();
        Message::Update(update.clone())
            .encode(ctx, &mut out)
            .expect("fits in 4096 bytes");
        assert!(out.len() <= 4096);
        let Message::Update(back) = parse_one(&out, ctx) else {
            panic!("not an UPDATE");
        };
        assert_eq!(&back, update);
        assert_eq!(back.treat_as_withdraw, None);
        announced.extend(back.nlri.iter().copied().map(IpNet::V4));
        withdrawn.extend(back.withdrawn.iter().copied().map(IpNet::V4));
        if let Some(attrs) = back.attributes {
            announced.extend(attrs.mp_reach.into_iter().flat_map(|r| r.nlri));
            withdrawn.extend(attrs.mp_unreach.into_iter().flat_map(|r| r.withdrawn));
        }
    }
    (announced, withdrawn)
}

fn ipv4_hosts(n: u32) -> Vec<IpNet> {
    (0..n)
        .map(|i| IpNet::V4(Ipv4Net::new(Ipv4Addr::from(0x0a00_0000 + i), 32).expect("net")))
        .collect()
}

fn ipv6_hosts(n: u32) -> Vec<IpNet> {
    let base = u128::from(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0));
    (0..n)
        .map(|i| IpNet::V6(Ipv6Net::new(Ipv6Addr::from(base + u128::from(i)), 128).expect("net")))
        .collect()
}

#[test]
fn a_hundred_thousand_ipv4_vips_pack_into_few_full_updates() {
    let prefixes = ipv4_hosts(100_000);
    let nh = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    let updates = pack_announce(Family::Ipv4Unicast, &vip_attributes(), nh, &prefixes, &TWO);
    assert!(updates.len() < 150, "{} UPDATEs", updates.len());
    let (announced, withdrawn) = unpack(&updates, &TWO);
    assert_eq!(announced, prefixes);
    assert!(withdrawn.is_empty());
}

#[test]
fn a_hundred_thousand_ipv6_vips_pack_into_few_full_updates() {
    let prefixes = ipv6_hosts(100_000);
    let nh: IpAddr = "2001:db8::1".parse().expect("address");
    let updates = pack_announce(Family::Ipv6Unicast, &vip_attributes(), nh, &prefixes, &FOUR);
    // 17 octets per /128: at least 100000 * 17 / 4096 = 416 messages.
    assert!(updates.len() < 430, "{} UPDATEs", updates.len());
    let (announced, _) = unpack(&updates, &FOUR);
    assert_eq!(announced, prefixes);
}

#[test]
fn a_hundred_thousand_withdrawals_pack_into_few_full_updates() {
    let v4 = ipv4_hosts(100_000);
    let updates = pack_withdraw(Family::Ipv4Unicast, &v4, &FOUR);
    assert!(updates.len() < 150, "{} UPDATEs", updates.len());
    assert_eq!(unpack(&updates, &FOUR).1, v4);

    let v6 = ipv6_hosts(100_000);
    let updates = pack_withdraw(Family::Ipv6Unicast, &v6, &FOUR);
    assert!(updates.len() < 430, "{} UPDATEs", updates.len());
    assert_eq!(unpack(&updates, &FOUR).1, v6);
}

#[test]
fn an_ipv4_next_hop_for_ipv6_routes_is_sent_ipv4_mapped() {
    let nh = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    let prefixes = [net("2001:db8::a/128")];
    let updates = pack_announce(Family::Ipv6Unicast, &vip_attributes(), nh, &prefixes, &FOUR);
    let reach = updates
        .first()
        .and_then(|u| u.attributes.as_ref())
        .and_then(|a| a.mp_reach.as_ref())
        .map(|r| r.next_hops.clone());
    let mapped: IpAddr = "::ffff:192.0.2.1".parse().expect("address");
    assert_eq!(reach, Some(vec![mapped]));
}

#[test]
fn decoded_notification_data_is_kept_raw() {
    let bytes = message(3, &hex("02 02 fde9"));
    let Message::Notification(n) = parse_one(&bytes, &FOUR) else {
        panic!("not a NOTIFICATION");
    };
    assert_eq!(n.data, Bytes::from_static(&[0xfd, 0xe9]));
    assert_eq!(
        n.to_string(),
        "OPEN Message Error / Bad Peer AS (data 0xfde9)"
    );
    let mut out = BytesMut::new();
    Message::Notification(n)
        .encode(&FOUR, &mut out)
        .expect("encodes");
    assert_eq!(&out[..], &bytes[..]);
}
