#!/usr/bin/env bash
# demo.sh - see verdictd work, on a fresh machine, without touching its network:
# installs what is missing, builds, makes a throwaway network namespace,
# queues UDP traffic there with NFQUEUE, runs verdictd, sends packets, shows
# what was accepted and what was dropped; then the bundled shaping, rewriting
# and kernel-rules examples (rules/shaping.lua, rules/rewrite.lua,
# rules/kernel.lua) on the same kind of traffic; and removes everything.
set -euo pipefail
cd "$(dirname "$0")/.."

[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (sudo $0): it creates a network namespace" >&2; exit 1; }
scripts/deps.sh
scripts/build.sh build >/dev/null
VERDICTD=$PWD/build/engine/daemon/verdictd
UDPGEN=$PWD/build/bench/vd-udpgen
VERDICTCTL=$PWD/build/engine/client/verdictctl

NS="vd-demo-$$"
WORK=$(mktemp -d)
PIDS=()
cleanup() {
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	ip netns pids "$NS" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT
ns() { ip netns exec "$NS" "$@"; }

echo "== namespace $NS: loopback only, removed at the end"
ip netns add "$NS"
ns ip link set lo up

# Everything UDP to ports 5000-5003 goes to queue 0; verdictd judges it with
# the bundled policy rules/default.lua.
queue_rule() { # PORTS QUEUE
	if ns nft add table inet demo 2>/dev/null &&
		ns nft add chain inet demo out '{ type filter hook output priority 0; }' 2>/dev/null &&
		ns nft add rule inet demo out udp dport "$1" queue num "$2" bypass 2>/dev/null; then
		echo "   nft: udp dport $1 -> queue $2"
	else
		ns nft delete table inet demo 2>/dev/null || true
		ns iptables -A OUTPUT -p udp --dport "${1/-/:}" -j NFQUEUE --queue-num "$2" --queue-bypass
		echo "   iptables: -p udp --dport ${1/-/:} -j NFQUEUE --queue-num $2 --queue-bypass"
	fi
}
echo "== queueing rule (nft has no queue expression on some kernels: iptables then)"
queue_rule 5000-5003 0

echo "== the policy: rules/default.lua, compiled (verdictd --check)"
"$VERDICTD" --check rules/default.lua | sed 's/^/   /'

# start_vd ARGS...: verdictd on queue 0 in the namespace with ARGS, ready.
start_vd() {
	: >"$WORK/verdictd.err"
	ip netns exec "$NS" "$VERDICTD" --queue 0 "$@" >"$WORK/verdictd.out" 2>"$WORK/verdictd.err" &
	PIDS+=($!)
	for _ in $(seq 100); do grep -q 'ready:' "$WORK/verdictd.err" && break; sleep 0.05; done
}
# stop_vd: SIGTERM, then its final stats are in $WORK/verdictd.out.
stop_vd() {
	for pid in "${PIDS[@]}"; do kill -TERM "$pid"; done
	for pid in "${PIDS[@]}"; do wait "$pid" || true; done
	PIDS=()
}
kv() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }

echo "== starting verdictd"
start_vd --rules rules/default.lua --control "$WORK/ctl.sock" --log-json "$WORK/log.json"
echo "   verdictd --queue 0 --rules rules/default.lua --control $WORK/ctl.sock --log-json $WORK/log.json"

echo "== sending 10000 UDP packets of 64 bytes per case"
printf '   %-34s %8s %9s\n' "destination (first payload byte)" "sent" "received"
send() { # PORT TAG NOTE
	line=$(ns "$UDPGEN" --quiet --dst 127.0.0.1 --port "$1" --tag "$2" --count 10000 --size 64 \
		--inflight 64 --drain-ms 300)
	printf '   %-34s %8s %9s   %s\n' "127.0.0.1:$1 ($(printf '0x%02x' "$2"))" \
		"$(kv sent "$line")" "$(kv received "$line")" "$3"
}
send 5000 1 "allow-5000: accept, mark 0x10"
send 5001 1 "block-5001: drop"
send 5002 1 "filter-5002: Lua hook accepts"
send 5002 255 "filter-5002: Lua hook drops 0xff"
send 5003 1 "no rule: default accept"

echo "== live reload (verdictctl reload): same file, new generation, counters kept"
"$VERDICTCTL" --socket "$WORK/ctl.sock" reload | sed 's/^/   /'
"$VERDICTCTL" --socket "$WORK/ctl.sock" stats | grep '^rules' | tr ' ' '\n' |
	sed -n '3,$p' | sed 's/^/   rule hits: /'

echo "== stopping verdictd (SIGTERM): its own account of the verdicts"
stop_vd
grep '^stats final' "$WORK/verdictd.out" | tr ' ' '\n' |
	grep -E '^(q[0-9]+|packets|accepted|dropped|marked|kernel_.*dropped)=?' |
	paste -sd' ' | sed "s/^/   /"
echo "== what --log-json wrote for the rule with log = true: $(wc -l <"$WORK/log.json") lines, the first:"
head -1 "$WORK/log.json" | sed 's/^/   /'

ms() { awk -v us="$1" 'BEGIN { printf "%.1f ms", us / 1000 }'; }

echo "== shaping: rules/shaping.lua (netem's vocabulary in the rules file)"
start_vd --rules rules/shaping.lua --control none
# Four sockets: a held packet still counts against its sender's socket buffer
# (about 256 small ones each), and 300 are held at a time here.
line=$(ns "$UDPGEN" --quiet --dst 127.0.0.1 --port 5001 --flows 4 --count 1000 --rate 1000 \
	--inflight 0 --size 64 --drain-ms 2000)
echo "   sat-rtt   (5001, delay 300ms jitter 20ms normal): $(kv received "$line") of 1000 arrived," \
	"one-way latency p50 $(ms "$(kv p50_us "$line")"), p99 $(ms "$(kv p99_us "$line")")"
line=$(ns "$UDPGEN" --quiet --dst 127.0.0.1 --port 5002 --count 10000 --size 64 --inflight 64 \
	--drain-ms 300)
echo "   wifi-fade (5002, Gilbert-Elliott loss, about 3.5%): $(kv received "$line") of 10000 arrived"
line=$(ns "$UDPGEN" --quiet --dst 127.0.0.1 --port 5003 --count 1000 --rate 1000 --inflight 0 \
	--size 64 --drain-ms 300)
echo "   no rule   (5003): $(kv received "$line") of 1000 arrived, p50 $(ms "$(kv p50_us "$line")")"
stop_vd

echo "== rewriting: rules/rewrite.lua (voice-ef: UDP 16384-32767 gets DSCP EF; checksums fixed)"
ns iptables -A OUTPUT -p udp --dport 20000 -j NFQUEUE --queue-num 0 --queue-bypass
start_vd --rules rules/rewrite.lua --control none
ns tcpdump -i lo -n -vv -c 1 -l udp dst port 20000 >"$WORK/tcpdump.out" 2>/dev/null &
TCPDUMP=$!
sleep 0.5 # tcpdump attaches
line=$(ns "$UDPGEN" --quiet --dst 127.0.0.1 --port 20000 --count 100 --size 64 --inflight 8 \
	--drain-ms 300)
for _ in $(seq 40); do kill -0 "$TCPDUMP" 2>/dev/null || break; sleep 0.05; done
kill "$TCPDUMP" 2>/dev/null || true
wait "$TCPDUMP" 2>/dev/null || true
stop_vd
echo "   $(kv received "$line") of 100 arrived (the receiving kernel verified each UDP checksum);" \
	"one as it left, seen by tcpdump:"
sed 's/^ */   /' "$WORK/tcpdump.out"

echo "== kernel rules: rules/kernel.lua, --firewall iptables --hooks input (verdictd installs its own chains)"
ns iptables -F OUTPUT
ns nft delete table inet demo 2>/dev/null || true
# The input hook: a packet rejected there has left its sender, which then
# gets the ICMP error (rejected in output, send() itself fails with EPERM).
start_vd --rules rules/kernel.lua --firewall iptables --hooks input --control "$WORK/ctl.sock"
for _ in $(seq 100); do ns iptables -S INPUT | grep -q VERDICTD && break; sleep 0.05; done
echo "   installed: $(ns iptables -S | grep -c '^-A VERDICTD') rules in $(ns iptables -S |
	grep -c '^-N VERDICTD') chains of its own (IPv4; ip6tables alike), nothing else touched"
