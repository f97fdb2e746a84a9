#!/usr/bin/python3
"""Writes the multiplier designs of the LUT model's multiplier class (bench/lut_model/run_mul.sh).

    mul_designs.py OUTDIR

Each design NAME.onnx is a quantized graph (hgqc's FixedQuant, integer formats): inputs a and
b [N, C], each quantized, then y = a * b: C multipliers of two run-time signals of the given
widths (signed or unsigned per side), and nothing else. Python standard library and python3-onnx only.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

C = 8  # multipliers per design
# name, bits of a, a signed, bits of b, b signed
DESIGNS = [
    ("mul2x2s", 2, True, 2, True),
    ("mul3x6s", 3, True, 6, True),
    ("mul4x4s", 4, True, 4, True),
    ("mul4x4u", 4, False, 4, False),
    ("mul6x6s", 6, True, 6, True),
    ("mul8x4su", 8, True, 4, False),
    ("mul8x8s", 8, True, 8, True),
    ("mul8x8u", 8, False, 8, False),
    ("mul12x12s", 12, True, 12, True),
    ("mul16x8s", 16, True, 8, True),
    ("mul16x16s", 16, True, 16, True),
    ("mul16x16u", 16, False, 16, False),
]


def design(name, wa, sa, wb, sb):
    # Integer formats: k sign bits, i integer bits (k + i = width), f = 0.
    inits, nodes = [], []
    for v, w, signed in (("a", wa, sa), ("b", wb, sb)):
        inits += [numpy_helper.from_array(np.array(int(signed), np.int64), f"{v}_k"),
                  numpy_helper.from_array(np.array(w - int(signed), np.int64), f"{v}_i"),
                  numpy_helper.from_array(np.array(0, np.int64), f"{v}_f")]
        nodes.append(helper.make_node("FixedQuant", [f"{v}_in", f"{v}_k", f"{v}_i", f"{v}_f"],
                                      [v], domain="hgqc", name=f"q_{v}", round_mode="TRN",
                                      overflow_mode="WRAP"))
    nodes.append(helper.make_node("Mul", ["a", "b"], ["y"], name="mul"))
    g = helper.make_graph(nodes, name,
                          [helper.make_tensor_value_info(f"{v}_in", TensorProto.FLOAT, ["N", C])
                           for v in "ab"],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", C])],
                          inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13),
                                               helper.make_opsetid("hgqc", 1)])


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, wa, sa, wb, sb in DESIGNS:
        onnx.save(design(name, wa, sa, wb, sb), os.path.join(out, name + ".onnx"))
        print(name)


if __name__ == "__main__":
    main()
