# Shared by the bench/qor scripts (sourced, not run): the row list, emulator
# accuracy, HGQ trainings two at a time, the chosen front points, and emit/verify/synth of every
# row, two designs at a time.
#
# rows.tsv, one line per design: name, network, data set, accuracy, model file, rtl dir, verify
# data, kind (w8a8, or the HGQ cost: luts or ebops). bench/qor/table.py reads it.

# qor_init BUILD_DIR WORK_DIR: sets hgqc, work, rows and t_start; checks the tools.
qor_init() {
  build=$(cd "$1" && pwd)
  work=$2
  mkdir -p "$work"
  work=$(cd "$work" && pwd)
  hgqc=$build/hgqc
  rows=$work/rows.tsv
  [ -x "$hgqc" ] || { echo "build hgqc first (scripts/build.sh)" >&2; exit 1; }
  command -v yosys >/dev/null || { echo "needs yosys" >&2; exit 1; }
  command -v verilator >/dev/null || { echo "needs verilator" >&2; exit 1; }
  : >"$rows"
  t_start=$(date +%s)
}

log() { echo "[$(($(date +%s) - t_start)) s] $*" >&2; }

# add_row NAME NETWORK DATA_SET ACCURACY MODEL RTL_DIR VERIFY_DATA KIND
add_row() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$rows"; }

# acc MODEL X Y: accuracy of MODEL in the integer emulator on inputs X with labels Y.
acc() { "$hgqc" -q run --fixed "$1" -i "$2" --labels "$3" | awk '{print $2}'; }

# w8a8_budget NET DATA_SET TRAIN_X TEST_X TEST_Y DIVISOR: quantizes WORK/NET.onnx uniformly to 8
# bits (WORK/NET_w8a8.onnx), adds its row, and prints the HGQ trainings' LUT budget: its
# emit-verilog estimate (default options) over DIVISOR. Run it as $(...): it fails (status 1)
# when a step fails, which the caller's `set -e` then stops on.
w8a8_budget() {
  local net=$1 ds=$2 x=$3 tx=$4 ty=$5 div=$6 q8=$work/${1}_w8a8.onnx w8
  "$hgqc" -q quantize "$work/$net.onnx" --data "$x" --bits 8,8 -o "$q8" >/dev/null || return 1
  add_row "$net w8a8 (hgqc quantize)" "$net" "$ds" "$(acc "$q8" "$tx" "$ty")" \
    "$q8" "$work/rtl/${net}_w8a8" "$tx" w8a8
  "$hgqc" -q emit-verilog "$q8" -o "$work/estimate_${net}_w8a8" >/dev/null || return 1
  w8=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"]["luts_estimate"])' \
    "$work/estimate_${net}_w8a8/report.json") || return 1
  log "$net w8a8: $w8 estimated LUTs; HGQ budget $w8 / $div = $((w8 / div))"
  echo $((w8 / div))
}

# hgq_start NET COST FLOAT_ONNX ARGS...: `hgqc train --cost COST` into WORK/hgq_NET_COST, in the
# background, waiting first until fewer than two trainings run.
hgq_start() {
  local net=$1 cost=$2 onnx=$3
  shift 3
  while [ "$(jobs -rp | wc -l)" -ge 2 ]; do wait -n || true; done
  rm -rf "$work/hgq_${net}_$cost"
  log "hgqc train --cost $cost: $net"
  "$hgqc" train "$onnx" --cost "$cost" "$@" -o "$work/hgq_${net}_$cost" \
    >"$work/hgq_${net}_$cost.txt" 2>"$work/hgq_${net}_$cost.log" &
}

# hgq_wait NET_COST...: waits for every background job, then checks that each training wrote
# its front.
hgq_wait() {
  wait
  local t
  for t in "$@"; do
    [ -s "$work/hgq_$t/front.csv" ] || { echo "hgqc train failed: $work/hgq_$t.log" >&2; exit 1; }
  done
}

