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
# The fast path: each connection's 4th packet marks it PAST (the CONNMARK
# rule: 10), and its packets 5-100 are accepted on that by the chain's first
# rule (960), one compatibility match each instead of two.
hits() { ns iptables-save -c | grep -F -- "$1" | sed -n 's/^\[\([0-9]*\):.*/\1/p' | awk '{ s += $1 } END { print s + 0 }'; }
expect_eq "connections marked past their first 3" \
	"$(hits '-j CONNMARK --set-xmark 0xb000000/0xf000000')" 10
expect_eq "packets accepted as past the first 3" \
	"$(hits '--mark 0xb000000/0xf000000 -j ACCEPT')" 960
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

# A reload that turns first packets off queues a connection past its first
# packets again: PAST is accepted only while first packets are on.
printf 'return { first_packets = 3, default = "accept", rules = {} }\n' >"$RULES"
start_verdictd re --queue 0 --firewall iptables --rules "$RULES" --control none
PID=$VD_PID
line=$(udpgen --dst 127.0.0.1 --port 7303 --sport 43000 --count 20 --inflight 1)
expect_eq "packets delivered before the reload ($line)" "$(kv received "$line")" 20
printf 'return { default = "accept", rules = {} }\n' >"$RULES"
kill -HUP "$PID"
wait_line "$WORK/re.err" 'kernel rules replaced' || fail "no replace: $(cat "$WORK/re.err")"
line=$(udpgen --dst 127.0.0.1 --port 7303 --sport 43000 --count 10 --inflight 1)
expect_eq "packets delivered after the reload ($line)" "$(kv received "$line")" 10
stop_verdictd "$PID" re
expect_eq "packets verdictd saw: 3, then all 10 after the reload" "$(final_stat re 0 packets)" 13
pass "first 3 packets of each of 10 connections queued, 1000 delivered (960 on the PAST rule); bypass decisions kept past 3; first packets turned off by a reload queue such a connection again"
