#!/usr/bin/env bash
# hook_budget_rate.sh - a Lua hook that blows its instruction budget on every
# packet, offered 100k packets/s for one second (bounded): verdictd keeps
# judging at the rate the budget allows (no stall: it never stops to wait),
# the kernel drops what its queue cannot hold, and every packet is accounted
# for exactly: judged (the rule's on_error verdict, an error each) plus the
# kernel's drops (kernel_queue_dropped, kernel_user_dropped) is what was
# sent. Ordinary traffic then flows again at once.
source "$(dirname "$0")/lib.sh"
: "${VERDICTCTL:?}"

N=100000 # hostile packets, at 100k/s
RULES=$WORK/rules.lua
cat >"$RULES" <<'LUA'
return {
  default = "accept",
  rules = {
    { name = "spin", proto = "udp", dport = 5010, on_error = "drop",
      lua = function() while true do end end },
  },
}
LUA
for port in 5010 5013; do add_queue_rule ipv4 udp "$port" 0; done
SOCK=$WORK/ctl.sock
# 5,000 instructions per call: each hostile packet costs its whole budget.
# A queue of 2,048 that does not grow: the backlog drains in bounded time.
start_verdictd rate --queue 0 --rules "$RULES" --control "$SOCK" --lua-instructions 5000 \
	--maxlen 2048 --maxlen-max 2048

q0_stat() { ctl_stat "$SOCK" 0 "$1"; } # KEY: queue 0's counter

begin=$(date +%s.%N)
# 256 flows, each its own socket: a queued packet holds its sender's send
# buffer, and one socket alone would be held to verdictd's pace.
gen=$(ns timeout 20 "$UDPGEN" --quiet --dst 127.0.0.1 --port 5010 --count $N --rate 100000 \
	--flows 256 --src-base 127.0.1.1 --inflight 0 --duration 3 --drain-ms 0) || fail "hostile sender did not finish"
sent=$(kv sent "$gen")
expect_eq "hostile packets sent" "$sent" $N
# Every packet the kernel kept is judged; bounded wait (the queue holds at
# most maxlen packets, each one budget long).
for _ in $(seq 100); do
	[ "$(ns awk '$1 == 0 { print $3 }' /proc/net/netfilter/nfnetlink_queue)" = 0 ] && break
	sleep 0.1
done
took=$(echo "$(date +%s.%N) - $begin" | bc)
sleep 1.2 # the kernel watch's next read
packets=$(q0_stat packets)
qdrop=$(q0_stat kernel_queue_dropped)
udrop=$(q0_stat kernel_user_dropped)
expect_eq "judged + kernel drops = sent (judged $packets, queue $qdrop, user $udrop)" \
	$((packets + qdrop + udrop)) "$sent"
rate=$(echo "$packets / $took" | bc)
# Each call ends within its budget: thousands of calls a second even on a
# loaded machine and under sanitizers; a stall would judge next to none.
[ "$rate" -ge 1000 ] || fail "judged $packets hostile packets in $took s ($rate/s)"
fine=$(ns timeout 20 "$UDPGEN" --quiet --dst 127.0.0.1 --port 5013 --count 1000 --inflight 64 \
	--drain-ms 300 --duration 10) || fail "ordinary traffic did not finish"
expect_eq "ordinary packets after the flood" "$(kv received "$fine")" 1000
stop_verdictd "$VD_PID" rate
expect_eq "every judged hostile packet dropped" "$(final_stat rate 0 dropped)" "$packets"
grep -q "spin=$packets(errors=$packets)" "$WORK/rate.out" || fail "rule errors: $(grep '^rules final' "$WORK/rate.out")"
pass "$packets of $N judged at $rate/s within budget, $qdrop + $udrop dropped by the kernel and counted"
