#!/usr/bin/env bash
# rewrite.sh - rewritten packets reach another kernel exactly as written,
# with checksums it accepts. Two namespaces joined by a veth pair: verdictd
# queues what the sender's OUTPUT sends to the receiver and rewrites it
# (declarative `set`, Lua set_payload growing, shrinking and keeping the
# length), the receiving kernel verifies every checksum before its sockets
# see a byte, and tcpdump -vv on the receiver's side checks the fields and
# the checksums once more. IPv4 and IPv6, UDP and a live TCP connection,
# with and without --gso (whose packets arrive with the checksum not yet
# computed: NFQA_SKB_CSUMNOTREADY).
source "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || skip "python3 is not installed"
command -v tcpdump >/dev/null || skip "tcpdump is not installed"
PEER=(python3 "$(cd "$(dirname "$0")" && pwd)/rewrite_peer.py")

RX="$NS-rx"
rx() { ip netns exec "$RX" "$@"; }
trap 'ip netns pids "$RX" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
      ip netns del "$RX" 2>/dev/null || true; cleanup' EXIT

ip netns add "$RX"
rx ip link set lo up
ip link add vdr0 netns "$NS" type veth peer name vdr1 netns "$RX"
ns ip addr add 198.18.9.1/24 dev vdr0
rx ip addr add 198.18.9.2/24 dev vdr1
ns ip -6 addr add 2001:db8:9::1/64 dev vdr0 nodad
rx ip -6 addr add 2001:db8:9::2/64 dev vdr1 nodad
ns ip link set vdr0 up
rx ip link set vdr1 up
# Fixed neighbours: no ARP or neighbour discovery in the way.
MAC1=$(ns cat /sys/class/net/vdr0/address)
MAC2=$(rx cat /sys/class/net/vdr1/address)
ns ip neigh replace 198.18.9.2 lladdr "$MAC2" dev vdr0 nud permanent
ns ip -6 neigh replace 2001:db8:9::2 lladdr "$MAC2" dev vdr0 nud permanent
rx ip neigh replace 198.18.9.1 lladdr "$MAC1" dev vdr1 nud permanent
rx ip -6 neigh replace 2001:db8:9::1 lladdr "$MAC1" dev vdr1 nud permanent

for ipt in iptables ip6tables; do
	ns "$ipt" -A OUTPUT -o vdr0 -p udp -j NFQUEUE --queue-num 0
	ns "$ipt" -A OUTPUT -o vdr0 -p tcp -j NFQUEUE --queue-num 0
done

cat >"$WORK/rules.lua" <<'EOF'
return {
  default = "accept",
  rules = {
    -- declarative: TTL and destination port, in C
    { name = "ttl-dport", proto = "udp", dport = 7000, verdict = "accept",
      set = { ttl = 33, dport = 7001 } },
    -- Lua: the payload grows by 16 bytes
    { name = "grow", proto = "udp", dport = 7002,
      lua = function(pkt)
        pkt:set_payload(pkt:payload() .. "+grown-by-16-b+")
        return "accept"
      end },
    -- Lua: the payload shrinks to its first 3 bytes
    { name = "shrink", proto = "udp", dport = 7003,
      lua = function(pkt)
        pkt:set_payload("", 4, pkt.payload_len)
        return "accept"
      end },
    -- inside a TCP connection: same length, and a TTL on every segment
    { name = "tcp-patch", proto = "tcp", dport = 7100, set = { ttl = 44 },
      lua = function(pkt)
        if pkt:payload() == "ping" then
          pkt:set_payload("PONG")
        end
        return "accept"
      end },
  },
}
EOF

# udp_case NAME DST_ADDR PORT RECV_PORT TEXT WANT: sends TEXT to PORT and
# demands that the receiver, listening on RECV_PORT, gets WANT (a repr).
# The receiver waits 15 s: on a loaded machine starting the sender (python)
# alone can take seconds.
udp_case() {
	local name=$1 dst=$2 port=$3 rport=$4 text=$5 want=$6 out=$WORK/$1.rx i
	rx "${PEER[@]}" udp-recv "$dst" "$rport" 1 15 >"$out" &
	PIDS+=("$!")
	for i in $(seq 50); do grep -q listening "$out" && break; sleep 0.05; done
	ns "${PEER[@]}" udp-send "$dst" "$port" "$text"
	wait "${PIDS[-1]}" || true
	expect_eq "$name: payload the receiver got" "$(sed -n 2p "$out")" "$want"
}

