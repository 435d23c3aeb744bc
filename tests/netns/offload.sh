#!/usr/bin/env bash
# offload.sh - with --firewall, the leading rules the kernel can evaluate run
# there: packets matching them never reach verdictd (its packet count), and
# `verdictctl stats` still shows their hits exactly (the kernel's counters);
# a reload with a changed table changes the offloaded rules, and the hits of
# a rule that stays count on across it. An offloaded reject refuses a UDP
# datagram in the kernel (ECONNREFUSED; its ICMP error, RELATED, accepted by
# an offloaded rule too): verdictd sees none of it.
source "$(dirname "$0")/lib.sh"
: "${VERDICTCTL:?set VERDICTCTL to the verdictctl binary}"
command -v iptables-restore >/dev/null || skip "iptables-restore is not installed"
command -v ip6tables-restore >/dev/null || skip "ip6tables-restore is not installed"
command -v python3 >/dev/null || skip "python3 is not installed"
PEER="$(dirname "$0")/kernel_verdict_peer.py"

RULES=$WORK/rules.lua
cat >"$RULES" <<'EOF'
return { default = "accept", rules = {
  { name = "fast", proto = "udp", dport = 7301, verdict = "accept" },
  { name = "gone", proto = "udp", dport = 7302, verdict = "drop" },
  { name = "related", ct_state = "related", verdict = "accept" },
  { name = "refuse", proto = "udp", dport = 7305, verdict = "reject" },
  { name = "marked", proto = "udp", dport = 7306, verdict = "accept", mark = "0x10/0xff" },
  { name = "hook", proto = "udp", dport = 7303, lua = function(pkt) return "accept" end },
  { name = "late", proto = "udp", dport = 7304, verdict = "accept" },
} }
EOF
SOCK=$WORK/ctl.sock
start_verdictd off --queue 0 --rules "$RULES" --control "$SOCK" --firewall iptables
PID=$VD_PID

# offloaded TOOL PORT: whether the installed set has a tagged rule for PORT.
offloaded() { ns "$1-save" -t filter | has -- "--dport $2 .*verdictd rule"; }
for tool in iptables ip6tables; do
	offloaded $tool 7301 || fail "$tool: rule fast not offloaded: $(ns $tool-save)"
	offloaded $tool 7302 || fail "$tool: rule gone not offloaded"
	offloaded $tool 7305 || fail "$tool: rule refuse not offloaded"
	offloaded $tool 7306 || fail "$tool: rule marked not offloaded"
	offloaded $tool 7304 && fail "$tool: rule late (after the hook) offloaded"
done

# send DST PORT COUNT: how many arrived.
send() {
	local line
	line=$(udpgen --dst "$1" --port "$2" --count "$3" --inflight 8 --drain-ms 200 --duration 10) ||
		fail "vd-udpgen to $1 port $2 failed"
	kv received "$line"
}
stat() { rule_hits "$SOCK" "$1"; }

expect_eq "fast (kernel accept) delivers" "$(send 127.0.0.1 7301 30)" 30
expect_eq "fast (kernel accept) delivers IPv6" "$(send ::1 7301 20)" 20
expect_eq "gone (kernel drop) drops" "$(send 127.0.0.1 7302 20)" 0
expect_eq "hook (verdictd) delivers" "$(send 127.0.0.1 7303 10)" 10
expect_eq "late (verdictd) delivers" "$(send ::1 7304 10)" 10
expect_eq "the default delivers" "$(send 127.0.0.1 7309 5)" 5
expect_eq "marked (kernel mark and accept) delivers" "$(send 127.0.0.1 7306 7)" 7
expect_eq "fast's hits" "$(stat fast)" 50
# Its MARK rule sees the same 7 packets: counted once.
expect_eq "marked's hits" "$(stat marked)" 7
expect_eq "gone's hits" "$(stat gone)" 20
expect_eq "hook's hits" "$(stat hook)" 10
expect_eq "late's hits" "$(stat late)" 10
expect_eq "the default's hits" "$(stat '(default)')" 5
pass "offloaded rules' packets counted by the kernel, the rest by verdictd"

# A listener on refuse's port: a refusal can only be the kernel's REJECT.
ns python3 "$PEER" listen udp :: 7305 >"$WORK/listen" &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$WORK/listen" ] && break; sleep 0.05; done
for dst in 127.0.0.1 ::1; do
	expect_eq "refuse (kernel reject) to $dst" "$(ns python3 "$PEER" udp-probe $dst 7305)" refused
done
expect_eq "datagrams the listener got" "$(grep -c '^got' "$WORK/listen" || true)" 0
expect_eq "refuse's hits" "$(stat refuse)" 2
expect_eq "related's hits (the ICMP errors)" "$(stat related)" 2
pass "an offloaded reject refuses in the kernel"

# A reload: fast now drops, gone is gone, late moves before the hook.
cat >"$RULES" <<'EOF'
return { default = "accept", rules = {
  { name = "fast", proto = "udp", dport = 7301, verdict = "drop" },
  { name = "late", proto = "udp", dport = 7304, verdict = "accept" },
  { name = "hook", proto = "udp", dport = 7303, lua = function(pkt) return "accept" end },
} }
EOF
kill -HUP "$PID"
for _ in $(seq 100); do grep -q 'kernel rules replaced' "$WORK/off.err" && break; sleep 0.05; done
grep -q 'kernel rules replaced' "$WORK/off.err" || fail "no replace: $(cat "$WORK/off.err")"
for tool in iptables ip6tables; do
	offloaded $tool 7304 || fail "$tool: rule late not offloaded after the reload"
	offloaded $tool 7302 && fail "$tool: rule gone still offloaded after the reload"
	ns "$tool-save" -t filter | has -- '--dport 7301 .*verdictd rule 1" -j DROP' ||
		fail "$tool: fast does not drop after the reload: $(ns $tool-save)"
done
expect_eq "fast (kernel drop) drops" "$(send 127.0.0.1 7301 10)" 0
expect_eq "late (kernel accept) delivers" "$(send ::1 7304 10)" 10
expect_eq "fast's hits, across the reload" "$(stat fast)" 60
expect_eq "late's hits, across the reload" "$(stat late)" 20
expect_eq "gone, no longer a rule" "$(stat gone)" ""
stop_verdictd "$PID" off
# Only the hook's, late's (before the reload) and the default's packets.
expect_eq "packets verdictd saw" "$(final_stat off 0 packets)" 25
grep -q '^rules final:.* fast=60 ' "$WORK/off.out" ||
	fail "final rules line lacks fast=60: $(grep '^rules final' "$WORK/off.out")"
pass "a reload changes the offloaded rules; hits count on"
