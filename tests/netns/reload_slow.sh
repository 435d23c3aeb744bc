#!/usr/bin/env bash
# reload_slow.sh - a rules file that takes seconds to load (a loop within a
# raised --lua-instructions budget) does not hold the daemon: while it loads,
# `verdictctl ping` and `stats` answer within 0.5 s, a second reload is told
# one is running, packets keep their verdicts, and the client that asked gets
# "ok" when the load ends. SIGTERM during such a load stops the daemon within
# 1 s (the load is cancelled, or left behind), exit status 0.
source "$(dirname "$0")/lib.sh"
: "${VERDICTCTL:?}"

RULES=$WORK/rules.lua
SOCK=$WORK/ctl.sock
fast='return { rules = { { name = "block", proto = "udp", dport = 6001, verdict = "drop" } } }'
# A few seconds of Lua on a small machine (within the raised load budget);
# the loader runs the file once.
slow='local x = 0
for i = 1, 80000000 do x = x + i % 7 end
return { rules = { { name = "block2", proto = "udp", dport = 6001, verdict = "drop" } } }'
echo "$fast" >"$RULES"
add_queue_rule ipv4 udp 6000 0
add_queue_rule ipv4 udp 6001 0
start_verdictd slow --queue 0 --rules "$RULES" --control "$SOCK" \
	--lua-load-instructions 2000000000 --lua-load-ms 120000
PID=$VD_PID

ms() { date +%s%3N; }

# ctl_within MS WANT_STATUS ARGS...: verdictctl answers within MS (on top of
# what it costs with nothing going on, BASE_MS: sanitizer builds, busy
# machines); its output in OUT.
BASE_MS=0
ctl_within() {
	local limit=$1 want=$2 t0 took status=0
	shift 2
	t0=$(ms)
	OUT=$(ns "$VERDICTCTL" --socket "$SOCK" --timeout 3 "$@" 2>&1) || status=$?
	took=$(($(ms) - t0))
	expect_eq "exit status of verdictctl $* ($OUT)" "$status" "$want"
	[ "$took" -lt $((limit + BASE_MS)) ] ||
		fail "verdictctl $* took $took ms during a load (at most $limit + $BASE_MS)"
}
for i in 1 2 3; do
	t0=$(ms)
	ctl_within 5000 0 stats
	took=$(($(ms) - t0))
	[ "$took" -gt "$BASE_MS" ] && BASE_MS=$took
done

# A slow reload in the background; its answer lands in $WORK/reload.out.
echo "$slow" >"$RULES"
ns "$VERDICTCTL" --socket "$SOCK" --timeout 60 reload >"$WORK/reload.out" 2>&1 &
RELOAD=$!
PIDS+=("$RELOAD")
sleep 0.3
ctl_within 500 0 ping
grep -q '^ok: verdictd ' <<<"$OUT" || fail "ping during the load: $OUT"
ctl_within 500 0 stats
grep -q '^rules: generation=1 (default)=0 block=0$' <<<"$OUT" || fail "stats during the load: $OUT"
ctl_within 500 1 reload
grep -q '^error: a reload is already running (try again when it ends)$' <<<"$OUT" ||
	fail "second reload during the load: $OUT"
line=$(udpgen --dst 127.0.0.1 --port 6000 --count 100 --inflight 16)
expect_eq "accepted during the load ($line)" "$(kv received "$line")" 100
kill -0 "$RELOAD" 2>/dev/null || fail "the load ended before the checks: make it slower ($(cat "$WORK/reload.out"))"
status=0
wait "$RELOAD" || status=$?
expect_eq "exit status of the slow reload ($(cat "$WORK/reload.out"))" "$status" 0
grep -q "^ok: reloaded $RULES (generation 2)$" "$WORK/reload.out" || fail "reload answer: $(cat "$WORK/reload.out")"
ctl_within 500 0 stats
grep -q '^rules: generation=2 (default)=[0-9]* block2=0$' <<<"$OUT" || fail "stats after the load: $OUT"
pass "ping, stats and packets answered during a slow load; its client got ok at the end"

# SIGTERM in the middle of another slow load.
ns "$VERDICTCTL" --socket "$SOCK" --timeout 60 reload >"$WORK/reload2.out" 2>&1 &
RELOAD=$!
PIDS+=("$RELOAD")
sleep 0.3
stop_verdictd "$PID" slow
status=0
wait "$RELOAD" || status=$?
expect_eq "exit status of the abandoned reload ($(cat "$WORK/reload2.out"))" "$status" 1
grep -q '^error: verdictd is stopping' "$WORK/reload2.out" || fail "abandoned reload: $(cat "$WORK/reload2.out")"
grep -q '^rules final: generation=2 ' "$WORK/slow.out" || fail "final stats: $(cat "$WORK/slow.out")"
pass "SIGTERM during a slow load: exit 0 within 1 s, the waiting client told"
