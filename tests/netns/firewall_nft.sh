#!/usr/bin/env bash
# firewall_nft.sh - the nft flavour of the generated rules (firewall_nft.h).
#
# This kernel has no nft queue expression, so no nft rule here can queue a
# packet. What is checked, with the queue statement swapped for a counted
# accept (the only change), in the namespace's real nf_tables:
#  1. --print-firewall=nft loads (nft -c), one queue or a range;
#  2. its first-packets and bypass rules act as the iptables flavour's: of 10
#     UDP connections of 100 packets, exactly 3 of each reach the queue rule;
#     a connection whose first packet carries the "accept, connection" code
#     (set here by a chain before verdictd's, as a repeat verdict would) has
#     its code saved and its later packets accepted by the fast path;
#  3. --firewall nft is refused, in one line, where the kernel cannot queue
#     from nft (here), and leaves no table;
#  4. the daemon's install, reload, SIGKILL, restart and exit, through an nft
#     that swaps the statement as above (a shim first in PATH): one table
#     verdictd always, replaced by a reload, left by SIGKILL and replaced at
#     the next start, gone after SIGTERM.
source "$(dirname "$0")/lib.sh"
command -v nft >/dev/null || skip "nft is not installed"

REAL_NFT=$(command -v nft)
SWAP='s/queue num [0-9-]* bypass/counter accept comment "queue"/'
tables() { ns nft list tables | grep -c 'table inet verdictd$' || true; }
# Whole outputs first: grep -q would stop reading, and pipefail fail the pipe.
listing() { ns nft list table inet verdictd; }

# 1. The printed set, with the queue swapped, passes nft -c.
for q in 0 0-3; do
	"$VERDICTD" --print-firewall=nft --queue "$q" --first-packets 3 --hooks input,forward,output \
		>"$WORK/print.nft"
	grep -q "queue num $q bypass" "$WORK/print.nft" || fail "no 'queue num $q bypass': $(cat "$WORK/print.nft")"
	sed "$SWAP" "$WORK/print.nft" | ns nft -c -f - || fail "nft -c refused the printed set (--queue $q)"
done

# 2. First packets and bypass in the kernel. The "early" chain (priority -2,
# before verdictd's) gives the first packet of flows to port 7401 the code
# accept|connection (0x09 in 0x0f000000); verdictd's chain saves it, and
# packets 2 and 3, which --first-packets 3 would queue, meet the fast path.
"$VERDICTD" --print-firewall=nft --queue 0 --first-packets 3 --hooks output | sed "$SWAP" >"$WORK/fp.nft"
ns nft -f "$WORK/fp.nft"
ns nft add table inet vdmark
ns nft add chain inet vdmark early '{ type filter hook output priority -2; }'
ns nft add rule inet vdmark early udp dport 7401 ct packets 1 meta mark set 0x09000000
line=$(udpgen --dst 127.0.0.1 --port 7400 --flows 10 --sport 41000 --count 1000 --inflight 64)
expect_eq "packets delivered ($line)" "$(kv received "$line")" 1000
queued() { ns nft list chain inet verdictd output | sed -n 's/.*counter packets \([0-9]*\) .*comment "queue".*/\1/p'; }
expect_eq "packets at the queue rule, 10 connections, first 3 each" "$(queued)" 30
line=$(udpgen --dst 127.0.0.1 --port 7401 --count 50 --inflight 8 --sport 42000)
expect_eq "bypassed connection delivered ($line)" "$(kv received "$line")" 50
expect_eq "packets at the queue rule after the bypassed connection" "$(queued)" 30
if ns test -r /proc/net/nf_conntrack; then
	ct=$(ns cat /proc/net/nf_conntrack)
	grep -q 'dport=7401 .*mark=150994944' <<<"$ct" ||
		fail "connection mark not saved: $ct"
	# Past the first 3, each of the 10 connections is marked PAST (code
	# 0x0b), which the fast path's first rule accepts on.
	expect_eq "connections to 7400 marked past their first packets" \
		"$(grep -c 'dport=7400 .*mark=184549376 ' <<<"$ct")" 10
fi
ns nft delete table inet vdmark
ns nft delete table inet verdictd

# 3. --firewall nft where nft cannot queue: refused, nothing left.
if printf 'table inet vdprobe { chain c { type filter hook input priority 0; queue num 0 bypass; }; }\n' |
	ns nft -c -f - 2>/dev/null; then
	echo "note: this kernel has the nft queue expression; the refusal case is not run"
else
	status=0
	ns "$VERDICTD" --queue 0 --default accept --control none --firewall nft \
		>"$WORK/refused.out" 2>"$WORK/refused.err" || status=$?
	[ "$status" -ne 0 ] || fail "--firewall nft started on a kernel without the nft queue expression"
	grep -q 'firewall nft: this kernel.s nf_tables has no queue expression' "$WORK/refused.err" ||
		fail "refusal does not say why: $(cat "$WORK/refused.err")"
	expect_eq "tables after the refusal" "$(tables)" 0
fi

# 4. Install, reload, SIGKILL, restart, exit through the shim.
mkdir "$WORK/shim"
cat >"$WORK/shim/nft" <<EOF
#!/bin/bash
# The probe passes; every other set goes to nft with the queue swapped.
input=\$(cat)
if [[ " \$* " == *" -c "* ]] && grep -q verdictd_probe <<<"\$input"; then exit 0; fi
sed '$SWAP' <<<"\$input" | exec "$REAL_NFT" "\$@"
EOF
chmod +x "$WORK/shim/nft"
RULES="$WORK/rules.lua"
printf 'return { first_packets = 4, default = "accept", rules = {} }\n' >"$RULES"
OLDPATH=$PATH
export PATH="$WORK/shim:$PATH"
start_verdictd nft --queue 0 --rules "$RULES" --control none --firewall nft --hooks input,output
grep -q 'kernel rules installed (nft, table inet verdictd): the first 4' "$WORK/nft.err" ||
	fail "no install line: $(cat "$WORK/nft.err")"
expect_eq "tables after start" "$(tables)" 1
grep -q "ct packets > 4 accept" <<<"$(listing)" || fail "no first-packets rule: $(listing)"
printf 'return { first_packets = 7, default = "accept", rules = {} }\n' >"$RULES"
kill -HUP "$VD_PID"
wait_line "$WORK/nft.err" 'kernel rules replaced' || true
grep -q 'kernel rules replaced (nft, table inet verdictd): the first 7' "$WORK/nft.err" ||
	fail "no replace: $(cat "$WORK/nft.err")"
expect_eq "tables after the reload" "$(tables)" 1
grep -q 'ct packets > 4 ' <<<"$(listing)" && fail "the old set is still there"
kill -KILL "$VD_PID"
wait "$VD_PID" 2>/dev/null || true
expect_eq "tables after SIGKILL (left for --queue-bypass)" "$(tables)" 1
printf 'return { first_packets = 2, default = "accept", rules = {} }\n' >"$RULES"
start_verdictd again --queue 0 --rules "$RULES" --control none --firewall nft --hooks output
expect_eq "tables after the restart" "$(tables)" 1
grep -q 'chain input' <<<"$(listing)" && fail "the killed daemon's input chain is still there"
expect_eq "rules that count packets after the restart" \
	"$(grep -c 'ct packets > 2 ' <<<"$(listing)")" 2
stop_verdictd "$VD_PID" again
expect_eq "tables after SIGTERM" "$(tables)" 0
export PATH=$OLDPATH
pass "nft flavour: loads, first packets and bypass act in the kernel, refused without a queue expression, install/reload/kill/restart/exit keep one table"
