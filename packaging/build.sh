#!/usr/bin/env bash
# Builds herald's Debian and RPM packages into target/packages/.
#
#   packaging/build.sh
#
# Needs cargo-deb and cargo-generate-rpm (cargo install --locked cargo-deb
# cargo-generate-rpm). Every step reuses cargo's target directory, so a
# second run only repeats what changed. The package metadata lives in
# Cargo.toml ([package.metadata.deb] and [package.metadata.generate-rpm]);
# this script prepares the files those refer to in target/packaging/: a
# stripped binary for the RPM, compressed man pages, and shell completions
# generated from the clap definitions by examples/completions.rs.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

for tool in cargo-deb cargo-generate-rpm; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "build.sh: $tool is missing: cargo install --locked $tool" >&2
		exit 1
	fi
done

staging=target/packaging
out=target/packages
rm -rf "$staging" "$out"
mkdir -p "$staging/man" "$out"

# Timestamps would make the gzip files, and so the packages, differ from
# build to build; -n leaves them out.
for page in man/herald.8 man/herald.toml.5; do
	gzip -9n <"$page" >"$staging/man/$(basename "$page").gz"
done

cargo run --quiet --example completions -- "$staging/completions" >/dev/null

cargo build --release --locked
# cargo-deb strips the binary it packages; cargo generate-rpm does not,
# so the RPM takes a stripped copy.
cargo deb --no-build --output "$out/"
strip --strip-unneeded -o "$staging/herald" target/release/herald
cargo generate-rpm --output "$out/"

ls -l "$out"
