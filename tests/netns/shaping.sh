#!/usr/bin/env bash
# shaping.sh - the rules file's netem keys through a real queue (issue 12):
# 1. loss = "1%" and "10%" with seed = 7: what arrives is within 5 sigma of
#    the binomial mean, each rule's loss_dropped is exactly sent - received,
#    and a second run with the same seed loses the very same packets;
# 2. rate = "2mbit", burst = "32kb" offered 8 Mbit/s: after the burst the
#    receiver sees 2 Mbit/s within 5%, and nothing is lost but what the
#    rule's limit drops (counted exactly);
# 3. delay = "20ms", jitter = "15ms": packets reorder, but every one arrives;
# afterwards both rules hold nothing and released equals delayed.
# Kernel drops are checked to be 0 throughout, so every loss is the rule's.
source "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed"
PEER="ns python3 $(dirname "$0")/shaping_peer.py"

LOSS1=7301 LOSS10=7302 RATE=7303 JITTER=7304
RULES=$WORK/rules.lua
cat >"$RULES" <<LUA
return {
  default = "accept",
  seed = 7,
  rules = {
    { name = "loss1", proto = "udp", dport = $LOSS1, verdict = "accept", loss = "1%" },
    { name = "loss10", proto = "udp", dport = $LOSS10, verdict = "accept", loss = "10%" },
    -- limit: the excess is dropped (and counted) rather than held for
    -- seconds, so the test ends soon after the sender and the senders'
    -- socket buffers never fill (which would turn open loop into closed).
    { name = "rate2m", proto = "udp", dport = $RATE, verdict = "accept",
      rate = "2mbit", burst = "32kb", limit = 64 },
    { name = "jitter", proto = "udp", dport = $JITTER, verdict = "accept",
      delay = "20ms", jitter = "15ms" },
  },
}
LUA
ns "$VERDICTD" --check "$RULES" >/dev/null || fail "rules file refused: $(ns "$VERDICTD" --check "$RULES" 2>&1)"
for port in $LOSS1 $LOSS10 $RATE $JITTER; do
	add_queue_rule ipv4 udp "$port" 0
done

# udp_errors: the namespace's UDP receive-buffer and input errors, summed.
udp_errors() {
	ns cat /proc/net/snmp | awk '/^Udp:/ { if (!h) { for (i = 2; i <= NF; i++) c[$i] = i; h = 1 }
		else print $c["InErrors"] + $c["RcvbufErrors"] }'
}
# rule_counter NAME RULE KEY: KEY in RULE's parentheses on the "rules final:"
# line (0 when absent: the line shows only counters that are not zero).
rule_counter() {
	local line
	line=$(grep '^rules final:' "$WORK/$1.out") || fail "no final rules line from verdictd $1"
	tr ' ' '\n' <<<"$line" | sed -n "s/^$2=[0-9]*(\(.*\))$/\1/p" | tr ',' '\n' |
		sed -n "s/^$3=//p" | grep . || echo 0
}
# kernel_drops NAME: the queue's kernel drop counters from the final stats.
kernel_drops() {
	echo $(($(final_stat "$1" 0 kernel_queue_dropped) + $(final_stat "$1" 0 kernel_user_dropped) +
		$(final_stat "$1" 0 enobufs)))
}
# within_sigmas N P RECEIVED K: RECEIVED within K binomial sigmas of N * (1 - P).
within_sigmas() {
	awk -v n="$1" -v p="$2" -v r="$3" -v k="$4" \
		'BEGIN { m = n * (1 - p); s = sqrt(n * p * (1 - p)); d = r - m; if (d < 0) d = -d; exit !(d <= k * s) }'
}

