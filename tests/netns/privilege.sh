#!/usr/bin/env bash
# privilege.sh - verdictd --user: once set up, the process and every one of
# its threads run as the user (Uid, Gid not 0), keep CAP_NET_ADMIN alone in
# the permitted, effective and inheritable sets, have empty bounding and
# ambient sets, no_new_privs and a seccomp filter. Still: exact verdicts,
# `verdictctl stats` and `reload` (a changed rules file is loaded by the
# user), SIGHUP reopening a rotated --log-json file, created by the user.
# Without --user, root is warned once that it keeps everything. A copy of the
# binary with `setcap cap_net_admin+ep`, started as the user, serves with
# CAP_NET_ADMIN alone.
source "$(dirname "$0")/lib.sh"
: "${VERDICTCTL:?}"

# nobody, or a throwaway system user when this system has none.
RUN_USER=nobody
MADE_USER=
if ! getent passwd nobody >/dev/null; then
	command -v useradd >/dev/null || skip "no user nobody and no useradd"
	RUN_USER="vdt-priv-$$"
	useradd --system --no-create-home --shell /usr/sbin/nologin "$RUN_USER"
	MADE_USER=$RUN_USER
fi
cleanup_user() {
	[ -n "$MADE_USER" ] && userdel "$MADE_USER" 2>/dev/null
	cleanup
}
trap cleanup_user EXIT
RUN_UID=$(id -u "$RUN_USER")
RUN_GID=$(id -g "$RUN_USER")

# What the user must reach: the rules file (read), the outputs' directory
# (write: SIGHUP creates the file anew after a rotation).
chmod 0711 "$WORK"
RULES=$WORK/rules.lua
write_rules() { # VERDICT for port 6001
	cat >"$RULES.tmp" <<LUA
return { rules = {
  { name = "logged", proto = "udp", dport = 6000, verdict = "accept", log = true },
  { name = "other", proto = "udp", dport = 6001, verdict = "$1" },
} }
LUA
	chmod 0644 "$RULES.tmp"
	mv "$RULES.tmp" "$RULES"
}
write_rules drop
OUT_DIR=$WORK/out
mkdir "$OUT_DIR"
chown "$RUN_USER" "$OUT_DIR"
SOCK=$WORK/ctl.sock
add_queue_rule ipv4 udp 6000 0
add_queue_rule ipv4 udp 6001 0

start_verdictd priv --queue 0 --rules "$RULES" --control "$SOCK" --user "$RUN_USER" \
	--log-json "$OUT_DIR/log.json"
PID=$VD_PID

# field STATUS_FILE NAME: a /proc status line's value, tabs as spaces.
field() { sed -n "s/^$2:[[:space:]]*//p" "$1" | tr '\t' ' '; }

