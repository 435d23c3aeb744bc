#!/usr/bin/env bash
# nflog_hooks.sh - the rules file's `logs` list on NFLOG traffic: a Lua hook
# leaves some packets out of the JSON by payload byte and tags the others, a
# declarative entry leaves a port out; the packets' fate is not touched.
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
start_verdictd hooks --nflog 9 --rules "$RULES" --control none --log-json "$WORK/log.json"
PID=$VD_PID
for dst in 127.0.0.1 ::1; do
	for spec in "6200 1" "6200 255" "6201 1" "6202 1"; do
		set -- $spec
		line=$(udpgen --dst "$dst" --port "$1" --tag "$2" --count "$N" --inflight 32)
		expect_eq "delivered: log hooks never drop traffic ($dst $spec)" "$(kv received "$line")" "$N"
	done
done
stop_verdictd "$PID" hooks
J=$WORK/log.json
expect_eq "records written" "$(wc -l <"$J")" $((4 * N))
expect_eq "tagged by the Lua hook" "$(grep -c '"rule":"by-byte","tag":7' "$J")" $((2 * N))
expect_eq "port 6201 left out" "$(grep -c '"dport":6201' "$J")" 0
expect_eq "port 6202, no entry: written" "$(grep -c '"dport":6202' "$J")" $((2 * N))
grep -q "nflog final: g9 packets=$((8 * N)) " "$WORK/hooks.out" || fail "final: $(cat "$WORK/hooks.out")"
pass "logs list: $((4 * N)) of $((8 * N)) log packets written, hooks filtering and tagging"
