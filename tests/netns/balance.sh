#!/usr/bin/env bash
# balance.sh - two workers behind --queue-balance 0:1: flows from several
# source addresses (the balance hash uses addresses, not ports) spread over
# both queues, and every packet is delivered exactly once.
source "$(dirname "$0")/lib.sh"

N=4000
add_queue_rule ipv4 udp 6000 0:1
add_queue_rule ipv6 udp 6000 0:1
for i in $(seq 10 17); do ns ip -6 addr add "2001:db8::$i/64" dev lo nodad; done

start_verdictd bal --queue 0-1 --default accept
PID=$VD_PID

line4=$(udpgen --dst 127.0.0.1 --port 6000 --flows 8 --src-base 127.0.0.10 --count "$N" --inflight 128)
expect_eq "IPv4 delivered ($line4)" "$(kv received "$line4")" "$N"
line6=$(udpgen --dst 2001:db8::1 --port 6000 --flows 8 --src-base 2001:db8::10 --count "$N" --inflight 128)
expect_eq "IPv6 delivered ($line6)" "$(kv received "$line6")" "$N"

stop_verdictd "$PID" bal
q0=$(final_stat bal 0 packets)
q1=$(final_stat bal 1 packets)
[ "$q0" -gt 0 ] || fail "queue 0 got no packet (q1=$q1)"
[ "$q1" -gt 0 ] || fail "queue 1 got no packet (q0=$q0)"
expect_eq "packets over both queues" $((q0 + q1)) $((2 * N))
pass "queue 0: $q0 packets, queue 1: $q1 packets"
