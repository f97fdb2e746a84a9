#!/usr/bin/env bash
# Fashion-MNIST: one `hgqc train` run with a rising beta against the same ReLU MLP (784-H-...-10,
# hidden sizes $HIDDEN, default 64,32)
# trained in float (PyTorch) and against `hgqc quantize` (uniform 8-bit) of that float model.
# Prints the float, 8-bit and Pareto-front figures (validation = the 10k test images) and
# checks the acceptance figures of issue 4: best front model within 1.5 points of float, and a
# front model with >= 10x fewer EBOPs than 8-bit at no more than 2 points below its accuracy.
#   bench/fashion_mnist/run.sh [BUILD_DIR] [WORK_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
work=${2:-$(mktemp -d)}
hgqc=$build/hgqc
D=/usr/share/datasets/fashion-mnist
[ -x "$hgqc" ] || { echo "build hgqc first (scripts/build.sh)" >&2; exit 1; }
[ -d $D ] || { echo "needs dataset-fashion-mnist" >&2; exit 1; }
mkdir -p "$work"
tr=(--data $D/train-images-idx3-ubyte.gz --targets $D/train-labels-idx1-ubyte.gz)
val=(--val $D/t10k-images-idx3-ubyte.gz --val-targets $D/t10k-labels-idx1-ubyte.gz)
test_x=$D/t10k-images-idx3-ubyte.gz
test_y=$D/t10k-labels-idx1-ubyte.gz
hidden=${HIDDEN:-64,32}

# 1. Float baseline (PyTorch, 30 epochs).
if [ ! -f "$work/float.onnx" ]; then
  /usr/bin/python3 "$here/train_float.py" "$work/float.onnx" 30 "$hidden" 2>/dev/null | tail -1 >"$work/float.txt"
fi
float_acc=$("$hgqc" run "$work/float.onnx" -i $test_x --labels $test_y | awk '{print $2}')

# 2. Uniform 8-bit post-training quantization of the float model.
"$hgqc" -q quantize "$work/float.onnx" --data $D/train-images-idx3-ubyte.gz --bits 8,8 \
  -o "$work/w8a8.onnx" >"$work/q8.txt"
q8_ebops=$(grep -o 'EBOPs [0-9]*' "$work/q8.txt" | awk '{print $2}')
q8_acc=$("$hgqc" run --fixed "$work/w8a8.onnx" -i $test_x --labels $test_y | awk '{print $2}')

# 3. HGQ: one run from the float model, beta rising log-linearly.
rm -rf "$work/hgq"
start=$(date +%s)
"$hgqc" train "$work/float.onnx" "${tr[@]}" "${val[@]}" -o "$work/hgq" --epochs 80 --batch 512 \
  --lr 2e-3 --threads 2 --beta-schedule log --beta0 1e-7 --beta1 3e-5 --init-f auto,4 \
  >"$work/front.txt" 2>"$work/train.log"
secs=$(( $(date +%s) - start ))

echo "Fashion-MNIST, 784-${hidden//,/-}-10 ReLU MLP, accuracy on the 10k test images"
printf '%-46s %10s %12s\n' "model" "accuracy" "EBOPs"
printf '%-46s %10s %12s\n' "float (PyTorch, 30 epochs)" "$float_acc" "-"
printf '%-46s %10s %12s\n' "hgqc quantize --bits 8,8" "$q8_acc" "$q8_ebops"
tail -n +2 "$work/hgq/front.csv" | sort -t, -k7 -n | while IFS=, read -r f ep c t acc mse e o luts adders; do
  printf '%-46s %10s %12s\n' "hgqc train front: $f" "$acc" "$e"
done
echo "(hgqc train: 80 epochs, ${secs} s wall on this machine; front files in $work/hgq)"
awk -F, -v fa="$float_acc" -v qa="$q8_acc" -v qe="$q8_ebops" 'NR > 1 {
    if ($5 > best) best = $5
    if ($7 * 10 <= qe && $5 >= qa - 0.02 && (small == "" || $7 < small)) { small = $7; sacc = $5 }
  } END {
    printf "best front model: %.4f, float %.4f: %.2f points below (target <= 1.5): %s\n",
      best, fa, 100 * (fa - best), (fa - best <= 0.015 ? "ok" : "NOT MET")
    if (small == "")
      printf "no front model with <= %.0f EBOPs (8-bit / 10) within 2 points of 8-bit: NOT MET\n", qe / 10
    else
      printf "smallest front model within 2 points of 8-bit (%.4f) at <= 1/10 of its EBOPs: %.0f EBOPs (%.1fx fewer), accuracy %.4f: ok\n",
        qa, small, qe / small, sacc
  }' "$work/hgq/front.csv"
