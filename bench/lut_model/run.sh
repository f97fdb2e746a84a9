#!/usr/bin/env bash
# Calibration of the LUT model (lib/backend/lut_model.cpp) against Yosys: emits a spread of
# designs (uniform 4- to 8-bit post-training quantization, QONNX imports, a binary/ternary
# network, an HGQ-trained Fashion-MNIST MLP; pipelined and unpipelined), synthesizes each with
# `hgqc synth` (Yosys synth_xilinx, out of context), and fits the model's coefficients to the
# Yosys LUT counts (fit.py). Prints one row per design and the fit.
#   bench/lut_model/run.sh [BUILD_DIR] [WORK_DIR]     (JOBS=2: synthesis runs in parallel)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$here/../..
build=${1:-$root/build}
work=${2:-$(mktemp -d)}
hgqc=$build/hgqc
jobs=${JOBS:-2}
T=$root/testdata/torch
ex=$root/../shared/models/example-models
zoo=$root/../shared/models/qonnx-zoo
D=/usr/share/datasets/fashion-mnist
[ -x "$hgqc" ] || { echo "build hgqc first (scripts/build.sh)" >&2; exit 1; }
[ -d "$ex" ] || { echo "needs ../shared/models" >&2; exit 1; }
mkdir -p "$work"
cd "$work"
start=$(date +%s)

q() { "$hgqc" -q quantize "$1" --data "$2" --bits "$3" -o "$4" >/dev/null; }
q $T/residual.onnx $T/residual_calib.npy 6,8 res68.onnx
q $T/residual.onnx $T/residual_calib.npy 4,4 res44.onnx
q $ex/three_layer_keras.onnx $root/testdata/fixed/jet_x.npy 8,8 jet88.onnx
q $ex/three_layer_keras.onnx $root/testdata/fixed/jet_x.npy 4,6 jet46.onnx
q $T/cnn_relu.onnx $T/cnn_relu_calib.npy 4,6 cnn46.onnx
# An HGQ-trained model (the demo's default: 2x2 pool, 196-32-10 MLP, 8 epochs).
if [ ! -f hgq/epoch_0008.onnx ]; then
  "$hgqc" -q train $T/fmnist_pool_mlp.onnx --data $D/train-images-idx3-ubyte.gz \
    --targets $D/train-labels-idx1-ubyte.gz --val $D/t10k-images-idx3-ubyte.gz \
    --val-targets $D/t10k-labels-idx1-ubyte.gz -o hgq --epochs 8 --batch 256 --lr 3e-3 \
    --threads "$jobs" --normalize scale --beta-schedule log --beta0 1e-7 --beta1 1e-4 >/dev/null
fi
hgq=$(ls hgq/epoch_*.onnx | tail -1)

# name, model, emit options
designs=(
  "res68_d2|res68.onnx|--max-adder-depth 2"
  "res44_d3|res44.onnx|--max-adder-depth 3"
  "jet88_d2|jet88.onnx|--max-adder-depth 2"
  "jet88_one_stage|jet88.onnx|"
  "jet46_d3|jet46.onnx|--max-adder-depth 3"
  "qkeras_jettagging_d2|$zoo/qkeras_jettagging.onnx|--max-adder-depth 2"
  "TFC_2W2A_d2|$zoo/TFC_2W2A.onnx|--max-adder-depth 2"
  "cnn46_d3|cnn46.onnx|--max-adder-depth 3"
  "hgq_fmnist_pool_mlp_d3|$hgq|--max-adder-depth 3"
)
for d in "${designs[@]}"; do
  IFS='|' read -r name model opts <<<"$d"
  # shellcheck disable=SC2086
  "$hgqc" -q emit-verilog "$model" -o "rtl_$name" $opts >/dev/null
done
printf '%s\n' "${designs[@]}" | cut -d'|' -f1 |
  xargs -P "$jobs" -I{} sh -c "'$hgqc' -q synth rtl_{} > rtl_{}/synth.txt 2>&1 || { cat rtl_{}/synth.txt >&2; exit 255; }"
/usr/bin/python3 "$here/fit.py" $(printf '%s\n' "${designs[@]}" | cut -d'|' -f1 | sed 's/^/rtl_/')
echo "(bench/lut_model: $(( $(date +%s) - start )) s wall; designs in $work)"
