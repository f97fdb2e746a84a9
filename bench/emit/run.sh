#!/usr/bin/env bash
# Emission benchmark: for each model, emit-verilog with hgqc's adder-graph sharing and with
# plain CSD (--no-share) in the same run, then (unless VERIFY=0) hgqc verify of the shared
# design with 100000 vectors. Prints a markdown table: emit time, adders, estimated LUTs,
# latency, the ratio to plain CSD, and the Verilator build and simulation times.
#   bench/emit/run.sh [BUILD_DIR]   (default build/; VERIFY=0 skips verification)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
H=$build/hgqc
out=$build/bench-emit
rm -rf "$out"
mkdir -p "$out"
shared=../shared/models

models=()
$H -q quantize testdata/torch/residual.onnx --data testdata/torch/residual_calib.npy --bits 6,8 \
  -o "$out/residual_w6a8.onnx" >/dev/null
models+=("residual_w6a8|$out/residual_w6a8.onnx|testdata/torch/residual_calib.npy|2")
$H -q quantize testdata/torch/cnn_relu.onnx --data testdata/torch/cnn_relu_calib.npy --bits 8,8 \
  -o "$out/cnn_relu_w8a8.onnx" >/dev/null
models+=("cnn_relu_w8a8|$out/cnn_relu_w8a8.onnx|testdata/torch/cnn_relu_calib.npy|3")
if [ -d "$shared" ]; then
  $H -q quantize $shared/example-models/three_layer_keras.onnx --data testdata/fixed/jet_x.npy \
    --bits 8,8 -o "$out/jet_w8a8.onnx" >/dev/null
  models+=("jet_w8a8 (three_layer_keras)|$out/jet_w8a8.onnx|testdata/fixed/jet_x.npy|0")
  models+=("qkeras_jettagging|$shared/qonnx-zoo/qkeras_jettagging.onnx||0")
fi

echo "| model | emit s | adders | LUTs (est.) | latency (levels/stage) | plain CSD adders | plain CSD LUTs | LUT ratio | verify build s | verify sim s | mismatches |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for m in "${models[@]}"; do
  IFS='|' read -r name file data depth <<<"$m"
  args=()
  [ "$depth" != 0 ] && args=(--max-adder-depth "$depth")
  dir="$out/$(echo "$name" | cut -d' ' -f1)"
  t0=$(date +%s.%N)
  s=$($H -q emit-verilog "$file" -o "$dir/rtl" --top dut "${args[@]}")
  t1=$(date +%s.%N)
  p=$($H -q emit-verilog "$file" -o "$dir/csd" --top dut --no-share "${args[@]}")
  tot=$(echo "$s" | awk '$1=="total"{print $2, $4}')
  csd=$(echo "$p" | awk '$1=="total"{print $2, $4}')
  lat=$(echo "$s" | sed -n 's/^latency \([0-9]*\) cycle.*(\([0-9]*\) per stage).*/\1 (\2)/p')
  read -r add lut <<<"$tot"
  read -r cadd clut <<<"$csd"
  ratio=$(awk -v a="$lut" -v b="$clut" 'BEGIN{printf "%.3f", a/b}')
  vb="-" vs="-" mm="-"
  if [ "${VERIFY:-1}" != 0 ]; then
    dargs=()
    [ -n "$data" ] && dargs=(--data "$data")
    v=$($H -q verify "$dir/rtl" --model "$file" "${dargs[@]}" 2>&1 || true)
    vb=$(echo "$v" | sed -n 's/.*build \([0-9.]*\) s.*/\1/p')
    vs=$(echo "$v" | sed -n 's/.*simulation \([0-9.]*\) s.*/\1/p')
    mm=$(echo "$v" | grep -q '^0 mismatches' && echo 0 || echo "FAILED")
  fi
  printf "| %s | %.2f | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n" "$name" \
    "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b - a}')" "$add" "$lut" "$lat" "$cadd" "$clut" "$ratio" "$vb" "$vs" "$mm"
done
