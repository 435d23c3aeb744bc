#!/usr/bin/env bash
# reload_broken.sh - a broken rules file is refused, by SIGHUP and by
# verdictctl, with a message naming file, rule and key; the old rules keep
# deciding and the daemon keeps running. --check says the same, exit 2.
# Sets that name themselves or nest 25 deep are refused alike, the daemon
# still answering ping. A C plugin whose init fails (the plugin ABI's error
# return: a plugin runs in verdictd's process, so a real crash would take it
# down) is refused the same way, the old table deciding on.
# Before that, what verdictctl prints and how it exits: `stats` prints the
# stats lines alone (every line parses: no "ok" line) and exits 0; `ping` and
# a good `reload` answer "ok: ..."; with no daemon on the socket it exits 2.
source "$(dirname "$0")/lib.sh"
: "${VERDICTCTL:?}" "${PLUGIN_DIR:?}"

RULES=$WORK/rules.lua
cat >"$RULES" <<'LUA'
return { rules = { { name = "block", proto = "udp", dport = 6001, verdict = "drop" } } }
LUA
add_queue_rule ipv4 udp 6000 0
add_queue_rule ipv4 udp 6001 0
SOCK=$WORK/ctl.sock
# An NFLOG group as well: every kind of stats line.
start_verdictd broken --queue 0 --rules "$RULES" --nflog 5 --control "$SOCK" \
	--plugin-path "$PLUGIN_DIR"
PID=$VD_PID

# ctl WANT_STATUS COMMAND: runs verdictctl, checks its exit status and
# leaves its output (stdout and stderr) in OUT.
ctl() {
	local want=$1 status=0
	shift
	OUT=$(ns "$VERDICTCTL" --socket "$SOCK" "$@" 2>&1) || status=$?
	expect_eq "exit status of verdictctl $* ($OUT)" "$status" "$want"
}
line=$(udpgen --dst 127.0.0.1 --port 6000 --count 100 --inflight 16)
expect_eq "accepted on 6000 ($line)" "$(kv received "$line")" 100
ctl 0 stats
bad=$(grep -vE '^(stats|nflog|rules|logs): ' <<<"$OUT" || true)
[ -z "$bad" ] || fail "verdictctl stats printed lines that are not stats lines: '$bad'"
for kind in stats nflog rules; do
	expect_eq "$kind: lines from verdictctl stats" "$(grep -c "^$kind: " <<<"$OUT")" 1
done
grep -q '^stats: q0 packets=100 ' <<<"$OUT" || fail "queue 0's count in: $OUT"
grep -q '^rules: generation=1 (default)=100 block=0$' <<<"$OUT" || fail "rule hits in: $OUT"
ctl 0 ping
grep -qE '^ok: verdictd [0-9]' <<<"$OUT" || fail "ping answer: $OUT"
ctl 0 reload
grep -q "^ok: reloaded $RULES (generation 2)$" <<<"$OUT" || fail "reload answer: $OUT"

cat >"$RULES" <<'LUA'
return { rules = { { name = "block", proto = "udp", dprt = 6001, verdict = "accept" } } }
LUA
ctl 1 reload
grep -q "^error: .*rules.lua: rule 1 \"block\": key \"dprt\": unknown key (did you mean \"dport\"?) (the old rules stay)" <<<"$OUT" ||
	fail "verdictctl reply: $OUT"
ctl 0 stats
grep -q '^rules: generation=2 ' <<<"$OUT" || fail "generation after a refused reload: $OUT"
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

# The plugin's init refuses its args (tag=999): the reload is refused with
# the plugin's error, the old rules keep deciding.
cat >"$RULES" <<'LUA'
return { rules = { { name = "block", proto = "udp", dport = 6001, plugin = "drop_tag.so",
                     symbol = "drop_tag_eval", args = "tag=999" } } }
LUA
ctl 1 reload
grep -q "^error: .*rules.lua: rule 1 \"block\": plugin .*drop_tag.so: init for worker 0 failed: Invalid argument (the old rules stay)$" \
	<<<"$OUT" || fail "plugin init failure: $OUT"
kill -0 "$PID" || fail "verdictd died on a plugin whose init failed"
line=$(udpgen --dst 127.0.0.1 --port 6001 --count 100 --inflight 16 --drain-ms 300)
expect_eq "old rule still drops 6001 after the plugin's refusal" "$(kv received "$line")" 0

# A set that names itself aborted the daemon (exit 134) on reload; 25 sets
# each naming the next smashed the loader's Lua stack (exit 139). Both are
# refused with a message, the daemon answers and keeps its rules.
cat >"$RULES" <<'LUA'
return { sets = { a = "@a" }, rules = { { name = "block", src = "@a", verdict = "accept" } } }
LUA
ctl 1 reload
grep -q "^error: .*rules.lua: set \"a\": refers to itself (the old rules stay)$" <<<"$OUT" ||
	fail "self-referencing set: $OUT"
{
	printf 'return { sets = {'
	for i in $(seq 0 24); do printf ' s%d = { "@s%d" },' "$i" $((i + 1)); done
	printf ' s25 = { "198.18.0.1" } },\n'
	printf '  rules = { { name = "block", src = "@s0", verdict = "accept" } } }\n'
} >"$RULES"
ctl 1 reload
grep -q "^error: .*rules.lua: set \"s0\": sets nest more than 16 deep (through \"s16\") (the old rules stay)$" \
	<<<"$OUT" || fail "25 nested sets: $OUT"
kill -0 "$PID" || fail "verdictd died on a reload of looping or deep sets"
ctl 0 ping
grep -qE '^ok: verdictd [0-9]' <<<"$OUT" || fail "ping after the set reloads: $OUT"
ctl 0 stats
grep -q '^rules: generation=2 (default)=[0-9]* block=[0-9]*$' <<<"$OUT" ||
	fail "rules after the set reloads: $OUT"
line=$(udpgen --dst 127.0.0.1 --port 6001 --count 100 --inflight 16 --drain-ms 300)
expect_eq "old rule still drops 6001 after the set reloads" "$(kv received "$line")" 0
stop_verdictd "$PID" broken
ctl 2 stats
grep -q "cannot reach verdictd at $SOCK" <<<"$OUT" || fail "no daemon: $OUT"
pass "broken file refused three ways, a plugin failing init, looping and deep sets refused, old rules kept; verdictctl's output and exit statuses"
