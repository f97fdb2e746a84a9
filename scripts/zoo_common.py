# Shared pieces of the zoo model generators (scripts/gen_zoo_*.py): data, a short fit, export.
"""Helpers of the zoo generators: Gaussian-blob data, a full-batch Adam fit and the export of a
model with its calibration data, and the writing of a hand-built quantized (hgqc FixedQuant)
graph. Imported by scripts/gen_zoo_tables.py, gen_zoo_softmax.py, gen_zoo_acts.py,
gen_zoo_products.py and gen_rom_cones.py (run from the repository root with /usr/bin/python3); a
rerun reproduces the same files, as every caller seeds torch and numpy first.
"""

import os

import numpy as np
import onnx
import torch


def blobs(rng, n, classes, features, spread):
    """n samples of `classes` Gaussian blobs in `features` dimensions: (x float32, labels int64)."""
    centres = rng.normal(0, 1.5, size=(classes, features))
    y = rng.integers(0, classes, size=n)
    x = centres[y] + rng.normal(0, spread, size=(n, features))
    return x.astype(np.float32), y.astype(np.int64)


def fit(model, x, y, loss_fn, epochs=200):
    """Full-batch Adam (lr 1e-2) for `epochs` steps; returns the last loss."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    for _ in range(epochs):
        opt.zero_grad()
        loss = loss_fn(model(xt), yt)
        loss.backward()
        opt.step()
    return float(loss)


def accuracy(model, x, y):
    """Share of rows whose argmax is the label."""
    return (model(torch.from_numpy(x)).argmax(1).numpy() == y).mean()


def export(model, name, outdir, x, y):
    """Writes NAME.onnx (opset 13, dynamic batch), NAME_calib.npy and NAME_calib_targets.npy."""
    model.eval()
    path = os.path.join(outdir, name + ".onnx")
    torch.onnx.export(model, torch.from_numpy(x[:1]), path, opset_version=13,
                      input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
    np.save(os.path.join(outdir, name + "_calib.npy"), x)
    np.save(os.path.join(outdir, name + "_calib_targets.npy"), y)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    print(name, "opset", m.opset_import[0].version, sorted({n.op_type for n in m.graph.node}))


def save_fixed_model(nodes, name, inputs, outputs, inits, path):
    """Writes a hand-built graph that uses hgqc's FixedQuant (opsets: ONNX 13 and hgqc 1, IR
    version 7) to PATH after onnx.checker, and prints its op types."""
    from onnx import helper

    g = helper.make_graph(nodes, name, inputs, outputs, inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13),
                                            helper.make_opsetid("hgqc", 1)])
    m.ir_version = 7
    onnx.checker.check_model(m)
    onnx.save(m, path)
    print(f"{path}: ops {[n.op_type for n in m.graph.node]}")
