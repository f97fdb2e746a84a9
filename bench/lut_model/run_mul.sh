#!/usr/bin/env bash
# Calibration of the LUT model's multiplier class (multiplier_partial_products in
# lib/backend/lut_model.cpp) against Yosys: emits designs of 8 multipliers of two run-time
# signals each (2 to 16 bits per side, signed and unsigned; mul_designs.py), synthesizes each
# with `hgqc synth` (Yosys synth_xilinx -nodsp, out of context), and fits the class's
# coefficient with the other classes' coefficients kept (fit_mul.py). Prints one row per design.
#   bench/lut_model/run_mul.sh [BUILD_DIR] [WORK_DIR]     (JOBS=2: synthesis runs in parallel)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$here/../..
build=${1:-$root/build}
work=${2:-$(mktemp -d)}
hgqc=$build/hgqc
jobs=${JOBS:-2}
[ -x "$hgqc" ] || { echo "build hgqc first (scripts/build.sh)" >&2; exit 1; }
mkdir -p "$work"
cd "$work"
start=$(date +%s)
designs=$(/usr/bin/python3 "$here/mul_designs.py" .)
for name in $designs; do
  "$hgqc" -q emit-verilog "$name.onnx" -o "rtl_$name" >/dev/null
done
printf '%s\n' $designs |
  xargs -P "$jobs" -I{} sh -c "'$hgqc' -q synth rtl_{} > rtl_{}/synth.txt 2>&1 || { cat rtl_{}/synth.txt >&2; exit 255; }"
/usr/bin/python3 "$here/fit_mul.py" $(printf 'rtl_%s\n' $designs)
echo "(bench/lut_model/run_mul.sh: $(( $(date +%s) - start )) s wall; designs in $work)"
