#!/usr/bin/env bash
# reload_broken.sh - a broken rules file is refused, by SIGHUP and by
# verdictctl, with a message naming file, rule and key; the old rules keep
# deciding and the daemon keeps running. --check says the same, exit 2.
source "$(dirname "$0")/lib.sh"
: "${VERDICTCTL:?}"

RULES=$WORK/rules.lua
cat >"$RULES" <<'LUA'
return { rules = { { name = "block", proto = "udp", dport = 6001, verdict = "drop" } } }
LUA
add_queue_rule ipv4 udp 6000 0
add_queue_rule ipv4 udp 6001 0
SOCK=$WORK/ctl.sock
start_verdictd broken --queue 0 --rules "$RULES" --control "$SOCK"
PID=$VD_PID

cat >"$RULES" <<'LUA'
return { rules = { { name = "block", proto = "udp", dprt = 6001, verdict = "accept" } } }
LUA
status=0
reply=$(ns "$VERDICTCTL" --socket "$SOCK" reload) || status=$?
expect_eq "verdictctl exit status on a refused reload" "$status" 1
grep -q "rules.lua: rule 1 \"block\": key \"dprt\": unknown key (did you mean \"dport\"?) (the old rules stay)" <<<"$reply" ||
	fail "verdictctl reply: $reply"
kill -HUP "$PID"
sleep 0.3
grep -q 'reload refused, the old rules stay: .*rules.lua: rule 1 "block": key "dprt": unknown key' \
	"$WORK/broken.err" || fail "no refusal on stderr after SIGHUP: $(cat "$WORK/broken.err")"
kill -0 "$PID" || fail "verdictd died on a broken file"

line=$(udpgen --dst 127.0.0.1 --port 6001 --count 500 --inflight 64 --drain-ms 300)
expect_eq "old rule still drops 6001" "$(kv received "$line")" 0
line=$(udpgen --dst 127.0.0.1 --port 6000 --count 500 --inflight 64)
expect_eq "6000 still accepted" "$(kv received "$line")" 500

status=0
err=$(ns "$VERDICTD" --check "$RULES" 2>&1 >/dev/null) || status=$?
expect_eq "--check exit status" "$status" 2
grep -q 'key "dprt": unknown key' <<<"$err" || fail "--check message: $err"
stop_verdictd "$PID" broken
pass "broken file refused three ways, old rules kept"
