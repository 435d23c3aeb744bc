# kernel_rows.sh - the "rules in the kernel" rows of scripts/bench.sh (issue 13),
# sourced by it after its helpers are defined (ns, kv, wait_bound, NS, WORK,
# VERDICTD, UDPGEN, PORT, QUICK, CONSUMER).
#
# Long-lived flows through verdictd installing its own rules (--firewall
# iptables --hooks output), one run each:
#   kernel     no verdictd, no queue rule: the ceiling
#   kernel-ct  the same with connection tracking on (one "-m conntrack --ctstate
#              INVALID -j DROP" rule, as a stateful firewall starts): what
#              bypass and first4 pay for whatever the queue, since their
#              connmark and connbytes rules turn conntrack on in the namespace
#   queued     every packet queued (bench/rules/kr_accept.lua: one accepting rule)
#   bypass     the same rule with bypass = true: the first packet of each
#              connection is queued, the rest accepted by the kernel's connmark rule
#   first4     --first-packets 4: connbytes keeps all but 4 packets per connection
#   offload900 (UDP only) a 1,000-rule table whose first 900 rules are
#              offloadable; the flows match rule 900, so they never reach user
#              space
#   kernel900  (UDP only) the same 900 kernel rules loaded by hand, no queue
#              rule: what offload900 is measured against (900 rules cost the
#              kernel's linear rule walk, with or without verdictd)
#   kernel-cb4 (UDP only) no verdictd, no queue rule, only first4's connbytes
#              rule loaded by hand: what connbytes itself costs (it switches
#              conntrack accounting on for the namespace), which first4 pays
#              whatever verdictd does
# Traffic: 8 UDP flows of 64-byte payloads (<= 256 in flight), and one TCP bulk
# transfer with iperf3 (Debian's). Per row: throughput, and the packets
# verdictd saw (its final stats line: the sum of its queues' packets).

KR_UDP_S=$([ "$QUICK" = 1 ] && echo 0.5 || echo 4)
# UDP rows run KR_RUNS times, interleaved; the report gives each row's median.
KR_RUNS=$([ "$QUICK" = 1 ] && echo 1 || echo 3)
KR_TCP_S=$([ "$QUICK" = 1 ] && echo 1 || echo 5)
KR_RULES=$PWD/bench/rules

# kr_seen FILE: packets verdictd saw, from its "stats final" line.
kr_seen() {
	{ grep '^stats final' "$1" 2>/dev/null || true; } | tr ' ' '\n' | sed -n 's/^packets=//p' |
		awk '{ s += $1 } END { print s + 0 }'
}

# kr_start VARIANT: verdictd for VARIANT, its rules installed; none for kernel.
kr_start() {
	local args=(--queue 0 --firewall iptables --hooks output --control none)
	case $1 in
	kernel) return 0 ;;
	kernel-ct)
		ns iptables -A OUTPUT -m conntrack --ctstate INVALID -j DROP
		return 0 ;;
	kernel-cb4)
		ns iptables -A OUTPUT -m connbytes --connbytes 5: --connbytes-dir both \
			--connbytes-mode packets -j ACCEPT
		return 0 ;;
	kernel900)
		"$VERDICTD" --print-firewall=ip4 --queue 0 --hooks output --rules "$WORK/kr_offload.lua" |
			grep -v NFQUEUE | ns iptables-restore --noflush
		return 0 ;;
	queued) args+=(--rules "$KR_RULES/kr_accept.lua") ;;
	bypass) args+=(--rules "$KR_RULES/kr_bypass.lua") ;;
	first4) args+=(--rules "$KR_RULES/kr_accept.lua" --first-packets 4) ;;
	offload900) args+=(--rules "$WORK/kr_offload.lua") ;;
	esac
	ip netns exec "$NS" "$VERDICTD" "${args[@]}" >"$WORK/kr.out" 2>&1 &
	CONSUMER=$!
	wait_bound 0
	# The rules go in after the queue is bound: wait for the jump.
	for _ in $(seq 100); do
		ns iptables -S OUTPUT | grep -q VERDICTD && return 0
		sleep 0.05
	done
	echo "bench: verdictd never installed its rules ($1): $(tail -2 "$WORK/kr.out")" >&2
	exit 1
}

# kr_stop: stops verdictd (it removes its rules); sets KR_SEEN.
kr_stop() {
	KR_SEEN=0
	ns iptables -D OUTPUT -m conntrack --ctstate INVALID -j DROP 2>/dev/null || true
	ns iptables -D OUTPUT -m connbytes --connbytes 5: --connbytes-dir both \
		--connbytes-mode packets -j ACCEPT 2>/dev/null || true
	# Accounting, once on, stays on in the namespace: off for the next row.
	ns sysctl -qw net.netfilter.nf_conntrack_acct=0 2>/dev/null || true
	if ns iptables -S VERDICTD-OUTPUT >/dev/null 2>&1 && [ -z "$CONSUMER" ]; then
		ns iptables -D OUTPUT -j VERDICTD-OUTPUT
		ns iptables -F VERDICTD-OUTPUT
		ns iptables -X VERDICTD-OUTPUT
	fi
	[ -n "$CONSUMER" ] || return 0
	kill -TERM "$CONSUMER"
	wait "$CONSUMER" || true
	CONSUMER=""
	KR_SEEN=$(kr_seen "$WORK/kr.out")
}

