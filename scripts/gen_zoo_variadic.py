#!/usr/bin/python3
"""Generates testdata/torch/zoo_variadic_mlp.onnx, a small MLP built on the variadic ONNX ops of
issue 15: torch.maximum and torch.minimum (Max, Min, two inputs each), a three-term sum and a
three-term mean. PyTorch 1.13 writes the last two as chains of Add (and a Div by 3); the script
rewrites each chain into the one node that Keras exports write for layers.Add and
layers.Average of three tensors (Sum and Mean), as tf2onnx does.

    h1 = relu(L1 x), h2 = L2 x, h3 = L3 x          (x: 8 features; h: 6 each)
    m = maximum(h1, h2), n = minimum(h3, h2)
    s = Sum(m, n, h2), a = Mean(s, m, n)
    y = L4 a                                          (4 outputs)

Run with Debian's Python from the repository root:
    /usr/bin/python3 scripts/gen_zoo_variadic.py
Writes, next to the model, zoo_variadic_mlp_calib.npy (256 samples, float32, C order: the data
of the quantize flow and the co-simulation test), zoo_variadic_mlp_input.npy and
zoo_variadic_mlp_output.npy (8 samples and PyTorch's float32 output on them). Seeded and
single-threaded: a rerun gives the same files.
"""
import os
import sys

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn as nn

SEED = 1516
NAME = "zoo_variadic_mlp"
N_IN, N_HID, N_OUT = 8, 6, 4


class VariadicMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(N_IN, N_HID)
        self.l2 = nn.Linear(N_IN, N_HID)
        self.l3 = nn.Linear(N_IN, N_HID)
        self.l4 = nn.Linear(N_HID, N_OUT)

    def forward(self, x):
        h1 = torch.relu(self.l1(x))
        h2 = self.l2(x)
        h3 = self.l3(x)
        m = torch.maximum(h1, h2)
        n = torch.minimum(h3, h2)
        s = m + n + h2
        a = (s + m + n) / 3
        return self.l4(a)


def consumers(g, name):
    return [k for k in g.node if name in k.input]


def fuse_chains(m):
    """Add(Add(p, q), r) -> Sum(p, q, r); Div(Add(Add(p, q), r), 3) -> Mean(p, q, r)."""
    g = m.graph
    consts = {i.name: onnx.numpy_helper.to_array(i) for i in g.initializer}
    for k in g.node:
        if k.op_type == "Constant":
            consts[k.output[0]] = onnx.numpy_helper.to_array(k.attribute[0].t)
    fused = []
    for outer in list(g.node):
        if outer.op_type != "Add":
            continue
        inner = [k for k in g.node if k.op_type == "Add" and k.output[0] == outer.input[0]]
        if len(inner) != 1 or len(consumers(g, inner[0].output[0])) != 1:
            continue
        inner = inner[0]
        terms = list(inner.input) + [outer.input[1]]
        users = consumers(g, outer.output[0])
        div = [k for k in users if k.op_type == "Div" and len(users) == 1 and
               k.input[1] in consts and float(consts[k.input[1]]) == 3.0]
        last = div[0] if div else outer
        node = onnx.helper.make_node("Mean" if div else "Sum", terms, [last.output[0]],
                                     name=("/Mean" if div else "/Sum") + str(len(fused)))
        at = list(g.node).index(inner)
        for k in [inner, outer] + div:
            g.node.remove(k)
        g.node.insert(at, node)
        fused.append(node.op_type)
    assert fused == ["Sum", "Mean"], fused
    # Constants that nothing reads any more (the divisor).
    for k in list(g.node):
        if k.op_type == "Constant" and not consumers(g, k.output[0]):
            g.node.remove(k)
    for i in list(g.initializer):
        if not consumers(g, i.name):
            g.initializer.remove(i)


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join("testdata", "torch")
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    rng = np.random.default_rng(SEED)
    model = VariadicMLP().eval()
    with torch.no_grad():
        for l in (model.l1, model.l2, model.l3):
            l.weight.mul_(1.5)
    path = os.path.join(outdir, NAME + ".onnx")
    torch.onnx.export(model, torch.randn(1, N_IN), path, opset_version=13,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    m = onnx.load(path)
    fuse_chains(m)
    onnx.checker.check_model(m)
    onnx.save(m, path)
    print("%s: ops %s" % (path, sorted(n.op_type for n in m.graph.node)))

    xc = rng.standard_normal((256, N_IN)).astype(np.float32)
    with torch.no_grad():
        yc = model(torch.from_numpy(xc)).numpy()
    np.save(os.path.join(outdir, NAME + "_calib.npy"), xc)
    np.save(os.path.join(outdir, NAME + "_input.npy"), np.ascontiguousarray(xc[:8]))
    np.save(os.path.join(outdir, NAME + "_output.npy"), np.ascontiguousarray(yc[:8]))


if __name__ == "__main__":
    main()
