#!/usr/bin/env bash
# Smoke test of the built packages, without installing them:
#
#   packaging/smoke-test.sh target/packages/herald_*.deb target/packages/herald-*.rpm
#
# For each package: the file list holds the binary, the unit, both man
# pages, the three completions and the configuration file; the maintainer
# scripts are there; and the packaged binary, unpacked into a temporary
# directory, prints its version and accepts the packaged configuration.
# Needs dpkg-deb, rpm, rpm2cpio and cpio. Cleans up after itself.
set -euo pipefail

if [[ $# -ne 2 ]]; then
	echo "usage: $0 PKG.deb PKG.rpm" >&2
	exit 2
fi
deb=$1
rpm=$2

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

failures=0
fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}
ok() { echo "ok: $*"; }

# has LIST PATH: the package's file list names PATH.
has() {
	if grep -qxF "$2" "$1"; then ok "contains $2"; else fail "missing $2"; fi
}

# run_binary ROOT: the unpacked binary runs and checks the unpacked config.
run_binary() {
	local root=$1 version
	# `timeout` bounds a binary that hangs instead of failing.
	if version=$(timeout 10 "$root/usr/bin/herald" --version); then
		ok "herald --version: $version"
	else
		fail "herald --version"
	fi
	if timeout 10 "$root/usr/bin/herald" check --config "$root/etc/herald/herald.toml" >"$work/check.out"; then
		ok "herald check accepts the packaged /etc/herald/herald.toml"
	else
		fail "herald check rejects the packaged /etc/herald/herald.toml"
	fi
}

echo "=== $deb"
dpkg-deb --contents "$deb" | awk '{print $NF}' | sed 's|^\./|/|' >"$work/deb.list"
for path in /usr/bin/herald /lib/systemd/system/herald.service \
	/usr/share/man/man8/herald.8.gz /usr/share/man/man5/herald.toml.5.gz \
	/usr/share/bash-completion/completions/herald \
	/usr/share/zsh/vendor-completions/_herald \
	/usr/share/fish/vendor_completions.d/herald.fish \
	/etc/herald/herald.toml /usr/share/doc/herald/README.md \
	/usr/share/doc/herald/copyright; do
	has "$work/deb.list" "$path"
done
dpkg-deb --info "$deb" >"$work/deb.info"
for script in postinst prerm postrm conffiles; do
	if grep -qw "$script" "$work/deb.info"; then ok "control member $script"; else fail "no $script"; fi
done
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles >"$work/conffiles"
has "$work/conffiles" /etc/herald/herald.toml
mkdir "$work/deb"
dpkg-deb -x "$deb" "$work/deb"
run_binary "$work/deb"

echo "=== $rpm"
rpm -qlp "$rpm" 2>/dev/null >"$work/rpm.list"
for path in /usr/bin/herald /usr/lib/systemd/system/herald.service \
	/usr/share/man/man8/herald.8.gz /usr/share/man/man5/herald.toml.5.gz \
	/usr/share/bash-completion/completions/herald \
	/usr/share/zsh/site-functions/_herald \
	/usr/share/fish/vendor_completions.d/herald.fish \
	/etc/herald/herald.toml /usr/share/doc/herald/README.md; do
	has "$work/rpm.list" "$path"
done
rpm -qp --configfiles "$rpm" 2>/dev/null >"$work/rpm.config"
has "$work/rpm.config" /etc/herald/herald.toml
rpm -qp --scripts "$rpm" 2>/dev/null >"$work/rpm.scripts"
for scriptlet in preinstall postinstall preuninstall postuninstall; do
	if grep -q "^$scriptlet scriptlet" "$work/rpm.scripts"; then
		ok "scriptlet $scriptlet"
	else
		fail "no $scriptlet scriptlet"
	fi
done
mkdir "$work/rpm"
# rpm2cpio of rpm 4.18 exits 1 on packages made by the rpm crate even
# though it writes the whole archive, so its status is not trusted;
# comparing what cpio unpacked with the package's file list is.
rpm2cpio "$rpm" >"$work/rpm.cpio" || true
(cd "$work/rpm" && cpio -idm --quiet <"$work/rpm.cpio")
unpacked=$(cd "$work/rpm" && find . -type f | sed 's|^\./|/|' | sort)
if [[ $unpacked == "$(sort "$work/rpm.list")" ]]; then
	ok "rpm2cpio unpacked every file"
else
	fail "rpm2cpio unpacked other files than rpm -qlp lists"
fi
run_binary "$work/rpm"

if [[ $failures -ne 0 ]]; then
	echo "smoke test: $failures failure(s)" >&2
	exit 1
fi
echo "smoke test: ok"
