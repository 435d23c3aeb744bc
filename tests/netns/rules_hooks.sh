#!/usr/bin/env bash
# rules_hooks.sh - a rules file with a Lua hook that drops packets by payload
# byte and a C plugin that drops others, through real queues; declarative
# rules beside them; exact counts both ways; verdictctl stats and --check.
source "$(dirname "$0")/lib.sh"
: "${PLUGIN_DIR:?}" "${VERDICTCTL:?}"

N=1000
RULES=$WORK/rules.lua
cat >"$RULES" <<'LUA'
return {
  default = "accept",
  rules = {
    { name = "lua-byte", proto = "udp", dport = 5002, on_error = "drop",
      lua = function(pkt) if pkt:byte(1) == 0xff then return "drop" end return "accept" end },
    { name = "plugin-tag", proto = "udp", dport = 5003,
      plugin = "drop_tag.so", symbol = "drop_tag_eval", args = "tag=238" },
    { name = "block", proto = "udp", dport = 5004, verdict = "drop" },
  },
}
LUA
for port in 5002 5003 5004 5005; do
	add_queue_rule ipv4 udp "$port" 0
	add_queue_rule ipv6 udp "$port" 0
done

ns "$VERDICTD" --check "$RULES" --plugin-path "$PLUGIN_DIR" >"$WORK/check.out" ||
	fail "--check refused a good file: $(cat "$WORK/check.out")"
grep -q '3 rules (1 lua, 1 plugin), default accept' "$WORK/check.out" || fail "check summary: $(cat "$WORK/check.out")"

SOCK=$WORK/ctl.sock
start_verdictd hooks --queue 0 --rules "$RULES" --plugin-path "$PLUGIN_DIR" --control "$SOCK"
PID=$VD_PID

send() { # DST PORT TAG -> received count
	kv received "$(udpgen --dst "$1" --port "$2" --tag "$3" --count "$N" --inflight 64 --drain-ms 300)"
}
for dst in 127.0.0.1 ::1; do
	expect_eq "lua: tag 0xff to 5002 ($dst)" "$(send "$dst" 5002 255)" 0
	expect_eq "lua: tag 0x01 to 5002 ($dst)" "$(send "$dst" 5002 1)" "$N"
	expect_eq "plugin: tag 0xee to 5003 ($dst)" "$(send "$dst" 5003 238)" 0
	expect_eq "plugin: tag 0x01 to 5003 ($dst)" "$(send "$dst" 5003 1)" "$N"
	expect_eq "declarative drop, 5004 ($dst)" "$(send "$dst" 5004 1)" 0
	expect_eq "default accept, 5005 ($dst)" "$(send "$dst" 5005 1)" "$N"
done

stats=$(ns "$VERDICTCTL" --socket "$SOCK" stats) || fail "verdictctl stats: $stats"
grep -q "lua-byte=$((4 * N))" <<<"$stats" || fail "lua-byte hits in: $stats"
grep -q "plugin-tag=$((4 * N))" <<<"$stats" || fail "plugin-tag hits in: $stats"
grep -q "block=$((2 * N))" <<<"$stats" || fail "block hits in: $stats"
grep -q "(default)=$((2 * N))" <<<"$stats" || fail "default hits in: $stats"
stop_verdictd "$PID" hooks
expect_eq "drop verdicts" "$(final_stat hooks 0 dropped)" $((6 * N))
pass "Lua, plugin and declarative rules, $N packets per case and family"
