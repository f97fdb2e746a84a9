#!/usr/bin/env bash
# Training throughput: `hgqc train` with HGQ quantizers on every weight and activation against
# PyTorch (Debian's python3-torch) training the same 16-64-32-32-5 MLP in plain float, same
# batch size and thread count, in one run: once with ReLU hidden layers, once with tanh (a
# table function in hardware: quantizers on its input and output). Prints a table with the
# ratios.
#   bench/train_speed/run.sh [BUILD_DIR] [THREADS] [BATCH]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
threads=${2:-2}
batch=${3:-1024}
samples=200000
epochs=4
hgqc=$build/hgqc
[ -x "$hgqc" ] || { echo "build hgqc first (scripts/build.sh)" >&2; exit 1; }
[ -x /usr/bin/python3 ] || { echo "needs Debian's /usr/bin/python3 with python3-torch" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

printf '%-44s %14s\n' "training 16-64-32-32-5, batch $batch, $threads thread(s)" "samples/s"
for act in relu tanh; do
  mkdir -p "$tmp/$act"
  torch_line=$(/usr/bin/python3 "$here/torch_baseline.py" "$tmp/$act" $samples "$batch" "$threads" $epochs $act 2>/dev/null | tail -1)
  torch_sps=${torch_line##* }
  torch_ver=$(echo "$torch_line" | awk '{print $2}')

  # hgqc: HGQ on (per-element trainable f on weights, biases and activations, EBOPs in the
  # loss); the rate is that of the training steps of each epoch (evaluation excluded).
  "$hgqc" train "$tmp/$act/mlp.onnx" --data "$tmp/$act/data.npz" --val-split 0.01 -o "$tmp/$act/out" \
    --epochs $epochs --batch "$batch" --threads "$threads" --beta0 1e-6 --no-calibrate \
    2>"$tmp/$act/log" >/dev/null
  hgqc_sps=$(grep -o '[0-9]* samples/s' "$tmp/$act/log" | awk '{print $1}' | sort -n | tail -1)

  printf '%-44s %14s\n' "$act: PyTorch $torch_ver float (Adam)" "$torch_sps"
  printf '%-44s %14s\n' "$act: hgqc train, HGQ on (Adam)" "$hgqc_sps"
  awk -v a="$hgqc_sps" -v b="$torch_sps" -v n="$act: ratio hgqc / PyTorch" 'BEGIN { printf "%-44s %14.2fx\n", n, a / b }'
done