line=$(ns "$UDPGEN" --quiet --dst 127.0.0.1 --port 6000 --count 10000 --size 64 --inflight 64 \
	--drain-ms 300)
echo "   lab-udp      (6000, offloaded accept): $(kv received "$line") of 10000 arrived"
refused=$(ns python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(("127.0.0.1", 6001))
s.settimeout(1)
s.send(b"hello")
try:
    s.recv(16)
    print("an answer")
except ConnectionRefusedError:
    print("ECONNREFUSED at once")
except socket.timeout:
    print("nothing within 1 s")
except OSError as e:
    print(e.strerror)')
echo "   closed       (6001, offloaded reject): the sender saw $refused"
line=$(ns "$UDPGEN" --quiet --dst 127.0.0.1 --port 6002 --count 2000 --rate 2000 --inflight 0 \
	--size 64 --drain-ms 300)
echo "   inspect-once (6002, Lua hook, bypass): $(kv received "$line") of 2000 arrived"
"$VERDICTCTL" --socket "$WORK/ctl.sock" stats | grep '^rules' | tr ' ' '\n' |
	sed -n '3,$p' | sed 's/^/   rule hits: /'
stop_vd
echo "   verdictd saw $(grep '^stats final' "$WORK/verdictd.out" | tr ' ' '\n' |
	sed -n 's/^packets=//p') of the 12,001 packets: the bypassed flow's first burst (vd-udpgen" \
	"sends 32 at a time, all queued before the first verdict) and the reject's ICMP error"
echo "   at exit it removed its chains: $(ns iptables -S | grep -c VERDICTD) VERDICTD rules left"
echo "== done: namespace removed"
