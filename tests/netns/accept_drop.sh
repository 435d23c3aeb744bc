#!/usr/bin/env bash
# accept_drop.sh - real traffic through real queues: what verdictd accepts
# arrives, what it drops does not, over IPv4 and IPv6, with exact counts.
source "$(dirname "$0")/lib.sh"

N=2000
add_queue_rule ipv4 udp 5000 0
add_queue_rule ipv6 udp 5000 0
add_queue_rule ipv4 udp 5001 1
add_queue_rule ipv6 udp 5001 1

start_verdictd accept --queue 0 --default accept
ACCEPT_PID=$VD_PID
start_verdictd drop --queue 1 --default drop
DROP_PID=$VD_PID

for dst in 127.0.0.1 ::1; do
	line=$(udpgen --dst "$dst" --port 5000 --count "$N" --size 64 --inflight 64)
	expect_eq "accepted $dst packets delivered ($line)" "$(kv received "$line")" "$N"
	line=$(udpgen --dst "$dst" --port 5001 --count "$N" --size 64 --inflight 0 --rate 20000 --drain-ms 300)
	expect_eq "dropped $dst packets delivered ($line)" "$(kv received "$line")" 0
done

stop_verdictd "$ACCEPT_PID" accept
stop_verdictd "$DROP_PID" drop
expect_eq "packets seen by the accepting queue" "$(final_stat accept 0 packets)" $((2 * N))
expect_eq "accept verdicts" "$(final_stat accept 0 accepted)" $((2 * N))
expect_eq "packets seen by the dropping queue" "$(final_stat drop 1 packets)" $((2 * N))
expect_eq "drop verdicts" "$(final_stat drop 1 dropped)" $((2 * N))
expect_eq "parse errors" "$(final_stat accept 0 parse_errors)" 0
pass "$N accepted and $N dropped per address family"
