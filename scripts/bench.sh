#!/usr/bin/env bash
# bench.sh - verdictd against the kernel path and a minimal accept loop, in one run.
#
# Builds a Release binary (build-bench/), makes a private network namespace
# and sends 64-byte UDP payloads over its loopback. Every end-to-end row is
# the median of RUNS runs, the variants interleaved within each run, and is
# also given as a ratio to the minimal loop of the same run:
#   kernel      no NFQUEUE rule: the ceiling
#   minimal     bench/nfq_minimal.c, one recv and one verdict per packet: the reference
#   verdictd    verdictd --queue 0 --default accept
#   lua10       verdictd --rules bench/rules/lua10.lua (nine rules, then a Lua hook)
#   plugin10    verdictd --rules bench/rules/plugin10.lua (nine rules, then a C hook)
#   verdictd-2q verdictd --queue 0-1 behind --queue-balance 0:1, eight flows
#   rw-set      verdictd --rules bench/rules/rewrite_set.lua (TTL and DSCP, declarative)
#   rw-lua      verdictd --rules bench/rules/rewrite_lua.lua (a Lua hook writes 4 payload bytes)
#   rw-grow     verdictd --rules bench/rules/rewrite_grow.lua (payload grown by 16 bytes)
#   pktb        bench/pktb_mangler.c: the same 4-byte rewrite on libnetfilter_queue's
#               pktb_*/nfq_udp_mangle_ipv4 helpers, one packet at a time
#   (the rewrite rows are also given as a ratio to the verdictd row, --default accept)
#   (minimal-2q is not a row: the minimal loop serves one queue)
# Throughput rows: at most 256 packets in flight. Latency rows: kernel, minimal
# and verdictd at 1 packet in flight, and open-loop at half of each one's
# maximum rate from the throughput rows. Every row: kernel drops for the
# queue (/proc/net/netfilter/nfnetlink_queue) and consumer CPU time per packet.
# Then: replay with --write-pcap against tcprewrite, reloads per second sustained under traffic (packets lost must be 0),
# the resident memory of four workers, the offline micro rows (vd-micro), the
# offline scale rows (vd-scale: big tables' load time, peak memory and match
# rate; --quick divides their sizes by 10), a
# PNG chart (gnuplot) and a JSON file.
# Shaping rows (issue 12, run first, one run each, not medians):
#   release     verdictd with bench/rules/delay_{1,10,50}ms.lua (every packet
#               held), open loop at 10k and 100k packets/s over 32 flows:
#               one-way latency p50/p99 at the receiver, the daemon's
#               release_error p50/p99/max and held_max (its final stats line),
#               kernel drops; delay_0ms.lua (the same rule, at once) is the floor
#   rate        a rule `rate = R, burst = B` against tc tbf (same R, B, latency
#               50ms) on the same loopback at 1, 10 and 100 Mbit/s, 1000-byte
#               payloads offered at 1.25 R (bench/ratemeter.c): achieved / target,
#               and the largest burst above the rate (most bytes in any 10 ms
#               window minus R * 10 ms); verdictd twice: as it is, and as
#               verdictd-rt (--realtime 10: its queue worker SCHED_FIFO)
#   cpu         consumer CPU per delayed packet next to the floor's, same rate:
#               the median over 3 rounds of the ratio to the floor measured
#               in the same round (--quick: 1 round)
#   (--quick: 0.3 s per release row, 0.6 s per rate row; else 3 s and 5 s)
#
# Usage: scripts/bench.sh [--quick] [--out FILE.json]
#   --quick: one short run of everything (CI runs it to prove the script works)
#   BENCH_ONLY=shaping (environment): only the shaping rows, their tables and a
#   JSON file holding only them; BENCH_ONLY=kernel: likewise the kernel-rules
#   rows (bench/kernel_rows.sh: flows queued, bypassed, first packets, offloaded)
# Needs root. Traffic stays on the namespace's loopback; every load is
# bounded in count and time.
set -euo pipefail
cd "$(dirname "$0")/.."

