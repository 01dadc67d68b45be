#!/usr/bin/env python3
"""Route inputs for benches/compare/run.sh, all for the same N /32 prefixes.

    routes.py herald-vips N          [[vip]] tables for herald's config
    routes.py mrt N NEXTHOP FILE PAD an MRT TABLE_DUMP_V2 file for `gobgp mrt inject global`,
                                     followed by PAD more records that repeat the first
                                     prefix with the same attributes (see run.sh for why)
    routes.py exabgp-feed N SECONDS  ExaBGP API input: one `announce route` line per
                                     prefix, then sleep (at most SECONDS) so that
                                     ExaBGP does not see its process exit

The prefixes are 198.18.0.1/32, 198.18.0.2/32, ... (RFC 2544 range
198.18.0.0/15, so N is at most 131,071).
"""

import ipaddress
import struct
import sys
import time

BASE = int(ipaddress.IPv4Address("198.18.0.0"))
LIMIT = 2**17 - 1


def prefixes(n):
    if not 0 < n <= LIMIT:
        sys.exit(f"routes.py: N must be 1..{LIMIT}")
    for i in range(1, n + 1):
        yield ipaddress.IPv4Address(BASE + i)


def herald_vips(n):
    out = sys.stdout
    for p in prefixes(n):
        out.write(f'[[vip]]\nprefix = "{p}/32"\n\n')


def mrt_record(subtype, body, now):
    # RFC 6396 section 2: timestamp, type 13 (TABLE_DUMP_V2), subtype, length.
    return struct.pack("!IHHI", now, 13, subtype, len(body)) + body


def mrt(n, nexthop, path, pad):
    now = int(time.time())
    nh = ipaddress.IPv4Address(nexthop).packed
    # PEER_INDEX_TABLE (subtype 1, RFC 6396 4.3.1): collector id, empty view
    # name, one peer (type 0x02: IPv4 address, 4-octet AS).
    peer = struct.pack("!B4s4sI", 0x02, nh, nh, 65001)
    table = struct.pack("!4sHH", nh, 0, 1) + peer
    # Path attributes: ORIGIN IGP, empty AS_PATH, NEXT_HOP.
    attrs = (
        struct.pack("!BBBB", 0x40, 1, 1, 0)
        + struct.pack("!BBB", 0x40, 2, 0)
        + struct.pack("!BBB4s", 0x40, 3, 4, nh)
    )
    entry = struct.pack("!HIH", 0, now, len(attrs)) + attrs
    with open(path, "wb") as f:
        f.write(mrt_record(1, table, now))
        for seq, p in enumerate(prefixes(n)):
            # RIB_IPV4_UNICAST (subtype 2, RFC 6396 4.3.2), one entry.
            body = struct.pack("!IB4sH", seq, 32, p.packed, 1) + entry
            f.write(mrt_record(2, body, now))
        first = next(prefixes(1))
        for seq in range(n, n + pad):
            body = struct.pack("!IB4sH", seq, 32, first.packed, 1) + entry
            f.write(mrt_record(2, body, now))


def exabgp_feed(n, seconds):
    out = sys.stdout
    for p in prefixes(n):
        out.write(f"announce route {p}/32 next-hop self\n")
    out.flush()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(1)


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    cmd, n = argv[1], int(argv[2])
    if cmd == "herald-vips":
        herald_vips(n)
    elif cmd == "mrt" and len(argv) == 6:
        mrt(n, argv[3], argv[4], int(argv[5]))
    elif cmd == "exabgp-feed" and len(argv) == 4:
        exabgp_feed(n, int(argv[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
