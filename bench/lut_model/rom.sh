#!/usr/bin/env bash
# Calibration of the LUT model's ROM class (lib/backend/lut_model.cpp, `rom`) against Yosys:
# one-layer designs of 16 table lookups (x -> FixedQuant -> Tanh or Sigmoid -> FixedQuant) at
# several input widths b_in and output widths b_out, emitted and synthesized with `hgqc synth`.
# Prints one row per design: the ROM bits, Yosys's LUTs, the estimate and its error.
#   bench/lut_model/rom.sh [BUILD_DIR] [WORK_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$here/../..
build=${1:-$root/build}
work=${2:-$(mktemp -d)}
hgqc=$build/hgqc
[ -x "$hgqc" ] || { echo "build hgqc first (scripts/build.sh)" >&2; exit 1; }
mkdir -p "$work"
cd "$work"
# name|function|b_in|b_out: signed inputs fixed<1, 2, b_in - 3>, outputs fixed<1, 0, b_out - 1>
# (tanh) or fixed<0, 0, b_out> (sigmoid).
designs=(
  "tanh_4_8|Tanh|4|8" "tanh_6_8|Tanh|6|8" "tanh_8_8|Tanh|8|8" "tanh_8_4|Tanh|8|4"
  "tanh_10_8|Tanh|10|8" "sigmoid_8_12|Sigmoid|8|12" "sigmoid_7_6|Sigmoid|7|6"
  "sigmoid_10_10|Sigmoid|10|10"
)
for d in "${designs[@]}"; do
  IFS='|' read -r name fn bin bout <<<"$d"
  /usr/bin/python3 - "$name.onnx" "$fn" "$bin" "$bout" <<'PY'
import sys
import onnx
from onnx import TensorProto, helper

path, fn, bin_, bout = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
sig = fn == "Sigmoid"
ko, io, fo = (0, 0, bout) if sig else (1, 0, bout - 1)
def consts(p, k, i, f):
    return [helper.make_tensor(p + "_k", TensorProto.INT64, [], [k]),
            helper.make_tensor(p + "_i", TensorProto.INT64, [], [i]),
            helper.make_tensor(p + "_f", TensorProto.INT64, [], [f])]
def quant(x, y, p):
    return helper.make_node("FixedQuant", [x, p + "_k", p + "_i", p + "_f"], [y], name=p,
                            domain="hgqc", round_mode="RND", overflow_mode="SAT")
nodes = [quant("x", "xq", "qin"), helper.make_node(fn, ["xq"], ["t"], name="fn"),
         quant("t", "y", "qout")]
g = helper.make_graph(nodes, "rom", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 16])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 16])],
                      consts("qin", 1, 2, bin_ - 3) + consts("qout", ko, io, fo))
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("hgqc", 1)])
onnx.save(m, path)
PY
  "$hgqc" -q emit-verilog "$name.onnx" -o "$name" >/dev/null
  "$hgqc" -q synth "$name" >/dev/null
  /usr/bin/python3 - "$name" "$bin" "$bout" <<'PY'
import json, sys
r = json.load(open(sys.argv[1] + "/report.json"))
luts, est = r["synth"]["luts"], r["totals"]["luts_estimate"]
rom = r["totals"]["lut_model_bits"]["rom"]
print("| %s | %s | %s | %d | %d | %d | %+.1f %% |" % (sys.argv[1], sys.argv[2], sys.argv[3], rom, luts, est,
                                                   100.0 * (est - luts) / luts))
PY
done
