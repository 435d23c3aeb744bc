#!/usr/bin/env bash
# realtime.sh - verdictd --realtime PRIO: exactly the queue workers run
# SCHED_FIFO at PRIO; the main thread and the NFLOG group's worker stay
# SCHED_OTHER; the seccomp filter lets the workers start; verdicts are exact.
# With --user (when root here may raise RLIMIT_RTPRIO: CAP_SYS_RESOURCE), the
# limit is raised before the drop and every thread keeps CAP_NET_ADMIN alone.
# Refused (no CAP_SYS_RESOURCE, no CAP_SYS_NICE, RLIMIT_RTPRIO 0): one line
# naming the limit, exit status 1, nothing served.
source "$(dirname "$0")/lib.sh"
command -v prlimit >/dev/null || skip "prlimit is not installed"
command -v setpriv >/dev/null || skip "setpriv is not installed"

RUN_USER=nobody
getent passwd "$RUN_USER" >/dev/null || skip "no user $RUN_USER"

add_queue_rule ipv4 udp 6000 0
add_queue_rule ipv4 udp 6001 1

# sched_of TASK_DIR: "policy rt_priority" (stat fields 41 and 40, counted
# after the ")" that ends the command name).
sched_of() { sed 's/.*) //' "$1/stat" | awk '{ print $39, $38 }'; }

# check_threads PID NAME: the queue workers (2) SCHED_FIFO 7, the others
# (main thread, log group worker) SCHED_OTHER 0.
check_threads() {
	local pid=$1 name=$2 t fifo=0 other=0 s
	for t in /proc/"$pid"/task/*; do
		s=$(sched_of "$t")
		case $s in
		"1 7") fifo=$((fifo + 1)) ;;
		"0 0") other=$((other + 1)) ;;
		*) fail "$name: thread ${t##*/} has policy and priority '$s'" ;;
		esac
	done
	expect_eq "$name: SCHED_FIFO 7 threads" "$fifo" 2
	expect_eq "$name: SCHED_OTHER threads" "$other" 2
	expect_eq "$name: the main thread" "$(sched_of "/proc/$pid/task/$pid")" "0 0"
}

# traffic NAME: exact verdicts on both queues.
traffic() {
	expect_eq "$1: received on queue 0" "$(udp_received 127.0.0.1 6000 20)" 20
	expect_eq "$1: received on queue 1" "$(udp_received 127.0.0.1 6001 10)" 10
}

start_verdictd rt --queue 0,1 --nflog 5 --realtime 7 --control none
PID=$VD_PID
check_threads "$PID" rt
expect_eq "rt: Seccomp" "$(sed -n 's/^Seccomp:[[:space:]]*//p' "/proc/$PID/status")" 2
traffic rt
stop_verdictd "$PID" rt
expect_eq "rt: final packets q0" "$(final_stat rt 0 packets)" 20
expect_eq "rt: final packets q1" "$(final_stat rt 1 packets)" 10

# --user: only where root may raise the hard limit (not in a container
# without CAP_SYS_RESOURCE, where the refusal below is what --user gets).
if prlimit --rtprio=7:7 true 2>/dev/null; then
	chmod 0711 "$WORK"
	start_verdictd user --queue 0,1 --nflog 5 --realtime 7 --control none --user "$RUN_USER"
	PID=$VD_PID
	check_threads "$PID" user
	for f in "/proc/$PID/status" /proc/"$PID"/task/*/status; do
		expect_eq "user: $f CapEff" "$(sed -n 's/^CapEff:[[:space:]]*//p' "$f")" 0000000000001000
	done
	expect_eq "user: RLIMIT_RTPRIO" \
		"$(awk '/^Max realtime priority/ { print $4, $5 }' "/proc/$PID/limits")" "7 7"
	traffic user
	stop_verdictd "$PID" user
	expect_eq "user: final packets q0" "$(final_stat user 0 packets)" 20
else
	echo "root here cannot raise RLIMIT_RTPRIO (no CAP_SYS_RESOURCE): --user with --realtime is checked by its refusal only"
fi

# refused NAME ARGS...: verdictd without CAP_SYS_RESOURCE and CAP_SYS_NICE,
# RLIMIT_RTPRIO 0: exit status 1, one line naming the limit, never ready.
refused() {
	local name=$1 status=0
	shift
	ns prlimit --rtprio=0:0 setpriv --bounding-set -sys_resource,-sys_nice \
		"$VERDICTD" --queue 0,1 --realtime 7 --control none "$@" \
		>"$WORK/$name.out" 2>"$WORK/$name.err" || status=$?
	expect_eq "$name: exit status ($(cat "$WORK/$name.err"))" "$status" 1
	expect_eq "$name: error lines" "$(grep -c 'RLIMIT_RTPRIO' "$WORK/$name.err")" 1
	grep -q '^verdictd: --realtime 7: raising RLIMIT_RTPRIO to 7: Operation not permitted (a hard limit below it needs CAP_SYS_RESOURCE' \
		"$WORK/$name.err" || fail "$name: $(cat "$WORK/$name.err")"
	grep -q 'ready:' "$WORK/$name.err" && fail "$name: served: $(cat "$WORK/$name.err")"
	return 0
}
refused refused_user --user "$RUN_USER"
refused refused_root
pass "--realtime 7: the 2 queue workers SCHED_FIFO 7, main and log worker SCHED_OTHER, exact verdicts under seccomp; refused in one line (exit 1) without the means to raise RLIMIT_RTPRIO"
