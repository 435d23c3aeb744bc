#!/bin/bash
# offload_kernel.sh - the kernel offload's text (firewall_offload.c), without
# a daemon: it loads with iptables-restore --test and ip6tables-restore
# --test; installed in the namespace's output hook, packets matching the
# offloaded rules hit exactly those rules (the kernel's counters), packets
# matching the rules after the first that stays in verdictd hit none of
# them, and the counters read back (iptables-save -c) give each rule's hits.
source "$(dirname "$0")/lib.sh"
: "${OFFLOAD_PRINT:?set OFFLOAD_PRINT to the vd-offload-print binary}"
command -v iptables-restore >/dev/null || skip "iptables-restore is not installed"

cat >"$WORK/rules.lua" <<'EOF'
return {
  rules = {
    { name = "a", proto = "udp", dport = 5001, verdict = "accept" },
    { name = "b", proto = "udp", dport = 5002, dst = { "127.0.0.1", "::1" }, verdict = "drop",
      mark = "0x5/0xff" },
    { name = "c", proto = "udp", dport = "5003-5004", oif = "lo", ct_state = "new", verdict = "accept" },
    { name = "h", lua = function(pkt) return "accept" end },
    { name = "d", proto = "udp", dport = 5005, verdict = "drop" },
  },
}
EOF
chmod 600 "$WORK/rules.lua"

# restore_file FAMILY: the chain, its offloaded rules, and a last rule that
# counts what they let through (where the queue rule would be).
restore_file() {
	printf '*filter\n:VERDICTD-OUTPUT - [0:0]\n'
	ns "$OFFLOAD_PRINT" "$WORK/rules.lua" VERDICTD-OUTPUT "$1"
	printf -- '-A VERDICTD-OUTPUT -p udp -j ACCEPT\n-A OUTPUT -j VERDICTD-OUTPUT\nCOMMIT\n'
}
restore_file 4 >"$WORK/v4.rules"
restore_file 6 >"$WORK/v6.rules"
expect_eq "IPv4 kernel rules" "$(grep -c 'verdictd rule' "$WORK/v4.rules")" 4
expect_eq "IPv6 kernel rules" "$(grep -c 'verdictd rule' "$WORK/v6.rules")" 4
grep -q 'verdictd rule [45]' "$WORK/v4.rules" "$WORK/v6.rules" &&
	fail "rules after the Lua hook were offloaded: $(cat "$WORK/v4.rules")"
ns iptables-restore --test --noflush <"$WORK/v4.rules" || fail "iptables-restore --test refused it"
ns ip6tables-restore --test --noflush <"$WORK/v6.rules" || fail "ip6tables-restore --test refused it"
pass "the offloaded text loads (iptables-restore --test, ip6tables-restore --test)"

ns iptables-restore --noflush <"$WORK/v4.rules" || fail "iptables-restore refused it"
ns ip6tables-restore --noflush <"$WORK/v6.rules" || fail "ip6tables-restore refused it"

send() { udp_received "$@"; }
expect_eq "rule a (accept) lets through" "$(send 127.0.0.1 5001 5)" 5
expect_eq "rule b (drop) drops IPv4" "$(send 127.0.0.1 5002 3)" 0
expect_eq "rule b (drop) drops IPv6" "$(send ::1 5002 2)" 0
expect_eq "rule c (accept) lets through" "$(send ::1 5004 4)" 4
expect_eq "rule d (after the hook) is not in the kernel" "$(send 127.0.0.1 5005 6)" 6
expect_eq "no rule" "$(send 127.0.0.1 5009 2)" 2

# counted RULES_FILE_TEXT N TARGET: the packets of the kernel rule tagged N.
counted() {
	awk -v tag="\"verdictd rule $2\"" -v t="-j $3" 'index($0, tag) && index($0, t) {
		split($1, c, /[\[:]/); n += c[2] } END { print n + 0 }' <<<"$1"
}
v4=$(ns iptables-save -c -t filter)
v6=$(ns ip6tables-save -c -t filter)
expect_eq "IPv4 rule a" "$(counted "$v4" 1 ACCEPT)" 5
expect_eq "IPv4 rule b" "$(counted "$v4" 2 DROP)" 3
expect_eq "IPv4 rule b's mark" "$(counted "$v4" 2 MARK)" 3
expect_eq "IPv6 rule b" "$(counted "$v6" 2 DROP)" 2
expect_eq "IPv6 rule c" "$(counted "$v6" 3 ACCEPT)" 4
expect_eq "IPv4 rule c" "$(counted "$v4" 3 ACCEPT)" 0
# What the offloaded rules let through reaches the last rule: rule d's 6 and
# the 2 no rule matches (IPv4), nothing else.
last=$(awk '/-A VERDICTD-OUTPUT -p udp( -m udp)? -j ACCEPT/ { split($1, c, /[\[:]/); print c[2] }' <<<"$v4")
expect_eq "IPv4 packets past the offloaded rules" "$last" 8
pass "matching packets hit their rule, others none (kernel counters)"

hits=$(ns "$OFFLOAD_PRINT" "$WORK/rules.lua" --hits) || fail "reading the counters back failed"
expect_eq "hits read back" "$hits" "a=5 b=5 c=4 h=0 d=0"
pass "the counters read back: $hits"
