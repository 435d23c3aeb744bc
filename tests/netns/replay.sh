#!/usr/bin/env bash
# replay.sh - a live run writes its verdicts (rules with log = true) as JSON
# and its packets as pcap; --replay of that pcap through the same rules, as
# an unprivileged user would run it, gives the same verdicts in the same order.
source "$(dirname "$0")/lib.sh"

RULES=$WORK/rules.lua
cat >"$RULES" <<'LUA'
return {
  default = "accept",
  log_default = true,
  rules = {
    { name = "drop-ff", proto = "udp", dport = 6100, log = true,
      lua = function(pkt) if pkt:byte(1) == 0xff then return "drop" end return "accept", 7 end },
    { name = "block", proto = "udp", dport = 6101, verdict = "drop", log = true },
    { name = "quiet", proto = "udp", dport = 6102, verdict = "accept" },
  },
}
LUA
for port in 6100 6101 6102 6103; do
	add_queue_rule ipv4 udp "$port" 0
	add_queue_rule ipv6 udp "$port" 0
done
start_verdictd live --queue 0 --rules "$RULES" --control none --log-json "$WORK/live.json" \
	--log-pcap "$WORK/live.pcap"
PID=$VD_PID
for dst in 127.0.0.1 ::1; do
	udpgen --dst "$dst" --port 6100 --tag 1 --count 100 --inflight 16 --drain-ms 200 >/dev/null
	udpgen --dst "$dst" --port 6100 --tag 255 --count 100 --inflight 0 --rate 20000 --drain-ms 200 >/dev/null
	udpgen --dst "$dst" --port 6101 --count 100 --inflight 0 --rate 20000 --drain-ms 200 >/dev/null
	udpgen --dst "$dst" --port 6102 --count 100 --inflight 16 --drain-ms 200 >/dev/null
	udpgen --dst "$dst" --port 6103 --count 100 --inflight 16 --drain-ms 200 >/dev/null
done
stop_verdictd "$PID" live
# 6102 is not logged: 4 of 5 cases, 2 families, 100 packets each.
expect_eq "live records" "$(wc -l <"$WORK/live.json")" 800

# Replay needs neither root nor a kernel queue: run it as nobody.
chmod 755 "$WORK"
chmod 644 "$WORK/live.pcap" "$RULES"
setpriv --reuid=nobody --regid=nogroup --clear-groups "$VERDICTD" --replay "$WORK/live.pcap" \
	--rules "$RULES" --log-json - >"$WORK/replay.json" 2>"$WORK/replay.err" ||
	fail "replay failed: $(cat "$WORK/replay.err")"
expect_eq "replayed records" "$(wc -l <"$WORK/replay.json")" 800
verdicts() { grep -o '"verdict":"[a-z]*","rule":"[a-z0-9-]*"\|"verdict":"[a-z]*"' "$1"; }
verdicts "$WORK/live.json" >"$WORK/live.v"
verdicts "$WORK/replay.json" >"$WORK/replay.v"
cmp -s "$WORK/live.v" "$WORK/replay.v" || fail "verdicts differ: $(diff "$WORK/live.v" "$WORK/replay.v" | head -5)"
expect_eq "drops by the Lua hook" "$(grep -c '"verdict":"drop","rule":"drop-ff"' "$WORK/replay.v")" 200
expect_eq "drops by rule block" "$(grep -c '"verdict":"drop","rule":"block"' "$WORK/replay.v")" 200
grep -q "replay $WORK/live.pcap: packets=800 skipped=0 accepted=400 dropped=400" "$WORK/replay.err" ||
	fail "summary: $(cat "$WORK/replay.err")"
grep -q "drop-ff=400 block=200 quiet=0" "$WORK/replay.err" || fail "rule hits: $(cat "$WORK/replay.err")"
pass "800 packets: replay verdicts equal the live ones"
