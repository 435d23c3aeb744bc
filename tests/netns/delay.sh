#!/usr/bin/env bash
# delay.sh - held verdicts through a real queue: a C plugin (hook ABI 2)
# returns vd_verdict_delay(accept, 30 ms) for one port; its packets arrive
# 30 ms later (measured at the receiver), another port's at once; a reload
# while packets are held loses none; SIGTERM with thousands held delivers
# every one of them at once. Exact counts throughout.
source "$(dirname "$0")/lib.sh"
: "${PLUGIN_DIR:?}" "${VERDICTCTL:?}"

# Tolerance of the 30 ms delay, as the receiver measures it (udpgen's min, p50
# and p99 of one-way latency): never early and every packet delivered, in
# every run; p50 within 2 ms late and p99 within 8 ms in one of up to three
# runs of 2000 packets. A 2-core machine running other tests can stall for
# 100 ms once (CI saw p99 at 100 ms with p50 at 30.5 ms), which says nothing
# of the timer; bench/ measures the accuracy itself. Sanitizer builds may
# widen both through DELAY_P50_LATE_US and DELAY_P99_LATE_US.
DELAY_US=30000
P50_LATE_US=${DELAY_P50_LATE_US:-2000}
P99_LATE_US=${DELAY_P99_LATE_US:-8000}

RULES=$WORK/rules.lua
cat >"$RULES" <<'LUA'
return {
  default = "accept",
  rules = {
    { name = "delay30", proto = "udp", dport = 7200,
      plugin = "delay.so", symbol = "delay_eval", args = "ms=30" },
    { name = "delay200", proto = "udp", dport = 7202,
      plugin = "delay.so", symbol = "delay_eval", args = "ms=200" },
    { name = "delay2s", proto = "udp", dport = 7203,
      plugin = "delay.so", symbol = "delay_eval", args = "ms=2000" },
  },
}
LUA
for port in 7200 7201 7202 7203; do
	add_queue_rule ipv4 udp "$port" 0
done
SOCK=$WORK/ctl.sock
start_verdictd delay --queue 0 --rules "$RULES" --plugin-path "$PLUGIN_DIR" --control "$SOCK"
PID=$VD_PID

# 1. 30 ms on 7200, nothing on 7201.
N=2000
RELEASED=0
for try in 1 2 3; do
	line=$(udpgen --dst 127.0.0.1 --port 7200 --count $N --rate 2000 --inflight 0 \
		--duration 10 --drain-ms 2000)
	RELEASED=$((RELEASED + N))
	expect_eq "delayed packets delivered ($line)" "$(kv received "$line")" $N
	min=$(kv min_us "$line"); p50=$(kv p50_us "$line"); p99=$(kv p99_us "$line")
	awk -v m="$min" -v d=$DELAY_US 'BEGIN { exit !(m >= d) }' ||
		fail "30 ms delay: a packet arrived after ${min} us, before its delay ($line)"
	awk -v p50="$p50" -v p99="$p99" -v d=$DELAY_US -v l50=$P50_LATE_US -v l99=$P99_LATE_US \
		'BEGIN { exit !(p50 <= d + l50 && p99 <= d + l99) }' && break
	[ "$try" -lt 3 ] ||
		fail "30 ms delay: p50 ${p50} us, p99 ${p99} us in 3 runs, want at most +$P50_LATE_US and +$P99_LATE_US ($line)"
	echo "run $try late (p50 ${p50} us, p99 ${p99} us): trying again" >&2
done
line=$(udpgen --dst 127.0.0.1 --port 7201 --count $N --rate 2000 --inflight 0 --duration 10 \
	--drain-ms 2000)
expect_eq "undelayed packets delivered ($line)" "$(kv received "$line")" $N
# Far below the 30 ms of the other port, allowing for a busy machine.
awk -v p50="$(kv p50_us "$line")" 'BEGIN { exit !(p50 < 5000) }' ||
	fail "undelayed port delayed: $line"
stats=$(ns "$VERDICTCTL" --socket "$SOCK" stats)
grep -qE "released=$RELEASED " <<<"$stats" || fail "released count after part 1: $stats"
pass "30 ms delay: min ${min} us, p50 ${p50} us, p99 ${p99} us (run $try); undelayed port p50 $(kv p50_us "$line") us"

# 2. Reloads while 200 ms holds are in flight lose none.
N=5000
udpgen --dst 127.0.0.1 --port 7202 --count $N --rate 5000 --inflight 0 --duration 10 \
	--drain-ms 3000 >"$WORK/reload.out" &
GEN=$!
PIDS+=("$GEN")
sleep 0.3
for i in $(seq 10); do
	if [ $((i % 2)) = 0 ]; then
		ns "$VERDICTCTL" --socket "$SOCK" reload >/dev/null || fail "reload $i refused"
	else
		kill -HUP "$PID"
	fi
	sleep 0.05
done
wait "$GEN" || fail "generator failed: $(cat "$WORK/reload.out")"
line=$(cat "$WORK/reload.out")
expect_eq "held packets delivered across reloads ($line)" "$(kv received "$line")" $N
pass "10 reloads with packets held: $N of $N delivered"

# 3. SIGTERM with 3000 held for 2 s: each is delivered at once, then exit.
# A held packet still counts against its sender's socket buffer (about 256
# small packets each): 16 flows, so all 3000 can be held at once.
N=3000
udpgen --dst 127.0.0.1 --src-base 127.0.0.2 --flows 16 --port 7203 --count $N --rate 10000 \
	--inflight 0 --duration 10 \
	--drain-ms 5000 >"$WORK/term.out" &
GEN=$!
PIDS+=("$GEN")
for i in $(seq 100); do
	stats=$(ns "$VERDICTCTL" --socket "$SOCK" stats)
	grep -qE " held=$N " <<<"$stats" && break
	sleep 0.02
done
grep -qE " held=$N " <<<"$stats" || fail "not $N held before SIGTERM: $stats"
stop_verdictd "$PID" delay
wait "$GEN" || fail "generator failed: $(cat "$WORK/term.out")"
line=$(cat "$WORK/term.out")
expect_eq "held packets delivered at SIGTERM ($line)" "$(kv received "$line")" $N
awk -v e="$(kv elapsed_s "$line")" 'BEGIN { exit !(e < 1.9) }' ||
	fail "held packets waited out their 2 s instead of going at SIGTERM: $line"
expect_eq "held verdicts released" "$(final_stat delay 0 released)" $((RELEASED + 5000 + N))
expect_eq "nothing held after exit" "$(final_stat delay 0 held)" 0
pass "SIGTERM with $N held: all delivered in $(kv elapsed_s "$line") s"
