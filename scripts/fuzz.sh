#!/usr/bin/env bash
# fuzz.sh - build the libFuzzer targets of tests/fuzz and run them.
#
#   scripts/fuzz.sh [--fast] [--runs N] [SECONDS] [TARGET...]
#                               run every target (or the TARGETs named: packet,
#                               edit, hook, nfq_message, nflog_message, capture, rules,
#                               control_command, offload_dump) SECONDS
#                               (default 600), or
#                               until it has executed N inputs (--runs; what
#                               comes first), up to nproc at a time
#                               (VD_FUZZ_JOBS to change; a target gets
#                               several processes when there are more jobs
#                               than targets, its executions summed), then:
#                               - merge what they found into tests/fuzz/corpus/<target>
#                                 (-merge=1: only inputs that add coverage);
#                               - keep every crash, timeout or leak input in
#                                 tests/fuzz/findings/<target>/;
#                               - print the executions per target.
#                               --fast fuzzes a build with UBSan but not ASan
#                               (build-fuzz-fast; the rules target, which runs
#                               Lua, goes about seven times faster) and still
#                               merges with the ASan+UBSan build, so that every
#                               input kept in the corpus has run under ASan.
#   scripts/fuzz.sh --ctest     build, then the short CI pass (ctest -L fuzz:
#                               each target a few seconds over its corpus).
#   scripts/fuzz.sh --build     only build (scripts/test.sh, ahead of --ctest).
#
# A long run on a shared machine belongs at idle priority, which every
# process it starts inherits: chrt -i 0 scripts/fuzz.sh --runs 10000000 3600.
# To end a target early, send SIGTERM to its fuzz_<target> process: libFuzzer
# prints its count and exits 72, and the target's run ends there (its new
# inputs are still merged, its executions counted).
# Two runs on different targets may share the build directory; each clears
# only its targets' logs (build-fuzz/fuzz-run/<target>/).
#
# Before fuzzing, every input in tests/fuzz/findings/ runs once more: one that
# no longer fails (its fix is in) moves to tests/fuzz/corpus/<target>/, where
# it stays as a regression seed for every later run, CI's included.
#
# Needs clang with libFuzzer (Debian: clang-14 and libclang-rt-14-dev, which
# scripts/deps.sh installs); VD_FUZZ_CC names another compiler. Without one it
# says so and exits 0. Build directory: build-fuzz.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGETS=(packet edit hook nfq_message nflog_message capture rules control_command offload_dump)
BUILD=build-fuzz
SRC=tests/fuzz

usage() {
	echo "usage: $0 [--fast] [--runs N] [SECONDS] [TARGET...] | --ctest | --build" >&2
	echo "targets: ${TARGETS[*]}" >&2
	exit 2
}

# Options first, so that a typo is refused before the build.
build_only=0 ctest=0 fast=0 runs='' seconds=600 selected=()
while [ $# -gt 0 ]; do
	case $1 in
	--ctest) ctest=1 ;;
	--build) build_only=1 ;;
	--fast) fast=1 ;;
	--runs)
		if [ $# -lt 2 ] || ! [[ $2 =~ ^[1-9][0-9]*$ ]]; then usage; fi
		runs=$2
		shift
		;;
	[0-9]*)
		[[ $1 =~ ^[1-9][0-9]*$ ]] || usage
		seconds=$1
		;;
	*)
		[[ " ${TARGETS[*]} " == *" $1 "* ]] || usage
		selected+=("$1")
		;;
	esac
	shift
