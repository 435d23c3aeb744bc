#!/usr/bin/env bash
# first_packets.sh - --first-packets 3 with the generated rules: of 10 UDP
# connections (distinct source ports) of 100 packets each, verdictd sees
# exactly the first 3 of each, 30 in all, and all 1000 arrive.
source "$(dirname "$0")/lib.sh"
command -v iptables-restore >/dev/null || skip "iptables-restore is not installed"

start_verdictd fp --queue 0 --firewall iptables --first-packets 3 --default accept
# Ten sockets on source ports 41000-41009: ten connections; round-robin sends
# 100 on each.
line=$(udpgen --dst 127.0.0.1 --port 7300 --flows 10 --sport 41000 --count 1000 --inflight 64)
expect_eq "packets delivered ($line)" "$(kv received "$line")" 1000
stop_verdictd "$VD_PID" fp
expect_eq "packets verdictd saw" "$(final_stat fp 0 packets)" 30
expect_eq "accept verdicts" "$(final_stat fp 0 accepted)" 30
pass "first 3 packets of each of 10 connections queued, 1000 delivered"
