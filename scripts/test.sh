#!/usr/bin/env bash
# test.sh - install what is missing, build, and run every test with ctest:
#   1. a normal build: unit and network-namespace tests;
#   2. ASan+UBSan: the whole suite again (but a few namespace tests whose
#      time is traffic or packaging: see below);
#   3. TSan: the concurrency tests (label "concurrency");
#   4. the fuzz targets (tests/fuzz), each a few seconds over its corpus under
#      ASan+UBSan, in build-fuzz with clang (scripts/fuzz.sh --ctest; skipped
#      with a message when clang with libFuzzer is missing);
#   5. scripts/bench.sh --quick on the normal build, to prove the benchmark
#      still runs (as root).
# Builds 2-4 compile in the background at idle priority while the suites
# before them run (see below).
# Namespace tests need root; without it ctest reports them as skipped.
# Set VD_TEST_QUICK=1 to run only step 1.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh

run_suite() { # DIR LABEL CTEST_ARGS...
	local dir=$1 label=$2
	shift 2
	echo "== $label =="
	# Two at a time: the namespace tests and the busiest unit tests hold
	# one lock (tests/CMakeLists.txt), the other unit tests fill the other core.
	(cd "$dir" && ctest --output-on-failure -j"$(nproc)" "$@")
}

scripts/build.sh build

# The sanitizer and fuzz builds compile in the background at idle priority
# (SCHED_IDLE: they take only the CPU time the tests leave; the namespace
# tests mostly wait on traffic and clocks), each build's output in its log.
# Each suite waits for its build; a failed build fails the run with its log.
idle() {
	if command -v chrt >/dev/null 2>&1; then chrt -i 0 "$@"; else nice -n 19 "$@"; fi
}
logs=$(mktemp -d)
bg_pid=""
cleanup_bg() {
	if [ -n "$bg_pid" ]; then kill -- -"$bg_pid" 2>/dev/null || kill "$bg_pid" 2>/dev/null || true; fi
	rm -rf "$logs"
}
trap cleanup_bg EXIT
if [ "${VD_TEST_QUICK:-0}" != 1 ]; then
	set -m # the builds get a process group of their own, killed on exit
	(
		set +m
		build_one() {
			case $1 in
			asan) idle scripts/build.sh build-asan -DVD_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug ;;
			tsan) idle scripts/build.sh build-tsan -DVD_TSAN=ON -DCMAKE_BUILD_TYPE=Debug ;;
			fuzz) idle scripts/fuzz.sh --build ;;
			esac
		}
		for b in asan tsan fuzz; do
			if build_one "$b" >"$logs/$b.log" 2>&1; then
				touch "$logs/$b.ok"
			else
				touch "$logs/$b.failed"
			fi
		done
	) &
	bg_pid=$!
	set +m
fi

# wait_build NAME: until the background build NAME is done; fails with its log.
wait_build() {
	while [ ! -e "$logs/$1.ok" ] && [ ! -e "$logs/$1.failed" ]; do
		if ! kill -0 "$bg_pid" 2>/dev/null && [ ! -e "$logs/$1.ok" ]; then
			touch "$logs/$1.failed" # the builder is gone: nothing more comes
			break
		fi
		sleep 1
	done
	if [ -e "$logs/$1.failed" ]; then
		cat "$logs/$1.log" >&2
		echo "test.sh: the $1 build failed (its output above)" >&2
		exit 1
	fi
	tail -n 1 "$logs/$1.log"
}

run_suite build "tests (normal build)"

if [ "${VD_TEST_QUICK:-0}" != 1 ]; then
	wait_build asan
	# Sanitized daemons release held packets later than the 2 ms / 8 ms the
	# delay tests allow a normal build (p99 measured up to about 60 ms).
	# The shaping and rewrite namespace tests' time is traffic (35 s of the
	# pass): their C paths run under ASan in the unit tests (test_edit,
	# test_queue_answer(_edit), test_rule_shape, test_rule_rewrite) and delay.sh.
	# Also left to the normal build: the install and systemd checks
	# (packaging, no daemon code of their own) and the nft text tests
	# (firewall_nft, offload_nft: their writers run under ASan in
	# test_firewall and test_firewall_offload). 2,000 table swaps, not
	# 10,000, in test_rules_reload.
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		DELAY_P50_LATE_US=20000 DELAY_P99_LATE_US=150000 VT_RELOAD_SWAPS=2000 \
		run_suite build-asan "tests under ASan+UBSan" \
		-E '^(netns_(shaping|rewrite|firewall_nft|offload_nft)|install|systemd_unit)$'

	wait_build tsan
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
		DELAY_P50_LATE_US=20000 DELAY_P99_LATE_US=150000 VT_RELOAD_SWAPS=2000 \
		run_suite build-tsan "concurrency tests under TSan" -L concurrency

	wait_build fuzz
	echo "== fuzz targets, briefly, under ASan+UBSan =="
	scripts/fuzz.sh --ctest

	if [ "$(id -u)" -eq 0 ]; then
		echo "== benchmark, quick run (numbers not meaningful) =="
		out=$(mktemp -d)
		BENCH_BUILD_DIR=build scripts/bench.sh --quick --out "$out/bench.json"
		rm -rf "$out"
	fi
fi
