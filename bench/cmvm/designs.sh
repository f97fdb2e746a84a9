#!/usr/bin/env bash
# Estimated LUTs and adder depth of the co-simulation test designs (tests/cosim), as emitted by
# one hgqc binary: quantize where the test does, emit-verilog with the test's options, read
# report.json. Usage: designs.sh [path/to/hgqc] (default build/hgqc). Prints a markdown table.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
hgqc="$(realpath "${1:-$root/build/hgqc}")"
t="$root/testdata/torch"
ex="$root/../shared/models/example-models"
zoo="$root/../shared/models/qonnx-zoo"
jet_x="$root/testdata/fixed/jet_x.npy"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# name|model|calibration data (quantize 8,8 or the test's bits)|bits|emit options
designs=(
  "residual_depth1|$t/residual.onnx|$t/residual_calib.npy|6,8|--max-adder-depth 1"
  "residual_depth2|$t/residual.onnx|$t/residual_calib.npy|6,8|--max-adder-depth 2"
  "residual_one_stage|$t/residual.onnx|$t/residual_calib.npy|6,8|"
  "cnn_relu_w8a8|$t/cnn_relu.onnx|$t/cnn_relu_calib.npy|8,8|--max-adder-depth 3"
  "jet_w8a8_one_stage|$ex/three_layer_keras.onnx|$jet_x|8,8|"
  "jet_w8a8_depth2|$ex/three_layer_keras.onnx|$jet_x|8,8|--max-adder-depth 2"
  "qkeras_jettagging|$zoo/qkeras_jettagging.onnx|||--max-adder-depth 2"
  "TFC_2W2A|$zoo/TFC_2W2A.onnx|||--max-adder-depth 3"
)
echo "| design | LUT estimate | adders | latency (cycles) |"
echo "|---|---|---|---|"
for d in "${designs[@]}"; do
  IFS='|' read -r name model calib bits opts <<<"$d"
  [ -f "$model" ] || continue
  m="$model"
  if [ -n "$calib" ]; then
    m="$work/$name.onnx"
    "$hgqc" quantize "$model" --data "$calib" --bits "$bits" -o "$m" >/dev/null 2>"$work/log"
  fi
  # shellcheck disable=SC2086
  "$hgqc" emit-verilog "$m" -o "$work/$name" --top dut $opts >/dev/null 2>"$work/log"
  /usr/bin/python3 - "$work/$name/report.json" "$name" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
t = r.get("totals", {})
print(f"| {sys.argv[2]} | {t.get('luts_estimate')} | {t.get('adders', '')} | {r.get('latency_cycles', r.get('latency', ''))} |")
PY
done
