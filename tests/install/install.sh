#!/usr/bin/env bash
# install.sh - what a user of an installed verdictd gets, checked from the
# installed tree alone: "cmake --install" into a temporary prefix, then
# pkg-config finds a relocatable libverdict.pc, the README's C library and
# plugin examples (taken from README.md at test time, between its
# <!-- example:NAME --> markers) build against the installed headers and
# shared library, the library exports only its public API, the library
# example judges real packets in a private network namespace, and the
# installed verdictd loads the plugin and finds its own plugin directory.
# The man pages and the systemd unit are installed, the pages name every
# option of the programs' --help and render without warnings.
#
# Environment: VD_BUILD_DIR (a built tree), VD_SOURCE_DIR (for README.md and
# libverdict.map); optional CMAKE, CC, VD_EXAMPLE_CFLAGS (the build's
# sanitizer flags: a program linking a sanitized libverdict needs them too).
# Exit status: 0 passed, 1 failed (the message names the step), 77 skipped
# (a tool is missing, or not root for the namespace step).
set -eEuo pipefail

: "${VD_BUILD_DIR:?set VD_BUILD_DIR to the build directory to install}"
: "${VD_SOURCE_DIR:?set VD_SOURCE_DIR to the source tree}"
CMAKE=${CMAKE:-cmake}
CC=${CC:-cc}
read -r -a EXTRA_CFLAGS <<<"${VD_EXAMPLE_CFLAGS:-}"

STEP="set-up"
step() { STEP=$1; echo "-- $STEP"; }
skip() { echo "SKIP ($STEP): $*"; exit 77; }
fail() { echo "FAIL ($STEP): $*"; exit 1; }
# A command failing outside an explicit check still names its step.
trap 'echo "FAIL ($STEP): line $LINENO: \"$BASH_COMMAND\" exited with $?"' ERR

for tool in "$CMAKE" "$CC" pkg-config nm readelf ldd realpath; do
	command -v "$tool" >/dev/null || skip "$tool is not installed"
done

