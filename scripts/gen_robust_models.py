#!/usr/bin/python3
"""Generates the minimized hostile-input models of issue 17 under testdata/errors/.

Run with Debian's Python (python3-onnx):
    /usr/bin/python3 scripts/gen_robust_models.py
Output is deterministic; the files are committed so that building and testing need no Python.

hw_netlist_too_wide.onnx: an unsigned 60-bit quantizer feeding one with 90 fractional bits;
aligning the first to the second's grid needs 150 bits, more than the netlist's 124.
graph_cycle.onnx: Add(x, t1) -> t0, Relu(t0) -> t1, Relu(t1) -> y: a cycle of two nodes with a
node after it.
"""
import os

import numpy as np
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testdata")


def save(nodes, inits, opsets, name):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    g = helper.make_graph(nodes, "g", [x], [y], initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets],
                          producer_name="hgqc-testgen")
    m.ir_version = 8
    with open(os.path.join(ROOT, "errors", name), "wb") as f:
        f.write(m.SerializeToString())


def netlist_too_wide():
    nodes, inits, prev = [], [], "x"
    for j, (k, i, f) in enumerate([(0, 60, 0), (0, -30, 90)]):
        out = "y" if j == 1 else "q0"
        nodes.append(helper.make_node("FixedQuant", [prev, "k%d" % j, "i%d" % j, "f%d" % j],
                                      [out], name="fq%d" % j, domain="hgqc", round_mode="TRN",
                                      overflow_mode="SAT"))
        inits += [numpy_helper.from_array(np.array(v, np.int64), "%s%d" % (n, j))
                  for n, v in (("k", k), ("i", i), ("f", f))]
        prev = out
    save(nodes, inits, (("", 13), ("hgqc", 1)), "hw_netlist_too_wide.onnx")


def cycle():
    nodes = [helper.make_node("Relu", ["t1"], ["y"], name="after"),
             helper.make_node("Add", ["x", "t1"], ["t0"], name="loop_add"),
             helper.make_node("Relu", ["t0"], ["t1"], name="loop_relu")]
    save(nodes, [], (("", 13),), "graph_cycle.onnx")


if __name__ == "__main__":
    netlist_too_wide()
    cycle()
