#!/usr/bin/env bash
# The test command of the README (and of CI): installs the dependencies, builds, runs the
# whole test suite, then builds the suite again with AddressSanitizer + UndefinedBehavior-
# Sanitizer and runs it there too. It starts with the clang-format check of every C++ file.
#   scripts/test.sh            everything
#   HGQC_NO_SANITIZE=1 scripts/test.sh   skip the sanitizer build (quicker, local use)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc)

echo "== Format check"
scripts/check-format.sh

echo "== Release build and tests"
scripts/build.sh build
(cd build && ctest -j"$jobs" --output-on-failure &&
   grep -h '^fuzz: [0-9]* cases' Testing/Temporary/LastTest.log)

if [ "${HGQC_NO_SANITIZE:-0}" != 1 ]; then
  echo "== ASan/UBSan build and tests"
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHGQC_SANITIZE=ON >/dev/null
  cmake --build build-asan -j"$jobs"
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
     ctest -j"$jobs" --output-on-failure -LE cosim && \
     grep -h '^fuzz: [0-9]* cases' Testing/Temporary/LastTest.log && \
     ctest -j"$jobs" --output-on-failure -L cosim-asan)
fi
