#!/usr/bin/env bash
# herald ECMP lab: one BIRD 2 router and three hosts in network namespaces.
#
#                         router r1 (BIRD 2, AS 65000)
#                  198.51.100.1/24, 2001:db8:100::1/64 on br0
#                     |               |               |
#                    h1              h2              h3      (herald, AS 65001)
#                   .11             .12             .13      (and ::11 ::12 ::13)
#
# Every host announces the shared VIPs 192.0.2.10/32 and 2001:db8:10::/128
# plus its own 192.0.2.2N/32. The router installs one kernel route per
# shared VIP with one next hop per healthy host (ECMP). The script then stops
# one host's herald and shows the route shrinking to two next hops.
#
# Usage: sudo ./examples/lab/lab.sh [--keep]
#
#   --keep   leave the lab running after the demonstration until Enter is
#            pressed (then clean up), to poke at it by hand
#
# Environment:
#   HERALD       herald binary (default: target/release/herald, built with
#                `cargo build --release` when missing)
#   LAB_SPEAKER  a bash file to source that redefines prepare_speaker and
#                start_speaker, to run another BGP speaker on the hosts
#
# Everything the lab creates (configs, sockets, pid files, logs) lives in one
# temporary directory; namespaces are named after this script's PID so that
# several labs can run at once. All of it is removed on exit, even on error
# or Ctrl-C.

set -euo pipefail

readonly HOSTS=(1 2 3)
readonly LAN4=198.51.100
readonly LAN6=2001:db8:100
readonly VIP4=192.0.2.10/32
readonly VIP6=2001:db8:10::/128
readonly ROUTER_AS=65000
readonly HOST_AS=65001
readonly WAIT_SECONDS=30

KEEP=0
STATE=""
NETNS=()
PIDS=()
SPEAKER_PID=()
STOPPED=()

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PREFIX="hl$$"
R1="$PREFIX-r1"

say() { printf '\n== %s\n' "$*"; }
info() { printf '   %s\n' "$*"; }
die() {
	printf 'lab.sh: %s\n' "$*" >&2
	exit 1
}

usage() {
	sed -n '/^# Usage:/,/^# Environment:/p' "$0" | sed '$d; s/^# \{0,1\}//'
}

host_ns() { printf '%s-h%s' "$PREFIX" "$1"; }

# --- cleanup -----------------------------------------------------------------

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	set +e
	if ((rc != 0)) && [[ -n $STATE && -d $STATE ]]; then
		printf '\nlab.sh: failed (exit %s)\n' "$rc" >&2
		if [[ -S $STATE/bird.ctl ]]; then
			printf -- '--- birdc show protocols\n' >&2
			birdc -s "$STATE/bird.ctl" show protocols >&2
		fi
		printf 'last lines of each log:\n' >&2
		for log in "$STATE"/*.log; do
			[[ -f $log ]] || continue
			printf -- '--- %s\n' "${log##*/}" >&2
			tail -n 15 "$log" >&2
		done
	fi
	say "cleaning up"
	local pid
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	# Give every process up to 5 s to exit cleanly, then force it.
	for pid in "${PIDS[@]}"; do
		for _ in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			info "pid $pid did not stop on SIGTERM, sending SIGKILL"
			kill -KILL "$pid" 2>/dev/null
		fi
		wait "$pid" 2>/dev/null
	done
	local ns
	for ns in "${NETNS[@]}"; do
		ip netns delete "$ns" 2>/dev/null
	done
	[[ -n $STATE ]] && rm -rf "$STATE"
	info "removed namespaces ${NETNS[*]:-(none)} and $STATE"
	exit "$rc"
}

# --- requirements --------------------------------------------------------------

