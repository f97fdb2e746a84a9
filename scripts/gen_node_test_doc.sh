#!/usr/bin/env bash
# Regenerates docs/onnx-node-tests.md from the importer's verdict on every ONNX node test.
# Usage: scripts/gen_node_test_doc.sh [BUILD_DIR]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
root=/usr/share/libonnx-testdata/data/node
cmake --build "$build" --target hgqc_node_test -j"$(nproc)" >/dev/null
tmp=$(mktemp docs/.onnx-node-tests.md.XXXXXX)
trap 'rm -f "$tmp"' EXIT
rc=0
"$build"/tests/onnx_node/hgqc_node_test --markdown "$root" >"$tmp" || rc=$?
mv "$tmp" docs/onnx-node-tests.md
trap - EXIT
grep -m1 '^Supported:' docs/onnx-node-tests.md
exit $rc
