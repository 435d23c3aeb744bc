#!/usr/bin/env bash
# offload_nft.sh - the kernel offload in the nft flavour (offload_nft.h).
#
# This kernel has no nft queue expression: as firewall_nft.sh does, the queue
# statement is swapped for a counted accept (the only change), and the rest
# runs in the namespace's real nf_tables:
#  1. every printed set passes nft -c (hooks, a queue range, reject codes);
#  2. loaded with --hooks output, packets hit exactly their offloaded rule
#     (its counter), those of the rules after the Lua hook none of them;
#  3. the daemon's set through an nft that swaps the statement (a shim first
#     in PATH): `verdictctl stats` shows the offloaded rules' hits exactly,
#     across a reload and in the final report.
source "$(dirname "$0")/lib.sh"
: "${VERDICTCTL:?set VERDICTCTL to the verdictctl binary}"
command -v nft >/dev/null || skip "nft is not installed"

REAL_NFT=$(command -v nft)
SWAP='s/queue num [0-9-]* bypass/counter accept comment "queue"/'

# 1. Every case printed passes nft -c.
cat >"$WORK/all.lua" <<'EOF2'
return { rules = {
  { name = "a", proto = "udp", dport = 5001, verdict = "accept" },
  { name = "b", proto = "udp", dport = 5002, dst = { "127.0.0.1", "::1" }, verdict = "drop",
    mark = "0x5/0xff" },
  { name = "c", proto = "udp", dport = "5003-5004", oif = "lo", ct_state = { "new", "established" },
    verdict = "accept" },
  { name = "u", proto = "udp", dport = 5006, uid = 0, gid = "0-10", len = "20-1000", verdict = "accept" },
  { name = "s", src = { "198.18.0.0/24", "198.18.1.0/25", "2001:db8::/48" }, proto = { "tcp", "udp" },
    sport = { 7, "1000-2000" }, match_mark = "0x1/0xf", verdict = "drop" },
  { name = "f", proto = "tcp", tcp_flags = "syn,!ack", verdict = "accept" },
  { name = "i", icmp_type = 8, icmp_code = 0, verdict = "accept" },
  { name = "r", proto = { "tcp", "udp" }, dport = 23, verdict = "reject", reject_with = "tcp-reset" },
  { name = "p", proto = "udp", dport = 24, verdict = "reject", reject_with = "icmp-admin-prohibited" },
  { name = "o", dst = "198.18.0.1", verdict = "reject", reject_with = "icmp6-addr-unreachable" },
  { name = "h", lua = function(pkt) return "accept" end },
  { name = "d", proto = "udp", dport = 5005, verdict = "drop" },
} }
EOF2
# Overlapping and repeated items: nft merges them in an anonymous set.
cat >"$WORK/overlap.lua" <<'EOF2'
return { rules = {
  { name = "p", proto = "udp", dport = { 80, "70-90", 91 }, iif = { "lo", "lo" },
    src = { "198.18.0.0/24", "198.18.0.5", "198.18.1.0/24", "2001:db8::/32", "2001:db8::1" },
    verdict = "drop" },
} }
EOF2
chmod 600 "$WORK/all.lua" "$WORK/overlap.lua"
for q in 0 0-3; do
	for hooks in output input,forward,output; do
		for rules in all overlap; do
			"$VERDICTD" --print-firewall=nft --queue "$q" --rules "$WORK/$rules.lua" \
				--hooks "$hooks" --first-packets 3 >"$WORK/print.nft"
			sed "$SWAP" "$WORK/print.nft" | ns nft -c -f - || fail "nft -c refused the printed" \
				"set ($rules.lua --queue $q --hooks $hooks): $(cat "$WORK/print.nft")"
		done
	done
done
grep -q 'nothing is offloaded' "$WORK/print.nft" && fail "the header still says nothing is offloaded"
# The output hook's run: rules 1-10, two per rule and family but 'o'
# (IPv4 only) and 'r' (tcp-reset for TCP, port unreachable for UDP: four).
"$VERDICTD" --print-firewall=nft --queue 0 --rules "$WORK/all.lua" --hooks output >"$WORK/print.nft"
expect_eq "offloaded nft rules in the output chain" "$(grep -c 'verdictd rule' "$WORK/print.nft")" 21
grep -q 'verdictd rule 1[12]"' "$WORK/print.nft" && fail "rules after the Lua hook were offloaded"
pass "every printed set passes nft -c; the run stops at the Lua hook"

# 2. The offloaded rules in the kernel: each packet hits its rule's counter
# (a, b, c and u: rules 1-4; the rest match none of these packets; d is rule
# 12, after the hook).
"$VERDICTD" --print-firewall=nft --queue 0 --rules "$WORK/all.lua" --hooks output | sed "$SWAP" |
	ns nft -f - || fail "nft -f refused the printed set"