# add_front_rows NET COST DATA_SET X Y POINTS: rows for POINTS (1 or 3) models of the front of
# WORK/hgq_NET_COST (bench/qor/front_points.py), measured against the network's w8a8 row.
add_front_rows() {
  local net=$1 cost=$2 ds=$3 x=$4 y=$5 points=$6 q8 file why a
  q8=$(awk -F'\t' -v n="$net" '$2 == n && $8 == "w8a8" {print $4}' "$rows")
  [ -n "$q8" ] || { echo "no w8a8 row for $net" >&2; exit 1; }
  /usr/bin/python3 "$here/front_points.py" "$work/hgq_${net}_$cost/front.csv" "$q8" "$points" \
    >"$work/points_${net}_$cost.tsv"
  while IFS=$'\t' read -r file why; do
    # The accuracy of the saved file in the emulator (hgqc train's front.csv says the same).
    a=$(acc "$work/hgq_${net}_$cost/$file" "$x" "$y")
    add_row "$net HGQ $cost ${file%.onnx} ($why)" "$net" "$ds" "$a" "$work/hgq_${net}_$cost/$file" \
      "$work/rtl/${net}_${cost}_${file%.onnx}" "$x" "$cost"
  done <"$work/points_${net}_$cost.tsv"
}

# design ROW: emit-verilog, verify (VECTORS vectors, one job) and synth of one rows.tsv line; writes
# RTL_DIR.{emit,verify,synth}.txt, RTL_DIR.verify.rc and RTL_DIR.times.
design() {
  local name net ds a model rtl data kind t0 t1 t2 t3 rc=0
  IFS=$'\t' read -r name net ds a model rtl data kind <<<"$1"
  rm -rf "$rtl"
  mkdir -p "$(dirname "$rtl")"
  t0=$(date +%s.%N)
  "$hgqc" -q emit-verilog "$model" -o "$rtl" --top dut --max-adder-depth "$depth" >"$rtl.emit.txt" 2>&1 ||
    { echo "emit failed: $name" >&2; return 0; }
  t1=$(date +%s.%N)
  "$hgqc" verify "$rtl" --model "$model" --data "$data" --vectors "$vectors" -j 1 >"$rtl.verify.txt" 2>&1 || rc=$?
  echo $rc >"$rtl.verify.rc"
  t2=$(date +%s.%N)
  "$hgqc" -q synth "$rtl" >"$rtl.synth.txt" 2>&1 || echo "synth failed: $name" >&2
  t3=$(date +%s.%N)
  echo "$t0 $t1 $t2 $t3" | awk '{printf "emit %.1f verify %.1f synth %.1f\n", $2 - $1, $3 - $2, $4 - $3}' >"$rtl.times"
  echo "[done] $name: $(cat "$rtl.times")" >&2
}

# run_designs: every row of rows.tsv through `design`, two at a time, the w8a8 designs (the
# largest) first.
run_designs() {
  export -f design
  export hgqc vectors depth
  log "emit, verify, synth: $(wc -l <"$rows") designs"
  awk -F'\t' '$8 == "w8a8"' "$rows" >"$work/jobs.tsv"
  awk -F'\t' '$8 != "w8a8"' "$rows" >>"$work/jobs.tsv"
  tr '\n' '\0' <"$work/jobs.tsv" | xargs -0 -P 2 -I{} bash -c 'design "$1"' _ {}
}

# qor_cpu: sets cpu to the user + sys CPU seconds of this shell and everything it waited for
# (the shell's `times`; call it in the main shell, not in $(...)).
qor_cpu() {
  times >"$work/times.txt"
  cpu=$(tail -1 "$work/times.txt" | awk '{ s = 0; for (i = 1; i <= 2; i++) { split($i, p, /[ms]/); s += p[1] * 60 + p[2] } print s }')
}

# qor_report TABLE_ARGS...: ends a bench in the main shell: the time and CPU of the run, the
# table (bench/qor/table.py with TABLE_ARGS, e.g. --title) and the LUT surrogate against the
# exact estimate on every front model of the run's trainings (bench/qor/surrogate.py, also
# written to WORK/surrogate.md; docs/training.md).
qor_report() {
  local t_end
  t_end=$(date +%s)
  log "done"
  qor_cpu
  /usr/bin/python3 "$here/table.py" "$work" --wall "$((t_end - t_start))" --cpu "$cpu" --quick "$quick" \
    --uptime "$(uptime)" "$@"
  echo
  /usr/bin/python3 "$here/surrogate.py" "$work"/hgq_*_*/ | tee "$work/surrogate.md"
}
