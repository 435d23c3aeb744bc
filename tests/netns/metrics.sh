#!/usr/bin/env bash
# metrics.sh - N packets through a rule table show as exactly N in the right
# series of `verdictctl metrics` (queue and rule labels, a rule name that
# needs escaping), which is well-formed exposition text (prom_check.py);
# `verdictctl stats --json` parses and agrees, as do the text stats; the
# --metrics-file appears, is replaced by rename (its inode changes), is never
# seen partial, and agrees; reloads are counted; a metrics file that cannot
# be written is counted on every try and logged once, until it can again.
source "$(dirname "$0")/lib.sh"
: "${VERDICTCTL:?}"
command -v python3 >/dev/null || skip "python3 is not installed"
CHECK=(python3 "$(cd "$(dirname "$0")" && pwd)/prom_check.py")

N=150 # to the accepting rule
M=40  # to the dropping rule
RULES=$WORK/rules.lua
cat >"$RULES" <<'LUA'
return { default = "accept", rules = {
	{ name = 'pass "7000" \\ok', proto = "udp", dport = 7000, verdict = "accept" },
	{ name = "drop7001", proto = "udp", dport = 7001, verdict = "drop" },
} }
LUA
PASS_RULE='rule="pass \"7000\" \\ok"'
ns iptables -A OUTPUT -p udp -m multiport --dports 7000,7001 -j NFQUEUE --queue-num 0 --queue-bypass
SOCK=$WORK/ctl.sock
mkdir "$WORK/prom"
PROM=$WORK/prom/verdictd.prom
start_verdictd m --queue 0 --rules "$RULES" --control "$SOCK" --metrics-file "$PROM" \
	--stats-interval 0.2
PID=$VD_PID

ctl() { ns "$VERDICTCTL" --socket "$SOCK" "$@"; }

# sample FILE NAME: the value of an unlabelled series (the format checked
# before, by series).
sample() { sed -n "s/^$2 //p" "$1"; }

# series [--reread S] FILE SERIES...: their values on one line, after checking
# the whole file's format. Call as got=$(series ...) || fail "$got".
series() {
	local out
	out=$("${CHECK[@]}" "$@") || fail "format of $1: $out"
	echo $out
}

line=$(udpgen --dst 127.0.0.1 --port 7000 --count "$N" --inflight 32)
expect_eq "accepted packets delivered ($line)" "$(kv received "$line")" "$N"
line=$(udpgen --dst 127.0.0.1 --port 7001 --count "$M" --inflight 8 --drain-ms 100)
expect_eq "dropped packets delivered ($line)" "$(kv received "$line")" 0

# Every packet judged: the counters are final from here on.
for i in $(seq 50); do
	[ "$(kv packets "$(ctl stats | grep '^stats:')")" = $((N + M)) ] && break
	sleep 0.1
done
ctl metrics >"$WORK/metrics.txt" || fail "verdictctl metrics: $(cat "$WORK/metrics.txt")"
got=$(series "$WORK/metrics.txt" \
	'verdictd_queue_packets_total{queue="0"}' 'verdictd_queue_accepted_total{queue="0"}' \
	'verdictd_queue_dropped_total{queue="0"}' "verdictd_rule_hits_total{$PASS_RULE}" \
	'verdictd_rule_hits_total{rule="drop7001"}' 'verdictd_rule_hits_total{rule="(default)"}' \
	'verdictd_queue_held{queue="0"}' 'verdictd_rules_generation' \
	'verdictd_last_reload_success') || fail "$got"
expect_eq "metrics: packets, accepted, dropped, rule hits, held, generation, last load" \
	"$got" "$((N + M)) $N $M $N $M 0 0 1 1"
grep -q '^verdictd_build_info{version="[0-9][^"]*"} 1$' "$WORK/metrics.txt" ||
	fail "no build_info: $(head -5 "$WORK/metrics.txt")"

