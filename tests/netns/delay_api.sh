#!/usr/bin/env bash
# delay_api.sh - the C API of held verdicts through a real queue: the
# delay example (vd_verdict_delay from the callback) delays every packet by
# 20 ms, measured at the receiver; the pending example answers every packet
# from a second thread with vd_queue_verdict, delayed 5 ms, and every packet
# arrives once; the engine's pending example does the same over queues 1
# and 2 with vd_engine_verdict, each packet answered on its own queue.
# SIGTERM stops each with nothing left held or pending: the packets the
# pending example never answered get the fallback verdict (drop).
source "$(dirname "$0")/lib.sh"
: "${EXAMPLE_DELAY:?}" "${EXAMPLE_PENDING:?}" "${EXAMPLE_ENGINE_PENDING:?}"

# Receiver-measured tolerance: never early, p50 within 2 ms late; 5 ms for
# the pending example, whose answer crosses two thread wake-ups (callback to
# deciding thread to queue) before its timer even starts.
LATE_US=${DELAY_P50_LATE_US:-2000}
PENDING_LATE_US=${DELAY_P50_LATE_US:-5000}

add_queue_rule ipv4 udp 7300 0
add_queue_rule ipv4 udp 7301 1
add_queue_rule ipv4 udp 7302 2

# start_example NAME BINARY ARGS...: runs it in the namespace until queue
# $BOUND (0 unless set) is bound.
start_example() {
	local name=$1 i
	shift
	ip netns exec "$NS" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
	EX_PID=$!
	PIDS+=("$EX_PID")
	for i in $(seq 100); do
		ns cat /proc/net/netfilter/nfnetlink_queue 2>/dev/null | has -E "^ +${BOUND:-0} " &&
			return 0
		kill -0 "$EX_PID" 2>/dev/null || fail "$name exited early: $(cat "$WORK/$name.err")"
		sleep 0.05
	done
	fail "$name did not bind queue ${BOUND:-0} in 5 s"
}

check_delay() { # WHAT LINE DELAY_US LATE_US
	awk -v p50="$(kv p50_us "$2")" -v d="$3" -v l="$4" \
		'BEGIN { exit !(p50 >= d && p50 <= d + l) }' ||
		fail "$1: p50 $(kv p50_us "$2") us, want [$3, $3 + $4] ($2)"
}

# run_example NAME BINARY MS N LATE_US: N packets at N/s through the example delaying
# by MS, all delivered, MS late; then SIGTERM (exit 0 within 1 s, queue
# unbound). Leaves the receiver's line in LINE and the example's in OUT.
run_example() {
	local name=$1 binary=$2 ms=$3 n=$4 late=$5
	start_example "$name" "$binary" 0 "$ms"
	LINE=$(udpgen --dst 127.0.0.1 --port 7300 --count "$n" --rate "$n" --inflight 0 \
		--duration 10 --drain-ms 2000)
	expect_eq "$name: delivered ($LINE)" "$(kv received "$LINE")" "$n"
	check_delay "$name $ms ms" "$LINE" $((ms * 1000)) "$late"
	stop_verdictd "$EX_PID" "$name"
	if ns cat /proc/net/netfilter/nfnetlink_queue | has -E '^ +0 '; then
		fail "$name left queue 0 bound"
	fi
	OUT=$(cat "$WORK/$name.out")
}

run_example delay "$EXAMPLE_DELAY" 20 1000 "$LATE_US"
expect_eq "example_delay released ($OUT)" "$(kv released "$OUT")" 1000
pass "example_delay: 1000 packets, p50 $(kv p50_us "$LINE") us for 20 ms"

run_example pending "$EXAMPLE_PENDING" 5 2000 "$PENDING_LATE_US"
expect_eq "example_pending accepted ($OUT)" "$(kv accepted "$OUT")" 2000
expect_eq "example_pending left pending ($OUT)" "$(kv pending "$OUT")" 0
pass "example_pending: 2000 packets answered by id from a second thread, p50 $(kv p50_us "$LINE") us for 5 ms"

# Answers only the first 200 of 500: at SIGTERM the other 300 get the
# fallback verdict (drop) rather than staying in the kernel. A packet in a
# queue counts against its sender's socket buffer (about 256 small ones): 4
# flows, so that the sender never blocks on the 300 left waiting.
start_example unanswered "$EXAMPLE_PENDING" 0 0 200
line=$(ns timeout 20 "$UDPGEN" --quiet --dst 127.0.0.1 --src-base 127.0.0.2 --flows 4 --port 7300 \
	--count 500 --rate 5000 --inflight 0 --duration 10 --drain-ms 1000)
expect_eq "answered packets delivered ($line)" "$(kv received "$line")" 200
stop_verdictd "$EX_PID" unanswered
OUT=$(cat "$WORK/unanswered.out")
expect_eq "unanswered: accepted ($OUT)" "$(kv accepted "$OUT")" 200
expect_eq "unanswered: dropped at stop ($OUT)" "$(kv dropped "$OUT")" 300
expect_eq "unanswered: left pending ($OUT)" "$(kv pending "$OUT")" 0
pass "300 packets never answered got the fallback verdict at SIGTERM"

# The engine over queues 1 and 2: 1000 packets to each queue's port at once,
# all answered through vd_engine_verdict with the queue each came from (an
# id answered on the wrong queue would be unknown there: not accepted).
BOUND=2 start_example engine "$EXAMPLE_ENGINE_PENDING" 5 1 2
for port in 7301 7302; do
	ns "$UDPGEN" --quiet --dst 127.0.0.1 --port $port --count 1000 --rate 1000 --inflight 0 \
		--duration 10 --drain-ms 2000 >"$WORK/engine.$port" &
	GEN[$port]=$!
	PIDS+=("$!")
done
for port in 7301 7302; do
	wait "${GEN[$port]}" || fail "udpgen to port $port failed"
	line=$(cat "$WORK/engine.$port")
	expect_eq "engine: port $port delivered ($line)" "$(kv received "$line")" 1000
done
stop_verdictd "$EX_PID" engine
OUT=$(cat "$WORK/engine.out")
for q in 1 2; do
	qline=$(grep "^q$q " <<<"$OUT") || fail "engine: no counters of queue $q ($OUT)"
	expect_eq "engine: queue $q accepted ($qline)" "$(kv accepted "$qline")" 1000
	expect_eq "engine: queue $q left pending ($qline)" "$(kv pending "$qline")" 0
	expect_eq "engine: queue $q released ($qline)" "$(kv released "$qline")" 1000
done
pass "example_engine_pending: 2 x 1000 packets answered by queue and id through vd_engine_verdict"