# check_task STATUS_FILE: every promise the drop makes, for one thread.
check_task() {
	local f=$1 uid gid
	for uid in $(field "$f" Uid); do expect_eq "$f Uid" "$uid" "$RUN_UID"; done
	for gid in $(field "$f" Gid); do
		[ "$gid" != 0 ] || fail "$f: Gid $(field "$f" Gid) has 0"
	done
	expect_eq "$f CapEff" "$(field "$f" CapEff)" 0000000000001000
	expect_eq "$f CapPrm" "$(field "$f" CapPrm)" 0000000000001000
	expect_eq "$f CapInh" "$(field "$f" CapInh)" 0000000000001000
	expect_eq "$f CapBnd" "$(field "$f" CapBnd)" 0000000000000000
	expect_eq "$f CapAmb" "$(field "$f" CapAmb)" 0000000000000000
	expect_eq "$f NoNewPrivs" "$(field "$f" NoNewPrivs)" 1
	expect_eq "$f Seccomp" "$(field "$f" Seccomp)" 2
}
check_task "/proc/$PID/status"
threads=0
for t in /proc/"$PID"/task/*/status; do
	check_task "$t"
	threads=$((threads + 1))
done
# Dumpable again (its /proc is the user's): /proc/self/net, where the kernel
# watch reads the queue's drops, is open to the daemon itself.
expect_eq "owner of /proc/$PID/status" "$(stat -c %u "/proc/$PID/status")" "$RUN_UID"
# The main thread and the queue's worker at least.
[ "$threads" -ge 2 ] || fail "only $threads thread(s) in /proc/$PID/task"

ctl() { verdictctl_expect "$1" "$SOCK" "${@:2}"; }

line=$(udpgen --dst 127.0.0.1 --port 6000 --count 100 --inflight 16)
expect_eq "accepted on 6000 ($line)" "$(kv received "$line")" 100
line=$(udpgen --dst 127.0.0.1 --port 6001 --count 50 --inflight 16 --drain-ms 300)
expect_eq "dropped on 6001 ($line)" "$(kv received "$line")" 0
ctl 0 stats
grep -q '^stats: q0 packets=150 accepted=100 dropped=50 ' <<<"$OUT" || fail "stats: $OUT"
grep -q '^rules: generation=1 (default)=0 logged=100 other=50$' <<<"$OUT" || fail "rules: $OUT"

# A reload reads the changed file as the user.
write_rules accept
ctl 0 reload
grep -q "^ok: reloaded $RULES (generation 2)$" <<<"$OUT" || fail "reload: $OUT"
line=$(udpgen --dst 127.0.0.1 --port 6001 --count 50 --inflight 16)
expect_eq "accepted on 6001 after the reload ($line)" "$(kv received "$line")" 50

# Rotation: SIGHUP makes a new file, the user's.
mv "$OUT_DIR/log.json" "$OUT_DIR/log.json.1"
kill -HUP "$PID"
wait_line "$WORK/priv.err" 'log outputs reopened' || true
grep -q 'log outputs reopened' "$WORK/priv.err" || fail "no reopen: $(cat "$WORK/priv.err")"
udpgen --dst 127.0.0.1 --port 6000 --count 20 --inflight 16 >/dev/null
stop_verdictd "$PID" priv
expect_eq "lines in the rotated log" "$(wc -l <"$OUT_DIR/log.json.1")" 100
expect_eq "lines in the reopened log" "$(wc -l <"$OUT_DIR/log.json")" 20
expect_eq "owner of the reopened log" "$(stat -c %u "$OUT_DIR/log.json")" "$RUN_UID"
expect_eq "final packets" "$(final_stat priv 0 packets)" 220
grep -q 'running as root with every capability' "$WORK/priv.err" &&
	fail "--user run warned about root: $(cat "$WORK/priv.err")"

# Without --user: one warning, root keeps everything (and seccomp holds).
start_verdictd root --queue 0 --control none
PID=$VD_PID
expect_eq "root warnings" "$(grep -c 'running as root with every capability' "$WORK/root.err")" 1
expect_eq "root's Seccomp" "$(field "/proc/$PID/status" Seccomp)" 2
stop_verdictd "$PID" root
# --firewall after the drop: the spawned iptables-restore gets CAP_NET_ADMIN
# through the ambient set and passes the seccomp filter; the exit removes it.
# Rule "fast" is offloaded: its hits come from the kernel's counters, read
# by the dropped daemon under its filter (an nf_tables rule dump) when the
# exit removes its rules.
cat >"$WORK/fw.lua" <<'LUA'
return { rules = { { name = "fast", proto = "udp", dport = 6001, verdict = "accept" } } }
LUA
chmod 0644 "$WORK/fw.lua"
start_verdictd fw --queue 0 --control none --user "$RUN_USER" --firewall iptables --hooks output \
	--rules "$WORK/fw.lua"
PID=$VD_PID
expect_eq "jumps installed by --user" "$(ns iptables-save | grep -c -- '-A OUTPUT -j VERDICTD-OUTPUT')" 1
line=$(udpgen --dst 127.0.0.1 --port 6001 --count 40 --inflight 16)
expect_eq "accepted under --firewall ($line)" "$(kv received "$line")" 40
stop_verdictd "$PID" fw
expect_eq "packets verdictd saw (fast is offloaded)" "$(final_stat fw 0 packets)" 0
grep -q '^rules final:.* fast=40' "$WORK/fw.out" ||
	fail "offloaded hits under --user: $(grep '^rules final' "$WORK/fw.out") $(cat "$WORK/fw.err")"
expect_eq "VERDICTD lines after exit" "$(ns iptables-save | grep -c VERDICTD || true)" 0

# Unprivileged start: the binary with cap_net_admin+ep, run as the user.
if command -v setcap >/dev/null && command -v setpriv >/dev/null; then
	cp "$VERDICTD" "$WORK/verdictd-cap"
	chmod 0755 "$WORK/verdictd-cap"
	setcap cap_net_admin+ep "$WORK/verdictd-cap"
	VERDICTD=setpriv start_verdictd cap --reuid="$RUN_UID" --regid="$RUN_GID" --clear-groups \
		"$WORK/verdictd-cap" --queue 0 --control none
	PID=$VD_PID
	for f in "/proc/$PID/status" /proc/"$PID"/task/*/status; do
		for uid in $(field "$f" Uid); do expect_eq "setcap: $f Uid" "$uid" "$RUN_UID"; done
		expect_eq "setcap: $f CapEff" "$(field "$f" CapEff)" 0000000000001000
		expect_eq "setcap: $f CapPrm" "$(field "$f" CapPrm)" 0000000000001000
		expect_eq "setcap: $f NoNewPrivs" "$(field "$f" NoNewPrivs)" 1
		expect_eq "setcap: $f Seccomp" "$(field "$f" Seccomp)" 2
	done
	line=$(udpgen --dst 127.0.0.1 --port 6000 --count 30 --inflight 16)
	expect_eq "setcap: accepted ($line)" "$(kv received "$line")" 30
	stop_verdictd "$PID" cap
	expect_eq "setcap: final packets" "$(final_stat cap 0 packets)" 30
else
	echo "setcap or setpriv missing: the unprivileged start is not checked"
fi
pass "--user $RUN_USER: every thread with CAP_NET_ADMIN alone, no_new_privs, seccomp; verdicts, stats, reload and SIGHUP reopen work; setcap start as $RUN_USER serves"