# The JSON object: parses, and says the same.
ctl stats --json >"$WORK/stats.json" || fail "verdictctl stats --json: $(cat "$WORK/stats.json")"
got=$(python3 - "$WORK/stats.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
q = s["queues"][0]
hits = {r["name"]: r["hits"] for r in s["rules"]}
print(q["queue"], q["packets"], q["accepted"], q["dropped"], hits['pass "7000" \\ok'],
      hits["drop7001"], hits["(default)"], s["rules_generation"], s["groups"], s["outputs"])
PY
) || fail "stats --json does not parse: $(cat "$WORK/stats.json")"
expect_eq "stats --json" "$got" "0 $((N + M)) $N $M $N $M 0 1 [] []"
status=0
ctl metrics --json >/dev/null 2>&1 || status=$?
expect_eq "metrics --json (refused) exit status" "$status" 2

# The text line agrees (its format is unchanged).
stats=$(ctl stats | grep '^stats:')
expect_eq "text stats packets" "$(kv packets "$stats")" $((N + M))
expect_eq "text stats dropped" "$(kv dropped "$stats")" "$M"

# The metrics file: replaced by rename every interval, agreeing once an
# interval has passed since the traffic.
[ -f "$PROM" ] || fail "no $PROM"
expect_eq "mode of $PROM" "$(stat -c %a "$PROM")" 644
inode=$(stat -c %i "$PROM")
for i in $(seq 50); do
	[ "$(stat -c %i "$PROM")" != "$inode" ] && break
	sleep 0.1
done
[ "$(stat -c %i "$PROM")" != "$inode" ] || fail "$PROM not replaced within 5 s (0.2 s interval)"
# Read and checked as fast as possible across several rewrites: always whole.
got=$(series --reread 1 "$PROM" 'verdictd_queue_packets_total{queue="0"}' \
	"verdictd_rule_hits_total{$PASS_RULE}" 'verdictd_rule_hits_total{rule="drop7001"}') ||
	fail "$got"
expect_eq "metrics file: packets, rule hits" "$got" "$((N + M)) $N $M"

# Reloads: one that loads, one refused.
ctl reload >/dev/null || fail "reload refused"
echo 'return { rules = { { name = "x", prto = "udp" } } }' >"$WORK/broken.lua"
cp "$RULES" "$WORK/good.lua"
cp "$WORK/broken.lua" "$RULES"
status=0
ctl reload >/dev/null || status=$?
expect_eq "broken reload exit status" "$status" 1
ctl metrics >"$WORK/metrics.txt"
got=$(for name in verdictd_reloads_total verdictd_reload_errors_total \
	verdictd_last_reload_success verdictd_rules_generation; do
	sample "$WORK/metrics.txt" $name
done | tr '\n' ' ')
expect_eq "reloads, reload errors, last success, generation" "$got" "1 1 0 2 "
cp "$WORK/good.lua" "$RULES"

# The file's directory gone: every rewrite fails and is counted, one log line.
rm -r "$WORK/prom"
sleep 1
ctl metrics >"$WORK/metrics.txt"
errors=$(sample "$WORK/metrics.txt" verdictd_metrics_file_errors_total)
[ "$errors" -ge 3 ] || fail "metrics file errors: got $errors after 1 s of 0.2 s intervals"
expect_eq "log lines about the failing file" "$(grep -c -- "--metrics-file $PROM" "$WORK/m.err")" 1
grep -q "cannot create a temporary file beside it: No such file or directory" "$WORK/m.err" ||
	fail "the failure line: $(cat "$WORK/m.err")"
mkdir "$WORK/prom"
for i in $(seq 50); do
	grep -q -- "--metrics-file $PROM: written again" "$WORK/m.err" && break
	sleep 0.1
done
grep -q -- "--metrics-file $PROM: written again" "$WORK/m.err" || fail "no recovery line in 5 s"
[ -f "$PROM" ] || fail "$PROM not written again"

stop_verdictd "$PID" m
leftover=$(find "$WORK/prom" -type f ! -name verdictd.prom)
expect_eq "temporary files left" "$leftover" ""
pass "metrics: $((N + M)) packets in the right series of metrics, stats --json, the text and the metrics file"
