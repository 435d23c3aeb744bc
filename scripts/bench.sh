#!/usr/bin/env bash
# bench.sh - the engine-core benchmark, end to end through a real kernel.
#
# Builds a Release binary (build-bench/), makes a private network namespace
# and sends 64-byte UDP payloads over its loopback with at most 256 packets
# in flight, through three paths, interleaved, median of RUNS runs each:
#   kernel    no NFQUEUE rule: the ceiling
#   minimal   bench/nfq_minimal.c, one recv and one verdict per packet: the reference
#   verdictd  verdictd --queue 0 --default accept
# Per row: packets/s, one-way latency p50/p99, kernel drops for the queue,
# consumer CPU time per packet, and the ratio to `minimal` of the same run.
# Then the resident memory of verdictd with four workers after traffic went
# through all four queues (--queue-balance 0:3, eight source addresses).
#
# Usage: scripts/bench.sh [--quick] [--out FILE.json]
# Needs root. Traffic stays on the namespace's loopback; every load is
# bounded in count and time.
set -euo pipefail
cd "$(dirname "$0")/.."

QUICK=0
OUT=""
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--out) OUT=$2; shift ;;
	*) echo "bench: unknown argument '$1' (usage: $0 [--quick] [--out FILE])" >&2; exit 2 ;;
	esac
	shift
done
[ "$(id -u)" -eq 0 ] || { echo "bench: run as root (network namespaces)" >&2; exit 1; }

if [ "$QUICK" = 1 ]; then RUNS=1 COUNT=20000; else RUNS=5 COUNT=300000; fi
mkdir -p bench/results
OUT=${OUT:-bench/results/core-$(date -u +%Y%m%dT%H%M%SZ).json}

scripts/deps.sh >/dev/null
scripts/build.sh build-bench -DCMAKE_BUILD_TYPE=Release -DVD_BUILD_TESTS=OFF >/dev/null
VERDICTD=$PWD/build-bench/engine/verdictd
UDPGEN=$PWD/build-bench/bench/vd-udpgen
MINIMAL=$PWD/build-bench/bench/vd-nfq-minimal

NS="vd-bench-$$"
WORK=$(mktemp -d)
CONSUMER=""
cleanup() {
	[ -n "$CONSUMER" ] && kill -KILL "$CONSUMER" 2>/dev/null || true
	ip netns pids "$NS" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT
ns() { ip netns exec "$NS" "$@"; }
ip netns add "$NS"
ns ip link set lo up

PORT=9000
queue_rule() { # add|del QUEUE-ARGS...
	local op=$1
	shift
	local flag=-A
	[ "$op" = del ] && flag=-D
	ns iptables "$flag" OUTPUT -o lo -p udp --dport "$PORT" -j NFQUEUE "$@"
}

# wait_bound Q: until the kernel lists queue Q as bound (5 s at most).
wait_bound() {
	for _ in $(seq 100); do
		ns cat /proc/net/netfilter/nfnetlink_queue | grep -qE "^ +$1 " && return 0
		sleep 0.05
	done
	echo "bench: queue $1 never got bound" >&2
	exit 1
}

# kernel_drops: queue_dropped+user_dropped summed over bound queues.
kernel_drops() {
	ns cat /proc/net/netfilter/nfnetlink_queue | awk '{ d += $6 + $7 } END { print d + 0 }'
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

kv() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }

# run_row NAME: one measured run; appends "NAME pps p50 p99 drops cpu_ns" to rows.
run_row() {
	local name=$1 line drops=0 cpu_ns=0 t0=0 t1 received
	case $name in
	kernel) ;;
	minimal)
		queue_rule add --queue-num 0
		ip netns exec "$NS" "$MINIMAL" --queue 0 2>/dev/null &
		CONSUMER=$!
		wait_bound 0 ;;
	verdictd)
		queue_rule add --queue-num 0
		ip netns exec "$NS" "$VERDICTD" --queue 0 --default accept >/dev/null 2>&1 &
		CONSUMER=$!
		wait_bound 0 ;;
	esac
	[ -n "$CONSUMER" ] && t0=$(cpu_ticks "$CONSUMER")
	line=$(ns "$UDPGEN" --quiet --dst 127.0.0.1 --port "$PORT" --count "$COUNT" --size 64 \
		--inflight 256 --duration 20)
	received=$(kv received "$line")
	if [ -n "$CONSUMER" ]; then
		t1=$(cpu_ticks "$CONSUMER")
		drops=$(kernel_drops)
		cpu_ns=$(( (t1 - t0) * 1000000000 / $(getconf CLK_TCK) / (received > 0 ? received : 1) ))
		kill -TERM "$CONSUMER"
		wait "$CONSUMER" || true
		CONSUMER=""
		queue_rule del --queue-num 0
	fi
	echo "$name $(kv pps "$line") $(kv p50_us "$line") $(kv p99_us "$line") $drops $cpu_ns $received" >>"$WORK/rows"
}

