#!/usr/bin/env bash
# Quality of results: from the float networks to synthesized circuits. Trains two Fashion-MNIST
# networks in float (PyTorch), quantizes each uniformly to 8 bits (`hgqc quantize`), trains each
# with HGQ twice from the same float model under identical settings, once against the LUT cost
# (`hgqc train --cost luts`) and once against EBOPs (`--cost ebops`), both steered by the PID
# schedule to the same LUT budget (w8a8's estimated LUTs / BUDGET_mlp or BUDGET_cnn), and takes
# the smallest front model within 1 point of w8a8 from each; then emits every model as pipelined Verilog, verifies it
# under Verilator (100000 vectors) and synthesizes it with Yosys (`hgqc synth`, xc7, out of
# context). Prints a markdown table (model, data set, accuracy in the integer emulator, EBOPs,
# estimated and Yosys LUTs, FFs, pipeline cycles, logic depth, verify result), writes
# WORK_DIR/qor.{md,csv,svg} (the plot: accuracy against Yosys LUTs) and checks the acceptance
# criteria of issue 14 (docs/qor.md).
#   bench/qor/run.sh [BUILD_DIR] [WORK_DIR]
#   QUICK=1: few epochs and 10000 vectors, to try the flow (criteria 3 and 4 then say so)
#   POINTS=3: three models of each front instead of one (best, within 1 pt, smaller; slower)
#   BUDGET_mlp=20 BUDGET_cnn=12: the LUT budget of the HGQ trainings, as w8a8's estimate over it
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
D=/usr/share/datasets/fashion-mnist
[ -d $D ] || { echo "needs dataset-fashion-mnist" >&2; exit 1; }
qor_init "${1:-$here/../../build}" "${2:-$(mktemp -d)}"

quick=${QUICK:-0}
points=${POINTS:-1}
if [ "$quick" = 1 ]; then
  float_epochs=2 hgq_epochs=6 lr_cycles=2 eval_every=1 vectors=10000
else
  float_epochs=10 hgq_epochs=600 lr_cycles=10 eval_every=2 vectors=100000
fi
depth=3 # adder levels per pipeline stage, every design
train_x=$work/train_x.npy # pixels / 256, written by train_float.py
train_y=$D/train-labels-idx1-ubyte.gz
test_x=$work/test_x.npy
test_y=$D/t10k-labels-idx1-ubyte.gz

# 1. Float networks (PyTorch, one thread each, both at once).
log "float training ($float_epochs epochs): mlp, cnn"
/usr/bin/python3 "$here/train_float.py" mlp "$work/mlp.onnx" $float_epochs 16 "$work" \
  >"$work/mlp_float.txt" 2>"$work/mlp_float.log" &
/usr/bin/python3 "$here/train_float.py" cnn "$work/cnn.onnx" $float_epochs 4 \
  >"$work/cnn_float.txt" 2>"$work/cnn_float.log" &
wait
for net in mlp cnn; do
  [ -s "$work/$net.onnx" ] || { echo "float training of $net failed: $work/${net}_float.log" >&2; exit 1; }
done

# 2. The w8a8 baselines (uniform 8 bits), first: their estimated LUTs set the trainings' budget.
declare -A budget=([mlp]=${BUDGET_mlp:-20} [cnn]=${BUDGET_cnn:-12}) target
for net in mlp cnn; do
  target[$net]=$(w8a8_budget $net "Fashion-MNIST" "$train_x" "$test_x" "$test_y" "${budget[$net]}")
done

# 3. Four HGQ trainings (each network against each cost, identical settings otherwise), two at a
#    time with one thread each, the slower cnn first. The PID schedule steers beta so that the
#    exact LUT estimate of the evaluated checkpoints holds the network's budget; the front keeps
#    the checkpoints on the way down and around it. The learning rate decays to 0 ten times
#    (--lr-cycles, 60 epochs each), so that ten checkpoints are settled models.
hgq_args=(--data "$train_x" --targets "$train_y" --val "$test_x" --val-targets "$test_y"
  --epochs $hgq_epochs --eval-every $eval_every --no-calibrate --batch 256 --lr 2e-3 --threads 1
  --lr-cycles $lr_cycles --beta-schedule pid --beta0 1e-6 --gamma 1e-6 --init-f auto,4)
hgq_start cnn luts "$work/cnn.onnx" "${hgq_args[@]}" --target-luts "${target[cnn]}"
hgq_start cnn ebops "$work/cnn.onnx" "${hgq_args[@]}" --target-luts "${target[cnn]}"
hgq_start mlp luts "$work/mlp.onnx" "${hgq_args[@]}" --target-luts "${target[mlp]}"
hgq_start mlp ebops "$work/mlp.onnx" "${hgq_args[@]}" --target-luts "${target[mlp]}"
hgq_wait cnn_luts cnn_ebops mlp_luts mlp_ebops
log "trainings done"

# 4. The chosen points of each front (bench/qor/front_points.py).
for net in mlp cnn; do
  for cost in luts ebops; do
    add_front_rows $net $cost "Fashion-MNIST" "$test_x" "$test_y" "$points"
  done
done

# 5. Emit, verify and synthesize every design, two at a time.
run_designs
# 6. The table, and the LUT surrogate against the exact estimate on every front model.
qor_report --title "Fashion-MNIST" --need mlp=20 --need cnn=12 --wall-limit 2700
