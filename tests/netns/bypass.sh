#!/usr/bin/env bash
# bypass.sh - `bypass = true` decides the rest of a connection in the kernel:
# on a TCP connection's first packet (the SYN) verdictd sees exactly that
# packet and the whole transfer still arrives, IPv4 and IPv6; a bypassed drop
# of a UDP flow's first datagram drops the rest of the flow unseen; a flow no
# bypass rule matches is seen whole. Without --firewall, start-up warns once.
source "$(dirname "$0")/lib.sh"
command -v iptables-restore >/dev/null || skip "iptables-restore is not installed"
command -v python3 >/dev/null || skip "python3 is not installed"
PEER="$(dirname "$0")/kernel_verdict_peer.py"

ns python3 "$PEER" listen tcp :: 7500 >"$WORK/listen-tcp" &
PIDS+=($!)
ns python3 "$PEER" listen udp :: 7501 >"$WORK/listen-udp" &
PIDS+=($!)
for _ in $(seq 100); do
	[ -s "$WORK/listen-tcp" ] && [ -s "$WORK/listen-udp" ] && break
	sleep 0.05
done

RULES=$WORK/rules.lua
cat >"$RULES" <<'LUA'
return { default = "accept", rules = {
  { name = "once", proto = "tcp", dport = 7500, tcp_flags = "syn,!ack",
    verdict = "accept", bypass = true },
  { name = "gone", proto = "udp", dport = 7501, verdict = "drop", bypass = true },
} }
LUA
start_verdictd bp --queue 0 --rules "$RULES" --control none --firewall iptables
for dst in 127.0.0.1 ::1; do
	expect_eq "TCP transfer over $dst" "$(ns python3 "$PEER" transfer $dst 7500 300000)" \
		"echoed=300000 same=1"
done
# 50 ms apart: the first datagram is decided long before the second comes.
expect_eq "dropped flow sent" "$(ns python3 "$PEER" udp-send 127.0.0.1 7501 10 50)" sent=10
sleep 0.2
expect_eq "datagrams of the dropped flow delivered" "$(grep -c '^got$' "$WORK/listen-udp" || true)" 0
line=$(udpgen --dst 127.0.0.1 --port 7502 --count 10 --inflight 4)
expect_eq "datagrams of the plain flow delivered ($line)" "$(kv received "$line")" 10
stop_verdictd "$VD_PID" bp
STATS=$(grep '^stats final' "$WORK/bp.out")
# Two SYNs, the dropped flow's first datagram, the plain flow's 10.
expect_eq "packets verdictd saw ($STATS)" "$(final_stat bp 0 packets)" 13
expect_eq "bypassed" "$(final_stat bp 0 bypassed)" 3
expect_eq "dropped" "$(final_stat bp 0 dropped)" 1
expect_eq "accepted" "$(final_stat bp 0 accepted)" 12
grep -q '^rules final: .* once=2 gone=1' "$WORK/bp.out" || fail "rule hits: $(grep '^rules final' "$WORK/bp.out")"
# Without --firewall (or --bypass-mark) the table cannot be carried out: said
# once at start.
start_verdictd nofw --queue 1 --rules "$RULES" --control none
stop_verdictd "$VD_PID" nofw
expect_eq "start-up warnings without --firewall ($(cat "$WORK/nofw.err"))" \
	"$(grep -c 'reject and bypass are carried out by the generated kernel rules only' "$WORK/nofw.err" || true)" 1
expect_eq "warnings with --firewall" \
	"$(grep -c 'reject and bypass are carried out' "$WORK/bp.err" || true)" 0
pass "bypass: one packet seen per decided connection, the rest in the kernel"
