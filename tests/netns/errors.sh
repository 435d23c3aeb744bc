#!/usr/bin/env bash
# errors.sh - what users get wrong: bad arguments (exit 2, one line), a queue
# another process holds, and a missing CAP_NET_ADMIN (exit 1, a message that
# says what to do).
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
expect_fail 2 '--queue is required' "$VERDICTD"
expect_fail 2 '--default: "reject"' "$VERDICTD" --queue 0 --default reject
expect_fail 2 '--copy-range: "0"' "$VERDICTD" --queue 0 --copy-range 0

start_verdictd holder --queue 3
expect_fail 1 'queue 3 is already bound by another process' "$VERDICTD" --queue 3
# The holder keeps working after the refused attempt.
kill -0 "$VD_PID" || fail "the first verdictd died"
stop_verdictd "$VD_PID" holder

if command -v capsh >/dev/null; then
	expect_fail 1 'queue 4: binding needs CAP_NET_ADMIN' \
		capsh --drop=cap_net_admin -- -c "exec $VERDICTD --queue 4"
else
	echo "note: capsh missing, CAP_NET_ADMIN case not run"
fi
pass "argument, busy-queue and privilege errors"
