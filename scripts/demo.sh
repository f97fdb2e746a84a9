#!/usr/bin/env bash
# The main-job command of the README: installs the dependencies, builds hgqc, and runs the whole
# flow on the bundled default: HGQ training of an MLP on 2x2-pooled Fashion-MNIST images
# (testdata/torch/fmnist_pool_mlp.onnx: AveragePool 2x2, then 196-32-10; freshly initialised),
# then the smallest model of the Pareto front within one point of the best one is emitted as
# pipelined Verilog, verified bit for bit under Verilator and synthesized with Yosys (Xilinx,
# out of context). It prints the front, the design's size and latency, and a final QoR row (the
# columns of bench/qor).
# After that it shows the other commands on smaller bundled models: float evaluation against
# PyTorch, and uniform post-training quantization of a CNN (8 and 4/6 bits) run in the integer
# emulator.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build
D=/usr/share/datasets/fashion-mnist
out=build/demo
model_in=testdata/torch/fmnist_pool_mlp.onnx
rm -rf $out/hgq $out/rtl_hgq
mkdir -p $out
echo
echo "== hgqc train $model_in on Fashion-MNIST (60000 images; validation: the 10000 test images)"
build/hgqc train $model_in \
  --data $D/train-images-idx3-ubyte.gz --targets $D/train-labels-idx1-ubyte.gz \
  --val $D/t10k-images-idx3-ubyte.gz --val-targets $D/t10k-labels-idx1-ubyte.gz \
  -o $out/hgq --epochs 8 --batch 256 --lr 3e-3 --threads "$(nproc)" --normalize scale \
  --beta-schedule log --beta0 2e-7 --beta1 2e-4
# (--cost luts, the default: beta twice that of an EBOPs loss, whose gradients are about twice
# as large; docs/training.md, "LUT cost".)
# The smallest front model (estimated LUTs) within one point of the front's best accuracy.
pick=$(awk -F, 'NR > 1 { acc[NR] = $5; eb[NR] = $7; lut[NR] = $9; f[NR] = $1; if ($5 > best) best = $5 }
  END { for (i in acc) if (acc[i] >= best - 0.01 && (m == "" || lut[i] < lut[m])) m = i;
        print f[m], acc[m], eb[m] }' $out/hgq/front.csv)
read -r model acc ebops <<<"$pick"
echo
echo "== hgqc emit-verilog $out/hgq/$model (3 adder levels per pipeline stage)"
build/hgqc emit-verilog $out/hgq/$model -o $out/rtl_hgq --top fmnist_mlp --max-adder-depth 3
echo
echo "== hgqc verify $out/rtl_hgq (Verilator, 100000 vectors: test images, images x2, random)"
build/hgqc verify $out/rtl_hgq --model $out/hgq/$model --data $D/t10k-images-idx3-ubyte.gz
grep -q '"mismatched_vectors": 0' $out/rtl_hgq/mismatches.json
echo
echo "== hgqc synth $out/rtl_hgq (Yosys synth_xilinx, out of context)"
build/hgqc synth $out/rtl_hgq
rep=$out/rtl_hgq/report.json
num() { grep -o "\"$1\": [0-9]*" "$rep" | tail -1 | awk '{print $2}'; }
echo
echo "== summary"
echo "| model | data set | accuracy (emulator = Verilog) | EBOPs | LUTs (est.) | Yosys LUTs | FFs | pipeline cycles | logic levels | verify |"
echo "|---|---|---|---|---|---|---|---|---|---|"
echo "| $model_in, HGQ $model | Fashion-MNIST (10k test images) | $acc | $ebops | $(num luts_estimate) |" \
  "$(num luts) | $(num ffs) | $(num latency_cycles) | $(num logic_levels) | 0 of 100000 vectors differ |"

m=testdata/torch/mlp
echo
echo "== hgqc inspect $m.onnx"
build/hgqc inspect $m.onnx
echo
echo "== hgqc run $m.onnx on 8 samples, compared with PyTorch's outputs"
build/hgqc run $m.onnx --input ${m}_input.npy --compare ${m}_output.npy --rtol 1e-5 --atol 1e-6
c=testdata/torch/cnn_relu
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
