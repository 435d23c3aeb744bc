#!/usr/bin/env bash
# build.sh - configure and build verdictd in one build directory.
# Usage: scripts/build.sh [DIR] [CMAKE_OPTION...]   (default DIR: build)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
cmake -S . -B "$dir" "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)"
