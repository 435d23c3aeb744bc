#!/usr/bin/env bash
# faults_kill.sh - verdictd killed (SIGKILL) under load. With --queue-bypass
# on the NFQUEUE rule, traffic keeps flowing while nobody listens; without
# it, the kernel drops every queued packet (counted by the rule and by the
# receiver). Either way a restarted verdictd rebinds the queue and serves:
# it judges every packet again.
source "$(dirname "$0")/lib.sh"

N=2000 # packets of each counted run, at 20k/s

# rule_packets: what the NFQUEUE rule in OUTPUT matched so far.
rule_packets() { ns iptables -L OUTPUT -v -x -n | awk '/NFQUEUE/ { print $1 }'; }

# run NAME: one counted run; prints the generator's line.
run() { udpgen --dst 127.0.0.1 --port 7000 --count $N --rate 20000 --drain-ms 300; }

# kill_under_load NAME: SIGKILL verdictd NAME while 20k packets/s flow.
kill_under_load() {
	udpgen --dst 127.0.0.1 --port 7000 --count 20000 --rate 20000 --inflight 0 \
		--duration 2 --drain-ms 100 >"$WORK/load.out" &
	local gen=$!
	PIDS+=("$gen")
	sleep 0.3
	kill -KILL "$VD_PID"
	wait "$VD_PID" 2>/dev/null || true
	wait "$gen" || fail "$1: load generator failed: $(cat "$WORK/load.out")"
	[ "$(kv received "$(cat "$WORK/load.out")")" -gt 0 ] || fail "$1: nothing flowed before the kill"
	if ns grep -qE '^ +0 ' /proc/net/netfilter/nfnetlink_queue; then
		fail "$1: queue 0 still bound after SIGKILL"
	fi
}

# restart_serves NAME: a new verdictd rebinds queue 0 and judges a run whole.
restart_serves() {
	local gen
	start_verdictd "$1" --queue 0 --default accept
	gen=$(run)
	expect_eq "$1: every packet arrives after the restart" "$(kv received "$gen")" $N
	stop_verdictd "$VD_PID" "$1"
	expect_eq "$1: the restarted verdictd judged every packet" \
		"$(final_stat "$1" 0 accepted)" $N
}

for mode in bypass nobypass; do
	flag=--queue-bypass
	[ $mode = nobypass ] && flag=
	ns iptables -F OUTPUT
	# shellcheck disable=SC2086 # $flag: one word or none
	ns iptables -A OUTPUT -p udp --dport 7000 -j NFQUEUE --queue-num 0 $flag
	start_verdictd "$mode" --queue 0 --default accept
	kill_under_load "$mode"
	# Nobody listens now.
	before=$(rule_packets)
	gen=$(run)
	matched=$(($(rule_packets) - before))
	expect_eq "$mode: the rule saw the run" "$matched" $N
	if [ $mode = bypass ]; then
		expect_eq "$mode: every packet bypasses the dead queue" "$(kv received "$gen")" $N
	else
		expect_eq "$mode: the kernel drops every queued packet" "$(kv received "$gen")" 0
		expect_eq "$mode: lost" "$(kv lost "$gen")" $N
	fi
	restart_serves "$mode-again"
done
pass "SIGKILL under load: with --queue-bypass $N of $N flow, without 0 of $N; restarts serve $N of $N"