QUICK=0
OUT=""
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--out) OUT=${2:?--out needs a file}; shift ;;
	*) echo "bench: unknown argument '$1' (usage: $0 [--quick] [--out FILE.json])" >&2; exit 2 ;;
	esac
	shift
done
[ "$(id -u)" -eq 0 ] || { echo "bench: run as root (network namespaces)" >&2; exit 1; }

if [ "$QUICK" = 1 ]; then
	RUNS=1 COUNT=20000 LAT1_COUNT=2000 RELOAD_SECONDS=1 MICRO_ARGS=--quick
	SHAPE_DELAY_DS=3 SHAPE_RATE_S=0.6 SHAPE_HOLD_RATE=20000 SHAPE_CPU_ROUNDS=1
else
	RUNS=5 COUNT=300000 LAT1_COUNT=20000 RELOAD_SECONDS=5 MICRO_ARGS=
	SHAPE_DELAY_DS=30 SHAPE_RATE_S=5 SHAPE_HOLD_RATE=110000 SHAPE_CPU_ROUNDS=3
fi
BENCH_ONLY=${BENCH_ONLY:-}
case $BENCH_ONLY in
"" | shaping | kernel) ;;
*) echo "bench: BENCH_ONLY='$BENCH_ONLY' is not a known set (only 'shaping' or 'kernel', or unset for all)" >&2; exit 2 ;;
esac
mkdir -p bench/results
OUT=${OUT:-bench/results/bench-$(date -u +%Y%m%dT%H%M%SZ).json}
CHART=${OUT%.json}.png

scripts/deps.sh >/dev/null
# BENCH_BUILD_DIR (environment, --quick only): an already built tree to run
# instead of building build-bench (CI's quick run proves the script with the
# normal build; its numbers mean nothing either way).
if [ "$QUICK" = 1 ] && [ -n "${BENCH_BUILD_DIR:-}" ]; then
	B=$(cd "$BENCH_BUILD_DIR" && pwd)
else
	scripts/build.sh build-bench -DCMAKE_BUILD_TYPE=Release -DVD_BUILD_TESTS=OFF >/dev/null
	B=$PWD/build-bench
fi
VERDICTD=$B/engine/daemon/verdictd
VERDICTCTL=$B/engine/client/verdictctl
UDPGEN=$B/bench/vd-udpgen
MINIMAL=$B/bench/vd-nfq-minimal
PKTB=$B/bench/vd-pktb-mangler
MICRO=$B/bench/vd-micro
SCALE=$B/bench/vd-scale
RATEMETER=$B/bench/vd-ratemeter
RULES=$PWD/bench/rules

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
	local flag=-A
	[ "$1" = del ] && flag=-D
	shift
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

