#!/usr/bin/env bash
# replay_rewrite.sh - verdictd --replay --write-pcap, offline (no namespace,
# no root): captures built here (Ethernet with a VLAN tag, raw IP with
# nanosecond timestamps, NFLOG with a prefix and a mark) replayed through a
# rules file that rewrites TTL/hop limit and the destination port of UDP and
# TCP, IPv4 and IPv6 (`set = { ttl = 9, dport = 5353 }`) and drops port 9999.
# tcpdump -vv reads the output: the fields changed, every checksum verifies
# ("udp sum ok", "correct"; never "bad cksum" or "incorrect", which tcpdump
# also says of a wrong IPv4 header checksum), a UDP datagram
# sent without a checksum keeps none, dropped packets are missing, the order
# and timestamps are the input's, the link headers are kept, and a packet
# cut short in the capture (by its snaplen) is counted as a rewrite error and
# written as it was. Exit 77: a tool is missing.
set -euo pipefail

: "${VERDICTD:?set VERDICTD to the verdictd binary}"

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
pass() { echo "PASS: $*"; }
expect_eq() { [ "$2" = "$3" ] || fail "$1: expected \"$3\", got \"$2\""; }
# has [GREP-OPTION...] PATTERN: as lib.sh's (this test needs no namespace):
# reads all of stdin, so tcpdump never dies of SIGPIPE under pipefail.
has() {
	local n
	n=$(grep -c "$@" || true)
	[ "${n:-0}" -gt 0 ]
}

for tool in python3 tcpdump; do
	command -v "$tool" >/dev/null || skip "$tool is not installed"
done

WORK=$(mktemp -d /tmp/vdt-replay-rewrite.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# gen.py LINKTYPE OUT: the packets below in one capture. Every packet has
# its own source port (its name in the checks) and timestamp 1700000000 +
# sport/1000 s (+ sport ns with the nanosecond file). Checksums are computed
# here, independently of verdictd.
cat >"$WORK/gen.py" <<'PY'
import struct, sys

linktype, out = sys.argv[1], sys.argv[2]

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def a4(s):
    return bytes(int(x) for x in s.split("."))

def a6(s):  # 2001:db8::N only
    return bytes.fromhex("20010db8") + bytes(10) + struct.pack("!H", int(s.split("::")[1], 16))

def l4(proto, sport, dport, payload, pseudo, zero_csum=False):
    if proto == 17:
        h = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0)
    else:  # TCP: ACK|PSH, a timestamp-free 20-byte header
        h = struct.pack("!HHIIBBHHH", sport, dport, 1000, 2000, 5 << 4, 0x18, 65535, 0, 0)
    seg = h + payload
    if zero_csum:
        return seg
    c = csum(pseudo + seg)
    if proto == 17 and c == 0:
        c = 0xffff
    off = 6 if proto == 17 else 16
    return seg[:off] + struct.pack("!H", c) + seg[off + 2:]

def ip4(proto, sport, dport, payload, zero_csum=False):
    src, dst = a4("198.18.0.1"), a4("198.18.0.2")
    n = 8 if proto == 17 else 20
    pseudo = src + dst + struct.pack("!BBH", 0, proto, n + len(payload))
    seg = l4(proto, sport, dport, payload, pseudo, zero_csum)
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(seg), sport & 0xffff, 0x4000, 64,
                    proto, 0, src, dst)
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + seg

def ip6(proto, sport, dport, payload):
    src, dst = a6("2001:db8::1"), a6("2001:db8::2")
    n = 8 if proto == 17 else 20
    pseudo = src + dst + struct.pack("!I3xB", n + len(payload), proto)
    seg = l4(proto, sport, dport, payload, pseudo)
    return struct.pack("!IHBB", 6 << 28, len(seg), proto, 64) + src + dst + seg

