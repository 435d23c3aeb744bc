#!/usr/bin/env bash
# hook_budget.sh - Lua hooks that never end on their own (an endless loop,
# a pattern that backtracks for ever, an xpcall handler that loops) get
# packets at full rate while ordinary traffic shares their queue: every
# hostile packet gets its rule's on_error verdict and counts as an error,
# every ordinary packet is delivered, and it all ends in bounded time.
source "$(dirname "$0")/lib.sh"
: "${VERDICTCTL:?}"

N=1000 # ordinary packets
M=100  # packets per hostile hook, sent without waiting for answers
RULES=$WORK/rules.lua
cat >"$RULES" <<'LUA'
local subject = string.rep("a", 30000)
local dots = string.rep(".-", 12) .. "b"
local function loop() while true do end end
return {
  default = "accept",
  rules = {
    { name = "spin", proto = "udp", dport = 5010, on_error = "drop", lua = loop },
    { name = "pattern", proto = "udp", dport = 5011, on_error = "drop",
      lua = function(pkt) string.find(subject, dots) return "accept" end },
    { name = "handler", proto = "udp", dport = 5012, on_error = "drop",
      lua = function(pkt) xpcall(loop, loop) return "accept" end },
    { name = "fine", proto = "udp", dport = 5013,
      lua = function(pkt) if pkt:payload():find("\0", 1, true) then return "accept" end end },
  },
}
LUA
for port in 5010 5011 5012 5013; do add_queue_rule ipv4 udp "$port" 0; done

SOCK=$WORK/ctl.sock
start_verdictd budget --queue 0 --rules "$RULES" --control "$SOCK"
PID=$VD_PID

begin=$(date +%s)
gens=()
for port in 5010 5011 5012; do
	ns timeout 70 "$UDPGEN" --quiet --dst 127.0.0.1 --port "$port" --count "$M" --inflight 0 --drain-ms 300 \
		--duration 60 >"$WORK/hostile-$port.out" &
	gens+=($!)
done
# The last ordinary packets may wait behind hostile ones queued after them,
# each up to its 50 ms: 300 of them are 15 s at most (a TSan build reaches
# the clock before the instruction count), so the receiver waits up to 20 s
# for the stragglers; it stops as soon as all are in.
fine=$(ns timeout 70 "$UDPGEN" --quiet --dst 127.0.0.1 --port 5013 --count "$N" --inflight 64 --drain-ms 20000 --duration 60) ||
	fail "ordinary traffic to 5013 did not finish in 70 s: the queue stalled"
wait "${gens[@]}" || fail "hostile traffic did not finish in 70 s" # not verdictd, a child too
took=$(($(date +%s) - begin))

expect_eq "ordinary packets delivered beside the hostile hooks ($fine)" "$(kv received "$fine")" "$N"
for port in 5010 5011 5012; do
	expect_eq "hostile packets to $port delivered" "$(kv received "$(cat "$WORK/hostile-$port.out")")" 0
done
# Each hostile call ends within its 50 ms (or 1,000,000 instructions).
[ "$took" -le 40 ] || fail "the run took $took s"

# The hostile senders are done once their packets are queued; each of those
# still costs a budget in verdictd (longer under sanitizers): wait, bounded,
# until every one was judged.
for _ in $(seq 150); do
	stats=$(ns timeout 10 "$VERDICTCTL" --socket "$SOCK" stats) || fail "verdictctl stats: $stats"
	grep -q "packets=$((3 * M + N)) " <<<"$stats" && break
	sleep 0.2
done
for rule in spin pattern handler; do
	grep -q "$rule=$M(errors=$M)" <<<"$stats" || fail "$rule: $M hits, all errors, in: $stats"
done
grep -q "fine=$N " <<<"$stats" || grep -q "fine=$N$" <<<"$stats" || fail "fine hits in: $stats"
stop_verdictd "$PID" budget
expect_eq "drop verdicts" "$(final_stat budget 0 dropped)" $((3 * M))
grep -q 'lua hook failed: .*exhausted' "$WORK/budget.err" "$WORK/budget.out" ||
	fail "no budget error logged"
pass "3 hostile hooks x $M packets at full rate, $N ordinary packets through the same queue in $took s"
