# Generates the activation zoo model (GELU, SiLU, Mish, CELU hidden layers) into testdata/torch/.
"""Regenerate the activation zoo model in testdata/torch/.

Usage (from the repository root; needs Debian's python3-torch, python3-onnx, numpy):

    /usr/bin/python3 scripts/gen_zoo_acts.py [OUTDIR]

Model (torch.onnx.export, opset 13, dynamic batch, briefly trained so that the tables see
realistic ranges):

    zoo_act_mlp   16 -> 12 GELU -> 12 SiLU -> 12 Mish -> 12 CELU(alpha=1.5) -> 5:
                  a classifier of 5 Gaussian blobs

torch 1.13 writes nn.GELU as Div, Erf, Add, Mul, Mul, nn.SiLU as Sigmoid and Mul, nn.Mish as
Softplus, Tanh and Mul, and nn.CELU as Celu; hgqc's fuse_activations pass makes each of the
first three one table function (Gelu, Silu, Mish).

Writes zoo_act_mlp.onnx, zoo_act_mlp_calib.npy (1024 samples, float32) and
zoo_act_mlp_calib_targets.npy (class labels, int64), the data of `hgqc quantize`, `hgqc train`
and the co-simulation tests. Everything is seeded and single-threaded, so a rerun reproduces
the same files.
"""

import sys

import numpy as np
import torch
import torch.nn as nn

from zoo_common import accuracy, blobs, export, fit

SEED = 2027
N = 1024


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else "testdata/torch"
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    rng = np.random.default_rng(SEED)

    x, y = blobs(rng, N, classes=5, features=16, spread=2.5)
    model = nn.Sequential(nn.Linear(16, 12), nn.GELU(), nn.Linear(12, 12), nn.SiLU(),
                          nn.Linear(12, 12), nn.Mish(), nn.Linear(12, 12), nn.CELU(alpha=1.5),
                          nn.Linear(12, 5))
    loss = fit(model, x, y, nn.CrossEntropyLoss())
    model.eval()
    print("zoo_act_mlp: loss %.4f accuracy %.4f" % (loss, accuracy(model, x, y)))
    export(model, "zoo_act_mlp", outdir, x, y)


if __name__ == "__main__":
    main()
