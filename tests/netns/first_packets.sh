#!/usr/bin/env bash
# first_packets.sh - --first-packets 3 with the generated rules: of 10 UDP
# connections (distinct source ports) of 100 packets each, verdictd sees
# exactly the first 3 of each, 30 in all, and all 1000 arrive. A connection
# that bypass decided keeps its decision past the first 3 (the fast path that
# accepts plain packets past N must not take it): a dropped flow of 10
# delivers none, an accepted one all 10, and verdictd sees one packet of each.
source "$(dirname "$0")/lib.sh"
command -v iptables-restore >/dev/null || skip "iptables-restore is not installed"

RULES=$WORK/rules.lua
cat >"$RULES" <<'LUA'
return { default = "accept", rules = {
  { name = "gone", proto = "udp", dport = 7301, verdict = "drop", bypass = true },
  { name = "kept", proto = "udp", dport = 7302, verdict = "accept", bypass = true },
} }
LUA
start_verdictd fp --queue 0 --firewall iptables --first-packets 3 --rules "$RULES" --control none
# Ten sockets on source ports 41000-41009: ten connections; round-robin sends
# 100 on each.
line=$(udpgen --dst 127.0.0.1 --port 7300 --flows 10 --sport 41000 --count 1000 --inflight 64)
expect_eq "packets delivered ($line)" "$(kv received "$line")" 1000
# One at a time, 50 ms apart: the first datagram is decided long before the
# second comes.
line=$(udpgen --dst 127.0.0.1 --port 7301 --count 10 --rate 20 --inflight 1 --drain-ms 200)
expect_eq "datagrams of the flow decided drop ($line)" "$(kv received "$line")" 0
line=$(udpgen --dst 127.0.0.1 --port 7302 --count 10 --rate 20 --inflight 1 --drain-ms 200)
expect_eq "datagrams of the flow decided accept ($line)" "$(kv received "$line")" 10
stop_verdictd "$VD_PID" fp
expect_eq "packets verdictd saw" "$(final_stat fp 0 packets)" 32
expect_eq "accept verdicts" "$(final_stat fp 0 accepted)" 31
expect_eq "bypassed" "$(final_stat fp 0 bypassed)" 2
pass "first 3 packets of each of 10 connections queued, 1000 delivered; bypass decisions kept past 3"
