#!/usr/bin/env bash
# nflog_hooks.sh - the rules file's `logs` list on NFLOG traffic: a Lua hook
# leaves some packets out of the JSON by payload byte and tags the others, a
# declarative entry leaves a port out; the packets' fate is not touched;
# multipart batches (threshold 16); the C API example; a queue and a group
# in one daemon.
source "$(dirname "$0")/lib.sh"

N=300
RULES=$WORK/rules.lua
cat >"$RULES" <<'LUA'
return {
  rules = {},
  logs = {
    { name = "skip-6201", proto = "udp", dport = 6201, verdict = "drop" },
    { name = "by-byte", proto = "udp", dport = 6200,
      lua = function(pkt)
        if pkt:byte(1) == 0xff then return "drop" end
        if pkt.group ~= 9 or pkt.prefix ~= "hooked" then return "drop" end
        return "accept", 7
      end },
  },
}
LUA
for ipt in iptables ip6tables; do
	ns "$ipt" -A OUTPUT -p udp -m multiport --dports 6200,6201,6202 -j NFLOG --nflog-group 9 \
		--nflog-prefix hooked
done
# Threshold 16: the kernel sends multipart batches of up to 16 packets.
start_verdictd hooks --nflog 9 --nflog-threshold 16 --nflog-timeout 2 --rules "$RULES" \
	--control none --log-json "$WORK/log.json"
PID=$VD_PID
for dst in 127.0.0.1 ::1; do
	for spec in "6200 1" "6200 255" "6201 1" "6202 1"; do
		set -- $spec
		line=$(udpgen --dst "$dst" --port "$1" --tag "$2" --count "$N" --inflight 32)
		expect_eq "delivered: log hooks never drop traffic ($dst $spec)" "$(kv received "$line")" "$N"
	done
done
sleep 0.2 # the kernel flushes a partial batch after the 20 ms timeout
stop_verdictd "$PID" hooks
J=$WORK/log.json
expect_eq "records written" "$(wc -l <"$J")" $((4 * N))
expect_eq "tagged by the Lua hook" "$(grep -c '"rule":"by-byte","tag":7' "$J")" $((2 * N))
expect_eq "port 6201 left out" "$(grep -c '"dport":6201' "$J")" 0
expect_eq "port 6202, no entry: written" "$(grep -c '"dport":6202' "$J")" $((2 * N))
grep -q "nflog final: g9 packets=$((8 * N)) " "$WORK/hooks.out" || fail "final: $(cat "$WORK/hooks.out")"
# The library's own example (verdict/nflog.h) on another group.
: "${EXAMPLE_NFLOG:?}"
ns iptables -A OUTPUT -p udp --dport 6300 -j NFLOG --nflog-group 10 --nflog-prefix example
ip netns exec "$NS" "$EXAMPLE_NFLOG" 10 >"$WORK/example.out" 2>"$WORK/example.err" &
EPID=$!
PIDS+=("$EPID")
for _ in $(seq 100); do grep -q 'ready:' "$WORK/example.err" && break; sleep 0.05; done
udpgen --dst 127.0.0.1 --port 6300 --count 50 --inflight 8 >/dev/null
sleep 0.1
kill -TERM "$EPID"
wait "$EPID" || fail "example_nflog failed: $(cat "$WORK/example.err")"
expect_eq "example_nflog lines" "$(grep -c '^example 92$' "$WORK/example.out")" 50

# A queue and a group in one daemon: port 6400 is logged, then queued and dropped.
ns iptables -A OUTPUT -p udp --dport 6400 -j NFLOG --nflog-group 12
ns iptables -A OUTPUT -p udp --dport 6400 -j NFQUEUE --queue-num 1
start_verdictd both --queue 1 --default drop --nflog 12
line=$(udpgen --dst 127.0.0.1 --port 6400 --count 50 --inflight 0 --rate 20000 --drain-ms 200)
expect_eq "queued and dropped" "$(kv received "$line")" 0
stop_verdictd "$VD_PID" both
grep -q "nflog final: g12 packets=50 " "$WORK/both.out" || fail "group 12: $(cat "$WORK/both.out")"
expect_eq "queue 1 drops" "$(final_stat both 1 dropped)" 50

pass "logs list: $((4 * N)) of $((8 * N)) log packets written, hooks filtering and tagging"
