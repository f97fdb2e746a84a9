#!/usr/bin/env bash
# Quality of results on a second real data set: the UCI handwritten digits (8x8 images, ten
# classes) that Debian's python3-sklearn ships. Trains a float MLP 64-16-10 (PyTorch, fixed
# stratified split: bench/qor/train_digits.py), quantizes it uniformly to 8 bits (`hgqc quantize`),
# trains it with HGQ twice under identical settings, against the LUT cost (`--cost luts`) and
# against EBOPs (`--cost ebops`), both steered by the PID schedule to one LUT budget (w8a8's
# estimated LUTs / BUDGET_digits, default 7), takes three points of each front (best, the
# smallest within 1 point of w8a8, smaller), then emits, verifies (Verilator, 100000 vectors) and
# synthesizes (Yosys) every model, and prints the table of bench/qor/table.py (docs/qor.md).
#   bench/qor/digits.sh [BUILD_DIR] [WORK_DIR]
#   QUICK=1: few epochs and 10000 vectors, to try the flow
#   POINTS=1: only the smallest front model within 1 point of w8a8
#   BUDGET_digits=7: the LUT budget of the HGQ trainings, as w8a8's estimate over it
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
digits=/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz
[ -f $digits ] || { echo "needs python3-sklearn (its $digits)" >&2; exit 1; }
qor_init "${1:-$here/../../build}" "${2:-$(mktemp -d)}"

quick=${QUICK:-0}
points=${POINTS:-3}
if [ "$quick" = 1 ]; then
  float_epochs=10 hgq_epochs=60 vectors=10000
else
  float_epochs=100 hgq_epochs=600 vectors=100000
fi
depth=3 # adder levels per pipeline stage, every design
train_x=$work/digits_train_x.npy # pixels / 16, written by train_digits.py
train_y=$work/digits_train_y.npy
test_x=$work/digits_test_x.npy
test_y=$work/digits_test_y.npy
ds="UCI digits (355 test images)"

log "float training ($float_epochs epochs): mlp"
/usr/bin/python3 "$here/train_digits.py" "$work/mlp.onnx" $float_epochs "$work" \
  >"$work/mlp_float.txt" 2>"$work/mlp_float.log" ||
  { echo "float training failed: $work/mlp_float.log" >&2; exit 1; }

# w8a8 first: its estimated LUTs set the trainings' budget (as bench/qor/run.sh does).
target=$(w8a8_budget mlp "$ds" "$train_x" "$test_x" "$test_y" "${BUDGET_digits:-7}")

# Both trainings at once (one thread each); batch 64: 23 steps per epoch on 1442 images. The
# PID schedule steers both to the same LUT budget.
hgq_args=(--data "$train_x" --targets "$train_y" --val "$test_x" --val-targets "$test_y"
  --epochs $hgq_epochs --eval-every 2 --no-calibrate --batch 64 --lr 2e-3 --threads 1
  --beta-schedule pid --beta0 1e-6 --gamma 1e-6 --init-f auto,4 --target-luts "$target")
hgq_start mlp luts "$work/mlp.onnx" "${hgq_args[@]}"
hgq_start mlp ebops "$work/mlp.onnx" "${hgq_args[@]}"
hgq_wait mlp_luts mlp_ebops
for cost in luts ebops; do
  add_front_rows mlp $cost "$ds" "$test_x" "$test_y" "$points"
done

run_designs
qor_report --title "UCI digits"
