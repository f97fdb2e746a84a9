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
import gzip
import sys

import numpy as np
import torch
import torch.nn as nn

D = "/usr/share/datasets/fashion-mnist/"


def idx(name):
    with gzip.open(D + name) as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


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

opt = torch.optim.Adam(m.parameters(), lr=2e-3)
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs * ((len(x) + 63) // 64))
loss_fn = nn.CrossEntropyLoss()
for e in range(epochs):
    perm = torch.randperm(len(x))
    for i in range(0, len(x), 64):
        idx_ = perm[i:i + 64]
        opt.zero_grad()
        loss_fn(m(x[idx_]), y[idx_]).backward()
        opt.step()
        sched.step()
with torch.no_grad():
    acc = (m(xt).argmax(1) == yt).float().mean().item()
torch.onnx.export(m, torch.zeros(1, 1, 28, 28), out, input_names=["x"], output_names=["logits"],
                  dynamic_axes={"x": {0: "N"}, "logits": {0: "N"}}, opset_version=13)
print(f"float_test_accuracy {acc:.4f}")
