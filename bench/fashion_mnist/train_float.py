#!/usr/bin/python3
"""Float baseline for bench/fashion_mnist: trains a ReLU MLP (784-H1-H2-...-10, default hidden
sizes 64,32) on Fashion-MNIST in float with PyTorch, prints its test accuracy and writes it as
ONNX. The model reads raw pixels (0..255) and scales them by 2^-8 itself (a Mul by a power of
two, exact in fixed point).

    /usr/bin/python3 train_float.py OUT.onnx EPOCHS [HIDDEN, e.g. 128,64]
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from fmnist_torch import idx, train  # noqa: E402


out, epochs = sys.argv[1], int(sys.argv[2])
hidden = [int(h) for h in (sys.argv[3] if len(sys.argv) > 3 else "64,32").split(",")]
torch.manual_seed(0)
torch.set_num_threads(2)
x = torch.from_numpy(idx("train-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32))
y = torch.from_numpy(idx("train-labels-idx1-ubyte.gz").astype(np.int64))
xt = torch.from_numpy(idx("t10k-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32))
yt = torch.from_numpy(idx("t10k-labels-idx1-ubyte.gz").astype(np.int64))


class Scale(nn.Module):
    def forward(self, v):
        return v * 0.00390625


layers, width = [Scale()], 784
for h in hidden:
    layers += [nn.Linear(width, h), nn.ReLU()]
    width = h
m = nn.Sequential(*layers, nn.Linear(width, 10))
acc = train(m, x, y, xt, yt, epochs, 256)
print(f"float_test_accuracy {acc:.4f}")
torch.onnx.export(m, torch.zeros(1, 784), out, input_names=["x"], output_names=["logits"],
                  dynamic_axes={"x": {0: "N"}, "logits": {0: "N"}}, opset_version=13)
