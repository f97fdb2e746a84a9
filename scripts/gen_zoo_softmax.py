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

import sys

import numpy as np
import torch
import torch.nn as nn

from zoo_common import accuracy, blobs, export, fit

SEED = 2026
N = 1024


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else "testdata/torch"
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    rng = np.random.default_rng(SEED)

    x, y = blobs(rng, N, classes=4, features=16, spread=2.0)
    model = nn.Sequential(nn.Linear(16, 8), nn.Softmax(dim=1), nn.Linear(8, 4))
    loss = fit(model, x, y, nn.CrossEntropyLoss(), epochs=300)
    print("zoo_softmax_mlp: loss %.4f accuracy %.4f" % (loss, accuracy(model, x, y)))
    export(model, "zoo_softmax_mlp", outdir, x, y)


if __name__ == "__main__":
    main()
