#!/usr/bin/env bash
# Quality of results: from the float networks to synthesized circuits. Trains two Fashion-MNIST
# networks in float (PyTorch), quantizes each uniformly to 8 and 4 bits (`hgqc quantize`), trains
# each with HGQ (`hgqc train`, rising beta) and takes three points of its Pareto front, adds the
# two jet-tagger models of ../shared/models, then emits every model as pipelined Verilog, verifies
# it under Verilator (100000 vectors) and synthesizes it with Yosys (`hgqc synth`, xc7, out of
# context). Prints a markdown table (model, data set, accuracy in the integer emulator, EBOPs,
# estimated and Yosys LUTs, FFs, pipeline cycles, logic depth, verify result), writes
# WORK_DIR/qor.{md,csv,svg} (the plot: accuracy against Yosys LUTs) and checks the acceptance
# criteria of issue 6 (docs/qor.md).
#   bench/qor/run.sh [BUILD_DIR] [WORK_DIR]
#   QUICK=1: few epochs and 10000 vectors, to try the flow (criteria 3 and 4 then say so)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../../build}" && pwd)
work=${2:-$(mktemp -d)}
mkdir -p "$work"
work=$(cd "$work" && pwd)
hgqc=$build/hgqc
D=/usr/share/datasets/fashion-mnist
shared=$here/../../../shared/models
jet_x=$here/../../testdata/fixed/jet_x.npy
jet_y=$here/../../testdata/fixed/jet_labels.npy
[ -x "$hgqc" ] || { echo "build hgqc first (scripts/build.sh)" >&2; exit 1; }
[ -d $D ] || { echo "needs dataset-fashion-mnist" >&2; exit 1; }
[ -d "$shared" ] || { echo "needs ../shared/models next to the checkout" >&2; exit 1; }
command -v yosys >/dev/null || { echo "needs yosys" >&2; exit 1; }
command -v verilator >/dev/null || { echo "needs verilator" >&2; exit 1; }

quick=${QUICK:-0}
if [ "$quick" = 1 ]; then
  float_epochs=2 hgq_epochs=6 eval_every=1 vectors=10000
else
  float_epochs=10 hgq_epochs=600 eval_every=2 vectors=100000
fi
depth=3 # adder levels per pipeline stage, every design
train_x=$work/train_x.npy # pixels / 256, written by train_float.py
train_y=$D/train-labels-idx1-ubyte.gz
test_x=$work/test_x.npy
test_y=$D/t10k-labels-idx1-ubyte.gz
t_start=$(date +%s)
rows=$work/rows.tsv # name, network, data set, accuracy, model file, rtl dir, verify data
: >"$rows"
log() { echo "[$(($(date +%s) - t_start)) s] $*" >&2; }

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

# 2. HGQ training from each float model (one thread each, both at once), and meanwhile the
#    uniform baselines.
hgq_args=(--data $train_x --targets $train_y --val $test_x --val-targets $test_y
  --epochs $hgq_epochs --eval-every $eval_every --no-calibrate --batch 256 --lr 2e-3 --threads 1
  --beta-schedule log --beta0 1e-6 --beta1 3e-4 --gamma 1e-6 --init-f auto,4)
log "hgqc train ($hgq_epochs epochs): mlp, cnn"
pids=()
for net in mlp cnn; do
  rm -rf "$work/hgq_$net"
  "$hgqc" train "$work/$net.onnx" "${hgq_args[@]}" -o "$work/hgq_$net" \
    >"$work/hgq_$net.txt" 2>"$work/hgq_$net.log" &
  pids+=($!)
done
acc() { "$hgqc" -q run --fixed "$1" -i $test_x --labels $test_y | awk '{print $2}'; }
for net in mlp cnn; do
  for b in 8 4; do
    "$hgqc" -q quantize "$work/$net.onnx" --data $train_x --bits $b,$b -o "$work/${net}_w${b}a${b}.onnx" >/dev/null
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$net w${b}a${b} (hgqc quantize)" "$net" "Fashion-MNIST" \
      "$(acc "$work/${net}_w${b}a${b}.onnx")" "$work/${net}_w${b}a${b}.onnx" "$work/rtl/${net}_w${b}a${b}" "$test_x" >>"$rows"
  done
done
# Jet taggers: qkeras_jettagging is already quantized (no data set: accuracy n/a); the
# jet-tagger-shaped three_layer_keras is quantized 8,8 on testdata/fixed/jet_x.npy (standard
# normal features) and scored as agreement with the float model's argmax (jet_labels.npy).
"$hgqc" -q quantize $shared/example-models/three_layer_keras.onnx --data $jet_x --bits 8,8 \
  -o "$work/jet_w8a8.onnx" >/dev/null
printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "three_layer_keras w8a8 (hgqc quantize)" "jet MLP" \
  "jet_x (agreement with float argmax)" \
  "$("$hgqc" -q run --fixed "$work/jet_w8a8.onnx" -i $jet_x --labels $jet_y | awk '{print $2}')" \
  "$work/jet_w8a8.onnx" "$work/rtl/jet_w8a8" "$jet_x" >>"$rows"
printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "qkeras_jettagging (QONNX zoo)" "qkeras_jettagging" "none" "n/a" \
  "$shared/qonnx-zoo/qkeras_jettagging.onnx" "$work/rtl/qkeras_jettagging" "$jet_x" >>"$rows"
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || { echo "hgqc train failed: see $work/hgq_*.log" >&2; exit 1; }
done

# 3. Three points of each front: the most accurate model, the smallest within 1 point of the
#    8-bit baseline (else the smallest within 1 point of the best), and the front model nearest
#    to half of that one's EBOPs (if there is none smaller, one between the two).
for net in mlp cnn; do
  q8=$(awk -F'\t' -v n="$net w8a8 (hgqc quantize)" '$1 == n {print $4}' "$rows")
  awk -F, -v q8="$q8" 'NR > 1 { n++; f[n] = $1; a[n] = $5; e[n] = $7; if ($5 > a[best] || !best) best = n }
    END {
      for (i = 1; i <= n; i++) if (a[i] >= q8 - 0.01 && (!mid || e[i] < e[mid])) mid = i
      if (!mid) for (i = 1; i <= n; i++) if (a[i] >= a[best] - 0.01 && (!mid || e[i] < e[mid])) mid = i
      for (i = 1; i <= n; i++) if (e[i] < e[mid]) {
        d = log(e[i] / (e[mid] / 2)); d = d < 0 ? -d : d
        if (!small || d < ds) { small = i; ds = d }
      }
      # No smaller model: the one nearest the geometric mean of the two, between them.
      if (!small) for (i = 1; i <= n; i++) if (i != best && i != mid && e[i] > e[mid] && e[i] < e[best]) {
        d = log(e[i] / sqrt(e[mid] * e[best])); d = d < 0 ? -d : d
        if (!small || d < ds) { small = i; ds = d }
      }
      print f[best], a[best], "best"
      if (mid != best) print f[mid], a[mid], "within 1 pt of w8a8"
      if (small) print f[small], a[small], (e[small] < e[mid] ? "smaller" : "between")
    }' "$work/hgq_$net/front.csv" | while read -r file a what; do
    # The accuracy of the saved file in the emulator (hgqc train's front.csv says the same).
    a=$(acc "$work/hgq_$net/$file")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$net HGQ ${file%.onnx} ($what)" "$net" "Fashion-MNIST" "$a" \
      "$work/hgq_$net/$file" "$work/rtl/${net}_hgq_${file%.onnx}" "$test_x" >>"$rows"
  done
done

# 4. Emit, verify and synthesize every design, two at a time (largest 8-bit designs first).
design() {
  IFS=$'\t' read -r name net ds a model rtl data <<<"$1"
  rm -rf "$rtl"
  mkdir -p "$(dirname "$rtl")"
  local t0=$(date +%s.%N)
  "$hgqc" -q emit-verilog "$model" -o "$rtl" --top dut --max-adder-depth $depth >"$rtl.emit.txt" 2>&1 ||
    { echo "emit failed: $name" >&2; return 0; }
  local t1=$(date +%s.%N)
  local rc=0
  "$hgqc" verify "$rtl" --model "$model" --data "$data" --vectors $vectors -j 1 >"$rtl.verify.txt" 2>&1 || rc=$?
  echo $rc >"$rtl.verify.rc"
  local t2=$(date +%s.%N)
  "$hgqc" -q synth "$rtl" >"$rtl.synth.txt" 2>&1 || echo "synth failed: $name" >&2
  local t3=$(date +%s.%N)
  echo "$t0 $t1 $t2 $t3" | awk '{printf "emit %.1f verify %.1f synth %.1f\n", $2 - $1, $3 - $2, $4 - $3}' >"$rtl.times"
  echo "[done] $name: $(cat "$rtl.times")" >&2
}
export -f design
export hgqc vectors depth
log "emit, verify, synth: $(wc -l <"$rows") designs"
grep -F '(hgqc quantize)' "$rows" >"$work/jobs.tsv" || true
grep -vF '(hgqc quantize)' "$rows" >>"$work/jobs.tsv"
tr '\n' '\0' <"$work/jobs.tsv" | xargs -0 -P 2 -I{} bash -c 'design "$1"' _ {}

t_end=$(date +%s)
log "done"
# CPU time of this script and everything it waited for (user + sys), from the shell's `times`.
times >"$work/times.txt"
cpu=$(tail -1 "$work/times.txt" | awk '{ s = 0; for (i = 1; i <= 2; i++) { split($i, p, /[ms]/); s += p[1] * 60 + p[2] } print s }')
/usr/bin/python3 "$here/table.py" "$work" "$((t_end - t_start))" "$cpu" "$quick" "$(uptime)"
