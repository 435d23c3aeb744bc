#!/usr/bin/env bash
# sigterm.sh - SIGTERM under load: verdictd exits 0 within a second, answers
# every packet it took, and leaves the queue unbound.
source "$(dirname "$0")/lib.sh"

add_queue_rule ipv4 udp 7000 0
start_verdictd term --queue 0 --default accept
PID=$VD_PID

# Bounded load: 50k packets/s for at most 3 s (150k packets).
udpgen --dst 127.0.0.1 --port 7000 --count 150000 --rate 50000 --duration 4 --inflight 256 >"$WORK/gen.out" &
GEN=$!
PIDS+=("$GEN")
sleep 1
ns cat /proc/net/netfilter/nfnetlink_queue | has -E '^ +0 ' || fail "queue 0 not bound under load"
stop_verdictd "$PID" term
wait "$GEN" || fail "generator failed: $(cat "$WORK/gen.out")"

if ns cat /proc/net/netfilter/nfnetlink_queue | has -E '^ +0 '; then
	fail "queue 0 still bound after exit"
fi
packets=$(final_stat term 0 packets)
[ "$packets" -gt 0 ] || fail "no packet went through verdictd before SIGTERM"
expect_eq "verdicts for every packet" "$(final_stat term 0 accepted)" "$packets"
grep -q 'stopping' "$WORK/term.err" || fail "no stop message: $(cat "$WORK/term.err")"
pass "$packets packets answered, queue unbound, exit 0 within 1 s"
