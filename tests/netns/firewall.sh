#!/usr/bin/env bash
# firewall.sh - verdictd's generated kernel rules: the printed sets load; with
# --firewall the daemon installs them, a reload that changes first_packets
# changes them (and what the kernel queues), SIGTERM leaves iptables-save and
# ip6tables-save exactly as they were; after a SIGKILL traffic still flows
# (queue-bypass) and the next start replaces the stale set (one jump, not two)
# and removes the chain of a hook it no longer uses (--hooks input,output, then
# input);
# a repeat verdict's packet is queued once, not in a loop.
source "$(dirname "$0")/lib.sh"
command -v iptables-restore >/dev/null || skip "iptables-restore is not installed"
command -v ip6tables-restore >/dev/null || skip "ip6tables-restore is not installed"

# A user's own rule: it must survive everything verdictd does.
ns iptables -A INPUT -p udp --dport 9 -j ACCEPT
ns ip6tables -A INPUT -p udp --dport 9 -j ACCEPT
# Rule sets without counters and comment lines (they carry the time).
saved() { ns "$1-save" | grep -v '^#' | sed 's/ \[[0-9]*:[0-9]*\]$//'; }
BEFORE4=$(saved iptables)
BEFORE6=$(saved ip6tables)
expect_unchanged() { # WHEN
	[ "$(saved iptables)" = "$BEFORE4" ] || fail "$1: iptables-save differs: $(saved iptables)"
	[ "$(saved ip6tables)" = "$BEFORE6" ] || fail "$1: ip6tables-save differs: $(saved ip6tables)"
}
# jumps FAMILY-TOOL: how many rules of INPUT jump to verdictd's chain.
jumps() { saved "$1" | grep -c -- '^-A INPUT -j VERDICTD-INPUT$' || true; }

# 1. The printed sets load, every hook, several queues.
for fam in 4 6; do
	tool=iptables
	[ $fam = 6 ] && tool=ip6tables
	"$VERDICTD" --print-firewall=ip$fam --queue 2-3 --hooks input,forward,output \
		--first-packets 3 >"$WORK/print$fam" || fail "--print-firewall=ip$fam failed"
	grep -q -- '--queue-balance 2:3 --queue-bypass' "$WORK/print$fam" ||
		fail "no balanced queue rule in $(cat "$WORK/print$fam")"
	ns "$tool-restore" --noflush --test <"$WORK/print$fam" ||
		fail "$tool-restore --test refused the printed set"
done
expect_unchanged "after --test"

# 2. --firewall installs; first_packets from the rules file.
RULES=$WORK/rules.lua
printf 'return { first_packets = 5, default = "accept", rules = {} }\n' >"$RULES"
start_verdictd fw --queue 0 --rules "$RULES" --control none --firewall iptables
PID=$VD_PID
for tool in iptables ip6tables; do
	expect_eq "$tool jumps to VERDICTD-INPUT" "$(jumps $tool)" 1
	saved $tool | has -- '--connbytes 6 .* -j ACCEPT' || fail "$tool: no connbytes 6: $(saved $tool)"
	saved $tool | has -- '-A VERDICTD-INPUT -j NFQUEUE --queue-num 0 --queue-bypass' ||
		fail "$tool: no queue rule: $(saved $tool)"
done
line=$(udpgen --dst 127.0.0.1 --port 7200 --count 40 --inflight 8)
expect_eq "packets delivered with first_packets 5 ($line)" "$(kv received "$line")" 40

# 3. A reload with first_packets 9 replaces the kernel rules.
printf 'return { first_packets = 9, default = "accept", rules = {} }\n' >"$RULES"
kill -HUP "$PID"
wait_line "$WORK/fw.err" 'kernel rules replaced' || true
grep -q 'first 9 packets of each connection' "$WORK/fw.err" || fail "no replace: $(cat "$WORK/fw.err")"
for tool in iptables ip6tables; do
	expect_eq "$tool jumps after the reload" "$(jumps $tool)" 1
	saved $tool | has -- '--connbytes 10 ' || fail "$tool: no connbytes 10: $(saved $tool)"
	saved $tool | has -- '--connbytes 6 ' && fail "$tool: connbytes 6 still there"
done
line=$(udpgen --dst ::1 --port 7200 --count 40 --inflight 8)
expect_eq "packets delivered with first_packets 9 ($line)" "$(kv received "$line")" 40
stop_verdictd "$PID" fw
# One flow each: 5 packets queued before the reload, 9 after.
expect_eq "packets verdictd saw" "$(final_stat fw 0 packets)" 14
expect_unchanged "after SIGTERM"

