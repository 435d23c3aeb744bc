#!/usr/bin/env bash
# ifname.sh - interface names in JSON lines follow a rename: verdictd logs
# NFLOG packets leaving through a veth in the test's namespace, the veth is
# renamed while verdictd runs, and once its cached name has expired (a
# second) the lines carry the new name.
source "$(dirname "$0")/lib.sh"

ns ip link add vdt-a type veth peer name vdt-b
ns ip link set vdt-b up
ns ip link set vdt-a up
ns ip addr add 198.18.7.1/24 dev vdt-a
# A fixed neighbour: the packets leave without waiting for ARP.
ns ip neigh replace 198.18.7.2 lladdr 02:00:00:00:07:02 dev vdt-a nud permanent
ns iptables -A OUTPUT -d 198.18.7.0/24 -p udp --dport 6000 -j NFLOG --nflog-group 7

start_verdictd ifname --nflog 7 --control none --log-json "$WORK/log.json"
PID=$VD_PID

# send_and_wait LINES: 20 packets to the veth's neighbour (through bash's
# /dev/udp: udpgen listens on its destination, which is not ours), then waits
# until the JSON file has LINES lines.
send_and_wait() {
	local i
	ns bash -c 'for i in $(seq 20); do echo "$i" >/dev/udp/198.18.7.2/6000; done' ||
		fail "cannot send to 198.18.7.2"
	for i in $(seq 100); do
		[ "$(wc -l <"$WORK/log.json")" -ge "$1" ] && return 0
		sleep 0.05
	done
	fail "JSON lines: got $(wc -l <"$WORK/log.json"), want $1"
}

send_and_wait 20
expect_eq "lines naming vdt-a" "$(grep -c '"outdev":"vdt-a"' "$WORK/log.json")" 20

# A rename needs the link down; its route and neighbour come back with it.
ns ip link set vdt-a down
ns ip link set vdt-a name vdt-c
ns ip link set vdt-c up
ns ip neigh replace 198.18.7.2 lladdr 02:00:00:00:07:02 dev vdt-c nud permanent
sleep 1.2 # past the name cache's second
send_and_wait 40
expect_eq "lines after the rename naming vdt-c" \
	"$(tail -n 20 "$WORK/log.json" | grep -c '"outdev":"vdt-c"')" 20
expect_eq "JSON lines" "$(wc -l <"$WORK/log.json")" 40
stop_verdictd "$PID" ifname
pass "a renamed interface shows its new name in the JSON lines"
