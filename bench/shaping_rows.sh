# shaping_rows.sh - the delay and shaping rows of scripts/bench.sh (issue 12),
# sourced by it after its helpers are defined (ns, kv, queue_rule,
# wait_bound, kernel_drops, cpu_run_ns, consumer_stop, NS, WORK, VERDICTD,
# UDPGEN, RATEMETER, RULES, PORT, CONSUMER, SHAPE_DELAY_DS, SHAPE_RATE_S,
# SHAPE_HOLD_RATE, SHAPE_CPU_ROUNDS).

# --- shaping rows (issue 12): one run each, not medians ---
# Release accuracy: bench/rules/delay_{0,1,10,50}ms.lua (the 0 ms file is the
# same rule accepting at once: the floor), open loop at 10k and 100k packets/s
# over 32 flows (a held packet still counts against its sender's socket
# buffer). Per row: the receiver's one-way latency p50/p99 (vd-udpgen), the
# daemon's release_error p50/p99/max and held_max (its final stats line),
# kernel drops, consumer CPU per packet (from the threads' schedstat run
# times, in ns: the clock ticks of the other rows are too coarse for 0.3 s).
# shape_delay_row DELAY_MS RATE [FILE]: appends "row rate p50 p99 rel50 rel99 relmax held_max drops cpu_ns received sent" to FILE ($WORK/shape_delay).
shape_delay_row() {
	local d=$1 rate=$2 out=${3:-$WORK/shape_delay} line stats t0 t1 received drops
	queue_rule add --queue-num 0
	ip netns exec "$NS" "$VERDICTD" --queue 0 --rules "$RULES/delay_${d}ms.lua" --control none \
		>"$WORK/shape.out" 2>/dev/null &
	CONSUMER=$!
	wait_bound 0
	t0=$(cpu_run_ns "$CONSUMER")
	line=$(ns "$UDPGEN" --quiet --dst 127.0.0.1 --port "$PORT" --size 64 --flows 32 \
		--src-base 127.0.0.10 --inflight 0 --rate "$rate" --count $((rate * SHAPE_DELAY_DS / 10)) \
		--duration $((SHAPE_DELAY_DS / 10 + 5)) --drain-ms 1000)
	t1=$(cpu_run_ns "$CONSUMER")
	received=$(kv received "$line")
	drops=$(kernel_drops)
	consumer_stop verdictd
	stats=$(grep '^stats final' "$WORK/shape.out" || true)
	echo "delay${d}ms@$rate $rate $(kv p50_us "$line") $(kv p99_us "$line")" \
		"$(kv release_error_p50_us "$stats") $(kv release_error_p99_us "$stats")" \
		"$(kv release_error_max_us "$stats") $(kv held_max "$stats") $drops" \
		"$(( (t1 - t0) / (received > 0 ? received : 1) ))" \
		"$received $(kv sent "$line")" >>"$out"
}
# Rate accuracy: a rule `rate = R, burst = B` (limit: the packets tbf's 50 ms
# latency would queue) against tc tbf with the same R and B on the same
# loopback, 1000-byte payloads offered at 1.25 R by vd-ratemeter. Achieved:
# the rate over the second half of the arrivals, in each shaper's own bytes
# (verdictd counts the IP packet, tbf on lo adds 14 bytes of Ethernet
# header). Burst: the most bytes in any 10 ms window minus R * 10 ms.
# SHAPER: tbf, verdictd, or verdictd-rt (--realtime 10: the worker wakes at
# its release time ahead of the sender and the receiver).
# shape_rate_row SHAPER MBIT BURST: appends "row target_bps achieved_bps burst_above drops sent received".
shape_rate_row() {
	local shaper=$1 mbit=$2 burst=$3 bps=$(($2 * 1000000)) line overhead=28 drops=0 pps limit
	local rt=()
	[ "$shaper" = verdictd-rt ] && rt=(--realtime 10)
	pps=$(awk -v b="$bps" 'BEGIN { printf "%.0f", 1.25 * b / 8 / 1028 }')
	if [ "$shaper" = tbf ]; then
		ns tc qdisc add dev lo root tbf rate "${mbit}mbit" burst "$burst" latency 50ms
		overhead=42
	else
		limit=$(awk -v b="$bps" -v B="$burst" 'BEGIN { l = int((b / 8 * 0.05 + B) / 1028); print (l > 0 ? l : 1) }')
		cat >"$WORK/rate.lua" <<LUA
return { default = "accept", rules = {
  { name = "rate", proto = "udp", dport = $PORT, verdict = "accept",
    rate = "${mbit}mbit", burst = "${burst}b", limit = $limit },
} }
LUA
		queue_rule add --queue-num 0
		ip netns exec "$NS" "$VERDICTD" --queue 0 --rules "$WORK/rate.lua" --control none \
			"${rt[@]}" >"$WORK/rate.out" 2>&1 &
		CONSUMER=$!
		wait_bound 0
	fi
	line=$(ns "$RATEMETER" --dst 127.0.0.1 --port "$PORT" --size 1000 --rate "$pps" \
		--duration "$SHAPE_RATE_S" --overhead "$overhead" --window-ms 10)
	if [ "$shaper" = tbf ]; then
		ns tc qdisc del dev lo root
	else
		drops=$(kernel_drops)
		consumer_stop verdictd
	fi
	echo "$shaper@${mbit}mbit $bps $(kv achieved_bps "$line")" \
		"$(awk -v m="$(kv max_window_bytes "$line")" -v b="$bps" 'BEGIN { printf "%.0f", m - b / 8 * 0.01 }')" \
		"$drops $(kv sent "$line") $(kv received "$line")" >>"$WORK/shape_rate"
}
# Holding 100,000 packets at once: a 1 s delay (bench/rules/delay_1000ms.lua)
# at SHAPE_HOLD_RATE packets/s for 2 s, over four queues: kernels with
# nfnetlink_queue's per-queue id hash (Linux 6.18 and later, this one) keep at
# most 65,536 packets in flight per queue whatever --maxlen says, so one queue
# cannot. The senders' socket buffers are forced large (--sndbuf): a held packet
# counts against its sender's. Appends "row rate held_max drops rel_p99_max
# received sent" to $WORK/shape_hold (held_max: the rule's, over the queues;
# release error p99: the worst queue's).
shape_hold_row() {
	local rate=$SHAPE_HOLD_RATE line stats
	queue_rule add --queue-balance 0:3
	ip netns exec "$NS" "$VERDICTD" --queue 0-3 --rules "$RULES/delay_1000ms.lua" --control none \
		>"$WORK/hold.out" 2>/dev/null &
	CONSUMER=$!
	wait_bound 3
	line=$(ns "$UDPGEN" --quiet --dst 127.0.0.1 --port "$PORT" --size 64 --flows 32 \
		--src-base 127.0.0.10 --inflight 0 --rate "$rate" --count $((rate * 2)) --duration 10 \
		--drain-ms 2000 --sndbuf 67108864)
	stats=$(kernel_drops)
	kill -TERM "$CONSUMER"
	wait "$CONSUMER" || true
	CONSUMER=""
	queue_rule del --queue-balance 0:3
	echo "hold1s@$rate $rate" \
		"$(sed -n 's/^rules final:.* delay1000=[^ ]*held_max=\([0-9]*\).*/\1/p' "$WORK/hold.out") $stats" \
		"$(grep '^stats final' "$WORK/hold.out" | grep -o 'release_error_p99_us=[0-9.]*' |
			cut -d= -f2 | sort -g | tail -1)" \
		"$(kv received "$line") $(kv sent "$line")" >>"$WORK/shape_hold"
}
shaping_rows() {
	: >"$WORK/shape_delay"
	: >"$WORK/shape_rate"
	: >"$WORK/shape_hold"
	for rate in 10000 100000; do
		for d in 0 1 10 50; do
			shape_delay_row "$d" "$rate"
		done
	done
	# CPU per packet swings by up to 2x between runs on a VM whose host
	# takes its share of the cores: the ratio is taken per round (each
	# delay against the floor measured just before it), SHAPE_CPU_ROUNDS
	# rounds (the first is the rows above), and the median given.
	local round
	for ((round = 2; round <= SHAPE_CPU_ROUNDS; round++)); do
		: >"$WORK/shape_delay.$round"
		for rate in 10000 100000; do
			for d in 0 1 10 50; do
				shape_delay_row "$d" "$rate" "$WORK/shape_delay.$round"
			done
		done
	done
	shape_hold_row
	echo "bench: shaping release rows done" >&2
	# --quick (CI proves the rows run): the 100 Mbit/s rows only.
	local specs="1:4000 10:15000 100:125000"
	[ "$QUICK" = 1 ] && specs="100:125000"
	for spec in $specs; do
		shape_rate_row verdictd "${spec%:*}" "${spec#*:}"
		shape_rate_row verdictd-rt "${spec%:*}" "${spec#*:}"
		shape_rate_row tbf "${spec%:*}" "${spec#*:}"
	done
	echo "bench: shaping rate rows done" >&2
}
# column_median N: the median of column N of stdin (the lower middle of an
# even count; 0 when empty).
column_median() {
	awk -v c="$1" '{ print $c }' | sort -g | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : 0) }'
}
# shaping_report: prints the three tables, sets SHAPE_JSON.
shaping_report() {
	local sep="" row rate p50 p99 r50 r99 rmax held drops cpu rcv sent floor_cpu ratio bps got burst pct
	SHAPE_JSON="\"shaping\":{\"release\":["
	printf '\n%-18s %9s %9s %9s %9s %9s %9s %8s %6s %7s %9s\n' "release row" "offered/s" "p50 us" "p99 us" \
		"rel p50" "rel p99" "rel max" held_max drops "cpu ns" received
	while read -r row rate p50 p99 r50 r99 rmax held drops cpu rcv sent; do
		printf '%-18s %9s %9s %9s %9s %9s %9s %8s %6s %7s %9s\n' "$row" "$rate" "$p50" "$p99" \
			"${r50:--}" "${r99:--}" "${rmax:--}" "${held:--}" "$drops" "$cpu" "$rcv/$sent"
		SHAPE_JSON+="$sep{\"row\":\"$row\",\"offered_pps\":$rate,\"p50_us\":${p50:-null},\"p99_us\":${p99:-null},\"release_error_p50_us\":${r50:-null},\"release_error_p99_us\":${r99:-null},\"release_error_max_us\":${rmax:-null},\"held_max\":${held:-null},\"kernel_drops\":$drops,\"cpu_ns_per_packet\":$cpu,\"received\":${rcv:-0},\"sent\":${sent:-0}}"
		sep=","
	done <"$WORK/shape_delay"
	SHAPE_JSON+="],\"hold\":["
	sep=""
	printf '\n%-18s %9s %9s %12s %12s %13s\n' "hold row" "offered/s" held_max "kernel drops" \
		"rel p99 max" "received"
	while read -r row rate held drops r99 rcv sent; do
		printf '%-18s %9s %9s %12s %12s %13s\n' "$row" "$rate" "${held:--}" "$drops" "${r99:--}" "$rcv/$sent"
		SHAPE_JSON+="$sep{\"row\":\"$row\",\"offered_pps\":$rate,\"held_max\":${held:-null},\"kernel_drops\":$drops,\"release_error_p99_us_worst_queue\":${r99:-null},\"received\":${rcv:-0},\"sent\":${sent:-0}}"
		sep=","
	done <"$WORK/shape_hold"
	SHAPE_JSON+="],\"rate\":["
	sep=""
	printf '\n%-20s %12s %12s %9s %14s %6s %11s\n' "rate row" "target b/s" "achieved" "achieved%" \
		"burst>rate B" drops "recv/sent"
	while read -r row bps got burst drops sent rcv; do
		pct=$(awk -v a="$got" -v b="$bps" 'BEGIN { printf "%.2f", 100 * a / b }')
		printf '%-20s %12s %12s %9s %14s %6s %11s\n' "$row" "$bps" "$got" "$pct" "$burst" "$drops" "$rcv/$sent"
		SHAPE_JSON+="$sep{\"row\":\"$row\",\"target_bps\":$bps,\"achieved_bps\":$got,\"achieved_pct\":$pct,\"burst_above_rate_bytes_10ms\":$burst,\"kernel_drops\":$drops,\"sent\":$sent,\"received\":$rcv}"
		sep=","
	done <"$WORK/shape_rate"
	SHAPE_JSON+="],\"cpu\":["
	sep=""
	printf '\n%-18s %14s %14s %8s %14s\n' "cpu row" "cpu ns/pkt" "immediate" "ratio" "rounds' ratios"
	local files=("$WORK/shape_delay") ratios list
	for ((round = 2; round <= SHAPE_CPU_ROUNDS; round++)); do
		files+=("$WORK/shape_delay.$round")
	done
	while read -r row rate p50 p99 r50 r99 rmax held drops cpu rcv sent; do
		[ "${row%%@*}" = delay0ms ] && continue
		# Per round: this row's CPU over that round's floor; the median of
		# the ratios, and of each column, is what is shown.
		ratios=$(for f in "${files[@]}"; do
			awk -v r="$row" -v z="delay0ms@$rate" '$1 == r { a = $10 } $1 == z { b = $10 }
				END { if (a > 0 && b > 0) printf "%.2f %s %s\n", a / b, a, b }' "$f"
		done | sort -g)
		ratio=$(column_median 1 <<<"$ratios")
		cpu=$(column_median 2 <<<"$ratios")
		floor_cpu=$(column_median 3 <<<"$ratios")
		list=$(awk '{ printf "%s%s", (NR > 1 ? "," : ""), $1 }' <<<"$ratios")
		printf '%-18s %14s %14s %8s %14s\n' "$row" "$cpu" "$floor_cpu" "$ratio" "$list"
		SHAPE_JSON+="$sep{\"row\":\"$row\",\"cpu_ns_per_packet\":$cpu,\"immediate_cpu_ns_per_packet\":$floor_cpu,\"ratio\":$ratio,\"round_ratios\":[$list]}"
		sep=","
	done <"$WORK/shape_delay"
	SHAPE_JSON+="]}"
}