# A DNS query for "a." as the payload, so that tcpdump decodes it cleanly;
# over TCP with its length in front.
DNS = bytes.fromhex("12340100000100000000000001610000010001")
TDNS = struct.pack("!H", len(DNS)) + DNS
packets = [  # (sport, IP packet, VLAN tag or None, captured bytes or None: all)
    (40001, ip4(17, 40001, 53, DNS), None, None),         # rewritten
    (40002, ip4(6, 40002, 53, TDNS), 100, None),          # rewritten, VLAN
    (40003, ip6(17, 40003, 53, DNS), None, None),         # rewritten
    (40004, ip4(17, 40004, 9999, DNS), None, None),       # dropped
    (40005, ip6(6, 40005, 53, TDNS), None, None),         # rewritten
    (40006, ip6(17, 40006, 9999, DNS), None, None),       # dropped
    (40007, ip4(17, 40007, 7000, DNS), None, None),       # accepted as it is
    (40008, ip4(17, 40008, 53, DNS, zero_csum=True), None, None),  # no checksum
    (40009, ip4(17, 40009, 53, DNS), None, 30),           # cut: refused
    (40010, ip6(6, 40010, 9999, TDNS), None, None),       # dropped
]
if linktype == "nflog":  # tcpdump prints nothing of a cut NFLOG record
    packets = [p for p in packets if p[3] is None]

def frame(ip, vlan):
    if linktype == "raw":
        return ip
    ethertype = 0x86dd if ip[0] >> 4 == 6 else 0x0800
    eth = bytes.fromhex("020000000002020000000001")
    if vlan is not None:
        eth += struct.pack("!HH", 0x8100, vlan)
    return eth + struct.pack("!H", ethertype)

def nflog(ip):
    def tlv(t, v):
        b = struct.pack("=HH", 4 + len(v), t) + v
        return b + bytes(-len(b) % 4)
    v6 = ip[0] >> 4 == 6
    return (struct.pack("!BBH", 10 if v6 else 2, 0, 7) +
            tlv(1, struct.pack("!HBx", 0x86dd if v6 else 0x0800, 3)) +
            tlv(2, struct.pack("!I", 0x2a)) + tlv(10, b"rwtest\0") + tlv(9, ip) +
            tlv(11, struct.pack("!I", 1000)))  # an attribute after the payload

dlt = {"ether": 1, "raw": 101, "nflog": 239}[linktype]
nano = linktype == "raw"
with open(out, "wb") as f:
    f.write(struct.pack("=IHHiIII", 0xa1b23c4d if nano else 0xa1b2c3d4, 2, 4, 0, 0, 65535, dlt))
    for sport, ip, vlan, cut in packets:
        rec = nflog(ip) if linktype == "nflog" else frame(ip, vlan) + (b"" if linktype == "raw" else ip)
        wire = len(rec)
        if cut is not None:
            rec = rec[:len(rec) - len(ip) + cut]
        sub = (sport % 1000) * (1000000 if nano else 1000) + (sport if nano else 0)
        f.write(struct.pack("=IIII", 1700000000, sub, len(rec), wire) + rec)
PY

RULES=$WORK/rules.lua
cat >"$RULES" <<'LUA'
return {
  default = "accept",
  rules = {
    { name = "drop-9999", dport = 9999, verdict = "drop" },
    { name = "rw-udp", proto = "udp", dport = 53, verdict = "accept", set = { ttl = 9, dport = 5353 } },
    { name = "rw-tcp", proto = "tcp", dport = 53, verdict = "accept", set = { ttl = 9, dport = 5353 } },
  },
}
LUA
if ! "$VERDICTD" --check "$RULES" >"$WORK/check.out" 2>&1; then
	fail "the rules file does not load: $(cat "$WORK/check.out")"
fi

# The source ports written, in order (NFLOG: without the cut packet, of
# which tcpdump prints nothing).
written_ports() {
	if [ "$1" = nflog ]; then echo "40001 40002 40003 40005 40007 40008"; else
		echo "40001 40002 40003 40005 40007 40008 40009"; fi
}

# tcpdump's lines for one packet (by source port) of file $1, options $2...
packet_text() {
	local file=$1 sport=$2
	shift 2
	tcpdump -nn -vv "$@" -r "$file" 2>/dev/null |
		awk -v sp="$sport" '/^[0-9]/ { if (block ~ ("\\." sp " >")) print block; block = $0; next }
			{ block = block "\n" $0 } END { if (block ~ ("\\." sp " >")) print block }'
}

