#!/usr/bin/env bash
# The main-job command of the README: installs the dependencies, builds hgqc, and runs it on
# the bundled default model (a 16-64-32-32-5 jet-tagger-shaped MLP exported from PyTorch):
# import and normalise it, print the graph, evaluate a batch and check it against PyTorch.
# Then it quantizes a bundled CNN uniformly (8 and 4/6 bits) from calibration data, prints its
# fixed-point ranges and EBOPs, runs it in the exact integer emulator, emits the 8-bit model as
# pipelined Verilog and verifies it bit for bit under Verilator. (Training is not implemented yet.)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build
m=testdata/torch/mlp
echo
echo "== hgqc inspect $m.onnx"
build/hgqc inspect $m.onnx
echo
echo "== hgqc run $m.onnx on 8 samples, compared with PyTorch's outputs"
build/hgqc run $m.onnx --input ${m}_input.npy --compare ${m}_output.npy --rtol 1e-5 --atol 1e-6
c=testdata/torch/cnn_relu
out=build/demo
mkdir -p $out
for bits in 8,8 4,6; do
  echo
  echo "== hgqc quantize $c.onnx --bits $bits (calibration: 256 samples; labels: the float model's argmax)"
  build/hgqc quantize $c.onnx --data ${c}_calib.npy --bits $bits --labels ${c}_calib_labels.npy \
    -o $out/cnn_relu_${bits/,/_}.onnx
done
echo
echo "== hgqc inspect $out/cnn_relu_8_8.onnx (fixed-point part)"
build/hgqc inspect $out/cnn_relu_8_8.onnx | sed -n '/^fixed point/,$p'
for bits in 8_8 4_6; do
  echo
  echo "== hgqc run --fixed $out/cnn_relu_$bits.onnx (exact integer emulator)"
  build/hgqc run --fixed $out/cnn_relu_$bits.onnx -i ${c}_calib.npy --labels ${c}_calib_labels.npy \
    --trace-overflow | tail -3
done
echo
echo "== hgqc emit-verilog $out/cnn_relu_8_8.onnx (3 adder levels per pipeline stage)"
build/hgqc emit-verilog $out/cnn_relu_8_8.onnx -o $out/rtl --max-adder-depth 3
echo
echo "== hgqc verify $out/rtl (Verilator, 100000 vectors: calibration rows, rows x2, random)"
build/hgqc verify $out/rtl --model $out/cnn_relu_8_8.onnx --data ${c}_calib.npy
