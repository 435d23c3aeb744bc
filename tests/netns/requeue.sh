#!/usr/bin/env bash
# requeue.sh - one verdictd serving queues 0 and 1: rules on queue 0 hand
# packets to queue 1 (a declarative verdict = "queue" and a Lua hook returning
# "queue", 1), rules on queue 1 (match_queue = 1) accept them with a mark bit
# or drop a subset. Exact counts: packets received, packets carrying the mark
# bit at INPUT, and the final stats of each queue.
source "$(dirname "$0")/lib.sh"

N=500
RULES=$WORK/rules.lua
cat >"$RULES" <<'LUA'
return {
  default = "drop",   -- a packet no rule expects (say, queue 0 matching twice) is lost, and counted
  rules = {
    { name = "to-q1", match_queue = 0, proto = "udp", dport = 5010, verdict = "queue", queue = 1 },
    { name = "to-q1-lua", match_queue = 0, proto = "udp", dport = 5011,
      lua = function(pkt) return "queue", 1 end },
    { name = "on-q1", match_queue = 1, proto = "udp", on_error = "drop",
      lua = function(pkt)
        if pkt.queue ~= 1 then error("queue " .. tostring(pkt.queue)) end
        if pkt:byte(1) == 0xff then return "drop" end
        return "accept", { mark = { value = 0x10, mask = 0x10 } }
      end },
  },
}
LUA
add_queue_rule ipv4 udp 5010 0
add_queue_rule ipv4 udp 5011 0
# Counts what arrives carrying the mark bit (the old mark, 0, keeps its other bits).
ns iptables -A INPUT -p udp -m mark --mark 0x10/0x10 -j ACCEPT ||
	skip "iptables cannot match marks here"

ns "$VERDICTD" --check "$RULES" >"$WORK/check.out" || fail "--check refused the file: $(cat "$WORK/check.out")"
grep -q 'match_queue=0 -> queue 1$' "$WORK/check.out" || fail "--check summary: $(cat "$WORK/check.out")"
grep -q 'proto=udp match_queue=1 -> lua hook (on error drop)' "$WORK/check.out" ||
	fail "--check summary: $(cat "$WORK/check.out")"

start_verdictd requeue --queue 0-1 --rules "$RULES"
PID=$VD_PID

send() { # PORT TAG -> received count
	kv received "$(udpgen --dst 127.0.0.1 --port "$1" --tag "$2" --count "$N" --inflight 64 --drain-ms 300)"
}
expect_eq "declarative requeue, accepted on q1 (5010)" "$(send 5010 1)" "$N"
expect_eq "Lua requeue, accepted on q1 (5011)" "$(send 5011 1)" "$N"
expect_eq "declarative requeue, dropped on q1 (5010, tag 0xff)" "$(send 5010 255)" 0
expect_eq "Lua requeue, dropped on q1 (5011, tag 0xff)" "$(send 5011 255)" 0

marked=$(ns iptables -L INPUT -v -x -n | awk '/mark match 0x10\/0x10/ { print $1 }')
expect_eq "packets arriving with mark bit 0x10" "$marked" $((2 * N))

stop_verdictd "$PID" requeue
# QUEUE COUNTER WANT: every packet passes both queues; q0 only hands on.
while read -r q key want; do
	expect_eq "q$q $key" "$(final_stat requeue "$q" "$key")" "$want"
done <<COUNTS
0 packets $((4 * N))
0 queued $((4 * N))
0 accepted 0
0 dropped 0
1 packets $((4 * N))
1 accepted $((2 * N))
1 marked $((2 * N))
1 dropped $((2 * N))
1 queued 0
COUNTS
pass "queue 0 -> queue 1 in one verdictd, $N packets per case"
