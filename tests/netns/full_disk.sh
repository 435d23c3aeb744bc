#!/usr/bin/env bash
# full_disk.sh - outputs on a full file system: every output that fails is
# named in the log (JSON lines and pcap alike), lost records are counted,
# and verdicts are unaffected (every queued packet is still delivered).
# The file system is a 32 KiB tmpfs mounted in a mount namespace of the
# test's own, so nothing outside the test sees it.
source "$(dirname "$0")/lib.sh"
command -v unshare >/dev/null || skip "unshare is not installed"

N=2000
ns iptables -A OUTPUT -p udp --dport 6100 -j NFLOG --nflog-group 7 --nflog-prefix full
add_queue_rule ipv4 udp 6100 0
FULL=$WORK/full
mkdir "$FULL"

# verdictd binds into the network namespace itself (--netns) and runs in a
# private mount namespace where $FULL is the tiny tmpfs.
unshare -m --propagation private sh -c '
	mount -t tmpfs -o size=32k tmpfs "$1" || exit 99
	shift
	exec "$@"' sh "$FULL" "$VERDICTD" --netns "$NS" --queue 0 --default accept --nflog 7 \
	--log-json "$FULL/log.json" --log-pcap "$FULL/log.pcap" --control "$WORK/ctl.sock" \
	>"$WORK/full.out" 2>"$WORK/full.err" &
PID=$!
PIDS+=("$PID")
for _ in $(seq 100); do grep -q 'ready:' "$WORK/full.err" 2>/dev/null && break; sleep 0.05; done
grep -q 'ready:' "$WORK/full.err" || fail "verdictd not ready: $(cat "$WORK/full.err")"

line=$(udpgen --dst 127.0.0.1 --port 6100 --count "$N" --inflight 32)
expect_eq "delivered through the queue with outputs failing ($line)" "$(kv received "$line")" "$N"
# verdictctl stats gives the outputs' line too, the lost records counted.
if [ -n "${VERDICTCTL:-}" ]; then
	ctl=$("$VERDICTCTL" --socket "$WORK/ctl.sock" stats) || fail "verdictctl stats: $ctl"
	grep -qE '^logs: written=[0-9]+ errors=[1-9][0-9]*$' <<<"$ctl" ||
		fail "no logs line with the errors in verdictctl stats: $ctl"
fi
stop_verdictd "$PID" full

grep -q "$FULL/log.json: write failed: No space left on device" "$WORK/full.err" ||
	fail "the JSON output is not named: $(cat "$WORK/full.err")"
grep -q "$FULL/log.pcap: write failed: No space left on device" "$WORK/full.err" ||
	fail "the pcap output is not named: $(cat "$WORK/full.err")"
logs=$(grep '^logs final:' "$WORK/full.out") || fail "no final logs line: $(cat "$WORK/full.out")"
errors=$(kv errors "$logs")
[ "${errors:-0}" -gt 0 ] || fail "lost records not counted: $logs"
grep -q "stats final: q0 packets=$N accepted=$N " "$WORK/full.out" ||
	fail "verdicts: $(grep 'stats final' "$WORK/full.out")"
pass "$N packets delivered while both outputs failed; both named, $errors records counted lost"