# kernel_drops: queue_dropped + user_dropped over the bound queues.
kernel_drops() {
	ns cat /proc/net/netfilter/nfnetlink_queue | awk '{ d += $6 + $7 } END { print d + 0 }'
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
cpu_run_ns() { cat /proc/"$1"/task/*/schedstat | awk '{ s += $1 } END { printf "%.0f", s }'; }
kv() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }

# consumer_start VARIANT: the queue rule and the program for VARIANT.
consumer_start() {
	case $1 in
	kernel) return 0 ;;
	minimal)
		queue_rule add --queue-num 0
		ip netns exec "$NS" "$MINIMAL" --queue 0 2>/dev/null & ;;
	verdictd)
		queue_rule add --queue-num 0
		ip netns exec "$NS" "$VERDICTD" --queue 0 --default accept >/dev/null 2>&1 & ;;
	lua10)
		queue_rule add --queue-num 0
		ip netns exec "$NS" "$VERDICTD" --queue 0 --rules "$RULES/lua10.lua" --control none \
			>/dev/null 2>&1 & ;;
	plugin10)
		queue_rule add --queue-num 0
		ip netns exec "$NS" "$VERDICTD" --queue 0 --rules "$RULES/plugin10.lua" --control none \
			--plugin-path "$B/bench" >/dev/null 2>&1 & ;;
	rw-set | rw-lua | rw-grow)
		queue_rule add --queue-num 0
		ip netns exec "$NS" "$VERDICTD" --queue 0 --rules "$RULES/rewrite_${1#rw-}.lua" \
			--control none >/dev/null 2>&1 & ;;
	pktb)
		queue_rule add --queue-num 0
		ip netns exec "$NS" "$PKTB" --queue 0 2>/dev/null & ;;
	verdictd-2q)
		queue_rule add --queue-balance 0:1
		ip netns exec "$NS" "$VERDICTD" --queue 0-1 --default accept >/dev/null 2>&1 & ;;
	esac
	CONSUMER=$!
	wait_bound 0
	[ "$1" = verdictd-2q ] && wait_bound 1
	return 0
}

consumer_stop() {
	[ -n "$CONSUMER" ] || return 0
	kill -TERM "$CONSUMER"
	wait "$CONSUMER" || true
	CONSUMER=""
	case $1 in
	verdictd-2q) queue_rule del --queue-balance 0:1 ;;
	*) queue_rule del --queue-num 0 ;;
	esac
}

# run_row ROW VARIANT UDPGEN-ARGS...: one measured run; appends
# "ROW pps p50 p99 drops cpu_ns received sent" to $WORK/rows.
run_row() {
	local row=$1 variant=$2 line drops=0 cpu_ns=- t0=0 t1 received
	shift 2
	consumer_start "$variant"
	[ -n "$CONSUMER" ] && t0=$(cpu_ticks "$CONSUMER")
	line=$(ns "$UDPGEN" --quiet --dst 127.0.0.1 --port "$PORT" --size 64 --duration 20 "$@")
	received=$(kv received "$line")
	if [ -n "$CONSUMER" ]; then
		t1=$(cpu_ticks "$CONSUMER")
		drops=$(kernel_drops)
		cpu_ns=$(( (t1 - t0) * 1000000000 / $(getconf CLK_TCK) / (received > 0 ? received : 1) ))
	fi
	consumer_stop "$variant"
	echo "$row $(kv pps "$line") $(kv p50_us "$line") $(kv p99_us "$line") $drops $cpu_ns $received $(kv sent "$line")" \
		>>"$WORK/rows"
}

# median ROW COLUMN
median() {
	awk -v n="$1" -v c="$2" '$1 == n { print $c }' "$WORK/rows" | sort -g |
		awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# The shaping rows (issue 12): bench/shaping_rows.sh.
# shellcheck source=bench/shaping_rows.sh
. bench/shaping_rows.sh
if [ "$BENCH_ONLY" = shaping ]; then
	shaping_rows
	shaping_report
	echo "{\"date\":\"$(date -u +%FT%TZ)\",\"kernel\":\"$(uname -r)\",\"cpus\":$(nproc),$SHAPE_JSON}" >"$OUT"
	echo "bench: results written to $OUT (BENCH_ONLY=shaping)"
	exit 0
fi
# The kernel-rules rows (issue 13): bench/kernel_rows.sh.
# shellcheck source=bench/kernel_rows.sh
. bench/kernel_rows.sh
if [ "$BENCH_ONLY" = kernel ]; then
	kernel_rows
	kernel_report
	echo "{\"date\":\"$(date -u +%FT%TZ)\",\"kernel\":\"$(uname -r)\",\"cpus\":$(nproc),$KR_JSON}" >"$OUT"
	echo "bench: results written to $OUT (BENCH_ONLY=kernel)"
	exit 0
fi
shaping_rows
kernel_rows

THROUGHPUT_ROWS="kernel minimal verdictd lua10 plugin10 verdictd-2q rw-set rw-lua rw-grow pktb"
LATENCY_VARIANTS="kernel minimal verdictd"
echo "bench: $RUNS run(s), $COUNT packets per throughput row, 64-byte UDP payloads" >&2
for run in $(seq "$RUNS"); do
	for row in $THROUGHPUT_ROWS; do
		flows=1
		[ "$row" = verdictd-2q ] && flows=8
		run_row "$row" "$row" --count "$COUNT" --inflight 256 --flows "$flows" --src-base 127.0.0.10
	done
	echo "bench: throughput run $run/$RUNS done" >&2
done
for run in $(seq "$RUNS"); do
	for v in $LATENCY_VARIANTS; do
		run_row "$v@1" "$v" --count "$LAT1_COUNT" --inflight 1
		half=$(median "$v" 2 | awk '{ printf "%d", $1 / 2 }')
		run_row "$v@half" "$v" --count $((COUNT / 2)) --inflight 4096 --rate "$half"
	done
	echo "bench: latency run $run/$RUNS done" >&2
done

# Reloads under load: lua10 at a fixed 50,000 packets/s while verdictctl
# reloads back to back; every packet must arrive.
queue_rule add --queue-num 0
ip netns exec "$NS" "$VERDICTD" --queue 0 --rules "$RULES/lua10.lua" --control "$WORK/ctl.sock" \
	>"$WORK/reload.out" 2>"$WORK/reload.err" &
CONSUMER=$!
wait_bound 0
RELOAD_RATE=50000
ns "$UDPGEN" --quiet --dst 127.0.0.1 --port "$PORT" --size 64 --rate "$RELOAD_RATE" --inflight 4096 \
	--count $((RELOAD_RATE * RELOAD_SECONDS)) --duration $((RELOAD_SECONDS + 10)) --drain-ms 500 \
	>"$WORK/reload.gen" &
GEN=$!
RELOADS=0
START=$(date +%s.%N)
while kill -0 "$GEN" 2>/dev/null; do
	ns "$VERDICTCTL" --socket "$WORK/ctl.sock" reload >/dev/null && RELOADS=$((RELOADS + 1))
done
wait "$GEN"
ELAPSED=$(awk -v s="$START" -v e="$(date +%s.%N)" 'BEGIN { print e - s }')
RELOADS_PER_S=$(awk -v n="$RELOADS" -v t="$ELAPSED" 'BEGIN { printf "%.0f", n / t }')
line=$(cat "$WORK/reload.gen")
RELOAD_LOST=$(( $(kv sent "$line") - $(kv received "$line") ))
RELOAD_KDROPS=$(kernel_drops)
consumer_stop verdictd

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
queue_rule del --queue-balance 0:3
QUEUES_USED=$(grep '^stats final' "$WORK/rss.out" | grep -o 'packets=[1-9][0-9]*' | wc -l)

# NFLOG to JSON lines: verdictd and ulogd2 (NFLOG -> BASE -> IFINDEX ->
# IP2STR -> HWHDR -> JSON) on the same group with the same settings
# (kernel threshold 1, a fixed 8 MiB socket buffer), at a fixed offered rate
# and at saturation. Written = JSON lines in the output file; what a writer
# cannot keep up with overflows its socket buffer and is lost.
# At saturation the logged packets are dropped right after NFLOG, so that no
# receiver competes for the CPU and the sender offers all it can.
LOG_PORT=9100
MAX_PORT=9101
NFLOG_COUNT=$COUNT
ns iptables -A OUTPUT -o lo -p udp --dport "$LOG_PORT" -j NFLOG --nflog-group 7
ns iptables -A OUTPUT -o lo -p udp --dport "$MAX_PORT" -j NFLOG --nflog-group 7
ns iptables -A OUTPUT -o lo -p udp --dport "$MAX_PORT" -j DROP
cat >"$WORK/ulogd.conf" <<ULOGD
[global]
logfile="$WORK/ulogd.log"
loglevel=5
plugin="/usr/lib/x86_64-linux-gnu/ulogd/ulogd_inppkt_NFLOG.so"
plugin="/usr/lib/x86_64-linux-gnu/ulogd/ulogd_raw2packet_BASE.so"
plugin="/usr/lib/x86_64-linux-gnu/ulogd/ulogd_filter_IFINDEX.so"
plugin="/usr/lib/x86_64-linux-gnu/ulogd/ulogd_filter_IP2STR.so"
plugin="/usr/lib/x86_64-linux-gnu/ulogd/ulogd_filter_HWHDR.so"
plugin="/usr/lib/x86_64-linux-gnu/ulogd/ulogd_output_JSON.so"
stack=log1:NFLOG,base1:BASE,ifi1:IFINDEX,ip2str1:IP2STR,mac2str1:HWHDR,json1:JSON
[log1]
group=7
netlink_socket_buffer_size=8388608
netlink_socket_buffer_maxsize=8388608
[json1]
sync=0
file="$WORK/ulogd.json"
ULOGD
# log_row NAME RATE: one run; appends "NAME offered written elapsed" to $WORK/logrows.
log_row() {
	local name=$1 rate=$2 out line written elapsed port=$MAX_PORT args=(--inflight 0) t0 t1
	rm -f "$WORK/vd.json" "$WORK/ulogd.json"
	case $name in
	verdictd*)
		ip netns exec "$NS" "$VERDICTD" --nflog 7 --nflog-rcvbuf-max 8M --log-json "$WORK/vd.json" \
			>/dev/null 2>&1 &
		out=$WORK/vd.json ;;
	ulogd*)
		ip netns exec "$NS" /usr/sbin/ulogd -c "$WORK/ulogd.conf" >/dev/null 2>&1 &
		out=$WORK/ulogd.json ;;
	esac
	CONSUMER=$!
	for _ in $(seq 100); do
		ns cat /proc/net/netfilter/nfnetlink_log 2>/dev/null | grep -qE '^ *7 ' && break
		sleep 0.05
	done
	[ "$rate" != max ] && args=(--inflight 0 --rate "$rate") && port=$LOG_PORT
	t0=$(cpu_ticks "$CONSUMER")
	line=$(ns "$UDPGEN" --quiet --dst 127.0.0.1 --port "$port" --size 64 --duration 20 \
		--count "$NFLOG_COUNT" "${args[@]}")
	sleep 1 # let the writer catch up with what it already received
	t1=$(cpu_ticks "$CONSUMER")
	kill -TERM "$CONSUMER"
	wait "$CONSUMER" || true
	CONSUMER=""
	written=$(cat "$out" 2>/dev/null | wc -l)
	elapsed=$(kv send_s "$line")
	echo "$name $(kv sent "$line") $written $elapsed $(( (t1 - t0) * 1000000000 / $(getconf CLK_TCK) / (written > 0 ? written : 1) ))" >>"$WORK/logrows"
}
for run in $(seq "$RUNS"); do
	for name in verdictd ulogd2; do
		log_row "$name@100k" 100000
		log_row "$name@max" max
	done
	echo "bench: nflog run $run/$RUNS done" >&2
done
ns iptables -D OUTPUT -o lo -p udp --dport "$LOG_PORT" -j NFLOG --nflog-group 7
ns iptables -D OUTPUT -o lo -p udp --dport "$MAX_PORT" -j NFLOG --nflog-group 7
ns iptables -D OUTPUT -o lo -p udp --dport "$MAX_PORT" -j DROP

# Replay throughput: a capture of COUNT packets through lua10, offline.
REPLAY_PCAP=$WORK/replay.pcap
ns iptables -A OUTPUT -o lo -p udp --dport "$LOG_PORT" -j NFLOG --nflog-group 7
ip netns exec "$NS" "$VERDICTD" --nflog 7 --log-pcap "$REPLAY_PCAP" >/dev/null 2>&1 &
CONSUMER=$!
sleep 0.3
ns "$UDPGEN" --quiet --dst 127.0.0.1 --port "$LOG_PORT" --size 64 --duration 20 \
	--count "$COUNT" --inflight 0 --rate 100000 >/dev/null
sleep 0.5
kill -TERM "$CONSUMER"
wait "$CONSUMER" || true
CONSUMER=""
ns iptables -D OUTPUT -o lo -p udp --dport "$LOG_PORT" -j NFLOG --nflog-group 7
REPLAY_T0=$(date +%s.%N)
REPLAY_LINE=$(taskset -c 0 "$VERDICTD" --replay "$REPLAY_PCAP" --rules "$RULES/lua10.lua" | head -1)
REPLAY_T1=$(date +%s.%N)
REPLAY_PKTS=$(kv packets "$REPLAY_LINE")
REPLAY_PPS=$(awk -v n="$REPLAY_PKTS" -v a="$REPLAY_T0" -v b="$REPLAY_T1" 'BEGIN { printf "%.0f", n / (b - a) }')

# Replay with rewriting against tcprewrite: the same capture (raw IP link
# type, which both read) with its destination port mapped, checksums fixed;
# each tool pinned to one core, best of three.
RAW_PCAP=$WORK/replay-raw.pcap
ns iptables -A OUTPUT -o lo -p udp --dport "$LOG_PORT" -j NFLOG --nflog-group 7
ip netns exec "$NS" "$VERDICTD" --nflog 7 --log-pcap "$RAW_PCAP" --log-pcap-linktype raw \
	>/dev/null 2>&1 &
CONSUMER=$!
sleep 0.3
ns "$UDPGEN" --quiet --dst 127.0.0.1 --port "$LOG_PORT" --size 64 --duration 20 \
	--count "$COUNT" --inflight 0 --rate 100000 >/dev/null
sleep 0.5
kill -TERM "$CONSUMER"
wait "$CONSUMER" || true
CONSUMER=""
ns iptables -D OUTPUT -o lo -p udp --dport "$LOG_PORT" -j NFLOG --nflog-group 7
cat >"$WORK/portmap.lua" <<PORTMAP
return { default = "accept", rules = {
  { name = "portmap", proto = "udp", dport = $LOG_PORT, verdict = "accept", set = { dport = 9200 } },
} }
PORTMAP
best_seconds() { # COMMAND...: the fastest of three runs, in seconds
	local best=1e9 t0 t1
	for _ in 1 2 3; do
		t0=$(date +%s.%N)
		taskset -c 0 "$@" >/dev/null 2>&1 || { echo "bench: failed: $*" >&2; exit 1; }
		t1=$(date +%s.%N)
		best=$(awk -v b="$best" -v d="$(awk -v a="$t0" -v c="$t1" 'BEGIN { print c - a }')" 'BEGIN { print (d < b) ? d : b }')
	done
	echo "$best"
}
RW_PKTS=$(kv packets "$("$VERDICTD" --replay "$RAW_PCAP" --rules "$WORK/portmap.lua" \
	--write-pcap "$WORK/vd-out.pcap" | head -1)")
RW_VD_S=$(best_seconds "$VERDICTD" --replay "$RAW_PCAP" --rules "$WORK/portmap.lua" \
	--write-pcap "$WORK/vd-out.pcap")
RW_TR_S=$(best_seconds tcprewrite --portmap="$LOG_PORT:9200" --fixcsum -i "$RAW_PCAP" \
	-o "$WORK/tr-out.pcap")
RW_VD_PPS=$(awk -v n="$RW_PKTS" -v t="$RW_VD_S" 'BEGIN { printf "%.0f", n / t }')
RW_TR_PPS=$(awk -v n="$RW_PKTS" -v t="$RW_TR_S" 'BEGIN { printf "%.0f", n / t }')

# Offline micro rows, pinned to one core.
taskset -c 0 "$MICRO" $MICRO_ARGS --rules-dir "$RULES" --plugin-dir "$B/bench" >"$WORK/micro"
# Offline scale rows, pinned to one core, each load in a child of its own.
taskset -c 0 "$SCALE" $MICRO_ARGS >"$WORK/scale"

# --- report ---
MIN_PPS=$(median minimal 2)
ACCEPT_PPS=$(median verdictd 2)
PKTB_PPS=$(median pktb 2)
ratio() { awk -v a="$1" -v b="${2:-$MIN_PPS}" 'BEGIN { printf "%.2f", (b > 0 && a != "-") ? a / b : 0 }'; }
JSON="{\"date\":\"$(date -u +%FT%TZ)\",\"kernel\":\"$(uname -r)\",\"cpus\":$(nproc),\"cpu_model\":\"$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)\",\"runs\":$RUNS,\"packets\":$COUNT,\"payload_bytes\":64,\"rows\":["
sep=""
printf '\n%-16s %12s %7s %9s %9s %9s %10s %10s\n' row "packets/s" ratio "/accept" "p50 us" "p99 us" "kern drops" "cpu ns/pkt"
for row in $THROUGHPUT_ROWS $(for v in $LATENCY_VARIANTS; do echo "$v@1 $v@half"; done); do
	pps=$(median "$row" 2)
	r=$(ratio "$pps")
	ra=$(ratio "$pps" "$ACCEPT_PPS")
	p50=$(median "$row" 3)
	p99=$(median "$row" 4)
	drops=$(median "$row" 5)
	cpu=$(median "$row" 6)
	case $row in kernel*) cpu="-" ;; esac
	printf '%-16s %12.0f %7s %9s %9s %9s %10s %10s\n' "$row" "$pps" "$r" "$ra" "$p50" "$p99" "$drops" "$cpu"
	[ "$cpu" = "-" ] && cpu=null
	JSON+="$sep{\"row\":\"$row\",\"pps\":$pps,\"ratio_to_minimal\":$r,\"ratio_to_accept\":$ra,\"p50_us\":$p50,\"p99_us\":$p99,\"kernel_drops\":$drops,\"cpu_ns_per_packet\":$cpu}"
	sep=","
done
RW_VS_PKTB=$(ratio "$(median rw-lua 2)" "$PKTB_PPS")
printf 'rewriting 4 payload bytes: verdictd (rw-lua) %sx the pktbuff reference (pktb)\n' "$RW_VS_PKTB"
JSON+="],\"rewrite_lua_to_pktb\":$RW_VS_PKTB,\"micro\":["
sep=""
printf '\n%-16s %14s %14s\n' "offline row" "ns/packet" "packets/s"
while read -r l; do
	name=$(kv row "$l") ns_pp=$(kv ns_per_packet "$l") pps=$(kv pps "$l")
	printf '%-16s %14s %14s\n' "$name" "$ns_pp" "$pps"
	JSON+="$sep{\"row\":\"$name\",\"ns_per_packet\":$ns_pp,\"pps\":$pps}"
	sep=","
done <"$WORK/micro"
JSON+="],\"scale\":["
sep=""
printf '\n%-16s %10s %10s %12s %14s %14s\n' "scale row" "load s" "load cpu s" "peak RSS KiB" "ns/packet" "packets/s"
while read -r l; do
	name=$(kv row "$l") secs=$(kv seconds "$l") cpu=$(kv cpu_seconds "$l") rss=$(kv max_rss_kib "$l")
	ns_pp=$(kv ns_per_packet "$l") pps=$(kv pps "$l")
	printf '%-16s %10s %10s %12s %14s %14s\n' "$name" "$secs" "$cpu" "$rss" "${ns_pp:--}" "${pps:--}"
	JSON+="$sep{\"row\":\"$name\",\"load_seconds\":$secs,\"load_cpu_seconds\":$cpu,\"max_rss_kib\":$rss,\"ns_per_packet\":${ns_pp:-null},\"pps\":${pps:-null}}"
	sep=","
done <"$WORK/scale"
JSON+="],\"reload\":{\"reloads\":$RELOADS,\"seconds\":$ELAPSED,\"reloads_per_s\":$RELOADS_PER_S,\"offered_pps\":$RELOAD_RATE,\"packets_lost\":$RELOAD_LOST,\"kernel_drops\":$RELOAD_KDROPS}"
JSON+=",\"nflog_json\":["
sep=""
printf '\n%-16s %10s %10s %9s %12s %12s %12s\n' "nflog -> json" offered written "written%" "offered/s" "written/s" "cpu ns/line"
for name in verdictd@100k ulogd2@100k verdictd@max ulogd2@max; do
	offered=$(awk -v n="$name" '$1 == n { print $2 }' "$WORK/logrows" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	written=$(awk -v n="$name" '$1 == n { print $3 }' "$WORK/logrows" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	ops=$(awk -v n="$name" '$1 == n && $4 > 0 { print $2 / $4 }' "$WORK/logrows" | sort -g | awk '{ v[NR] = $1 } END { printf "%.0f", v[int((NR + 1) / 2)] }')
	wps=$(awk -v n="$name" '$1 == n && $4 > 0 { print $3 / $4 }' "$WORK/logrows" | sort -g | awk '{ v[NR] = $1 } END { printf "%.0f", v[int((NR + 1) / 2)] }')
	pct=$(awk -v w="$written" -v o="$offered" 'BEGIN { printf "%.1f", (o > 0 ? 100 * w / o : 0) }')
	cpu=$(awk -v n="$name" '$1 == n { print $5 }' "$WORK/logrows" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	printf '%-16s %10s %10s %9s %12s %12s %12s\n' "$name" "$offered" "$written" "$pct" "$ops" "$wps" "$cpu"
	JSON+="$sep{\"row\":\"$name\",\"offered\":$offered,\"written\":$written,\"written_pct\":$pct,\"offered_per_s\":$ops,\"written_per_s\":$wps,\"cpu_ns_per_written\":$cpu}"
	sep=","
done
JSON+="],\"replay\":{\"packets\":${REPLAY_PKTS:-0},\"pps\":${REPLAY_PPS:-0}}"
JSON+=",\"replay_rewrite\":{\"packets\":${RW_PKTS:-0},\"verdictd_pps\":$RW_VD_PPS,\"tcprewrite_pps\":$RW_TR_PPS}"
printf 'replay with rewriting (a port, checksums fixed): verdictd --write-pcap %s packets/s, tcprewrite --portmap --fixcsum %s packets/s (%s packets)\n' \
	"$RW_VD_PPS" "$RW_TR_PPS" "${RW_PKTS:-0}"
printf '\nreplay: %s packets through bench/rules/lua10.lua in %s packets/s (verdictd --replay, one core)\n' \
	"${REPLAY_PKTS:-0}" "${REPLAY_PPS:-0}"
JSON+=",\"rss_4_workers_kib\":$RSS_KB,\"rss_queues_with_traffic\":$QUEUES_USED"
shaping_report
kernel_report
JSON+=",$SHAPE_JSON,$KR_JSON}"
printf '\nreload under load: %s reloads in %.1f s (%s/s) at %s packets/s offered: %s packets lost, %s kernel drops\n' \
	"$RELOADS" "$ELAPSED" "$RELOADS_PER_S" "$RELOAD_RATE" "$RELOAD_LOST" "$RELOAD_KDROPS"
printf 'verdictd --queue 0-3: resident memory %s KiB after traffic on %s of 4 queues\n' "$RSS_KB" "$QUEUES_USED"
echo "$JSON" >"$OUT"
echo "bench: results written to $OUT"

# Chart: throughput per variant, and latency p50/p99 per variant.
for row in $THROUGHPUT_ROWS; do
	echo "$row $(median "$row" 2) $(median "$row" 3) $(median "$row" 4)"
done >"$WORK/chart.dat"
gnuplot <<GP
set terminal pngcairo size 1000,420 font ",10"
set output "$CHART"
set multiplot layout 1,2 title "verdictd, $(date -u +%F), $(nproc) CPUs, 64-byte UDP, <= 256 in flight (median of $RUNS)"
set style data histograms
set style fill solid 0.8 border -1
set boxwidth 0.8
set xtics rotate by -30
set grid ytics
set title "throughput (packets/s)"
set yrange [0:*]
set format y "%.0s%c"
plot "$WORK/chart.dat" using 2:xtic(1) notitle lc rgb "#4477aa"
set title "one-way latency (us)"
set style histogram clustered gap 1
set format y "%g"
plot "$WORK/chart.dat" using 3:xtic(1) title "p50" lc rgb "#66ccee", "" using 4 title "p99" lc rgb "#ee6677"
unset multiplot
GP
echo "bench: chart written to $CHART"