ensure_packages() {
	local missing=()
	command -v bird >/dev/null || missing+=(bird2)
	command -v ip >/dev/null || missing+=(iproute2)
	if ((${#missing[@]})); then
		say "installing ${missing[*]}"
		apt-get update -q
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
	fi
	# The bird2 package may start a system-wide BIRD; the lab runs its own.
	if command -v systemctl >/dev/null && systemctl is-active --quiet bird 2>/dev/null; then
		info "note: the system bird service is running; the lab does not use it"
	fi
}

# Find cargo for the user who ran sudo (rustup installs it in their home), and
# build as that user so that target/ keeps its owner.
build_herald() {
	local cargo user_home
	if [[ -n ${SUDO_USER:-} && $SUDO_USER != root ]]; then
		user_home=$(getent passwd "$SUDO_USER" | cut -d: -f6)
		cargo="$user_home/.cargo/bin/cargo"
		if [[ -x $cargo ]]; then
			sudo -u "$SUDO_USER" -H "$cargo" build --release --manifest-path "$REPO/Cargo.toml"
			return
		fi
	fi
	cargo=$(command -v cargo) ||
		die "cargo not found; install Rust (https://rustup.rs) or set HERALD=/path/to/herald"
	"$cargo" build --release --manifest-path "$REPO/Cargo.toml"
}

# --- the speaker on each host (herald; LAB_SPEAKER may replace these) ----------

prepare_speaker() {
	# Without HERALD, build the tree's herald: cargo only rebuilds what
	# changed, and an old binary would not know today's configuration.
	if [[ -z ${HERALD:-} ]]; then
		HERALD=$REPO/target/release/herald
		say "building herald (cargo build --release)"
		build_herald
	fi
	[[ -x $HERALD ]] || die "no herald binary at $HERALD"
	info "herald: $HERALD"
}

# start_speaker N: start the BGP speaker of host N in its namespace, in the
# background, with its log in $STATE/hN.log; set SPEAKER_PID[N].
start_speaker() {
	local n=$1 ns conf
	ns=$(host_ns "$n")
	conf="$STATE/h$n.toml"
	cat >"$conf" <<-EOF
		[global]
		asn = $HOST_AS
		router-id = "auto"
		hold-time = "9s"
		connect-retry = "1s"
		connect-retry-max = "2s"
		state-file = "$STATE/h$n.state.json"
		bfd = true

		[control]
		socket = "$STATE/h$n.sock"

		[[peer]]
		name = "r1-v4"
		address = "$LAN4.1"
		asn = $ROUTER_AS

		[[peer]]
		name = "r1-v6"
		address = "$LAN6::1"
		asn = $ROUTER_AS

		[[vip]]
		prefix = "$VIP4"

		[[vip]]
		prefix = "$VIP6"

		[[vip]]
		prefix = "192.0.2.2$n/32"
	EOF
	ip netns exec "$ns" "$HERALD" run --config "$conf" >"$STATE/h$n.log" 2>&1 &
	SPEAKER_PID[n]=$!
	PIDS+=("$!")
}

# stop_speaker N: SIGTERM, which makes herald withdraw its routes and close
# its sessions; wait (bounded) for it to exit.
stop_speaker() {
	local pid=${SPEAKER_PID[$1]}
	STOPPED[$1]=1
	if ! kill -TERM "$pid" 2>/dev/null; then
		info "h$1's speaker had already exited; see $STATE/h$1.log"
		return 0
	fi
	for _ in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
}

# --- topology ------------------------------------------------------------------

add_netns() {
	ip netns add "$1"
	NETNS+=("$1")
	ip -n "$1" link set lo up
}

build_topology() {
	say "building namespaces: router $R1, hosts $(host_ns 1) $(host_ns 2) $(host_ns 3)"
	add_netns "$R1"
	ip netns exec "$R1" sysctl -q -w \
		net.ipv4.ip_forward=1 \
		net.ipv6.conf.all.forwarding=1 \
		net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0
	ip -n "$R1" link add br0 type bridge
	ip -n "$R1" link set br0 up
	ip -n "$R1" addr add "$LAN4.1/24" dev br0
	ip -n "$R1" addr add "$LAN6::1/64" dev br0 nodad

	local n ns
	for n in "${HOSTS[@]}"; do
		ns=$(host_ns "$n")
		add_netns "$ns"
		# The router side (port hN on br0) and the host side (eth0) are
		# created directly in their namespaces: no names in the root one.
		ip -n "$R1" link add "h$n" type veth peer name eth0 netns "$ns"
		ip -n "$R1" link set "h$n" master br0 up
		ip -n "$ns" link set eth0 up
		ip -n "$ns" addr add "$LAN4.1$n/24" dev eth0
		ip -n "$ns" addr add "$LAN6::1$n/64" dev eth0 nodad
		ip -n "$ns" route add default via "$LAN4.1"
		ip -n "$ns" -6 route add default via "$LAN6::1"
		# The VIPs live on lo so that the host accepts traffic for them.
		ip -n "$ns" addr add "$VIP4" dev lo
		ip -n "$ns" addr add "$VIP6" dev lo nodad
		ip -n "$ns" addr add "192.0.2.2$n/32" dev lo
	done
}

# --- BIRD ----------------------------------------------------------------------

write_bird_conf() {
	local n
	cat <<-EOF
		# BIRD 2 router of the herald lab. Generated by examples/lab/lab.sh.
		log stderr all;
		router id $LAN4.1;

		protocol device {
		}

		# ECMP into the kernel: "merge paths on" lets the kernel protocol
		# merge all equally good BGP routes for a prefix into one multipath
		# route; a kernel protocol exports nothing without an export filter.
		protocol kernel kernel4 {
		    ipv4 {
		        import none;
		        export where source = RTS_BGP;
		    };
		    merge paths on;
		}

		protocol kernel kernel6 {
		    ipv6 {
		        import none;
		        export where source = RTS_BGP;
		    };
		    merge paths on;
		}

		# herald only connects out, so the router is passive: it never dials
		# the hosts (whose port 179 is closed) and just waits for them.
		# "error wait time 1, 5" lets a host that restarts come back after
		# 1-5 s instead of 60-300 s. "connect retry time" only matters if
		# passive is turned off. Graceful restart is on so that a restart
		# of herald (herald restart, a package upgrade) goes unnoticed; BFD
		# takes a host that dies or becomes unreachable out within 0.9 s
		# instead of the hold time. The bfd protocol sets the timers.
		protocol bfd {
		    interface "*" {
		        min rx interval 300 ms;
		        min tx interval 300 ms;
		        multiplier 3;
		    };
		}

		template bgp host4 {
		    local $LAN4.1 as $ROUTER_AS;
		    passive on;
		    error wait time 1, 5;
		    connect retry time 1;
		    graceful restart on;
		    bfd on;
		    ipv4 {
		        import all;
		        export none;
		    };
		}

		template bgp host6 {
		    local $LAN6::1 as $ROUTER_AS;
		    passive on;
		    error wait time 1, 5;
		    connect retry time 1;
		    graceful restart on;
		    bfd on;
		    ipv6 {
		        import all;
		        export none;
		    };
		}

	EOF
	for n in "${HOSTS[@]}"; do
		printf 'protocol bgp h%s_v4 from host4 { neighbor %s as %s; }\n' "$n" "$LAN4.1$n" "$HOST_AS"
		printf 'protocol bgp h%s_v6 from host6 { neighbor %s as %s; }\n' "$n" "$LAN6::1$n" "$HOST_AS"
	done
}

start_bird() {
	say "starting BIRD in $R1"
	write_bird_conf >"$STATE/bird.conf"
	bird -p -c "$STATE/bird.conf" || die "BIRD rejected $STATE/bird.conf"
	ip netns exec "$R1" bird -f -c "$STATE/bird.conf" -s "$STATE/bird.ctl" \
		-P "$STATE/bird.pid" >"$STATE/bird.log" 2>&1 &
	PIDS+=("$!")
	wait_for "BIRD control socket" birdc_quiet show status
}

birdc_r1() { birdc -s "$STATE/bird.ctl" "$@"; }
birdc_quiet() { birdc_r1 "$@" >/dev/null 2>&1; }

# --- routes --------------------------------------------------------------------

# nexthops PREFIX: the router's kernel next hops for PREFIX, one a line. Reads
# both shapes: "PREFIX via X dev D" (one) and "nexthop via X dev D" (several).
nexthops() {
	local family=-4
	[[ $1 == *:* ]] && family=-6
	ip -n "$R1" "$family" route show "$1" |
		awk '{ for (i = 1; i < NF; i++) if ($i == "via") {
			gw = $(i + 1); if (gw == "inet" || gw == "inet6") gw = $(i + 2); print gw } }'
}

nexthop_count() { nexthops "$1" | grep -c . || true; }

has_nexthops() { [[ $(nexthop_count "$1") == "$2" ]]; }
has_no_route() { [[ -z $(ip -n "$R1" "$([[ $1 == *:* ]] && echo -6 || echo -4)" route show "$1") ]]; }

# check_speakers: fail at once if a speaker exited that was not stopped.
check_speakers() {
	local n
	for n in "${!SPEAKER_PID[@]}"; do
		[[ -n ${STOPPED[$n]:-} ]] && continue
		kill -0 "${SPEAKER_PID[$n]}" 2>/dev/null ||
			die "h$n's speaker (pid ${SPEAKER_PID[$n]}) exited on its own; see h$n.log below"
	done
}

# wait_for DESCRIPTION COMMAND...: run COMMAND every 0.2 s until it succeeds,
# for at most WAIT_SECONDS.
wait_for() {
	local desc=$1 tries=$((WAIT_SECONDS * 5))
	shift
	for ((i = 0; i < tries; i++)); do
		if "$@"; then
			info "ok: $desc"
			return 0
		fi
		check_speakers
		sleep 0.2
	done
	die "timed out after ${WAIT_SECONDS}s waiting for: $desc"
}

h1_established() {
	[[ $(birdc_r1 show protocols | grep -c '^h1_v[46] .*Established') -eq 2 ]]
}

show_route() {
	local family=-4
	[[ $1 == *:* ]] && family=-6
	printf '\n   $ ip -n %s %s route show %s\n' "$R1" "$family" "$1"
	local out
	out=$(ip -n "$R1" "$family" route show "$1")
	printf '%s\n' "${out:-(no route)}" | sed 's/^/   /'
}

show_routes() {
	show_route "$VIP4"
	show_route "$VIP6"
	local n
	for n in "${HOSTS[@]}"; do
		show_route "192.0.2.2$n/32"
	done
}

# --- main ----------------------------------------------------------------------

main() {
	while (($#)); do
		case $1 in
		--keep) KEEP=1 ;;
		-h | --help)
			usage
			exit 0
			;;
		*)
			printf 'lab.sh: unknown option %s\n' "$1" >&2
			usage >&2
			exit 2
			;;
		esac
		shift
	done
	((EUID == 0)) || die "needs root for network namespaces: sudo $0"

	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	ensure_packages
	if [[ -n ${LAB_SPEAKER:-} ]]; then
		# shellcheck source=/dev/null
		source "$LAB_SPEAKER"
	fi
	prepare_speaker

	STATE=$(mktemp -d /tmp/herald-lab.XXXXXX)
	info "state directory: $STATE"
	build_topology
	start_bird

	say "starting the BGP speaker on h1 h2 h3"
	local n
	for n in "${HOSTS[@]}"; do
		start_speaker "$n"
	done

	say "waiting (at most ${WAIT_SECONDS}s) for the router to learn every route"
	wait_for "$VIP4 has 3 next hops" has_nexthops "$VIP4" 3
	wait_for "$VIP6 has 3 next hops" has_nexthops "$VIP6" 3
	for n in "${HOSTS[@]}"; do
		wait_for "192.0.2.2$n/32 has 1 next hop (h$n)" has_nexthops "192.0.2.2$n/32" 1
	done

	say "the router's kernel routes: one route per VIP, one 'nexthop via' per host"
	show_routes

	say "BIRD's view: 6 sessions (one IPv4 and one IPv6 per host), all Established"
	printf '\n'
	birdc_r1 show protocols | sed 's/^/   /'

	say "restarting h1's speaker in place (herald restart): the router keeps its next hop"
	"$HERALD" restart --socket "$STATE/h1.sock" | sed 's/^/   /'
	has_nexthops "$VIP4" 3 || die "$VIP4 lost a next hop during the restart"
	wait_for "h1's sessions are Established again" h1_established
	show_route "$VIP4"
	printf '\n'
	birdc_r1 show bfd sessions | sed 's/^/   /'

	say "stopping h3's speaker (SIGTERM): it withdraws its routes and says goodbye"
	stop_speaker 3
	wait_for "$VIP4 is down to 2 next hops" has_nexthops "$VIP4" 2
	wait_for "$VIP6 is down to 2 next hops" has_nexthops "$VIP6" 2
	wait_for "192.0.2.23/32 is gone" has_no_route 192.0.2.23/32
	show_routes
	printf '\n'
	birdc_r1 show protocols | sed 's/^/   /'

	if ((KEEP)); then
		say "the lab is running; try:"
		info "ip -n $R1 route"
		info "birdc -s $STATE/bird.ctl show route all"
		info "ip netns exec $(host_ns 1) bash"
		read -r -p "   press Enter to tear it down " _ || true
	fi
	say "done"
}

main "$@"
