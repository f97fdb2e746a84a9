#!/usr/bin/python3
"""Float networks for bench/qor: trains a Fashion-MNIST network in PyTorch and writes it as ONNX.
Both read pixels / 256 (input [N,1,28,28] in [0, 1): 8 fractional bits, so a uniform 8-bit input
quantizer is exact and HGQ's input quantizer starts at --init-f's activation bits) and average
2x2 windows inside the model (a power-of-two AveragePool: exact in fixed point), so the circuits
compute on 14x14 images:

    mlp: AvgPool 2 -> Flatten -> Dense 196-H -> ReLU -> Dense H-10             (H = 16)
    cnn: AvgPool 2 -> Conv 3x3 (1->C, stride 2) -> ReLU -> MaxPool 2 -> Flatten -> Dense 9C-10  (C = 4)

    /usr/bin/python3 train_float.py mlp|cnn OUT.onnx EPOCHS [WIDTH] [NPY_DIR]

With NPY_DIR it also writes NPY_DIR/train_x.npy and test_x.npy (float32 [N,1,28,28], pixels / 256),
the inputs that hgqc reads. Prints the float test accuracy (the 10k test images) as its last line.
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from fmnist_torch import idx, train  # noqa: E402


kind, out, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3])
torch.manual_seed(0)
torch.set_num_threads(1)
x = torch.from_numpy(idx("train-images-idx3-ubyte.gz").reshape(-1, 1, 28, 28).astype(np.float32) / 256)
y = torch.from_numpy(idx("train-labels-idx1-ubyte.gz").astype(np.int64))
xt = torch.from_numpy(idx("t10k-images-idx3-ubyte.gz").reshape(-1, 1, 28, 28).astype(np.float32) / 256)
if len(sys.argv) > 5:
    np.save(sys.argv[5] + "/train_x.npy", x.numpy())
    np.save(sys.argv[5] + "/test_x.npy", xt.numpy())
yt = torch.from_numpy(idx("t10k-labels-idx1-ubyte.gz").astype(np.int64))


if kind == "mlp":
    h = int(sys.argv[4]) if len(sys.argv) > 4 else 16
    m = nn.Sequential(nn.AvgPool2d(2, count_include_pad=False), nn.Flatten(), nn.Linear(196, h), nn.ReLU(),
                      nn.Linear(h, 10))
elif kind == "cnn":
    c = int(sys.argv[4]) if len(sys.argv) > 4 else 4
    m = nn.Sequential(nn.AvgPool2d(2, count_include_pad=False), nn.Conv2d(1, c, 3, stride=2), nn.ReLU(),
                      nn.MaxPool2d(2), nn.Flatten(), nn.Linear(9 * c, 10))
else:
    sys.exit(f"unknown network {kind!r} (mlp or cnn)")

acc = train(m, x, y, xt, yt, epochs, 64)
torch.onnx.export(m, torch.zeros(1, 1, 28, 28), out, input_names=["x"], output_names=["logits"],
                  dynamic_axes={"x": {0: "N"}, "logits": {0: "N"}}, opset_version=13)
print(f"float_test_accuracy {acc:.4f}")