TMP=$(mktemp -d /tmp/vd-install.XXXXXX)
PREFIX=$TMP/prefix
WORK=$TMP/work
NS=""
EXAMPLE_PID=""
cleanup() {
	if [ -n "$EXAMPLE_PID" ]; then
		kill -KILL "$EXAMPLE_PID" 2>/dev/null || true
		wait "$EXAMPLE_PID" 2>/dev/null || true
	fi
	if [ -n "$NS" ]; then
		ip netns pids "$NS" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
		ip netns del "$NS" 2>/dev/null || true
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
mkdir -p "$WORK"

# extract NAME: the code block between <!-- example:NAME --> and
# <!-- /example:NAME --> in README.md, without its fences.
extract() {
	awk -v start="<!-- example:$1 -->" -v end="<!-- /example:$1 -->" '
		$0 == start { inside = 1; next }
		$0 == end { inside = 0; done = 1; next }
		inside && /^```/ { next }
		inside { print; lines++ }
		END { exit !(done && lines) }' "$VD_SOURCE_DIR/README.md"
}

step "cmake --install $VD_BUILD_DIR --prefix $PREFIX"
"$CMAKE" --install "$VD_BUILD_DIR" --prefix "$PREFIX" >"$WORK/install.log" 2>&1 ||
	fail "$(tail -n 5 "$WORK/install.log")"

step "installed programs, plugins and headers"
for f in bin/verdictd bin/verdictctl; do
	[ -x "$PREFIX/$f" ] || fail "$f is not installed"
done
"$PREFIX/bin/verdictd" -V >/dev/null || fail "installed verdictd -V failed"
"$PREFIX/bin/verdictctl" --help >/dev/null || fail "installed verdictctl --help failed"
PLUGIN_DIR=$(find "$PREFIX" -path '*/verdictd/plugins' -type d | head -n 1)
[ -n "$PLUGIN_DIR" ] && [ -f "$PLUGIN_DIR/synguard.so" ] ||
	fail "no verdictd/plugins/synguard.so under $PREFIX"
for h in "$VD_SOURCE_DIR"/include/verdict/*.h; do
	cmp -s "$h" "$PREFIX/include/verdict/${h##*/}" ||
		fail "include/verdict/${h##*/} is not installed as it is in the source tree"
done

step "installed man pages and systemd unit"
MANDIR=$PREFIX/share/man
for page in man8/verdictd.8 man8/verdictctl.8 man5/verdictd-rules.5; do
	[ -s "$MANDIR/$page" ] || fail "share/man/$page is not installed"
done
[ -f "$PREFIX/lib/systemd/system/verdictd.service" ] ||
	fail "lib/systemd/system/verdictd.service is not installed"
# The man pages are the complete reference: every option the programs'
# --help names is there, in bold as an option is.
documented() { # PAGE PROGRAM: fails naming what PROGRAM --help has and PAGE lacks
	local opt missing=""
	for opt in $("$PREFIX/bin/$2" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
		grep -qF "\\fB$opt\\fR" "$MANDIR/$1" || missing+=" $opt"
	done
	[ -z "$missing" ] || fail "$1 lacks options of $2 --help:$missing"
}
documented man8/verdictd.8 verdictd
documented man8/verdictctl.8 verdictctl
for cmd in reload stats metrics ping; do
	grep -qF "\\fB$cmd\\fR" "$MANDIR/man8/verdictctl.8" || fail "verdictctl.8 lacks the command $cmd"
done
if command -v man >/dev/null && command -v groff >/dev/null; then
	for page in man8/verdictd.8 man8/verdictctl.8 man5/verdictd-rules.5; do
		MANWIDTH=80 man --warnings -l "$MANDIR/$page" >"$WORK/page.txt" 2>"$WORK/page.err" ||
			fail "man -l $page failed: $(head -n 5 "$WORK/page.err")"
		[ ! -s "$WORK/page.err" ] || fail "man -l $page warns: $(head -n 5 "$WORK/page.err")"
		grep -q '^NAME' "$WORK/page.txt" || fail "man -l $page rendered no NAME section"
	done
else
	echo "   (man or groff is not installed: the pages are not rendered)"
fi

step "pkg-config against the installed libverdict.pc"
PC=$(find "$PREFIX" -path '*/pkgconfig/libverdict.pc' | head -n 1)
[ -n "$PC" ] || fail "no pkgconfig/libverdict.pc under $PREFIX"
export PKG_CONFIG_PATH=${PC%/*}
got=$(realpath "$(pkg-config --variable=prefix libverdict)")
[ "$got" = "$(realpath "$PREFIX")" ] || fail "prefix resolves to $got, not to $PREFIX"
LIBDIR=$(realpath "$(pkg-config --variable=libdir libverdict)")
[ -f "$LIBDIR/libverdict.so" ] || fail "libdir $LIBDIR has no libverdict.so"
INCDIR=$(realpath "$(pkg-config --variable=includedir libverdict)")
[ -f "$INCDIR/verdict/libverdict.h" ] || fail "includedir $INCDIR has no verdict/libverdict.h"
flags=$(pkg-config --cflags --libs libverdict)
for tree in "$VD_SOURCE_DIR" "$VD_BUILD_DIR"; do
	[[ $flags != *"$tree"* ]] || fail "pkg-config points into $tree: $flags"
done
static=$(pkg-config --static --libs libverdict) || fail "pkg-config --static --libs libverdict failed"
# Every library libverdict.so links must come with a static link (but the
# C library and the sanitizer runtimes, which the compiler adds itself).
for lib in $(readelf -d "$LIBDIR/libverdict.so" | sed -n 's/.*(NEEDED).*\[lib\(.*\)\.so.*\]/\1/p'); do
	case $lib in c | ld-linux* | asan | ubsan | tsan) continue ;; esac
	[[ " $static " == *" -l$lib "* ]] || fail "libverdict.so links lib$lib, --static --libs lacks -l$lib: $static"
done
[[ " $static " == *" -lpthread "* ]] || fail "--static --libs lacks -lpthread: $static"

step "libverdict.so exports exactly libverdict.map's global names"
nm -D --defined-only "$LIBDIR/libverdict.so" |
	awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' | sort -u >"$WORK/exported"
awk '/global:/ { g = 1; next } /local:|}/ { g = 0 }
	g && /^[ \t]*[A-Za-z_][A-Za-z0-9_]*[ \t]*;/ { sub(/^[ \t]*/, ""); sub(/[ \t]*;.*/, ""); print }' \
	"$VD_SOURCE_DIR/engine/lib/libverdict.map" | sort -u >"$WORK/public"
[ -s "$WORK/public" ] || fail "no global names in libverdict.map"
extra=$(comm -23 "$WORK/exported" "$WORK/public" | tr '\n' ' ')
[ -z "$extra" ] || fail "exported but not in libverdict.map: $extra"
missing=$(comm -13 "$WORK/exported" "$WORK/public" | tr '\n' ' ')
[ -z "$missing" ] || fail "in libverdict.map but not exported: $missing"

step "build the README's C library example with pkg-config"
extract queue >"$WORK/example_queue.c" ||
	fail "README.md has no <!-- example:queue --> ... <!-- /example:queue --> code block"
read -r -a pc_flags <<<"$flags"
"$CC" -Wall -Werror "${EXTRA_CFLAGS[@]}" "$WORK/example_queue.c" -o "$WORK/example_queue" \
	"${pc_flags[@]}" 2>"$WORK/cc.err" || fail "$(cat "$WORK/cc.err")"
read -r -a pc_flags <<<"$(pkg-config --cflags --static --libs libverdict)"
"$CC" -Wall -Werror "${EXTRA_CFLAGS[@]}" "$WORK/example_queue.c" -o "$WORK/example_queue_static_flags" \
	"${pc_flags[@]}" 2>"$WORK/cc.err" || fail "with --static --libs: $(cat "$WORK/cc.err")"
so=$(LD_LIBRARY_PATH=$LIBDIR ldd "$WORK/example_queue" | awk '$1 ~ /^libverdict\.so/ { print $3 }')
[ -n "$so" ] && [[ $(realpath "$so") == "$LIBDIR"/* ]] ||
	fail "the example does not load the installed libverdict.so (ldd says \"$so\")"

step "build the README's plugin example with pkg-config"
extract plugin >"$WORK/readme_plugin.c" ||
	fail "README.md has no <!-- example:plugin --> ... <!-- /example:plugin --> code block"
read -r -a pc_flags <<<"$(pkg-config --cflags libverdict)"
"$CC" -shared -fPIC -Wall -Werror "${pc_flags[@]}" "$WORK/readme_plugin.c" \
	-o "$WORK/readme_plugin.so" 2>"$WORK/cc.err" || fail "$(cat "$WORK/cc.err")"
# The eval function: declared with VD_HOOK_EVAL(NAME) (hook ABI 2), or
# exported by hand.
symbol=$(sed -n -e 's/^VD_HOOK_EVAL(\([A-Za-z0-9_]*\));.*/\1/p' \
	-e 's/.*VD_HOOK_EXPORT struct vd_verdict \([A-Za-z0-9_]*\)(.*/\1/p' \
	"$WORK/readme_plugin.c" | head -n 1)
[ -n "$symbol" ] || fail "no VD_HOOK_EVAL(NAME) or VD_HOOK_EXPORT struct vd_verdict NAME( in the plugin example"

step "installed verdictd --check loads the plugin by absolute path"
cat >"$WORK/plugin.lua" <<EOF
return { default = "accept", rules = {
  { name = "readme-plugin", proto = "udp", plugin = "$WORK/readme_plugin.so", symbol = "$symbol" },
} }
EOF
out=$("$PREFIX/bin/verdictd" --check "$WORK/plugin.lua" 2>&1) || fail "refused: $out"
grep -q '(0 lua, 1 plugin)' <<<"$out" || fail "no plugin rule in: $out"

step "installed verdictd finds synguard.so in its installed plugin directory"
cat >"$WORK/synguard.lua" <<'EOF'
return { default = "accept", rules = {
  { name = "syn", proto = "tcp", plugin = "synguard.so", symbol = "synguard_eval", args = "rate=20,burst=40" },
} }
EOF
# From $WORK, the rules file's own directory, so only the installed
# directory (relative to the binary) can provide synguard.so.
out=$(cd "$WORK" && "$PREFIX/bin/verdictd" --check synguard.lua 2>&1) || fail "refused: $out"

step "the C library example judges packets in a private network namespace"
[ "$(id -u)" -eq 0 ] || skip "needs root for a network namespace (every step before passed)"
for tool in ip iptables timeout; do
	command -v "$tool" >/dev/null || skip "$tool is not installed (every step before passed)"
done
QNUM=$(sed -n 's/.*\.queue_num = \([0-9][0-9]*\).*/\1/p' "$WORK/example_queue.c" | head -n 1)
[ -n "$QNUM" ] || fail "no \".queue_num = N\" in the README example"
NS="vdt-install-$$"
ns() { ip netns exec "$NS" "$@"; }
# counter CHAIN MATCH: packets of the rule in CHAIN whose line has MATCH.
counter() { ns iptables -L "$1" -n -v -x | awk -v m="$2" 'index($0, m) { print $1; exit }'; }
queue_line() { ns awk -v q="$QNUM" '$1 == q' /proc/net/netfilter/nfnetlink_queue 2>/dev/null || true; }
ip netns add "$NS"
ns ip link set lo up
# No --queue-bypass: what arrives was accepted by the example. The INPUT
# rules only count what got through.
ns iptables -A OUTPUT -o lo -p udp --dport 5000 -j NFQUEUE --queue-num "$QNUM"
ns iptables -A OUTPUT -o lo -p tcp --dport 23 -j NFQUEUE --queue-num "$QNUM"
ns iptables -A INPUT -i lo -p udp --dport 5000
ns iptables -A INPUT -i lo -p tcp --dport 23

# Not through ns(): $! must be the example itself (ip netns exec execs it).
LD_LIBRARY_PATH=$LIBDIR ip netns exec "$NS" "$WORK/example_queue" \
	>"$WORK/example.out" 2>"$WORK/example.err" &
EXAMPLE_PID=$!
for _ in $(seq 100); do
	[ -n "$(queue_line)" ] && break
	kill -0 "$EXAMPLE_PID" 2>/dev/null || fail "the example exited early: $(cat "$WORK/example.err")"
	sleep 0.05
done
[ -n "$(queue_line)" ] || fail "queue $QNUM not bound 5 s after the example started"

N=10
ns bash -c "for i in \$(seq $N); do echo \"packet \$i\" >/dev/udp/127.0.0.1/5000; done"
for _ in $(seq 100); do
	[ "$(counter INPUT 'udp dpt:5000')" -ge "$N" ] && break
	sleep 0.05
done
got=$(counter INPUT 'udp dpt:5000')
[ "$got" -eq "$N" ] || fail "$got of $N UDP packets accepted through queue $QNUM"
# The example drops TCP port 23: a connection times out instead of being refused.
status=0
ns timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/23' 2>/dev/null || status=$?
[ "$status" -eq 124 ] || fail "connecting to port 23 ended with status $status, not a time-out (124): the SYN was not dropped"
[ "$(counter OUTPUT 'tcp dpt:23')" -ge 1 ] || fail "no SYN to port 23 was queued"
got=$(counter INPUT 'tcp dpt:23')
[ "$got" -eq 0 ] || fail "$got packets to port 23 got through"
seen=$(queue_line | awk '{ print $8 }')
[ "$seen" -ge $((N + 1)) ] || fail "the kernel gave queue $QNUM $seen packets, want at least $((N + 1))"

step "the C library example exits on SIGTERM"
kill -TERM "$EXAMPLE_PID"
timeout 2 tail --pid="$EXAMPLE_PID" -s 0.05 -f /dev/null || fail "still running 2 s after SIGTERM"
status=0
wait "$EXAMPLE_PID" || status=$?
EXAMPLE_PID=""
# 143: killed by SIGTERM (the example installs no handler); 0: it stopped itself.
[ "$status" -eq 0 ] || [ "$status" -eq 143 ] ||
	fail "exited with status $status: $(cat "$WORK/example.err")"
[ -z "$(queue_line)" ] || fail "queue $QNUM still bound after the example exited"

echo "PASS: installed into $PREFIX; the README examples built with pkg-config and ran; $N packets accepted, port 23 dropped"
