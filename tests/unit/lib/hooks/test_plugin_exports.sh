#!/usr/bin/env bash
# test_plugin_exports.sh - what verdictd exports to the plugins it loads
# (include/verdict/hook.h): exactly the functions of
# engine/daemon/plugin_exports.list (the packet editor), and with them a
# plugin that rewrites (rules/plugins/patch.so) loads in "verdictd --check";
# one that calls another libverdict function does not.
#
# Environment: VERDICTD, PLUGIN_EXPORTS (the list file), PATCH_SO,
# NEEDS_LIB_SO (a test plugin calling vd_packet_parse). Exit 0 passed,
# 1 failed, 77 skipped (nm missing).
set -euo pipefail

: "${VERDICTD:?}" "${PLUGIN_EXPORTS:?}" "${PATCH_SO:?}" "${NEEDS_LIB_SO:?}"
command -v nm >/dev/null || { echo "SKIP: nm not found"; exit 77; }
dir=$(mktemp -d /tmp/vd-plugin-exports.XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# Defined functions in the dynamic symbol table (libc's copy-relocated
# variables, type B, are not ours).
nm -D --defined-only "$VERDICTD" | awk '$2 ~ /^[TtWi]$/ { print $3 }' | sort >"$dir/exported"
sed -n 's/^[[:space:]]*\(vd_[a-z0-9_]*\);.*/\1/p' "$PLUGIN_EXPORTS" | sort >"$dir/wanted"
[ -s "$dir/wanted" ] || fail "no names read from $PLUGIN_EXPORTS"
diff -u "$dir/wanted" "$dir/exported" || fail "verdictd exports other functions than $PLUGIN_EXPORTS"

rules() { # NAME PLUGIN SYMBOL ARGS
	printf 'return { rules = { { name = "%s", proto = "udp", plugin = "%s", symbol = "%s", args = "%s" } } }\n' \
		"$1" "$2" "$3" "$4" >"$dir/$1.lua"
	echo "$dir/$1.lua"
}
out=$("$VERDICTD" --check "$(rules patch "$PATCH_SO" patch_eval find=PING,replace=PONG)" 2>&1) ||
	fail "verdictd --check with patch.so: $out"
grep -q "plugin $PATCH_SO:patch_eval" <<<"$out" || fail "--check output lacks the plugin: $out"
if out=$("$VERDICTD" --check "$(rules lib "$NEEDS_LIB_SO" needs_lib_eval "")" 2>&1); then
	fail "a plugin calling vd_packet_parse loaded: $out"
fi
grep -q "undefined symbol: vd_packet_parse" <<<"$out" || fail "needs_lib.so refused otherwise: $out"
echo "PASS: verdictd exports $(wc -l <"$dir/wanted") editor functions to plugins, and nothing else"
