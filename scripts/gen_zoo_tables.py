# Generates the table-function zoo models (tanh MLP, sigmoid-output autoencoder) into testdata/torch/.
"""Regenerate the zoo models of the table functions in testdata/torch/.

Usage (from the repository root; needs Debian's python3-torch, python3-onnx, numpy):

    /usr/bin/python3 scripts/gen_zoo_tables.py [OUTDIR]

Models (torch.onnx.export, opset 13, dynamic batch, briefly trained so that the tables see
realistic ranges):

    zoo_tanh_mlp      16 -> 32 tanh -> 16 tanh -> 5: a classifier of 5 Gaussian blobs
    zoo_sigmoid_ae    16 -> 8 tanh -> 16 sigmoid: an autoencoder of data in [0, 1]

For each NAME it writes NAME.onnx, NAME_calib.npy (1024 samples, float32) and
NAME_calib_targets.npy (class labels as int64 for the classifier, the input itself for the
autoencoder), the data of `hgqc quantize`, `hgqc train` and the co-simulation tests.
Everything is seeded and single-threaded, so a rerun reproduces the same files.
"""

import sys

import numpy as np
import torch
import torch.nn as nn

from zoo_common import accuracy, blobs, export, fit

SEED = 2026
N = 1024


def ae_data(rng):
    # 16 features driven by 3 latent factors, squashed into [0, 1].
    z = rng.normal(0, 1, size=(N, 3))
    w = rng.normal(0, 1, size=(3, 16))
    x = 1 / (1 + np.exp(-(z @ w)))
    return x.astype(np.float32), x.astype(np.float32)


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else "testdata/torch"
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    rng = np.random.default_rng(SEED)

    x, y = blobs(rng, N, classes=5, features=16, spread=2.5)
    mlp = nn.Sequential(nn.Linear(16, 32), nn.Tanh(), nn.Linear(32, 16), nn.Tanh(),
                        nn.Linear(16, 5))
    loss = fit(mlp, x, y, nn.CrossEntropyLoss())
    print("zoo_tanh_mlp: loss %.4f accuracy %.4f" % (loss, accuracy(mlp, x, y)))
    export(mlp, "zoo_tanh_mlp", outdir, x, y)

    x, t = ae_data(rng)
    ae = nn.Sequential(nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 16), nn.Sigmoid())
    loss = fit(ae, x, t, nn.MSELoss(), epochs=400)
    print("zoo_sigmoid_ae: mse %.5f" % loss)
    export(ae, "zoo_sigmoid_ae", outdir, x, t)


if __name__ == "__main__":
    main()
