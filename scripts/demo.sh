#!/usr/bin/env bash
# demo.sh - see verdictd work, on a fresh machine, without touching its network:
# installs what is missing, builds, makes a throwaway network namespace,
# queues UDP traffic there with NFQUEUE, runs verdictd, sends packets, shows
# what was accepted and what was dropped, and removes everything.
set -euo pipefail
cd "$(dirname "$0")/.."

[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (sudo $0): it creates a network namespace" >&2; exit 1; }
scripts/deps.sh
scripts/build.sh build >/dev/null
VERDICTD=$PWD/build/engine/verdictd
UDPGEN=$PWD/build/bench/vd-udpgen

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

# The bundled default policy, until rule files arrive: port 5000 is a service
# we allow (queue 0, verdictd --default accept), port 5001 one we block
# (queue 1, verdictd --default drop).
queue_rule() { # PORT QUEUE
	if ns nft add table inet demo 2>/dev/null &&
		ns nft add chain inet demo out '{ type filter hook output priority 0; }' 2>/dev/null &&
		ns nft add rule inet demo out udp dport "$1" queue num "$2" bypass 2>/dev/null; then
		echo "   nft: udp dport $1 -> queue $2"
	else
		ns nft delete table inet demo 2>/dev/null || true
		ns iptables -A OUTPUT -p udp --dport "$1" -j NFQUEUE --queue-num "$2" --queue-bypass
		echo "   iptables: -p udp --dport $1 -j NFQUEUE --queue-num $2 --queue-bypass"
	fi
}
echo "== queueing rules (nft has no queue expression on some kernels: iptables then)"
queue_rule 5000 0
queue_rule 5001 1

start() { # NAME ARGS...
	local name=$1
	shift
	# ip netns exec execs in place, so $! is verdictd itself.
	ip netns exec "$NS" "$VERDICTD" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
	PIDS+=($!)
	for _ in $(seq 100); do grep -q 'ready:' "$WORK/$name.err" && break; sleep 0.05; done
	echo "   verdictd $*"
}
echo "== starting verdictd"
start allow --queue 0 --default accept
start block --queue 1 --default drop

echo "== sending 10000 UDP packets of 64 bytes to each port"
printf '   %-22s %8s %9s\n' "destination" "sent" "received"
for port in 5000 5001; do
	line=$(ns "$UDPGEN" --quiet --dst 127.0.0.1 --port "$port" --count 10000 --size 64 \
		--inflight 64 --drain-ms 300)
	sent=$(sed -n 's/.*sent=\([0-9]*\).*/\1/p' <<<"$line")
	received=$(sed -n 's/.*received=\([0-9]*\).*/\1/p' <<<"$line")
	printf '   %-22s %8s %9s\n' "127.0.0.1:$port" "$sent" "$received"
done

echo "== stopping verdictd (SIGTERM): its own account of the verdicts"
for pid in "${PIDS[@]}"; do kill -TERM "$pid"; done
for pid in "${PIDS[@]}"; do wait "$pid" || true; done
PIDS=()
for name in allow block; do
	grep '^stats final' "$WORK/$name.out" | tr ' ' '\n' |
		grep -E '^(q[0-9]+|packets|accepted|dropped|verdict_msgs|kernel_.*dropped)=?' |
		paste -sd' ' | sed "s/^/   $name: /"
done
echo "== done: namespace removed"
