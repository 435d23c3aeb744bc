#!/usr/bin/env bash
# reload_load.sh - 100 reloads (verdictctl and SIGHUP, alternating) while
# 50,000 packets flow: every accepted packet is delivered, none is stalled
# past its batch, and the rule counters carry across reloads.
source "$(dirname "$0")/lib.sh"
: "${VERDICTCTL:?}"

N=50000
RULES=$WORK/rules.lua
cat >"$RULES" <<'LUA'
return {
  default = "drop",
  rules = {
    { name = "counted", proto = "udp", dport = 7100,
      lua = function(pkt) n = (n or 0) + 1; return "accept" end },
    { name = "pass", proto = "udp", dport = 7101, verdict = "accept" },
  },
}
LUA
add_queue_rule ipv4 udp 7100 0
SOCK=$WORK/ctl.sock
start_verdictd reload --queue 0 --rules "$RULES" --control "$SOCK"
PID=$VD_PID

# 50,000 packets at 20,000/s: about 2.5 s of traffic.
udpgen --dst 127.0.0.1 --port 7100 --count "$N" --rate 20000 --inflight 256 --duration 20 \
	--drain-ms 1000 >"$WORK/gen.out" &
GEN=$!
PIDS+=("$GEN")
for i in $(seq 100); do
	if [ $((i % 2)) = 0 ]; then
		ns "$VERDICTCTL" --socket "$SOCK" reload >/dev/null || fail "reload $i refused"
	else
		kill -HUP "$PID"
	fi
	sleep 0.02
done
wait "$GEN" || fail "generator failed"
line=$(cat "$WORK/gen.out")
expect_eq "packets delivered across 100 reloads ($line)" "$(kv received "$line")" "$N"

# SIGHUP reloads are asynchronous: give the last ones a moment.
for _ in $(seq 50); do
	grep -c 'reloaded' "$WORK/reload.err" | has -x 100 && break
	sleep 0.1
done
expect_eq "reloads done" "$(grep -c 'reloaded' "$WORK/reload.err")" 100
stats=$(ns "$VERDICTCTL" --socket "$SOCK" stats)
grep -q "generation=101" <<<"$stats" || fail "generation after 100 reloads: $stats"
grep -q "counted=$N" <<<"$stats" || fail "hits kept across reloads: $stats"
stop_verdictd "$PID" reload
expect_eq "kernel drops" "$(final_stat reload 0 kernel_queue_dropped)" 0
pass "$N packets delivered through 100 reloads"