check_output() {
	local name=$1 out=$2 ts_opt=$3 sport text order
	shift 3
	[ -s "$out" ] || fail "$name: no output file"
	tcpdump -nn -vv -r "$out" >"$WORK/$name.txt" 2>"$WORK/$name.tcpdump.err" ||
		fail "$name: tcpdump cannot read the output: $(cat "$WORK/$name.tcpdump.err")"
	if grep -nE "bad cksum|bad udp cksum|bad tcp cksum|incorrect" "$WORK/$name.txt"; then
		fail "$name: a checksum is wrong in the output (above)"
	fi
	order=$(grep -oE '\.400[0-9]{2} > ' "$WORK/$name.txt" | tr -d '. >' | tr '\n' ' ' |
		sed 's/ $//')
	expect_eq "$name: packets written, in order" "$order" "$(written_ports "$name")"
	for sport in 40001 40002 40003 40005; do
		text=$(packet_text "$out" "$sport" "$@")
		grep -qE "ttl 9,|hlim 9," <<<"$text" || fail "$name: $sport: TTL not 9: $text"
		grep -qE "\.$sport > [0-9a-f:.]+\.5353:" <<<"$text" || fail "$name: $sport: dport not 5353: $text"
		grep -qE "udp sum ok|cksum 0x[0-9a-f]+ \(correct\)" <<<"$text" ||
			fail "$name: $sport: checksum not verified: $text"
	done
	text=$(packet_text "$out" 40007 "$@")
	grep -q "ttl 64," <<<"$text" && grep -qE "\.40007 > [0-9.]+\.7000:" <<<"$text" ||
		fail "$name: 40007 (not rewritten) changed: $text"
	text=$(packet_text "$out" 40008 "$@")
	grep -q "ttl 9," <<<"$text" && grep -q "no cksum" <<<"$text" ||
		fail "$name: 40008 (sent without a UDP checksum) got one, or was not rewritten: $text"
	if [ "$name" != nflog ]; then
		text=$(packet_text "$out" 40009 "$@")
		grep -q "ttl 64," <<<"$text" || fail "$name: 40009 (cut short) was rewritten: $text"
	fi
	# Timestamps: the input's, to the microsecond (or nanosecond).
	for sport in 40001 40005 40007; do
		text=$(packet_text "$out" "$sport" "$@" $ts_opt -tt | head -n 1)
		grep -q "^1700000000\.$(printf '%03d' $((sport % 1000)))" <<<"$text" ||
			fail "$name: $sport: timestamp changed: $text"
	done
}

# replay NAME IN OUT: the summary and the rules line. The cut packet (not in
# the NFLOG capture) is a refused rewrite, accepted as it was by the
# table's default.
replay() {
	local name=$1 in=$2 out=$3 summary="packets=10 skipped=0 accepted=7 dropped=3"
	local totals="written=7 rewritten=5 rewrite_errors=1" hits="rw-udp=4(rewrite_errors=1)"
	if [ "$name" = nflog ]; then
		summary="packets=9 skipped=0 accepted=6 dropped=3"
		totals="written=6 rewritten=5 rewrite_errors=0" hits="rw-udp=3"
	fi
	"$VERDICTD" --replay "$in" --rules "$RULES" --write-pcap "$out" \
		--log-json "$WORK/$name.json" >"$WORK/$name.out" 2>"$WORK/$name.err" ||
		fail "$name: replay failed: $(cat "$WORK/$name.err")"
	grep -q "^replay $in: $summary .* $totals$" "$WORK/$name.out" ||
		fail "$name: summary: $(cat "$WORK/$name.out" "$WORK/$name.err")"
	grep -q " drop-9999=3 $hits rw-tcp=2$" "$WORK/$name.out" ||
		fail "$name: rule hits: $(cat "$WORK/$name.out")"
	expect_eq "$name: rewritten JSON lines" "$(grep -c '"rewritten":true' "$WORK/$name.json")" 5
	grep -q '"dport":5353,.*"len":[0-9]*,.*"rewritten":true,"rewrite":\["ttl","dport"\],"orig_len":[0-9]*}' \
		"$WORK/$name.json" || fail "$name: JSON of a rewritten packet: $(head -n 1 "$WORK/$name.json")"
}

