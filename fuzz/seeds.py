#!/usr/bin/env python3
"""Writes the seeds into the corpora of fuzz/corpus/.

BGP seeds are the hex fixtures of tests/wire_fixtures.rs, prefixed with the
context byte (0 and 1); config seeds are examples/*.toml; control seeds are
request and response lines from tests/control_protocol.rs.
"""
import pathlib
import re

root = pathlib.Path(__file__).resolve().parent.parent
corpus = root / "fuzz" / "corpus"

fixtures = (root / "tests" / "wire_fixtures.rs").read_text()
messages = []
for name, body in re.findall(r'const (\w+): &str = "(.*?)";', fixtures, re.S):
    digits = "".join(l.split("#")[0] for l in body.splitlines())
    digits = "".join(digits.split())
    if digits and re.fullmatch(r"[0-9a-fA-F]+", digits) and len(digits) % 2 == 0:
        messages.append((name.lower(), bytes.fromhex(digits)))

for target in ("message_decode", "framing"):
    d = corpus / target
    d.mkdir(parents=True, exist_ok=True)
    for name, msg in messages:
        for ctx in (0, 1):
            (d / f"{name}_{ctx}").write_bytes(bytes([ctx]) + msg)
# A stream of every fixture back to back, fed in 7-byte chunks.
stream = b"".join(m for _, m in messages)
(corpus / "framing" / "all_fixtures").write_bytes(bytes([1 | (1 << 1), 6]) + stream)

d = corpus / "config"
d.mkdir(parents=True, exist_ok=True)
for toml in sorted((root / "examples").glob("**/*.toml")):
    (d / toml.name).write_bytes(toml.read_bytes())

d = corpus / "control_request"
d.mkdir(parents=True, exist_ok=True)
lines = re.findall(r'r#"(\{.*?\})"#', (root / "tests" / "control_protocol.rs").read_text())
for i, line in enumerate(lines):
    (d / f"line_{i}").write_text(line)

d = corpus / "update_pack"
d.mkdir(parents=True, exist_ok=True)
(d / "zeros").write_bytes(bytes(256))
(d / "ones").write_bytes(bytes([0x55] * 1024))

for target in sorted(corpus.iterdir()):
    print(target.name, len(list(target.iterdir())))