done
[ ${#selected[@]} -gt 0 ] || selected=("${TARGETS[@]}")

find_cc() {
	local cc
	for cc in ${VD_FUZZ_CC:-} clang-14 clang; do
		command -v "$cc" >/dev/null 2>&1 || continue
		# libFuzzer is a separate package on Debian: try a link.
		if echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' |
			"$cc" -fsanitize=fuzzer -x c - -o /dev/null 2>/dev/null; then
			echo "$cc"
			return 0
		fi
	done
	return 1
}

if ! cc=$(find_cc); then
	echo "fuzz: skipped: no clang with libFuzzer (install clang-14 and libclang-rt-14-dev," \
		"or set VD_FUZZ_CC)"
	exit 0
fi

build() { # DIR SANITIZERS
	echo "fuzz: building $1 with $cc ($2)"
	cmake -S . -B "$1" -DCMAKE_C_COMPILER="$cc" -DVD_FUZZ=ON -DVD_FUZZ_SANITIZERS="$2" \
		-DVD_BUILD_TESTS=OFF -DVD_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$1" -j"$(nproc)" >/dev/null
}
build "$BUILD" address,undefined
[ "$build_only" -eq 0 ] || exit 0
# FUZZ_BUILD runs the fuzzing; BUILD (ASan+UBSan) the rechecks and merges.
FUZZ_BUILD=$BUILD
if [ "$fast" -eq 1 ]; then
	FUZZ_BUILD=build-fuzz-fast
	build "$FUZZ_BUILD" undefined
fi

if [ "$ctest" -eq 1 ]; then
	(cd "$BUILD" && ctest --output-on-failure -L fuzz -j"$(nproc)")
	exit
fi

jobs=${VD_FUZZ_JOBS:-$(nproc)}
run=$BUILD/fuzz-run
mkdir -p "$run/recheck"

dict_arg() { # TARGET
	if [ -f "$SRC/dict/$1.dict" ]; then echo "-dict=$SRC/dict/$1.dict"; fi
}

# Known findings first: those that pass now are regression seeds. The
# targets' skips of known findings are off (FUZZ_NO_SKIP) for this check, and
# each input runs 20 times: a heap corruption may fail only some runs.
for t in "${selected[@]}"; do
	for f in "$SRC/findings/$t"/*; do
		[ -f "$f" ] || continue
		if FUZZ_NO_SKIP=1 timeout 60 "$BUILD/tests/fuzz/fuzz_$t" -timeout=10 -runs=20 \
			-artifact_prefix="$run/recheck/" "$f" >/dev/null 2>&1; then
			mkdir -p "$SRC/corpus/$t"
			mv "$f" "$SRC/corpus/$t/"
			echo "fuzz: $t: $(basename "$f") passes now: moved to $SRC/corpus/$t/"
		else
			echo "fuzz: $t: $(basename "$f") still fails (reproduce: FUZZ_NO_SKIP=1" \
				"$BUILD/tests/fuzz/fuzz_$t $f)"
		fi
	done
done

# Seed directories besides corpus/TARGET: the shipped example rules files,
# read where users find them (tests/fuzz/CMakeLists.txt names the same).
seed_dirs() { # TARGET
	if [ "$1" = rules ]; then echo "rules bench/rules"; fi
}

# Executions in a target's log: each libFuzzer run ends with its count, a
# crash's or an interrupted run's included.
executions() { # LOG...
	local logs=()
	for f in "$@"; do [ -f "$f" ] && logs+=("$f"); done
	if [ ${#logs[@]} -gt 0 ]; then
		awk '/^stat::number_of_executed_units:/ { n += $2 } END { print n + 0 }' "${logs[@]}"
	else
		echo 0
	fi
}

# One libFuzzer process of a target, SECONDS long or N executions. A crash,
# a timeout or a leak ends libFuzzer's run (its input kept in the run's
# artifacts): start it again for the time and executions left, so that one
# finding does not end the search; an interrupted run (exit 72) is not
# started again. New inputs go to the run's own corpus (shared by the
# target's processes); the tree's is merged at the end.
fuzz_proc() { # TARGET LOG RUNS
	local t=$1 dir=$run/$1 log=$2 want=$3 left=$seconds start done=0 status
	while [ "$left" -gt 0 ] && { [ -z "$want" ] || [ "$done" -lt "$want" ]; }; do
		start=$SECONDS
		status=0
		# shellcheck disable=SC2046
		"$FUZZ_BUILD/tests/fuzz/fuzz_$t" -max_total_time="$left" ${want:+-runs=$((want - done))} \
			-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 $(dict_arg "$t") \
			-artifact_prefix="$dir/artifacts/" "$dir/corpus" "$SRC/corpus/$t" \
			$(seed_dirs "$t") >>"$log" 2>&1 || status=$?
		left=$((left - (SECONDS - start > 0 ? SECONDS - start : 1)))
		done=$(executions "$log")
		if [ "$status" -eq 72 ]; then
			echo "fuzz: $t: a process was interrupted after $done executions"
			break
		fi
	done
}

# One target: PROCS processes, the executions (--runs) split among them.
fuzz_one() { # TARGET PROCS
	local t=$1 procs=$2 dir=$run/$1 k
	rm -rf "$dir"
	mkdir -p "$dir/corpus" "$dir/artifacts"
	for ((k = 1; k <= procs; k++)); do
		fuzz_proc "$t" "$dir/log.$k" "${runs:+$(((runs + procs - k) / procs))}" &
	done
	wait
}

echo "fuzz: ${selected[*]}: ${seconds}s each${runs:+ or $runs executions}, $jobs at a time;" \
	"logs in $run/<target>/log.N"
procs=$((jobs / ${#selected[@]}))
[ "$procs" -ge 1 ] || procs=1
running=0
for t in "${selected[@]}"; do
	fuzz_one "$t" "$procs" &
	running=$((running + procs))
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - procs))
	fi
done
wait

printf '%-14s %14s %8s %9s\n' target executions "new seeds" findings
status=0
for t in "${selected[@]}"; do
	dir=$run/$t
	execs=$(executions "$dir"/log.*)
	before=$(find "$SRC/corpus/$t" -type f | wc -l)
	# shellcheck disable=SC2046
	"$BUILD/tests/fuzz/fuzz_$t" -merge=1 -timeout=10 $(dict_arg "$t") \
		-artifact_prefix="$dir/artifacts/" "$SRC/corpus/$t" "$dir/corpus" >"$dir/merge.log" 2>&1 || true
	after=$(find "$SRC/corpus/$t" -type f | wc -l)
	found=0
	for f in "$dir/artifacts"/*; do
		[ -f "$f" ] || continue
		# libFuzzer's -timeout is wall clock: at idle priority on a busy
		# machine a quick input can wait that long for a core. A timeout
		# (or a slow unit, libFuzzer's note of an input over 10 s) is kept
		# only when it times out again.
		if [[ $(basename "$f") == timeout-* || $(basename "$f") == slow-unit-* ]] &&
			"$FUZZ_BUILD/tests/fuzz/fuzz_$t" -timeout=10 -runs=3 "$f" >/dev/null 2>&1; then
			echo "fuzz: $t: $(basename "$f") ran within the timeout again: not kept" \
				"(starved?), left in $dir/artifacts/"
			continue
		fi
		mkdir -p "$SRC/findings/$t"
		cp "$f" "$SRC/findings/$t/"
		found=$((found + 1))
	done
	# The merge runs every new input under ASan+UBSan once: what only
	# that build reports shows in its log (its input is not kept there).
	if grep -qE '^==[0-9]+==ERROR|runtime error:|deadly signal' "$dir/merge.log"; then
		echo "fuzz: $t: the ASan+UBSan merge reported an error: see $dir/merge.log"
		found=$((found + 1))
	fi
	[ "$found" -eq 0 ] || status=1
	printf '%-14s %14s %8s %9s\n' "$t" "${execs:-?}" "$((after - before))" "$found"
done
if [ "$status" -ne 0 ]; then
	echo "fuzz: findings kept in $SRC/findings/<target>/ (logs: $run/<target>/log.N);" \
		"once fixed, the next run moves them to the corpus"
fi
exit "$status"