# kr_offload_table: 900 offloadable rules (the last accepts the bench port),
# then 100 that need user space (a Lua hook).
kr_offload_table() {
	{
		echo 'local rules = {}'
		echo 'for i = 1, 899 do rules[#rules + 1] = { name = "off" .. i, proto = "udp", dport = 20000 + i, verdict = "drop" } end'
		echo "rules[#rules + 1] = { name = \"off900\", proto = \"udp\", dport = $PORT, verdict = \"accept\" }"
		echo 'for i = 1, 100 do rules[#rules + 1] = { name = "hook" .. i, proto = "udp", dport = 30000 + i, lua = function(pkt) return "accept" end } end'
		echo 'return { default = "accept", rules = rules }'
	} >"$WORK/kr_offload.lua"
}

# kr_udp_row VARIANT: appends "udp-VARIANT pps seen received sent".
kr_udp_row() {
	local line
	kr_start "$1"
	line=$(ns "$UDPGEN" --quiet --dst 127.0.0.1 --port "$PORT" --size 64 --flows 8 \
		--src-base 127.0.0.10 --count 100000000 --duration "$KR_UDP_S" --drain-ms 200)
	kr_stop
	echo "udp-$1 $(kv pps "$line") $KR_SEEN $(kv received "$line") $(kv sent "$line")" >>"$WORK/kr_rows"
}

# kr_tcp_row VARIANT: appends "tcp-VARIANT bits_per_s seen".
kr_tcp_row() {
	local bps
	kr_start "$1"
	ns iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
	local server=$!
	for _ in $(seq 50); do
		ns ss -ltn | grep -q ':5201 ' && break
		sleep 0.05
	done
	bps=$(ns timeout $((KR_TCP_S + 10)) iperf3 -c 127.0.0.1 -p 5201 -t "$KR_TCP_S" -J 2>/dev/null |
		python3 -c 'import json,sys; print("%.0f" % json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"])' \
		2>/dev/null || echo 0)
	kill "$server" 2>/dev/null || true
	wait "$server" 2>/dev/null || true
	kr_stop
	echo "tcp-$1 $bps $KR_SEEN" >>"$WORK/kr_rows"
}

kernel_rows() {
	: >"$WORK/kr_rows"
	kr_offload_table
	for _ in $(seq "$KR_RUNS"); do
		for v in kernel kernel-ct kernel-cb4 queued bypass first4 offload900 kernel900; do
			kr_udp_row "$v"
		done
	done
	if command -v iperf3 >/dev/null; then
		# --quick: the kernel path and first4, to prove both kinds run.
		local tcp_rows="kernel kernel-ct queued bypass first4"
		[ "$QUICK" = 1 ] && tcp_rows="kernel first4"
		for v in $tcp_rows; do
			kr_tcp_row "$v"
		done
	else
		echo "bench: iperf3 missing: no TCP rows (scripts/deps.sh installs it)" >&2
	fi
	echo "bench: kernel-rules rows done" >&2
}

# kr_median: kr_rows with one line per row (first-seen order), each field the
# median of that row's runs.
kr_median() {
	awk '{ if (!($1 in n)) order[++rows] = $1; k = ++n[$1]; for (f = 2; f <= NF; f++) v[$1, f, k] = $f; nf[$1] = NF }
	END {
		for (r = 1; r <= rows; r++) {
			name = order[r]; line = name
			for (f = 2; f <= nf[name]; f++) {
				m = n[name]
				for (i = 1; i <= m; i++) s[i] = v[name, f, i] + 0
				for (i = 2; i <= m; i++) for (j = i; j > 1 && s[j - 1] > s[j]; j--) { t = s[j]; s[j] = s[j - 1]; s[j - 1] = t }
				med = (m % 2) ? s[(m + 1) / 2] : (s[m / 2] + s[m / 2 + 1]) / 2
				line = line " " (med == int(med) ? sprintf("%.0f", med) : sprintf("%.1f", med))
			}
			print line
		}
	}' "$WORK/kr_rows" >"$WORK/kr_median"
}

# kernel_report: prints the table (UDP rows: medians of KR_RUNS), sets KR_JSON.
kernel_report() {
	local sep="" row val seen rcv sent kern kct unit ratio rct
	kr_median
	KR_JSON="\"kernel_rules\":["
	printf '\n%-16s %22s %8s %11s %12s\n' "kernel-rules row" "rate" "/kernel" "/kernel-ct" "seen by vd"
	while read -r row val seen rcv sent; do
		case $row in
		udp-*) unit="pkt/s" ;;
		tcp-*) unit="bit/s" ;;
		esac
		kern=$(awk -v r="${row%%-*}-kernel" '$1 == r { print $2 }' "$WORK/kr_median")
		kct=$(awk -v r="${row%%-*}-kernel-ct" '$1 == r { print $2 }' "$WORK/kr_median")
		ratio=$(awk -v a="$val" -v b="$kern" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
		rct=$(awk -v a="$val" -v b="$kct" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
		printf '%-16s %22s %8s %11s %12s\n' "$row" "$val $unit" "$ratio" "$rct" "$seen"
		KR_JSON+="$sep{\"row\":\"$row\",\"rate\":$val,\"unit\":\"$unit\",\"ratio_to_kernel\":$ratio,\"ratio_to_kernel_ct\":$rct,\"seen_by_verdictd\":$seen${rcv:+,\"received\":$rcv,\"sent\":$sent}}"
		sep=","
	done <"$WORK/kr_median"
	KR_JSON+="]"
}
