#!/usr/bin/env bash
# control.sh - no control client can hold verdictd: idle clients, a client
# sending one byte at a time, one that asks for a long answer and never reads
# it, and a full house of clients all leave `verdictctl ping` answering within
# 0.5 s and SIGTERM taking effect within 1 s. Commands with a NUL or other
# non-text bytes are refused (no reload happens); peers are checked by their
# credentials (root, or --control-group members); the socket's mode is 0600
# (0660 with the group); a path that is not a socket is left alone and the
# daemon refuses to start; a stale socket is replaced. verdictctl gives up on
# a server that never answers within --timeout, exit 2.
source "$(dirname "$0")/lib.sh"
: "${VERDICTCTL:?}"
command -v python3 >/dev/null || skip "python3 is not installed"
command -v setpriv >/dev/null || skip "setpriv is not installed"
CLIENTS=(python3 "$(cd "$(dirname "$0")" && pwd)/control_clients.py")

# nobody must reach the sockets in $WORK and run verdictctl from there.
chmod 0711 "$WORK"
CTL=$WORK/verdictctl
cp "$VERDICTCTL" "$CTL"
chmod 0755 "$CTL"
AS_NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)

# 8000 named rules: the stats answer (about 300 KB) is larger than what a
# unix socket buffers, so a client that does not read it would block a
# server that writes until done.
RULES=$WORK/rules.lua
cat >"$RULES" <<'LUA'
local r = {}
for i = 1, 8000 do
	r[i] = { name = string.format("a-rule-with-a-rather-long-name-%05d", i), proto = "udp",
		 dport = 20000 + i, verdict = "accept" }
end
return { rules = r }
LUA
SMALL=$WORK/small.lua
echo 'return { rules = { { name = "a", proto = "udp", dport = 6001, verdict = "accept" } } }' >"$SMALL"
add_queue_rule ipv4 udp 6000 0
SOCK=$WORK/ctl.sock
start_verdictd ctl --queue 0 --rules "$RULES" --control "$SOCK"
PID=$VD_PID

ms() { date +%s%3N; }

# ctl WANT_STATUS SOCKET ARGS...: verdictctl's exit status; output in OUT.
ctl() {
	local want=$1 sock=$2 status=0
	shift 2
	OUT=$(timeout 10 "$CTL" --socket "$sock" "$@" 2>&1) || status=$?
	expect_eq "exit status of verdictctl $* ($OUT)" "$status" "$want"
}

# ping_within MS WHAT: `verdictctl ping` answers "ok" within MS, on top of
# what a ping costs on this machine when nothing else happens ($BASE_MS: a
# sanitizer build or a busy machine starts verdictctl slowly).
ping_within() {
	local t0 took
	t0=$(ms)
	ctl 0 "$SOCK" --timeout 3 ping
	took=$(($(ms) - t0))
	grep -q '^ok: verdictd ' <<<"$OUT" || fail "$2: ping answered: $OUT"
	[ "$took" -lt $(($1 + BASE_MS)) ] || fail "$2: ping took $took ms (at most $1 + $BASE_MS)"
}

# await FILE TEXT: until a background helper printed TEXT (5 s at most).
await() {
	local i
	for i in $(seq 100); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	fail "helper did not print \"$2\": $(cat "$1" 2>/dev/null)"
}

# helper NAME ARGS...: a control_clients.py mode in the background.
helper() {
	local name=$1
	shift
	"${CLIENTS[@]}" "$@" >"$WORK/$name.out" 2>&1 &
	PIDS+=("$!")
}

generation() {
	ctl 0 "$SOCK" stats
	sed -n 's/^rules: generation=\([0-9]*\) .*/\1/p' <<<"$OUT"
}

expect_eq "socket mode and owner" "$(stat -c '%a %U' "$SOCK")" "600 root"
BASE_MS=0
for i in 1 2 3; do
	t0=$(ms)
	ctl 0 "$SOCK" ping
	took=$(($(ms) - t0))
	[ "$took" -gt "$BASE_MS" ] && BASE_MS=$took
done
ping_within 500 "no other client"

# Twenty clients that connect and say nothing.
helper idle idle "$SOCK" 20 3
await "$WORK/idle.out" connected
expect_eq "idle clients connected" "$(cat "$WORK/idle.out")" "connected 20 busy 0"
ping_within 500 "20 idle clients connected"
pass "20 idle clients: ping answered at once"

# A client that asks for the long answer and never reads it.
helper noread noread "$SOCK" stats 4
await "$WORK/noread.out" sent
sleep 0.3
ping_within 500 "a client not reading its stats"
pass "a client that does not read its answer holds nothing"

# A full house: beyond 32 clients, "error: busy"; the idle ones are dropped
# after their 2 s, and the socket serves again.
sleep 2.2
helper full idle "$SOCK" 40 3
await "$WORK/full.out" connected
expect_eq "40 clients" "$(cat "$WORK/full.out")" "connected 40 busy 8"
ctl 1 "$SOCK" --timeout 3 ping
grep -q '^error: busy (32 control clients connected)' <<<"$OUT" || fail "busy answer: $OUT"
sleep 2.2
ping_within 500 "after idle clients timed out"
pass "33rd client told busy; idle clients dropped after 2 s"

# Commands with bytes that are not text, and unknown ones: one error line.
before=$(generation)
OUT=$("${CLIENTS[@]}" send "$SOCK" 'reload\0junk\n')
grep -q '^error: byte 7 of the command is 0x00 (NUL): commands are printable ASCII text$' <<<"$OUT" ||
	fail "reload\\0junk answered: $OUT"
