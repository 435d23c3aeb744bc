#!/usr/bin/env bash
# reject.sh - verdict "reject" through the generated kernel rules: a TCP
# connect to a listening port is answered with a reset (reject_with
# tcp-reset) and a UDP datagram to a bound port with ICMP port unreachable;
# the sender's socket sees ECONNREFUSED at once, over IPv4 and IPv6, and
# verdictd counts each reject exactly.
source "$(dirname "$0")/lib.sh"
command -v iptables-restore >/dev/null || skip "iptables-restore is not installed"
command -v python3 >/dev/null || skip "python3 is not installed"
PEER="$(dirname "$0")/kernel_verdict_peer.py"

# Listeners on both ports (dual-stack): a refusal can only be verdictd's.
for proto in tcp udp; do
	ns python3 "$PEER" listen $proto :: 7400 >"$WORK/listen-$proto" &
	PIDS+=($!)
done
for _ in $(seq 100); do
	[ -s "$WORK/listen-tcp" ] && [ -s "$WORK/listen-udp" ] && break
	sleep 0.05
done
expect_eq "TCP connect before verdictd" "$(ns python3 "$PEER" connect 127.0.0.1 7400)" connected

RULES=$WORK/rules.lua
cat >"$RULES" <<'LUA'
return { default = "accept", rules = {
  { name = "rst", proto = "tcp", dport = 7400, tcp_flags = "syn,!ack",
    verdict = "reject", reject_with = "tcp-reset" },
  { name = "unreach", proto = "udp", dport = 7400, verdict = "reject" },
} }
LUA
start_verdictd rj --queue 0 --rules "$RULES" --control none --firewall iptables
for dst in 127.0.0.1 ::1; do
	expect_eq "TCP connect to $dst" "$(ns python3 "$PEER" connect $dst 7400)" refused
	expect_eq "UDP datagram to $dst" "$(ns python3 "$PEER" udp-probe $dst 7400)" refused
done
stop_verdictd "$VD_PID" rj
expect_eq "rejects" "$(final_stat rj 0 rejected)" 4
# The reset and the ICMP error come back through the input hook too: queued
# and accepted by the default.
expect_eq "packets verdictd saw" "$(final_stat rj 0 packets)" 8
expect_eq "accepted" "$(final_stat rj 0 accepted)" 4
grep -q '^rules final: .* rst=2 unreach=2' "$WORK/rj.out" || fail "rule hits: $(grep '^rules final' "$WORK/rj.out")"
pass "reject: TCP reset and ICMP port unreachable, IPv4 and IPv6, ECONNREFUSED each time"
