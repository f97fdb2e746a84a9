#!/usr/bin/env bash
# Builds and runs hgqc's CMVM optimiser on da4ml's matrices beside da4ml's figures; prints a
# markdown table. Usage: da4ml.sh [N...] (default 8 16 32). Matrices and figures are read from
# ../shared/bench/da4ml-cmvm (or $HGQC_DA4ML_DIR), never copied into the repository.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${HGQC_BENCH_BUILD:-$root/build-bench}"
dir="${HGQC_DA4ML_DIR:-$root/../shared/bench/da4ml-cmvm}"
[ -d "$dir" ] || { echo "da4ml.sh: $dir not found" >&2; exit 2; }
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DHGQC_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j"${JOBS:-2}" --target hgqc_cmvm_da4ml >/dev/null
"$build/bench/hgqc_cmvm_da4ml" "$dir" "$@"
