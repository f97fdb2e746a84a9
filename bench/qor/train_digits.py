#!/usr/bin/python3
"""Float network for bench/qor/digits.sh: the UCI handwritten digits that Debian's python3-sklearn
ships (sklearn/datasets/data/digits.csv.gz: 1797 8x8 images, pixels 0..16, ten classes; the
file is read directly, scikit-learn itself is not imported). Fixed split, stratified: within each
class, in the file's order, every fifth image (the 5th, 10th, ...) is a test image and the others
are training images (1442 training and 355 test images, 34 to 36 per class in the test set).
The network reads pixels / 16 (0 to 1 in steps of 1/16):

    mlp: Dense 64-H -> ReLU -> Dense H-10   (H = 16)

    /usr/bin/python3 train_digits.py OUT.onnx EPOCHS NPY_DIR

Writes NPY_DIR/digits_{train,test}_{x,y}.npy (x float32 [N,64], y int64 [N]) and OUT.onnx, and
prints the float test accuracy as its last line.
"""
import gzip
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from fmnist_torch import train  # noqa: E402

DIGITS = "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"

out, epochs, npy = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with gzip.open(DIGITS, "rt") as f:
    data = np.loadtxt(f, delimiter=",", dtype=np.int64)
if data.shape != (1797, 65):
    sys.exit(f"{DIGITS}: expected 1797 rows of 64 pixels and a label, got {data.shape}")
rank = np.zeros(len(data), np.int64)  # position of each image among those of its class
for c in range(10):
    rank[data[:, 64] == c] = np.arange(np.count_nonzero(data[:, 64] == c))
test = rank % 5 == 4
x_all = (data[:, :64] / 16).astype(np.float32)
y_all = data[:, 64]
for part, sel in (("train", ~test), ("test", test)):
    np.save(f"{npy}/digits_{part}_x.npy", x_all[sel])
    np.save(f"{npy}/digits_{part}_y.npy", y_all[sel])

torch.manual_seed(0)
torch.set_num_threads(1)
x, y = torch.from_numpy(x_all[~test]), torch.from_numpy(y_all[~test])
xt, yt = torch.from_numpy(x_all[test]), torch.from_numpy(y_all[test])
m = nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))
acc = train(m, x, y, xt, yt, epochs, 32)
torch.onnx.export(m, torch.zeros(1, 64), out, input_names=["x"], output_names=["logits"],
                  dynamic_axes={"x": {0: "N"}, "logits": {0: "N"}}, opset_version=13)
print(f"float_test_accuracy {acc:.4f}")
