#!/usr/bin/env bash
# stats_many.sh - thirty queues: the interval line, the final line and
# `verdictctl stats` each name every queue exactly once (no report is cut at
# a fixed size), and the queue that carried traffic counts it.
source "$(dirname "$0")/lib.sh"
: "${VERDICTCTL:?}"

NQ=30
N=200
LAST=$((NQ - 1))
# Queue 29 is the one a cut line lost first: send it the traffic.
add_queue_rule ipv4 udp 6000 "$LAST"
SOCK=$WORK/ctl.sock
start_verdictd many --queue "0-$LAST" --default accept --control "$SOCK" --stats-interval 0.2
PID=$VD_PID

line=$(udpgen --dst 127.0.0.1 --port 6000 --count "$N" --inflight 32)
expect_eq "delivered through queue $LAST ($line)" "$(kv received "$line")" "$N"

# expect_all_queues WHAT LINE: LINE has " qN packets=" for N = 0..29, each
# exactly once, and ends the way every queue's counters end.
expect_all_queues() {
	local what=$1 line=$2 got want
	got=$(grep -oE '(:|;) q[0-9]+ packets=' <<<"$line" | grep -oE '[0-9]+' | sort -n | tr '\n' ' ')
	want=$(seq 0 "$LAST" | tr '\n' ' ')
	expect_eq "queues in $what" "$got" "$want"
	grep -qE " q$LAST packets=[0-9]+ .* errors=[0-9]+$" <<<"$line" ||
		fail "$what: queue $LAST's counters are cut: ...${line: -200}"
}

# The interval line (wait for one written after the traffic).
for i in $(seq 50); do
	interval=$(grep '^stats:' "$WORK/many.out" | tail -n 1 || true)
	[[ $interval == *" q$LAST packets=$N "* ]] && break
	sleep 0.1
done
expect_all_queues "the interval line" "$interval"
[[ $interval == *" q$LAST packets=$N "* ]] || fail "no interval line counts queue $LAST's $N packets"

status=0
reply=$(ns "$VERDICTCTL" --socket "$SOCK" stats) || status=$?
expect_eq "verdictctl stats exit status" "$status" 0
expect_all_queues "verdictctl stats" "$(grep '^stats:' <<<"$reply")"
expect_eq "stats lines from verdictctl" "$(grep -c '^stats:' <<<"$reply")" 1

stop_verdictd "$PID" many
expect_all_queues "the final line" "$(grep '^stats final:' "$WORK/many.out")"
expect_eq "queue $LAST packets" "$(final_stat many "$LAST" packets)" "$N"
pass "$NQ queues in the interval, final and verdictctl stats lines"