for lt in ether raw nflog; do
	python3 "$WORK/gen.py" "$lt" "$WORK/$lt.pcap"
	# The input is sound: tcpdump finds nothing wrong with it.
	tcpdump -nn -vv -r "$WORK/$lt.pcap" 2>/dev/null | has -E "bad|incorrect" &&
		fail "$lt: the generated capture itself has a bad checksum"
	replay "$lt" "$WORK/$lt.pcap" "$WORK/$lt.out.pcap"
	ts=""
	[ "$lt" = raw ] && ts="--nano"
	check_output "$lt" "$WORK/$lt.out.pcap" "$ts"
	# Same link type as the input.
	expect_eq "$lt: link type" "$(tcpdump -r "$WORK/$lt.out.pcap" 2>&1 >/dev/null | grep -o 'link-type [A-Z0-9_]*')" \
		"$(tcpdump -r "$WORK/$lt.pcap" 2>&1 >/dev/null | grep -o 'link-type [A-Z0-9_]*')"
	pass "$lt: rewritten packets verified by tcpdump, drops left out, order and timestamps kept"
done

# Link headers and metadata survive: the VLAN tag, the Ethernet addresses,
# the nanoseconds, the NFLOG prefix and mark (replayed again: verdictd reads
# them back).
tcpdump -nn -e -r "$WORK/ether.out.pcap" 2>/dev/null | has "vlan 100.*\.40002 > 198.18.0.2.5353" ||
	fail "ether: the VLAN tag of 40002 is gone: $(tcpdump -nn -e -r "$WORK/ether.out.pcap" 2>&1)"
tcpdump -nn -e -r "$WORK/ether.out.pcap" 2>/dev/null | has "^[0-9:.]* 02:00:00:00:00:01 > 02:00:00:00:00:02" ||
	fail "ether: Ethernet addresses not kept"
tcpdump -nn --nano -tt -r "$WORK/raw.out.pcap" 2>/dev/null | has "^1700000000\.001040001 IP 198.18.0.1.40001 " ||
	fail "raw: nanoseconds not kept: $(tcpdump -nn --nano -tt -r "$WORK/raw.out.pcap" 2>&1 | head -n 2)"
"$VERDICTD" --replay "$WORK/nflog.out.pcap" --rules "$RULES" --log-json - >"$WORK/again.json" \
	2>"$WORK/again.err" || fail "nflog: output does not replay: $(cat "$WORK/again.err")"
expect_eq "nflog: records with prefix and mark" \
	"$(grep -c '"prefix":"rwtest".*"mark":42' "$WORK/again.json")" 6
expect_eq "nflog: output replayed, dport 5353 now" "$(grep -c '"dport":5353' "$WORK/again.json")" 5
# Unchanged packets are the input's bytes: the Ethernet output without the
# rewritten ones equals the input without them and the dropped ones.
for f in ether.pcap ether.out.pcap; do
	tcpdump -nn -xx -r "$WORK/$f" 'udp port 7000' 2>/dev/null >"$WORK/$f.7000"
done
cmp -s "$WORK/ether.pcap.7000" "$WORK/ether.out.pcap.7000" || fail "ether: 40007 not byte for byte"

# Refusals, one line each.
"$VERDICTD" --replay "$WORK/raw.pcap" --rules "$RULES" --write-pcap /nonexistent/dir/out.pcap \
	>/dev/null 2>"$WORK/bad.err" && fail "a bad --write-pcap path was accepted"
grep -qx "verdictd: --write-pcap /nonexistent/dir/out.pcap: cannot open for writing: No such file or directory" \
	"$WORK/bad.err" || fail "bad path message: $(cat "$WORK/bad.err")"
set +e
"$VERDICTD" --rules "$RULES" --write-pcap "$WORK/x.pcap" >/dev/null 2>"$WORK/noreplay.err"
rc=$?
"$VERDICTD" --replay "$WORK/raw.pcap" --rules "$RULES" --write-pcap "$WORK/raw.pcap" \
	>/dev/null 2>"$WORK/self.err"
rc_self=$?
set -e
expect_eq "--write-pcap without --replay: exit status" "$rc" 2
grep -q "^verdictd: --write-pcap $WORK/x.pcap: works with --replay FILE only" "$WORK/noreplay.err" ||
	fail "no --replay message: $(cat "$WORK/noreplay.err")"
expect_eq "--write-pcap onto the input: exit status" "$rc_self" 2
grep -q "this is the capture being replayed" "$WORK/self.err" || fail "self message: $(cat "$WORK/self.err")"
tcpdump -r "$WORK/raw.pcap" >/dev/null 2>&1 || fail "the input was damaged"
pass "refusals: bad path, no --replay, the input itself"
