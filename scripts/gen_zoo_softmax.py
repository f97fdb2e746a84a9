# Generates the zoo model with a Softmax inside the network (zoo_softmax_mlp) into testdata/torch/.
"""Regenerate zoo_softmax_mlp in testdata/torch/.

Usage (from the repository root; needs Debian's python3-torch, python3-onnx, numpy):

    /usr/bin/python3 scripts/gen_zoo_softmax.py [OUTDIR]

Model (torch.onnx.export, opset 13, dynamic batch, briefly trained so that the softmax sees
realistic ranges):

    zoo_softmax_mlp   16 -> 8 softmax -> 4: a softmax hidden layer, a classifier of 4
                      Gaussian blobs (the output is the logits)

It writes NAME.onnx, NAME_calib.npy (1024 samples, float32) and NAME_calib_targets.npy (class
labels, int64), the data of `hgqc quantize`, `hgqc train` and the co-simulation tests.
Everything is seeded and single-threaded, so a rerun reproduces the same files.
"""

import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn

SEED = 2026
N = 1024


def blobs(rng):
    centres = rng.normal(0, 1.5, size=(4, 16))
    y = rng.integers(0, 4, size=N)
    x = centres[y] + rng.normal(0, 2.0, size=(N, 16))
    return x.astype(np.float32), y.astype(np.int64)


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else "testdata/torch"
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    rng = np.random.default_rng(SEED)

    x, y = blobs(rng)
    model = nn.Sequential(nn.Linear(16, 8), nn.Softmax(dim=1), nn.Linear(8, 4))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    for _ in range(300):
        opt.zero_grad()
        loss = nn.CrossEntropyLoss()(model(xt), yt)
        loss.backward()
        opt.step()
    acc = (model(xt).argmax(1).numpy() == y).mean()
    print("zoo_softmax_mlp: loss %.4f accuracy %.4f" % (float(loss), acc))

    name = "zoo_softmax_mlp"
    model.eval()
    path = os.path.join(outdir, name + ".onnx")
    torch.onnx.export(model, xt[:1], path, opset_version=13, input_names=["x"],
                      output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
    np.save(os.path.join(outdir, name + "_calib.npy"), x)
    np.save(os.path.join(outdir, name + "_calib_targets.npy"), y)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    print(name, "opset", m.opset_import[0].version, sorted({n.op_type for n in m.graph.node}))


if __name__ == "__main__":
    main()
