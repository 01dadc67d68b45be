#!/usr/bin/env bash
# Side by side: herald, GoBGP and ExaBGP announcing the same N /32 prefixes
# (198.18.0.1/32 upwards, RFC 2544 range) to one BIRD 2 router.
#
#     router ns (BIRD 2, AS 65000)  198.51.100.1/24 --veth-- 198.51.100.11/24  host ns (speaker, AS 65001)
#
# For every N and every speaker the script starts a fresh BIRD, then the
# speaker, and times from just before the speaker's process is started until
# `birdc show protocols all speaker` reports "Routes: N imported" (polled
# every 100 ms, at most TIMEOUT s). It also notes the first poll at which the
# session was Established, and reports the time from then to N routes
# separately (so the speakers' different connect delays can be told apart
# from the route transfer; resolution 100 ms plus one birdc call). At that moment it reads the speaker's RSS (VmRSS) and CPU time
# (utime + stime) from /proc. What "the speaker" is:
#
#   herald  `herald run` with one [[peer]] and N [[vip]] (no checks); one process.
#   gobgp   gobgpd, then (once its API socket answers) one `gobgp mrt inject
#           global FILE` with an MRT TABLE_DUMP_V2 file holding the N routes,
#           written before the clock starts. The time includes the inject CLI
#           run; RSS and CPU are gobgpd's alone. With gobgp 3.10 the inject CLI
#           exits before gobgpd has taken the last few hundred to thousand
#           records of its stream (they are lost, every run), so the file ends
#           with 2048 + N/5 padding records that repeat the first prefix with
#           the same attributes; only they are lost. gobgpd does that extra
#           (idempotent) work inside the timed window.
#   exabgp  exabgp with an API `process` (routes.py exabgp-feed) that writes
#           one `announce route P/32 next-hop self` line per prefix and sleeps.
#           RSS and CPU are summed over exabgp and its child processes.
#
# BIRD keeps the routes in its BGP table only: there is no kernel protocol.
#
# Usage: sudo benches/compare/run.sh
#
# Environment:
#   SIZES     prefix counts (default "1000 10000 100000")
#   SPEAKERS  which speakers (default "herald gobgp exabgp")
#   TIMEOUT   seconds to wait for convergence (default 120)
#   HERALD    herald binary (default target/release/herald, built if missing)

set -euo pipefail

SIZES=${SIZES:-"1000 10000 100000"}
SPEAKERS=${SPEAKERS:-"herald gobgp exabgp"}
TIMEOUT=${TIMEOUT:-120}
readonly ROUTER=198.51.100.1 HOST=198.51.100.11 ROUTER_AS=65000 HOST_AS=65001

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
ROUTES="$HERE/routes.py"
NS_R="hc$$-r"
NS_H="hc$$-h"
STATE=""
NETNS=()
PIDS=()
RESULTS=()

die() {
	printf 'run.sh: %s\n' "$*" >&2
	exit 1
}
log() { printf '%s\n' "$*" >&2; }

# stop PID: SIGTERM, up to 5 s, then SIGKILL.
stop() {
	local pid=$1
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	set +e
	if ((rc != 0)) && [[ -n $STATE && -d $STATE ]]; then
		log "run.sh: failed (exit $rc); last lines of each log:"
		for f in "$STATE"/*.log; do
			[[ -f $f ]] || continue
			log "--- ${f##*/}"
			tail -n 15 "$f" >&2
		done
	fi
	local pid
	for pid in "${PIDS[@]}"; do
		# A speaker's API children (ExaBGP's feeder) go with their parent;
		# kill them by PID too in case the parent died first.
		for child in $(children "$pid"); do kill -KILL "$child" 2>/dev/null; done
		stop "$pid"
	done
	local ns
	for ns in "${NETNS[@]}"; do
		ip netns delete "$ns" 2>/dev/null
	done
	[[ -n $STATE ]] && rm -rf "$STATE"
	exit "$rc"
}

