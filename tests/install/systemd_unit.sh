#!/usr/bin/env bash
# systemd_unit.sh - the installed verdictd.service as systemd sees it, without
# starting it: "cmake --install" into a temporary prefix, then
# "systemd-analyze verify" on the installed unit passes silently (its
# binaries exist, its man: pages resolve in the installed man pages) and
# "systemd-analyze security --offline=yes" scores it 2.0 or lower. Also: its
# ExecReload reaches the control socket its ExecStart opens.
#
# Environment: VD_BUILD_DIR (a built tree); optional CMAKE.
# Exit status: 0 passed, 1 failed, 77 skipped (systemd-analyze missing).
set -euo pipefail

: "${VD_BUILD_DIR:?set VD_BUILD_DIR to the build directory to install}"
CMAKE=${CMAKE:-cmake}
MAX_EXPOSURE=2.0

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed"
command -v man >/dev/null || skip "man is not installed (verify checks the unit's man: pages)"

TMP=$(mktemp -d /tmp/vd-unit.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
PREFIX=$TMP/prefix
"$CMAKE" --install "$VD_BUILD_DIR" --prefix "$PREFIX" >"$TMP/install.log" 2>&1 ||
	fail "cmake --install: $(tail -n 5 "$TMP/install.log")"
UNIT=$PREFIX/lib/systemd/system/verdictd.service
[ -f "$UNIT" ] || fail "no lib/systemd/system/verdictd.service under $PREFIX"
grep -q "^ExecStart=$PREFIX/bin/verdictd " "$UNIT" ||
	fail "ExecStart does not run $PREFIX/bin/verdictd: $(grep ^ExecStart= "$UNIT")"

# The socket ExecStart gives --control is the one ExecReload's verdictctl uses.
control=$(sed -n 's/.*--control \([^ ]*\).*/\1/p' "$UNIT")
reload_socket=$(sed -n 's/^ExecReload=.*--socket \([^ ]*\).*/\1/p' "$UNIT")
[ -n "$control" ] && [ "$control" = "$reload_socket" ] ||
	fail "ExecStart's --control \"$control\" is not ExecReload's --socket \"$reload_socket\""
grep -q "^ExecReload=$PREFIX/bin/verdictctl .* reload$" "$UNIT" ||
	fail "ExecReload is not the installed verdictctl's reload: $(grep ^ExecReload= "$UNIT")"

status=0
out=$(MANPATH=$PREFIX/share/man systemd-analyze verify "$UNIT" 2>&1) || status=$?
[ "$status" -eq 0 ] && [ -z "$out" ] || fail "systemd-analyze verify (status $status): $out"

out=$(systemd-analyze security --offline=yes "$UNIT" 2>&1) || fail "systemd-analyze security: $out"
score=$(sed -n 's/.*Overall exposure level for verdictd.service: \([0-9.]*\).*/\1/p' <<<"$out")
[ -n "$score" ] || fail "no overall exposure level in: $out"
awk -v s="$score" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(s <= m) }' ||
	fail "exposure $score is above $MAX_EXPOSURE: $(grep '✗' <<<"$out")"
echo "PASS: verify is silent; exposure $score (at most $MAX_EXPOSURE)"
