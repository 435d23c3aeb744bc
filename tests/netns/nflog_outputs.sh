#!/usr/bin/env bash
# nflog_outputs.sh - NFLOG groups read by verdictd (bound from outside the
# namespace with --netns), written as JSON lines and pcap: counts, addresses,
# ports, prefix and consecutive sequence numbers match what was sent, IPv4
# and IPv6; tcpdump reads the pcap back; SIGHUP reopens both files.
source "$(dirname "$0")/lib.sh"
command -v tcpdump >/dev/null || skip "tcpdump is not installed"

N=500
for ipt in iptables ip6tables; do
	ns "$ipt" -A OUTPUT -p udp --dport 6000 -j NFLOG --nflog-group 5 --nflog-prefix vdtest
done

# Not through start_verdictd: this one binds into the namespace by itself.
"$VERDICTD" --netns "$NS" --nflog 5 --nflog-flags seq --log-json "$WORK/log.json" \
	--log-pcap "$WORK/log.pcap" >"$WORK/nflog.out" 2>"$WORK/nflog.err" &
PID=$!
PIDS+=("$PID")
for _ in $(seq 100); do grep -q 'ready:' "$WORK/nflog.err" && break; sleep 0.05; done
grep -q 'ready:' "$WORK/nflog.err" || fail "verdictd not ready: $(cat "$WORK/nflog.err")"
ns cat /proc/net/netfilter/nfnetlink_log | has -E '^ *5 ' ||
	fail "group 5 is not bound inside the namespace"

for dst in 127.0.0.1 ::1; do
	line=$(udpgen --dst "$dst" --port 6000 --sport 41000 --count "$N" --inflight 32)
	expect_eq "delivered to $dst ($line)" "$(kv received "$line")" "$N"
done
# logrotate: move the files away, SIGHUP, and the next records go to new ones.
mv "$WORK/log.json" "$WORK/log.json.1"
mv "$WORK/log.pcap" "$WORK/log.pcap.1"
kill -HUP "$PID"
for _ in $(seq 100); do grep -q 'log outputs reopened' "$WORK/nflog.err" && break; sleep 0.05; done
grep -q 'log outputs reopened' "$WORK/nflog.err" || fail "no reopen after SIGHUP: $(cat "$WORK/nflog.err")"
udpgen --dst 127.0.0.1 --port 6000 --sport 41000 --count 100 --inflight 32 >/dev/null
stop_verdictd "$PID" nflog
expect_eq "JSON lines after the reopen" "$(wc -l <"$WORK/log.json")" 100
expect_eq "pcap records after the reopen" "$(tcpdump -nr "$WORK/log.pcap" 2>/dev/null | wc -l)" 100
mv "$WORK/log.json.1" "$WORK/log.json"
mv "$WORK/log.pcap.1" "$WORK/log.pcap"

J=$WORK/log.json
expect_eq "JSON lines" "$(wc -l <"$J")" $((2 * N))
expect_eq "lines with the prefix" "$(grep -c '"prefix":"vdtest"' "$J")" $((2 * N))
expect_eq "lines from group 5" "$(grep -c '"source":"nflog","group":5' "$J")" $((2 * N))
expect_eq "IPv4 lines" "$(grep -c '"family":"ipv4","src":"127.0.0.1","dst":"127.0.0.1","proto":"udp","sport":41000,"dport":6000' "$J")" "$N"
expect_eq "IPv6 lines" "$(grep -c '"family":"ipv6","src":"::1","dst":"::1","proto":"udp","sport":41000,"dport":6000' "$J")" "$N"
grep -qE '"ts":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{6}Z"' "$J" || fail "timestamp format: $(head -1 "$J")"
grep -o '"seq":[0-9]*' "$J" | cut -d: -f2 >"$WORK/seq"
expect_eq "sequence numbers" "$(wc -l <"$WORK/seq")" $((2 * N))
awk 'NR > 1 && $1 != prev + 1 { bad++ } { prev = $1 } END { print bad + 0 }' "$WORK/seq" >"$WORK/gaps"
expect_eq "sequence gaps" "$(cat "$WORK/gaps")" 0
expect_eq "pcap records read by tcpdump" "$(tcpdump -nr "$WORK/log.pcap" 2>/dev/null | wc -l)" $((2 * N))
expect_eq "pcap IPv6 records" "$(tcpdump -nr "$WORK/log.pcap" 2>/dev/null | grep -c 'IP6 ::1.41000 > ::1.6000')" "$N"
grep -q "nflog final: g5 packets=$((2 * N + 100)) " "$WORK/nflog.out" || fail "final counters: $(cat "$WORK/nflog.out")"
pass "$N packets per family logged as JSON and pcap with prefix and consecutive sequence numbers"