# 4. SIGKILL: the rules stay, traffic flows past the unbound queue.
start_verdictd killed --queue 0 --control none --firewall auto --hooks input,output
grep -q -- '--firewall auto: iptables' "$WORK/killed.err" || fail "auto did not say why: $(cat "$WORK/killed.err")"
kill -KILL "$VD_PID"
wait "$VD_PID" 2>/dev/null || true
expect_eq "stale jumps" "$(jumps iptables)" 1
saved ip6tables | has -- '^-A OUTPUT -j VERDICTD-OUTPUT$' || fail "no output hook: $(saved ip6tables)"
for dst in 127.0.0.1 ::1; do
	line=$(udpgen --dst $dst --port 7201 --count 200 --inflight 16)
	expect_eq "$dst packets delivered with no verdictd bound ($line)" "$(kv received "$line")" 200
done

# 5. The next start replaces the stale set: still one jump per family, and
# the output hook's chain (not in --hooks now) is gone with its jump.
start_verdictd again --queue 0 --control none --firewall iptables
for tool in iptables ip6tables; do
	expect_eq "$tool jumps after a restart over a stale set" "$(jumps $tool)" 1
	saved $tool | has VERDICTD-OUTPUT && fail "$tool: stale VERDICTD-OUTPUT: $(saved $tool)"
done
line=$(udpgen --dst 127.0.0.1 --port 7202 --count 30 --inflight 8)
expect_eq "packets delivered after the restart ($line)" "$(kv received "$line")" 30
stop_verdictd "$VD_PID" again
expect_eq "packets the restarted verdictd saw" "$(final_stat again 0 packets)" 30
expect_unchanged "after the restart's SIGTERM"

# 6. --firewall nft on a kernel without the nft queue expression: one line, exit 1.
if ! printf 'table inet p { chain c { type filter hook input priority 0; queue num 0 bypass; }; }\n' |
	ns nft -c -f - 2>/dev/null; then
	status=0
	ns "$VERDICTD" --queue 0 --firewall nft --control none >/dev/null 2>"$WORK/nft.err" || status=$?
	expect_eq "--firewall nft exit status" "$status" 1
	grep -q 'no queue expression' "$WORK/nft.err" || fail "nft error: $(cat "$WORK/nft.err")"
	expect_unchanged "after the refused nft start"
fi
# 7. A failed install: one line, exit 1, and the family that took its set
# (IPv4, installed first) is undone.
mkdir "$WORK/bin"
printf '#!/bin/sh\necho "fake: refused" >&2\nexit 1\n' >"$WORK/bin/ip6tables-restore"
chmod +x "$WORK/bin/ip6tables-restore"
status=0
PATH="$WORK/bin:$PATH" ns "$VERDICTD" --queue 0 --firewall iptables --control none \
	>/dev/null 2>"$WORK/bad.err" || status=$?
expect_eq "exit status of a failed install" "$status" 1
# The error names the tool and its backend (nf_tables or legacy, as -V says).
backend=$(ip6tables -V | sed -n 's/.*(\([a-z_]*\)).*/\1/p')
grep -q "cannot install the kernel rules: ip6tables-restore ($backend) --noflush exited with 1: fake: refused" \
	"$WORK/bad.err" || fail "failed install: $(cat "$WORK/bad.err")"
expect_unchanged "after a failed install"

# 8. Loop guard: a repeat verdict's packet re-enters INPUT and verdictd's chain;
# marked PASS it returns before the queue rule, so verdictd sees it once. With
# kernel_mark_mask (the verdict side, verdict/kernel_mark.h) a plain repeat is
# marked PASS; a build without it (no "reject" verdict yet) gets the PASS code
# from the rule's own mark.
N=50
printf 'return { rules = { { name = "probe", verdict = "reject" } } }\n' >"$WORK/probe.lua"
if "$VERDICTD" --check "$WORK/probe.lua" >/dev/null 2>&1; then
	repeat='verdict = "repeat"'
else
	repeat='verdict = "repeat", mark = 0x03000000'
fi
printf 'return { default = "accept", rules = {\n  { name = "again", proto = "udp", dport = 7400, %s } } }\n' \
	"$repeat" >"$WORK/repeat.lua"
start_verdictd loop --queue 0 --rules "$WORK/repeat.lua" --control none --firewall iptables
for dst in 127.0.0.1 ::1; do
	line=$(udpgen --dst $dst --port 7400 --count $N --inflight 8 --drain-ms 300)
	expect_eq "$dst repeated packets delivered ($line)" "$(kv received "$line")" $N