# 1. Loss, twice with the same seed (verdictd restarted: the generators
# start again from the seed). 20000 each at 5000/s per port, open loop.
N=20000
declare -A HASH
for run in 1 2; do
	start_verdictd "loss$run" --queue 0 --rules "$RULES"
	err0=$(udp_errors)
	out=$($PEER 127.0.0.1 $N 5000 64 1.0 0 $LOSS1 $LOSS10)
	stop_verdictd "$VD_PID" "loss$run"
	expect_eq "UDP receive errors in run $run" "$(udp_errors)" "$err0"
	expect_eq "kernel queue drops in run $run" "$(kernel_drops "loss$run")" 0
	for rule in loss1:$LOSS1:0.01 loss10:$LOSS10:0.10; do
		IFS=: read -r name port p <<<"$rule"
		line=$(grep "^port=$port " <<<"$out") || fail "no result for port $port: $out"
		expect_eq "$name sent ($line)" "$(kv sent "$line")" $N
		expect_eq "$name send errors ($line)" "$(kv send_errors "$line")" 0
		got=$(kv received "$line")
		within_sigmas $N "$p" "$got" 5 ||
			fail "$name: $got of $N received, not within 5 sigma of $N * (1 - $p) ($line)"
		expect_eq "$name loss_dropped = sent - received in run $run" \
			"$(rule_counter "loss$run" "$name" loss_dropped)" $((N - got))
		if [ "$run" = 1 ]; then
			HASH[$name]=$(kv seq_hash "$line")
		else
			expect_eq "$name: the same packets lost with the same seed" \
				"$(kv seq_hash "$line")" "${HASH[$name]}"
		fi
		echo "loss run $run: $name received $got of $N, loss_dropped $((N - got)), seqs $(kv seq_hash "$line")"
	done
done
pass "loss 1% and 10%: within 5 sigma, loss_dropped exact, same packets lost in both runs"

start_verdictd shape --queue 0 --rules "$RULES"
PID=$VD_PID

# 2. Rate: 1000-byte payloads (1028 on the wire to the bucket) at 1000/s,
# 8.2 Mbit/s for 3 s. The rate is measured at the receiver from the arrival
# past the first 64 kB (the 32 kB burst and the 64 held at the start spent)
# to the last: bits after that arrival over the time between them.
err0=$(udp_errors)
out=$($PEER 127.0.0.1 3000 1000 1000 1.0 65536 $RATE)
line=$(grep "^port=$RATE " <<<"$out") || fail "no result for port $RATE: $out"
expect_eq "rate sent ($line)" "$(kv sent "$line")" 3000
expect_eq "rate send errors ($line)" "$(kv send_errors "$line")" 0
bps=$(kv rate_bps "$line")
# 5% of 2 Mbit/s: the release timers are accurate to well under a
# millisecond, against a span of about 3 s.
awk -v r="$bps" 'BEGIN { exit !(r >= 1900000 && r <= 2100000) }' ||
	fail "shaped rate $bps bit/s, want 2 Mbit/s +- 5% ($line)"
RATE_GOT=$(kv received "$line")
pass "rate 2mbit burst 32kb: $bps bit/s after the burst over $(kv span_s "$line") s, $RATE_GOT of 3000 passed"

# 3. Jitter: 20 ms +- 15 ms on packets 1 ms apart reorders them; every
# one arrives all the same.
N=2000
out=$($PEER 127.0.0.1 $N 1000 64 2.0 0 $JITTER)
line=$(grep "^port=$JITTER " <<<"$out") || fail "no result for port $JITTER: $out"
expect_eq "jittered packets sent ($line)" "$(kv sent "$line")" $N
expect_eq "jittered packets delivered ($line)" "$(kv received "$line")" $N
[ "$(kv reordered "$line")" -gt 0 ] || fail "15 ms of jitter reordered nothing ($line)"
pass "delay 20ms jitter 15ms: $N of $N delivered, $(kv reordered "$line") reordered"

stop_verdictd "$PID" shape
expect_eq "UDP receive errors in rate and jitter" "$(udp_errors)" "$err0"
expect_eq "kernel queue drops in rate and jitter" "$(kernel_drops shape)" 0
expect_eq "rate2m limit_dropped = sent - received" "$(rule_counter shape rate2m limit_dropped)" \
	$((3000 - RATE_GOT))
expect_eq "rate2m loss_dropped" "$(rule_counter shape rate2m loss_dropped)" 0
expect_eq "jitter rule delayed every packet" "$(rule_counter shape jitter delayed)" $N
# Held and released per rule: the peers waited past the last release, so
# nothing is held and every delayed packet was released; rate2m never held
# more than its limit.
for name in rate2m jitter; do
	expect_eq "$name held after the run" "$(rule_counter shape $name held)" 0
	expect_eq "$name released = delayed" "$(rule_counter shape $name released)" \
		"$(rule_counter shape $name delayed)"
	peak=$(rule_counter shape $name held_max)
	[ "$peak" -gt 0 ] || fail "$name held_max is 0 though it delayed packets"
done
[ "$(rule_counter shape rate2m held_max)" -le 64 ] ||
	fail "rate2m held_max $(rule_counter shape rate2m held_max) above its limit 64"
pass "rate2m limit_dropped $((3000 - RATE_GOT)) exact; jitter delayed $N; held 0 and released = delayed; no kernel drops"