# tcp_case NAME ADDR: 5 rounds of "ping" through an echo server; the Lua
# hook turns each into "PONG" on the way there, so "PONG" comes back.
tcp_case() {
	local name=$1 dst=$2 out=$WORK/$1.srv i
	rx "${PEER[@]}" tcp-echo "$dst" 7100 15 >"$out" &
	PIDS+=("$!")
	for i in $(seq 50); do grep -q listening "$out" && break; sleep 0.05; done
	ns timeout 10 "${PEER[@]}" tcp-talk "$dst" 7100 5 ping >"$WORK/$name.talk" ||
		fail "$name: the TCP connection broke: $(cat "$WORK/$name.talk")"
	expect_eq "$name: echoes of the rewritten segments" \
		"$(sort -u "$WORK/$name.talk")" "b'PONG'"
	expect_eq "$name: rounds" "$(wc -l <"$WORK/$name.talk")" 5
	wait "${PIDS[-1]}" || true
}

# check_capture NAME: what tcpdump saw arrive from the sender. No packet
# with a bad checksum, none with a zero UDP checksum, and the rewritten
# fields as written.
check_capture() {
	local name=$1 pcap=$WORK/$1.pcap text=$WORK/$1.txt
	tcpdump -vv -n -r "$pcap" >"$text" 2>/dev/null || fail "$name: tcpdump cannot read $pcap"
	[ -s "$text" ] || fail "$name: nothing captured"
	if grep -Eiq 'bad (udp |tcp )?cksum|incorrect|\[bad' "$text"; then
		fail "$name: a bad checksum arrived: $(grep -Ei 'bad|incorrect' "$text" | head -n 3)"
	fi
	grep -q 'cksum 0x0000' "$text" && fail "$name: a zero checksum arrived where one was sent"
	return 0
}

run_round() { # NAME VERDICTD-ARGS...
	local name=$1
	shift
	# Not through rx(): $! must be tcpdump itself, which SIGINT stops.
	ip netns exec "$RX" tcpdump -i vdr1 -n -U --immediate-mode -s 0 -w "$WORK/$name.pcap" \
		'(src host 198.18.9.1 or src host 2001:db8:9::1) and (udp or tcp)' \
		>/dev/null 2>"$WORK/$name.tcpdump" &
	TCPDUMP=$!
	PIDS+=("$TCPDUMP")
	sleep 0.5 # tcpdump attaches
	start_verdictd "$name" --queue 0 --rules "$WORK/rules.lua" --control none "$@"

	udp_case "$name-v4-set" 198.18.9.2 7000 7001 hello-v4 "b'hello-v4'"
	udp_case "$name-v6-set" 2001:db8:9::2 7000 7001 hello-v6 "b'hello-v6'"
	udp_case "$name-v4-grow" 198.18.9.2 7002 7002 abc "b'abc+grown-by-16-b+'"
	udp_case "$name-v6-grow" 2001:db8:9::2 7002 7002 abc "b'abc+grown-by-16-b+'"
	udp_case "$name-v4-shrink" 198.18.9.2 7003 7003 abcdefgh "b'abc'"
	udp_case "$name-v6-shrink" 2001:db8:9::2 7003 7003 abcdefgh "b'abc'"
	tcp_case "$name-v4-tcp" 198.18.9.2
	tcp_case "$name-v6-tcp" 2001:db8:9::2

	stop_verdictd "$VD_PID" "$name"
	sleep 0.5 # the last packets reach tcpdump
	kill -INT "$TCPDUMP" 2>/dev/null || true
	wait "$TCPDUMP" 2>/dev/null || true
	check_capture "$name"
	local t=$WORK/$name.txt
	# IPv4 TTL and IPv6 hop limit as set; the new port on the wire.
	grep -q 'ttl 33.*proto UDP' "$t" || fail "$name: no IPv4 packet with ttl 33: $(head -n 4 "$t")"
	grep -q 'hlim 33.*next-header UDP' "$t" || fail "$name: no IPv6 packet with hlim 33"
	grep -q '198.18.9.2.7001: \[udp sum ok\]' "$t" || fail "$name: no checked UDP to port 7001"
	grep -q '2001:db8:9::2.7001: \[udp sum ok\]' "$t" || fail "$name: no checked UDPv6 to 7001"
	grep -q 'ttl 44.*proto TCP' "$t" || fail "$name: no TCP segment with ttl 44"
	grep -q 'hlim 44.*next-header TCP' "$t" || fail "$name: no TCPv6 segment with hlim 44"
	expect_eq "$name: TCP segments from the sender not rewritten (ttl 44)" \
		"$(grep -Ec 'proto TCP|next-header TCP' "$t")" \
		"$(grep -Ec '(ttl|hlim) 44.*(proto|next-header) TCP' "$t")"
	[ "$(final_stat "$name" 0 rewritten)" -ge 16 ] ||
		fail "$name: stats rewritten=$(final_stat "$name" 0 rewritten), want at least 16"
	expect_eq "$name: rewrite refusals" "$(final_stat "$name" 0 rewrite_refused)" 0
}

run_round plain
run_round gso --gso
pass "rewritten packets (set, grown, shrunk, TCP same length; IPv4 and IPv6; with and without --gso) arrive as written with good checksums"
