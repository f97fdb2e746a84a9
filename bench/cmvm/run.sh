#!/usr/bin/env bash
# Builds and runs the CMVM benchmark; prints a markdown table. Usage: run.sh [seeds] [seeds for N=64]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${HGQC_BENCH_BUILD:-$root/build-bench}"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DHGQC_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j"${JOBS:-2}" --target hgqc_cmvm_bench >/dev/null
"$build/bench/hgqc_cmvm_bench" "$@"
