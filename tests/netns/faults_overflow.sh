#!/usr/bin/env bash
# faults_overflow.sh - the kernel queue overflows while verdictd's worker is
# stopped (SIGSTOP), with and without --fail-open. verdictd logs one alarm
# line the first time the kernel's drops (or, with --fail-open, its unjudged
# accepts) move, counts them exactly as /proc/net/netfilter/nfnetlink_queue
# does (kernel_queue_dropped, kernel_user_dropped, fail_open in the stats
# lines and `verdictctl stats`), and grows the queue length and receive
# buffer each time (maxlen, rcvbuf, grows).
source "$(dirname "$0")/lib.sh"
: "${VERDICTCTL:?set VERDICTCTL to the verdictctl binary}"

N=1000 # packets sent while the worker is stopped
add_queue_rule ipv4 udp 7000 0

# proc_field FIELD: the queue 0 line's field (6 queue_dropped, 7 user_dropped).
proc_field() { ns awk -v f="$1" '$1 == 0 { print $f }' /proc/net/netfilter/nfnetlink_queue; }

# q0_stat KEY: a counter of queue 0 from `verdictctl stats`.
q0_stat() { ctl_stat "$WORK/ctl" 0 "$1"; }

# burst: N packets at 20k/s (50 ms) while verdictd is stopped; it goes on
# 0.3 s later, and the generator, still receiving, prints its line when all
# arrived or 0.8 s after its last send.
burst() {
	kill -STOP "$VD_PID"
	udpgen --dst 127.0.0.1 --port 7000 --count $N --rate 20000 --inflight 0 \
		--duration 5 --drain-ms 800 >"$WORK/burst.out" &
	local gen=$!
	PIDS+=("$gen")
	sleep 0.3
	kill -CONT "$VD_PID"
	wait "$gen" || fail "generator failed: $(cat "$WORK/burst.out")"
	cat "$WORK/burst.out"
}

# wait_stat KEY VALUE: until `verdictctl stats` shows it, at most 4 s (the
# watch reads /proc once a second).
wait_stat() {
	for _ in $(seq 40); do
		[ "$(q0_stat "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	fail "$1: $(q0_stat "$1"), want $2 within 4 s"
}

# wait_alarm NAME: the alarm line within 4 s (the watch reads /proc once a second).
wait_alarm() {
	for _ in $(seq 40); do
		grep -q 'ALARM' "$WORK/$1.err" && return 0
		sleep 0.1
	done
	fail "$1: no alarm line: $(cat "$WORK/$1.err")"
}

# 1. Queue full (a short --maxlen), no fail-open: the kernel drops what does
# not fit, counted in queue_dropped; one alarm, and the queue grows.
start_verdictd full --queue 0 --maxlen 64 --control "$WORK/ctl"
gen=$(burst)
sent=$(kv sent "$gen")
received=$(kv received "$gen")
expect_eq "full: sent" "$sent" "$N"
dropped=$(proc_field 6)
expect_eq "full: /proc queue_dropped is what did not arrive" "$dropped" $((sent - received))
[ "$dropped" -gt 0 ] || fail "full: the queue never overflowed ($gen)"
wait_alarm full
wait_stat grows 1 # the growth step follows the alarm in the same read
expect_eq "full: kernel_queue_dropped" "$(q0_stat kernel_queue_dropped)" "$dropped"
expect_eq "full: kernel_user_dropped" "$(q0_stat kernel_user_dropped)" "$(proc_field 7)"
expect_eq "full: maxlen after one growth step" "$(q0_stat maxlen)" 128
expect_eq "full: grows" "$(q0_stat grows)" 1
# A second overflow: counted and grown again, no second alarm.
gen=$(burst)
dropped2=$(proc_field 6)
expect_eq "full: second burst dropped" $((dropped2 - dropped)) $(($(kv sent "$gen") - $(kv received "$gen")))
wait_stat grows 2
expect_eq "full: kernel_queue_dropped after two" "$(q0_stat kernel_queue_dropped)" "$dropped2"
expect_eq "full: maxlen after two growth steps" "$(q0_stat maxlen)" 256
expect_eq "full: one alarm line" "$(grep -c ALARM "$WORK/full.err")" 1
grep -q "queue 0: ALARM: .*queue_dropped=[1-9]" "$WORK/full.err" || fail "full: alarm line: $(cat "$WORK/full.err")"
stop_verdictd "$VD_PID" full
expect_eq "full: final kernel_queue_dropped" "$(final_stat full 0 kernel_queue_dropped)" "$dropped2"

# 2. Socket buffer full (a tiny --rcvbuf, a long queue), no fail-open: the
# kernel drops what the socket cannot take, counted in user_dropped.
start_verdictd sock --queue 0 --maxlen 4096 --rcvbuf 4K --control "$WORK/ctl"
gen=$(burst)
udrop=$(proc_field 7)
expect_eq "sock: /proc user_dropped is what did not arrive" "$udrop" \
	$(($(kv sent "$gen") - $(kv received "$gen")))
[ "$udrop" -gt 0 ] || fail "sock: the socket buffer never filled ($gen)"
expect_eq "sock: no queue drops" "$(proc_field 6)" 0
wait_alarm sock
wait_stat grows 1
expect_eq "sock: kernel_user_dropped" "$(q0_stat kernel_user_dropped)" "$udrop"
expect_eq "sock: receive buffer after one growth step" "$(q0_stat rcvbuf)" 8192
stop_verdictd "$VD_PID" sock

# 3. The same with --fail-open: the kernel accepts what the socket cannot
# take, unjudged; every packet arrives, nothing is dropped, and verdictd
# counts the unjudged ones (ids it never saw) as fail_open.
start_verdictd open --queue 0 --maxlen 4096 --rcvbuf 4K --fail-open --control "$WORK/ctl"
gen=$(burst)
expect_eq "open: every packet arrives" "$(kv received "$gen")" "$N"
expect_eq "open: no queue drops" "$(proc_field 6)" 0
expect_eq "open: no user drops" "$(proc_field 7)" 0
wait_alarm open
judged=$(q0_stat packets)
[ "$judged" -lt "$N" ] || fail "open: verdictd judged all $N: the socket never filled"
wait_stat fail_open $((N - judged))
expect_eq "open: fail_open is what verdictd never saw" "$(q0_stat fail_open)" $((N - judged))
grep -q "queue 0: ALARM: .*fail_open=$((N - judged))\b" "$WORK/open.err" ||
	echo "note: the alarm saw part of the fail-opens: $(grep ALARM "$WORK/open.err")"
stop_verdictd "$VD_PID" open
expect_eq "open: final fail_open" "$(final_stat open 0 fail_open)" $((N - judged))
expect_eq "open: one alarm line" "$(grep -c ALARM "$WORK/open.err")" 1

# 4. Queue full with --fail-open: the kernel accepts the overflow unjudged
# and counts nothing (no id is taken): every packet arrives, no alarm.
start_verdictd openq --queue 0 --maxlen 64 --fail-open --control "$WORK/ctl"
gen=$(burst)
expect_eq "openq: every packet arrives" "$(kv received "$gen")" "$N"
expect_eq "openq: no queue drops" "$(proc_field 6)" 0
sleep 1.2
expect_eq "openq: no alarm" "$(grep -c ALARM "$WORK/openq.err" || true)" 0
stop_verdictd "$VD_PID" openq
pass "queue full: $dropped then $((dropped2 - dropped)) dropped, counted, one alarm, grown twice;" \
	"socket full: $udrop dropped; fail-open: $((N - judged)) unjudged counted"