expect_eq "lines answering reload\\0junk" "$(wc -l <<<"$OUT")" 1
OUT=$("${CLIENTS[@]}" send "$SOCK" 'reload\x1b\n')
grep -q '^error: byte 7 of the command is 0x1b' <<<"$OUT" || fail "reload+ESC answered: $OUT"
OUT=$("${CLIENTS[@]}" send "$SOCK" 'relaod\n')
grep -q '^error: unknown command "relaod" (reload, stats, stats-json, metrics or ping)$' <<<"$OUT" || fail "relaod: $OUT"
sleep 0.3
expect_eq "rules generation after refused commands" "$(generation)" "$before"
grep -q 'reloaded' "$WORK/ctl.err" && fail "a refused command reloaded: $(cat "$WORK/ctl.err")"
pass "reload\\0junk, control bytes and unknown commands refused, no reload"

# Credentials: with the file opened to everyone, the daemon still refuses
# a uid that is neither root nor its own.
chmod 0666 "$SOCK"
status=0
OUT=$(ns "${AS_NOBODY[@]}" "$CTL" --socket "$SOCK" ping 2>&1) || status=$?
expect_eq "verdictctl as nobody, exit status ($OUT)" "$status" 1
grep -q '^error: uid 65534 may not use this control socket' <<<"$OUT" || fail "nobody: $OUT"
chmod 0600 "$SOCK"
pass "a peer of another uid refused by its credentials"

# --control-group: the group's members get in, primary or supplementary.
add_queue_rule ipv4 udp 6001 1
GSOCK=$WORK/group.sock
start_verdictd grp --queue 1 --rules "$SMALL" --control "$GSOCK" --control-group 65534
GPID=$VD_PID
expect_eq "group socket mode and group" "$(stat -c '%a %g' "$GSOCK")" "660 65534"
for who in "--regid=65534 --clear-groups" "--regid=12345 --groups=65534"; do
	status=0
	# shellcheck disable=SC2086
	OUT=$(ns setpriv --reuid=65534 $who "$CTL" --socket "$GSOCK" ping 2>&1) || status=$?
	expect_eq "verdictctl as nobody ($who), exit status ($OUT)" "$status" 0
done
status=0
OUT=$(ns setpriv --reuid=65534 --regid=12345 --clear-groups "$CTL" --socket "$GSOCK" ping 2>&1) ||
	status=$?
expect_eq "verdictctl outside the group, exit status ($OUT)" "$status" 2
grep -q 'Permission denied' <<<"$OUT" || fail "outside the group: $OUT"
chmod 0666 "$GSOCK"
status=0
OUT=$(ns setpriv --reuid=65534 --regid=12345 --clear-groups "$CTL" --socket "$GSOCK" ping 2>&1) ||
	status=$?
expect_eq "outside the group, socket opened, exit status ($OUT)" "$status" 1
grep -q '^error: uid 65534 may not use this control socket (root, uid 0 and members of --control-group)' \
	<<<"$OUT" || fail "outside the group, socket opened: $OUT"
stop_verdictd "$GPID" grp
[ -e "$GSOCK" ] && fail "the group socket outlived its daemon"
pass "--control-group: mode 0660, members served, others refused"

# A path that is not a socket is left alone, and the daemon does not start.
for kind in file dir; do
	target=$WORK/not-a-socket-$kind
	if [ $kind = file ]; then echo precious >"$target"; else mkdir "$target"; fi
	status=0
	err=$(timeout 5 ip netns exec "$NS" "$VERDICTD" --queue 2 --rules "$SMALL" \
		--control "$target" 2>&1 >/dev/null) || status=$?
	expect_eq "verdictd --control at a $kind: exit status ($err)" "$status" 2
	grep -q "control socket $target: exists and is a .*, not a socket: left alone" <<<"$err" ||
		fail "message for a $kind: $err"
	expect_eq "lines for a $kind" "$(wc -l <<<"$err")" 1
done
expect_eq "the regular file after verdictd" "$(cat "$WORK/not-a-socket-file")" precious
[ -d "$WORK/not-a-socket-dir" ] || fail "the directory went away"
pass "--control at a regular file or directory: refused with exit 2, left intact"

# A stale socket (nobody listens) is replaced; a live one is not touched.
STALE=$WORK/stale.sock
"${CLIENTS[@]}" stale "$STALE"
[ -S "$STALE" ] || fail "no stale socket made"
start_verdictd stale --queue 2 --rules "$SMALL" --control "$STALE"
ctl 0 "$STALE" ping
stop_verdictd "$VD_PID" stale
pass "stale socket replaced"

# verdictctl against a server that accepts and never answers.
FAKE=$WORK/fake.sock
helper server server "$FAKE" 6
await "$WORK/server.out" listening
t0=$(ms)
ctl 2 "$FAKE" --timeout 1 ping
took=$(($(ms) - t0))
grep -q "^verdictctl: verdictd at $FAKE did not answer \"ping\" within 1 s" <<<"$OUT" ||
	fail "timeout message: $OUT"
[ "$took" -ge 950 ] && [ "$took" -lt 1500 ] || fail "verdictctl --timeout 1 took $took ms"
ctl 2 "$FAKE" --timeout 0 ping
grep -q -- '--timeout: "0" is not a number of seconds' <<<"$OUT" || fail "--timeout 0: $OUT"
pass "verdictctl --timeout 1 gives up after 1 s, exit 2"

# A client sending one byte at a time does not hold SIGTERM back.
helper slow slow "$SOCK" 0.9 10
await "$WORK/slow.out" started
sleep 0.5
stop_verdictd "$PID" ctl
[ -e "$SOCK" ] && fail "the control socket outlived its daemon"
pass "SIGTERM within 1 s with a slow-byte client connected"
