#!/usr/bin/env bash
# The main-job command of the README: installs the dependencies, builds hgqc, and runs it on
# the bundled default model (a 16-64-32-32-5 jet-tagger-shaped MLP exported from PyTorch):
# import and normalise it, print the graph, evaluate a batch and check it against PyTorch.
# (Training, Verilog emission and Verilator verification are not implemented yet.)
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