done
stop_verdictd "$VD_PID" loop
expect_eq "packets verdictd saw (each once)" "$(final_stat loop 0 packets)" $((2 * N))
expect_eq "repeat verdicts" "$(final_stat loop 0 repeated)" $((2 * N))
expect_unchanged "after the loop guard run"

# 9. The legacy backend (the tool names pointing at iptables-legacy, as
# update-alternatives does): its raw IP sockets are outside the seccomp
# allow-list, so start-up refuses with one line; with --no-seccomp the rules
# go there, the log says so, exit removes them.
if command -v iptables-legacy-restore >/dev/null && command -v ip6tables-legacy-restore >/dev/null; then
	mkdir "$WORK/legacy"
	for t in iptables ip6tables; do
		for s in "" -save -restore; do ln -s "$(command -v $t-legacy$s)" "$WORK/legacy/$t$s"; done
	done
	status=0
	PATH="$WORK/legacy:$PATH" ns "$VERDICTD" --queue 0 --control none --firewall iptables \
		>/dev/null 2>"$WORK/seccomp.err" || status=$?
	expect_eq "exit status of a legacy start under seccomp" "$status" 1
	grep -q -- '--firewall: iptables (iptables legacy, ip6tables legacy) is the legacy backend' \
		"$WORK/seccomp.err" || fail "legacy under seccomp: $(cat "$WORK/seccomp.err")"
	ns iptables-legacy-save | has VERDICTD && fail "legacy rules after the refusal"
	# Rule "kernel" is offloaded: its hits come from iptables-legacy-save -c
	# (no nf_tables rules to dump).
	cat >"$WORK/legacy.lua" <<'LUA'
return { rules = { { name = "kernel", proto = "udp", dport = 7204, verdict = "accept" } } }
LUA
	PATH="$WORK/legacy:$PATH" start_verdictd legacy --queue 0 --control none --firewall iptables \
		--no-seccomp --rules "$WORK/legacy.lua"
	grep -q 'kernel rules installed (iptables legacy, ip6tables legacy)' "$WORK/legacy.err" ||
		fail "legacy install: $(cat "$WORK/legacy.err")"
	ns iptables-legacy-save | has -- '-A INPUT -j VERDICTD-INPUT' || fail "no legacy jump"
	line=$(udpgen --dst 127.0.0.1 --port 7203 --count 20 --inflight 8)
	expect_eq "packets delivered through legacy rules ($line)" "$(kv received "$line")" 20
	line=$(udpgen --dst 127.0.0.1 --port 7204 --count 15 --inflight 8)
	expect_eq "packets delivered by the offloaded legacy rule ($line)" "$(kv received "$line")" 15
	stop_verdictd "$VD_PID" legacy
	expect_eq "packets verdictd saw through legacy rules" "$(final_stat legacy 0 packets)" 20
	grep -q '^rules final:.* kernel=15' "$WORK/legacy.out" ||
		fail "offloaded legacy hits: $(grep '^rules final' "$WORK/legacy.out") $(cat "$WORK/legacy.err")"
	# A counter read that fails is counted each time and logged once.
	mkdir "$WORK/broken"
	printf '#!/bin/sh\necho "cannot read the tables" >&2\nexit 1\n' >"$WORK/broken/iptables-save"
	chmod 0755 "$WORK/broken/iptables-save"
	PATH="$WORK/broken:$WORK/legacy:$PATH" start_verdictd broken --queue 0 --firewall iptables \
		--no-seccomp --rules "$WORK/legacy.lua" --control "$WORK/broken.sock"
	for _ in 1 2 3; do
		ns "$VERDICTCTL" --socket "$WORK/broken.sock" metrics >"$WORK/broken.prom" ||
			fail "verdictctl metrics: $(cat "$WORK/broken.prom")"
	done
	expect_eq "counter read errors after three scrapes" \
		"$(sed -n 's/^verdictd_offload_counter_errors_total //p' "$WORK/broken.prom")" 3
	expect_eq "counter read errors logged" "$(grep -c 'offload counters: iptables-save -c: failed: cannot read the tables' "$WORK/broken.err")" 1
	stop_verdictd "$VD_PID" broken
	ns ip6tables-legacy-save | has VERDICTD && fail "legacy rules left: $(ns ip6tables-legacy-save)"
	expect_unchanged "after the legacy run"
fi

pass "printed sets load; install, reload, SIGTERM, SIGKILL and restart leave exactly what they should"