# children PID: the PIDs of PID's descendants, one a line.
children() {
	local kids k
	kids=$(cat /proc/"$1"/task/*/children 2>/dev/null) || return 0
	for k in $kids; do
		echo "$k"
		children "$k"
	done
}

# usage_of PID...: "RSS_KiB CPU_TICKS" summed over the given processes.
usage_of() {
	local pid rss=0 ticks=0 r stat
	for pid in "$@"; do
		r=$(awk '/^VmRSS:/ { print $2 }' /proc/"$pid"/status 2>/dev/null) || continue
		stat=$(cat /proc/"$pid"/stat 2>/dev/null) || continue
		stat=${stat##*) }
		# After "(comm) ": state is field 1, utime 12, stime 13.
		read -r -a f <<<"$stat"
		rss=$((rss + ${r:-0}))
		ticks=$((ticks + f[11] + f[12]))
	done
	echo "$rss $ticks"
}

# --- lab -------------------------------------------------------------------------

setup() {
	for cmd in bird birdc gobgpd gobgp exabgp python3 ip strip; do
		command -v "$cmd" >/dev/null ||
			die "$cmd not found (apt-get install -y bird2 gobgpd exabgp python3 iproute2 binutils)"
	done
	HERALD=${HERALD:-$REPO/target/release/herald}
	if [[ ! -x $HERALD ]]; then
		log "building herald (cargo build --release)"
		cargo build --release --manifest-path "$REPO/Cargo.toml" >&2
	fi
	STATE=$(mktemp -d /tmp/herald-compare.XXXXXX)
	for ns in "$NS_R" "$NS_H"; do
		ip netns add "$ns"
		NETNS+=("$ns")
		ip -n "$ns" link set lo up
	done
	ip -n "$NS_R" link add eth0 type veth peer name eth0 netns "$NS_H"
	ip -n "$NS_R" addr add "$ROUTER/24" dev eth0
	ip -n "$NS_H" addr add "$HOST/24" dev eth0
	ip -n "$NS_R" link set eth0 up
	ip -n "$NS_H" link set eth0 up
	cat >"$STATE/bird.conf" <<-EOF
		# No kernel protocol: routes stay in BIRD's table.
		router id $ROUTER;
		protocol device { }
		protocol bgp speaker {
		    local $ROUTER as $ROUTER_AS;
		    neighbor $HOST as $HOST_AS;
		    passive on;
		    error wait time 1, 5;
		    graceful restart off;
		    ipv4 { import all; export none; };
		}
	EOF
	bird -p -c "$STATE/bird.conf" || die "BIRD rejected its config"
}

start_bird() {
	rm -f "$STATE/bird.ctl"
	ip netns exec "$NS_R" bird -f -c "$STATE/bird.conf" -s "$STATE/bird.ctl" \
		-P "$STATE/bird.pid" >"$STATE/bird.log" 2>&1 &
	BIRD_PID=$!
	PIDS+=("$BIRD_PID")
	for _ in $(seq 1 100); do
		birdc -s "$STATE/bird.ctl" show status >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	die "BIRD did not open its control socket in 10 s"
}

# bird_poll: "STATE IMPORTED" for the speaker's session, from one
# `show protocols all speaker` (STATE is E once BGP is Established, else -).
bird_poll() {
	birdc -s "$STATE/bird.ctl" show protocols all speaker 2>/dev/null | awk '
		/BGP state:/ { st = ($3 == "Established") ? "E" : "-" }
		/Routes:/ { n = $2 }
		END { printf "%s %d\n", st ? st : "-", n }'
}

# --- speakers: prepare_X N (untimed), start_X N (timed; sets SPEAKER_PID) ---------

prepare_herald() {
	local n=$1
	{
		cat <<-EOF
			[global]
			asn = $HOST_AS
			router-id = "$HOST"
			connect-retry = "1s"
			state-file = "$STATE/herald.state.json"

			[control]
			socket = "$STATE/herald.sock"

			[[peer]]
			name = "r"
			address = "$ROUTER"
			asn = $ROUTER_AS

		EOF
		python3 "$ROUTES" herald-vips "$n"
	} >"$STATE/herald.toml"
	rm -f "$STATE/herald.state.json" "$STATE/herald.sock"
}

start_herald() {
	ip netns exec "$NS_H" "$HERALD" run --config "$STATE/herald.toml" >"$STATE/herald.log" 2>&1 &
	SPEAKER_PID=$!
	PIDS+=("$SPEAKER_PID")
	SPEAKER_PIDS=("$SPEAKER_PID")
}

prepare_gobgp() {
	local n=$1
	cat >"$STATE/gobgpd.toml" <<-EOF
		[global.config]
		  as = $HOST_AS
		  router-id = "$HOST"
		  port = -1
		[[neighbors]]
		  [neighbors.config]
		    neighbor-address = "$ROUTER"
		    peer-as = $ROUTER_AS
		  [neighbors.timers.config]
		    connect-retry = 1
	EOF
	python3 "$ROUTES" mrt "$n" "$HOST" "$STATE/routes.mrt" $((2048 + n / 5))
	rm -f "$STATE/gobgp.sock"
}

start_gobgp() {
	local api="unix://$STATE/gobgp.sock"
	ip netns exec "$NS_H" gobgpd -f "$STATE/gobgpd.toml" --api-hosts "$api" \
		>"$STATE/gobgpd.log" 2>&1 &
	SPEAKER_PID=$!
	PIDS+=("$SPEAKER_PID")
	SPEAKER_PIDS=("$SPEAKER_PID")
	local ok=0
	for _ in $(seq 1 200); do
		if gobgp --target "$api" global >/dev/null 2>&1; then
			ok=1
			break
		fi
		sleep 0.05
	done
	((ok)) || die "gobgpd's API did not answer in 10 s"
	timeout "$TIMEOUT" gobgp --target "$api" mrt inject global "$STATE/routes.mrt" \
		>"$STATE/gobgp-inject.log" 2>&1 || log "gobgp mrt inject failed; see gobgp-inject.log"
}

prepare_exabgp() {
	local n=$1
	cat >"$STATE/exabgp.conf" <<-EOF
		process feed {
		    run /usr/bin/python3 $ROUTES exabgp-feed $n $((TIMEOUT + 60));
		    encoder text;
		}
		neighbor $ROUTER {
		    router-id $HOST;
		    local-address $HOST;
		    local-as $HOST_AS;
		    peer-as $ROUTER_AS;
		    api {
		        processes [ feed ];
		    }
		}
	EOF
}

start_exabgp() {
	ip netns exec "$NS_H" env exabgp_daemon_user=root exabgp_daemon_drop=false \
		exabgp_api_cli=false exabgp_api_ack=false exabgp_log_destination=stderr \
		exabgp "$STATE/exabgp.conf" >"$STATE/exabgp.log" 2>&1 &
	SPEAKER_PID=$!
	PIDS+=("$SPEAKER_PID")
	SPEAKER_PIDS=("$SPEAKER_PID")
}

# --- one measurement -------------------------------------------------------------

measure() {
	local speaker=$1 n=$2 t0 t1 te="" st count=0 secs esecs rss ticks pids
	start_bird
	"prepare_$speaker" "$n"
	t0=$EPOCHREALTIME
	"start_$speaker" "$n"
	local polls=$((TIMEOUT * 10)) done=0
	for ((i = 0; i < polls; i++)); do
		read -r st count < <(bird_poll)
		[[ -z $te && $st == E ]] && te=$EPOCHREALTIME
		if [[ ${count:-0} -ge $n ]]; then
			t1=$EPOCHREALTIME
			pids=("$SPEAKER_PID" $(children "$SPEAKER_PID"))
			read -r rss ticks < <(usage_of "${pids[@]}")
			done=1
			break
		fi
		kill -0 "$SPEAKER_PID" 2>/dev/null || {
			log "$speaker exited early; see its log"
			tail -n 5 "$STATE"/"$speaker"*.log >&2
			break
		}
		if ((EPOCHSECONDS - ${t0%.*} >= TIMEOUT)); then break; fi
		sleep 0.1
	done
	if ((done)); then
		secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
		esecs=$(awk -v a="${te:-$t1}" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
		RESULTS+=("$speaker $n $secs $esecs $(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }') $(awk -v t="$ticks" -v h="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / h }')")
	else
		RESULTS+=("$speaker $n dnf:${count:-0} - - -")
	fi
	log "  $speaker N=$n: ${RESULTS[-1]#* * }"
	stop "$SPEAKER_PID"
	stop "$BIRD_PID"
}

report() {
	printf '\n%-7s %7s %9s %12s %8s %7s\n' speaker N "seconds" "after Estab." "RSS MiB" "CPU s"
	local r s n t e m c
	for r in "${RESULTS[@]}"; do
		read -r s n t e m c <<<"$r"
		if [[ $t == dnf:* ]]; then
			printf '%-7s %7s   did not finish in %s s (%s routes)\n' "$s" "$n" "$TIMEOUT" "${t#dnf:}"
		else
			printf '%-7s %7s %9s %12s %8s %7s\n' "$s" "$n" "$t" "$e" "$m" "$c"
		fi
	done
	printf '\nherald / other (below 1: herald is faster or smaller)\n'
	printf '%-7s %7s %9s %12s %8s\n' vs N time "after Estab." RSS
	local other
	for n in $SIZES; do
		for other in gobgp exabgp; do
			printf '%s\n' "${RESULTS[@]}" | awk -v o="$other" -v n="$n" '
				$2 == n && $1 == "herald" { ht = $3; he = $4; hm = $5 }
				$2 == n && $1 == o { ot = $3; oe = $4; om = $5; seen = 1 }
				function ratio(a, b) { return (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) ? sprintf("%.2f", a / b) : "-" }
				END { if (seen && ht != "") printf "%-7s %7s %9s %12s %8s\n", o, n, ratio(ht, ot), ratio(he, oe), ratio(hm, om) }'
		done
	done
	local size stripped
	size=$(stat -c %s "$HERALD")
	strip -o "$STATE/herald.stripped" "$HERALD"
	stripped=$(stat -c %s "$STATE/herald.stripped")
	printf '\nherald release binary: %.1f MiB, %.1f MiB stripped\n' \
		"$(awk -v b="$size" 'BEGIN { print b / 1048576 }')" "$(awk -v b="$stripped" 'BEGIN { print b / 1048576 }')"
	printf 'versions: %s; gobgpd %s; ExaBGP %s; BIRD %s\n' \
		"$("$HERALD" --version 2>/dev/null | head -n 1)" \
		"$(gobgpd --version 2>&1 | awk '{ print $3 }')" \
		"$(exabgp --version 2>&1 | awk '/^ExaBGP/ { print $3 }')" \
		"$(bird --version 2>&1 | awk '{ print $3 }')"
}

main() {
	((EUID == 0)) || die "needs root for network namespaces: sudo $0"
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	setup
	local n s
	for n in $SIZES; do
		for s in $SPEAKERS; do
			measure "$s" "$n"
		done
	done
	report
}

main "$@"
