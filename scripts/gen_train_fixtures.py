#!/usr/bin/python3
"""Generates testdata/train/: a tiny float MLP and small data sets for the `hgqc train` tests.

Run with Debian's python3 (torch 1.13, onnx, numpy) from the repository root:
    /usr/bin/python3 scripts/gen_train_fixtures.py
Seeded and single-threaded: a rerun writes the same files.
"""
import numpy as np
import torch
import torch.nn as nn

torch.manual_seed(0)
torch.set_num_threads(1)
rng = np.random.default_rng(0)
out = "testdata/train/"

# Three Gaussian blobs in 8 dimensions; a 8-16-3 MLP (freshly initialised) with Softmax.
centers = rng.normal(0, 1.5, size=(3, 8))


def blobs(n):
    y = rng.integers(0, 3, size=n)
    x = centers[y] + rng.normal(0, 1.0, size=(n, 8))
    return x.astype(np.float32), y.astype(np.int64)


x, y = blobs(400)
np.savez(out + "blobs_train.npz", x=x, y=y)
xv, yv = blobs(200)
np.save(out + "blobs_val_x.npy", xv)
np.save(out + "blobs_val_y.npy", yv)

m = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3), nn.Softmax(dim=1))
torch.onnx.export(m, torch.zeros(1, 8), out + "mlp_blobs.onnx", input_names=["x"],
                  output_names=["p"], dynamic_axes={"x": {0: "N"}, "p": {0: "N"}},
                  opset_version=13)

# Bad data for the error tests.
bad = y.copy()
bad[17] = 3
np.savez(out + "bad_labels.npz", x=x, y=bad)
np.savez(out + "bad_shape.npz", x=x[:, :7], y=y)
inf = x.copy()
inf[5, 2] = np.inf
np.savez(out + "bad_inf.npz", x=inf, y=y)
np.savez(out + "bad_frac_labels.npz", x=x, y=y.astype(np.float32) + 0.5)
# 16 features, 5 classes: data for pow_mlp.onnx below.
np.savez(out + "x16.npz", x=rng.normal(size=(64, 16)).astype(np.float32),
         y=rng.integers(0, 5, size=64).astype(np.int64))


class PowMLP(nn.Module):
    """16 -> 5 then a cube (ONNX Pow, which has no backward): the train_no_backward test."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        return torch.pow(self.fc(x), 3)


torch.onnx.export(PowMLP(), torch.zeros(1, 16), out + "pow_mlp.onnx", input_names=["x"],
                  output_names=["y"], dynamic_axes={"x": {0: "N"}, "y": {0: "N"}},
                  opset_version=13)
