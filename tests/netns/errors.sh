#!/usr/bin/env bash
# errors.sh - what users get wrong: bad arguments and rules files that are
# missing or do not load (exit 2, one line), a queue another process holds,
# and a missing CAP_NET_ADMIN (exit 1, a message that says what to do).
source "$(dirname "$0")/lib.sh"

# expect_fail STATUS PATTERN ARGS...: verdictd fails with STATUS and one
# stderr line matching PATTERN.
expect_fail() {
	local want=$1 pattern=$2 status=0 err
	shift 2
	err=$(ns "$@" 2>&1 >/dev/null) || status=$?
	expect_eq "exit status of $*" "$status" "$want"
	expect_eq "stderr lines of $*" "$(wc -l <<<"$err")" 1
	grep -qE -- "$pattern" <<<"$err" || fail "$*: '$err' does not match '$pattern'"
}

expect_fail 2 'unknown option "--bogus"' "$VERDICTD" --queue 0 --bogus
expect_fail 2 '--queue or --nflog is required' "$VERDICTD"
expect_fail 2 '--default: "reject"' "$VERDICTD" --queue 0 --default reject
expect_fail 2 '--copy-range: "0"' "$VERDICTD" --queue 0 --copy-range 0

# A rules file that is missing or does not load is the user's to fix: exit 2,
# whatever else the command line asks for, before anything is bound.
printf 'return { rules = {\n' >"$WORK/syntax.lua"
echo 'return { rules = { { name = "a", dprt = 1, verdict = "drop" } } }' >"$WORK/key.lua"
echo 'return { rules = { { name = "p", plugin = "none.so", symbol = "x" } } }' >"$WORK/plugin.lua"
expect_fail 2 'cannot open /nonexistent/rules.lua' \
	"$VERDICTD" --queue 0 --rules /nonexistent/rules.lua --control none
expect_fail 2 'syntax.lua:2: ' "$VERDICTD" --queue 0 --rules "$WORK/syntax.lua" --control none
expect_fail 2 'key.lua: rule 1 "a": key "dprt": unknown key' \
	"$VERDICTD" --queue 0 --rules "$WORK/key.lua" --control none
expect_fail 2 'none.so: not found' "$VERDICTD" --queue 0 --rules "$WORK/plugin.lua" --control none
expect_fail 2 'cannot open /nonexistent/rules.lua' \
	"$VERDICTD" --nflog 5 --rules /nonexistent/rules.lua --control none
expect_fail 2 'syntax.lua:2: ' "$VERDICTD" --replay /nonexistent.pcap --rules "$WORK/syntax.lua"
expect_fail 2 'cannot open /nonexistent/rules.lua' \
	"$VERDICTD" --check /nonexistent/rules.lua
# --check loads under the daemon's Lua limits: what passes is what starts.
printf 'local t = {}\nfor i = 1, 100000 do t[i] = i end\nreturn { rules = {} }\n' >"$WORK/loop.lua"
ns "$VERDICTD" --check "$WORK/loop.lua" >/dev/null || fail "--check of loop.lua failed with the default budget"
expect_fail 2 'loop.lua: instruction budget exhausted' \
	"$VERDICTD" --lua-load-instructions 1000 --check "$WORK/loop.lua"

start_verdictd holder --queue 3
expect_fail 1 'queue 3 is already bound by another process' "$VERDICTD" --queue 3
# The holder keeps working after the refused attempt.
kill -0 "$VD_PID" || fail "the first verdictd died"
stop_verdictd "$VD_PID" holder

# NFLOG: an unwritable output fails at start-up; a busy group names itself.
expect_fail 1 '--log-json /nonexistent/dir/x.json: cannot open for writing' \
	"$VERDICTD" --nflog 5 --log-json /nonexistent/dir/x.json
expect_fail 1 '--log-pcap /nonexistent/dir/x.pcap: cannot open for writing' \
	"$VERDICTD" --nflog 5 --log-pcap /nonexistent/dir/x.pcap
start_verdictd group_holder --nflog 6
expect_fail 1 'nflog group 6 is already bound by another process' "$VERDICTD" --nflog 6
stop_verdictd "$VD_PID" group_holder
expect_fail 1 '--netns no-such-ns: cannot open /run/netns/no-such-ns' \
	"$VERDICTD" --netns no-such-ns --queue 0
expect_fail 2 '--replay needs --rules' "$VERDICTD" --replay /nonexistent.pcap
echo 'return { rules = {} }' >"$WORK/empty.lua"
expect_fail 1 '/nonexistent.pcap' "$VERDICTD" --replay /nonexistent.pcap --rules "$WORK/empty.lua"

if command -v capsh >/dev/null; then
	expect_fail 1 'queue 4: binding needs CAP_NET_ADMIN' \
		capsh --drop=cap_net_admin -- -c "exec $VERDICTD --queue 4"
else
	echo "note: capsh missing, CAP_NET_ADMIN case not run"
fi
if command -v capsh >/dev/null; then
	expect_fail 1 'nflog group 7: binding needs CAP_NET_ADMIN' \
		capsh --drop=cap_net_admin -- -c "exec $VERDICTD --nflog 7"
fi
pass "argument, rules file, busy-queue, busy-group, output and privilege errors"
