#!/usr/bin/python3
"""Writes the graph-size stress models timed by bench/graph_scale/run.sh into a directory.

    /usr/bin/python3 bench/graph_scale/gen_models.py OUT_DIR N

identity_N.onnx: x -> Identity x N -> y; dropout_N.onnx: the same with Dropout;
concat_N.onnx: N Relu(x) concatenated (an N-way Concat); relu_fixed_N.onnx: a FixedQuant on x,
then N Relu nodes (a quantized chain for run --fixed, convert and emit-verilog).
The files are several MB at N = 100000, so they are generated, not committed.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def save(path, nodes, inits=(), opsets=(("", 13),)):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    g = helper.make_graph(nodes, "scale", [x], [y], initializer=list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets],
                          producer_name="hgqc-bench")
    m.ir_version = 8
    with open(path, "wb") as f:
        f.write(m.SerializeToString())


def chain(op, n, first="x"):
    nodes, prev = [], first
    for k in range(n):
        out = "y" if k == n - 1 else "t%d" % k
        nodes.append(helper.make_node(op, [prev], [out], name="%s%d" % (op.lower(), k)))
        prev = out
    return nodes


def main():
    out, n = sys.argv[1], int(sys.argv[2])
    os.makedirs(out, exist_ok=True)
    save(os.path.join(out, "identity_%d.onnx" % n), chain("Identity", n))
    save(os.path.join(out, "dropout_%d.onnx" % n), chain("Dropout", n))
    relus = [helper.make_node("Relu", ["x"], ["r%d" % k], name="relu%d" % k) for k in range(n)]
    cat = helper.make_node("Concat", ["r%d" % k for k in range(n)], ["y"], name="cat", axis=1)
    save(os.path.join(out, "concat_%d.onnx" % n), relus + [cat])
    fq = helper.make_node("FixedQuant", ["x", "k", "i", "f"], ["xq"], name="fq_x",
                          domain="hgqc", round_mode="TRN", overflow_mode="SAT")
    inits = [numpy_helper.from_array(np.array(v, np.int64), nm)
             for nm, v in (("k", 1), ("i", 3), ("f", 4))]
    save(os.path.join(out, "relu_fixed_%d.onnx" % n), [fq] + chain("Relu", n, "xq"), inits,
         opsets=(("", 13), ("hgqc", 1)))


if __name__ == "__main__":
    main()
