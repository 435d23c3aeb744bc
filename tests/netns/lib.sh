# lib.sh - shared set-up for the network namespace tests (sourced).
#
# Each test gets a private namespace with only loopback up; its traffic stays
# there. Everything it starts is recorded and removed on exit, pass or fail.
# Exit status 77 tells ctest the test was skipped (not root, a tool missing).
set -euo pipefail

: "${VERDICTD:?set VERDICTD to the verdictd binary}"
: "${UDPGEN:?set UDPGEN to the vd-udpgen binary}"

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
pass() { echo "PASS: $*"; }
# has [GREP-OPTION...] PATTERN: reads all of stdin and succeeds when a line
# matches. For "cmd | has ...": grep -q stops at the first match, and a writer
# with more to write then dies of SIGPIPE, which pipefail turns into a failed
# check (or, after "&& fail", a check that cannot fail).
has() {
	local n
	n=$(grep -c "$@" || true)
	[ "${n:-0}" -gt 0 ]
}

[ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces"
for tool in ip iptables ip6tables; do
	command -v "$tool" >/dev/null || skip "$tool is not installed"
done

NS="vdt-$(basename "$0" .sh)-$$"
WORK=$(mktemp -d "/tmp/$NS.XXXXXX")
PIDS=()

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	# Anything else still running in the namespace goes with it.
	ip netns pids "$NS" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

ns() { ip netns exec "$NS" "$@"; }

ip netns add "$NS"
ns ip link set lo up
# IPv6 addresses for several-flow tests; loopback already has ::1.
ns ip -6 addr add 2001:db8::1/64 dev lo nodad

# add_queue_rule FAMILY PROTO PORT QUEUE: queue output traffic to PORT.
# QUEUE is "N" or "A:B" (balanced). Tries nft first, then iptables.
add_queue_rule() {
	local family=$1 proto=$2 port=$3 queue=$4 nftq ipt
	nftq="queue num ${queue/:/-} bypass"
	if ns nft add table inet vdtest 2>/dev/null &&
		ns nft add chain inet vdtest out '{ type filter hook output priority 0; }' 2>/dev/null &&
		ns nft add rule inet vdtest out meta nfproto "$family" "$proto" dport "$port" $nftq 2>/dev/null; then
		return 0
	fi
	ns nft delete table inet vdtest 2>/dev/null || true
	ipt=iptables
	[ "$family" = ipv6 ] && ipt=ip6tables
	if [[ $queue == *:* ]]; then
		ns "$ipt" -A OUTPUT -p "$proto" --dport "$port" -j NFQUEUE --queue-balance "$queue" --queue-bypass
	else
		ns "$ipt" -A OUTPUT -p "$proto" --dport "$port" -j NFQUEUE --queue-num "$queue" --queue-bypass
	fi
}

# start_verdictd NAME ARGS...: runs verdictd in the namespace and waits until
# it says it is ready. Output goes to $WORK/NAME.out and $WORK/NAME.err; the
# pid is left in VD_PID.
start_verdictd() {
	local name=$1 i
	shift
	# Not through ns(): a backgrounded function is a subshell, and $! must be
	# verdictd itself (ip netns exec execs it in place).
	ip netns exec "$NS" "$VERDICTD" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
	VD_PID=$!
	PIDS+=("$VD_PID")
	for i in $(seq 100); do
		grep -q 'ready:' "$WORK/$name.err" && return 0
		kill -0 "$VD_PID" 2>/dev/null || fail "verdictd $name exited early: $(cat "$WORK/$name.err")"
		sleep 0.05
	done
	fail "verdictd $name not ready after 5 s: $(cat "$WORK/$name.err")"
}

# stop_verdictd PID NAME: SIGTERM, then demand exit status 0 within 1 s.
stop_verdictd() {
	local pid=$1 name=$2 i status
	kill -TERM "$pid"
	for i in $(seq 20); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$pid" 2>/dev/null && fail "verdictd $name still running 1 s after SIGTERM"
	status=0
	wait "$pid" || status=$?
	[ "$status" -eq 0 ] || fail "verdictd $name exited with $status: $(cat "$WORK/$name.err")"
}

# wait_line FILE PATTERN: until grep finds PATTERN in FILE (5 s at most;
# the caller checks what it needs afterwards).
wait_line() {
	for _ in $(seq 100); do
		grep -q -- "$2" "$1" && return 0
		sleep 0.05
	done
	return 1
}

# udpgen ARGS...: one run of the generator in the namespace; prints its line.
udpgen() { ns "$UDPGEN" --quiet "$@"; }

# kv KEY LINE: the value of KEY=VALUE in LINE.
kv() { tr ' ;' '\n\n' <<<"$2" | sed -n "s/^$1=//p" | head -n 1; }

# final_stat NAME QUEUE KEY: a counter from verdictd's "stats final" line.
final_stat() {
	local line
	line=$(grep '^stats final:' "$WORK/$1.out") || fail "no final stats from verdictd $1"
	sed -n "s/.* q$2 \([^;]*\).*/\1/p" <<<"$line" | tr ' ' '\n' | sed -n "s/^$3=//p"
}

# verdictctl_expect WANT_STATUS SOCKET ARGS...: verdictctl as root in the
# namespace, its exit status checked; its output (stdout and stderr) in OUT.
verdictctl_expect() {
	local want=$1 sock=$2 status=0
	shift 2
	OUT=$(ns "${VERDICTCTL:?}" --socket "$sock" "$@" 2>&1) || status=$?
	expect_eq "exit status of verdictctl $* ($OUT)" "$status" "$want"
}

# ctl_stat SOCK QUEUE KEY: a counter from `verdictctl stats` (needs VERDICTCTL).
ctl_stat() {
	local line
	line=$(ns timeout 10 "$VERDICTCTL" --socket "$1" stats | grep '^stats:') ||
		fail "verdictctl stats on $1: no stats line"
	sed -n "s/.* q$2 \([^;]*\).*/\1/p" <<<"$line" | tr ' ' '\n' | sed -n "s/^$3=//p"
}

# rule_hits SOCK NAME: a rule's hits in `verdictctl stats` (needs VERDICTCTL).
rule_hits() {
	local out
	out=$(timeout 10 "$VERDICTCTL" --socket "$1" stats) || fail "verdictctl stats: $out"
	kv "$2" "$(grep '^rules' <<<"$out")"
}

# udp_received DST PORT COUNT: sends COUNT datagrams one at a time (vd-udpgen)
# and prints how many arrived.
udp_received() {
	local line
	line=$(udpgen --dst "$1" --port "$2" --count "$3" --inflight 0 --drain-ms 200 --duration 10) ||
		fail "vd-udpgen to $1 port $2 failed"
	kv received "$line"
}

expect_eq() { # WHAT GOT WANT
	[ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}