send() { udp_received "$@"; }
expect_eq "rule a (accept) lets through" "$(send 127.0.0.1 5001 5)" 5
expect_eq "rule b (drop) drops IPv4" "$(send 127.0.0.1 5002 3)" 0
expect_eq "rule b (drop) drops IPv6" "$(send ::1 5002 2)" 0
expect_eq "rule c (accept) lets through" "$(send ::1 5004 4)" 4
expect_eq "rule u (uid 0) lets through" "$(send 127.0.0.1 5006 3)" 3
expect_eq "rule d (after the hook) is not in the kernel" "$(send 127.0.0.1 5005 6)" 6
expect_eq "no rule" "$(send ::1 5009 2)" 2
# counted N: the packets of the nft rules tagged "verdictd rule N" (or "queue").
list=$(ns nft list table inet verdictd)
counted() {
	awk -v tag="comment \"$1\"" 'index($0, tag) { for (i = 1; i < NF; i++)
		if ($i == "packets") n += $(i + 1) } END { print n + 0 }' <<<"$list"
}
expect_eq "rule 1's counter" "$(counted 'verdictd rule 1')" 5
expect_eq "rule 2's counters" "$(counted 'verdictd rule 2')" 5
expect_eq "rule 3's counters" "$(counted 'verdictd rule 3')" 4
expect_eq "rule 4's counters" "$(counted 'verdictd rule 4')" 3
expect_eq "packets past the offloaded rules (at the queue statement)" "$(counted queue)" 8
ns nft delete table inet verdictd
pass "matching packets hit their nft rule, others none (kernel counters)"

# 3. The daemon's set and its counters, through the shim.
mkdir "$WORK/shim"
cat >"$WORK/shim/nft" <<EOF2
#!/bin/bash
# The probe passes; every set read from stdin goes to nft with the queue
# swapped; everything else (nft list) to nft as it is.
[[ " \$* " == *" -f "* ]] || exec "$REAL_NFT" "\$@"
input=\$(cat)
if [[ " \$* " == *" -c "* ]] && grep -q verdictd_probe <<<"\$input"; then exit 0; fi
sed '$SWAP' <<<"\$input" | exec "$REAL_NFT" "\$@"
EOF2
chmod +x "$WORK/shim/nft"
# "big": 102 prefixes per family, more than iptables rules would take: one
# anonymous set in its nft rule.
cat >"$WORK/rules.lua" <<'EOF2'
local many = { "127.0.0.0/8", "::1/128" }
for i = 0, 99 do
  many[#many + 1] = "198.18." .. 2 * i .. ".0/24"
  many[#many + 1] = string.format("2001:db8:%x::/48", 2 * i)
end
return { default = "accept", sets = { many = many }, rules = {
  { name = "fast", proto = "udp", dport = 7301, verdict = "accept" },
  { name = "gone", proto = "udp", dport = 7302, verdict = "drop" },
  { name = "big", src = "@many", proto = "udp", dport = 7305, verdict = "drop" },
  { name = "hook", proto = "udp", dport = 7303, lua = function(pkt) return "accept" end },
  { name = "late", proto = "udp", dport = 7304, verdict = "accept" },
} }
EOF2
SOCK=$WORK/ctl.sock
OLDPATH=$PATH
export PATH="$WORK/shim:$PATH"
start_verdictd off --queue 0 --rules "$WORK/rules.lua" --control "$SOCK" --firewall nft --hooks output
PID=$VD_PID
stat() { rule_hits "$SOCK" "$1"; }
expect_eq "fast (kernel accept) delivers" "$(send 127.0.0.1 7301 30)" 30
expect_eq "fast (kernel accept) delivers IPv6" "$(send ::1 7301 20)" 20
expect_eq "gone (kernel drop) drops" "$(send 127.0.0.1 7302 20)" 0
expect_eq "fast's hits" "$(stat fast)" 50
expect_eq "gone's hits" "$(stat gone)" 20
expect_eq "big (kernel drop, a 101-prefix set) drops" "$(send 127.0.0.1 7305 12)" 0
expect_eq "big drops IPv6" "$(send ::1 7305 8)" 0
expect_eq "big's hits" "$(stat big)" 20
# (Read whole first: grep -q ends early, and pipefail would count nft's SIGPIPE.)
table=$(ns nft list table inet verdictd)
grep -q 'ip saddr { 127.0.0.0/8, 198.18.0.0/24, .* } .*verdictd rule 3' <<<"$table" ||
	fail "big is not one rule with a set: $(grep 'rule 3' <<<"$table")"
expect_eq "late's hits (not offloaded, nothing sent)" "$(stat late)" 0
pass "verdictctl stats shows the nft rules' kernel hits"

# A reload: fast now drops, gone is gone, late moves before the hook.
cat >"$WORK/rules.lua" <<'EOF2'
return { default = "accept", rules = {
  { name = "fast", proto = "udp", dport = 7301, verdict = "drop" },
  { name = "late", proto = "udp", dport = 7304, verdict = "accept" },
  { name = "hook", proto = "udp", dport = 7303, lua = function(pkt) return "accept" end },
} }
EOF2
kill -HUP "$PID"
wait_line "$WORK/off.err" 'kernel rules replaced' || true
grep -q 'kernel rules replaced (nft' "$WORK/off.err" || fail "no replace: $(cat "$WORK/off.err")"
expect_eq "fast (kernel drop) drops" "$(send 127.0.0.1 7301 10)" 0
expect_eq "late (kernel accept) delivers" "$(send ::1 7304 10)" 10
expect_eq "fast's hits, across the reload" "$(stat fast)" 60
expect_eq "late's hits" "$(stat late)" 10
expect_eq "gone, no longer a rule" "$(stat gone)" ""
stop_verdictd "$PID" off
export PATH=$OLDPATH
grep -q '^rules final:.* fast=60 ' "$WORK/off.out" ||
	fail "final rules line lacks fast=60: $(grep '^rules final' "$WORK/off.out")"
# The final report reads the counters after the table is gone: no error.
grep 'offload counters' "$WORK/off.err" && fail "reading the counters logged an error"
pass "a reload changes the nft rules; hits count on, into the final report"