echo "bench: $RUNS run(s) per row, $COUNT packets each, 64-byte UDP payloads, <= 256 in flight" >&2
for run in $(seq "$RUNS"); do
	for row in kernel minimal verdictd; do
		run_row "$row"
	done
	echo "bench: run $run/$RUNS done" >&2
done

# median NAME COLUMN
median() {
	awk -v n="$1" -v c="$2" '$1 == n { print $c }' "$WORK/rows" | sort -g |
		awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Resident memory with four workers, after traffic reached all four queues.
queue_rule add --queue-balance 0:3
ip netns exec "$NS" "$VERDICTD" --queue 0-3 --default accept >"$WORK/rss.out" 2>/dev/null &
CONSUMER=$!
wait_bound 3
ns "$UDPGEN" --quiet --dst 127.0.0.1 --port "$PORT" --flows 8 --src-base 127.0.0.10 \
	--count "$COUNT" --size 64 --inflight 256 --duration 20 >/dev/null
RSS_KB=$(awk '/^VmRSS/ { print $2 }' "/proc/$CONSUMER/status")
kill -TERM "$CONSUMER"
wait "$CONSUMER" || true
CONSUMER=""
QUEUES_USED=$(grep '^stats final' "$WORK/rss.out" | grep -o 'packets=[1-9][0-9]*' | wc -l)

MIN_PPS=$(median minimal 2)
printf '\n%-10s %12s %8s %9s %9s %12s %12s\n' row "packets/s" "ratio" "p50 us" "p99 us" "kern drops" "cpu ns/pkt"
JSON="{\"date\":\"$(date -u +%FT%TZ)\",\"kernel\":\"$(uname -r)\",\"cpus\":$(nproc),\"runs\":$RUNS,\"packets\":$COUNT,\"payload_bytes\":64,\"inflight\":256,\"rows\":["
sep=""
for row in kernel minimal verdictd; do
	pps=$(median "$row" 2)
	ratio=$(awk -v a="$pps" -v b="$MIN_PPS" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
	p50=$(median "$row" 3)
	p99=$(median "$row" 4)
	drops=$(median "$row" 5)
	cpu=$(median "$row" 6)
	[ "$row" = kernel ] && cpu="-"
	printf '%-10s %12.0f %8s %9s %9s %12s %12s\n' "$row" "$pps" "$ratio" "$p50" "$p99" "$drops" "$cpu"
	JSON+="$sep{\"row\":\"$row\",\"pps\":$pps,\"ratio_to_minimal\":$ratio,\"p50_us\":$p50,\"p99_us\":$p99,\"kernel_drops\":$drops,\"cpu_ns_per_packet\":\"$cpu\"}"
	sep=","
done
JSON+="],\"rss_4_workers_kib\":$RSS_KB,\"rss_queues_with_traffic\":$QUEUES_USED}"
printf '\nverdictd --queue 0-3: resident memory %s KiB after traffic on %s of 4 queues\n' "$RSS_KB" "$QUEUES_USED"
echo "$JSON" >"$OUT"
echo "bench: results written to $OUT"
