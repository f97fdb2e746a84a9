#!/usr/bin/python3
"""PyTorch baseline for bench/train_speed: writes the 16-64-32-32-5 MLP (ONNX; hidden activation
ReLU or tanh) and a synthetic data set for `hgqc train`, then trains the same network in plain
float with PyTorch (Adam, cross-entropy, same batch and thread count) and prints samples/s.

    /usr/bin/python3 torch_baseline.py OUTDIR SAMPLES BATCH THREADS EPOCHS [relu|tanh]
"""
import sys
import time

import numpy as np
import torch
import torch.nn as nn

out, n, batch, threads, epochs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
act = {"relu": nn.ReLU, "tanh": nn.Tanh}[sys.argv[6] if len(sys.argv) > 6 else "relu"]
torch.manual_seed(0)
torch.set_num_threads(threads)
rng = np.random.default_rng(0)
w = rng.normal(size=(16, 5))
x = rng.normal(size=(n, 16)).astype(np.float32)
y = np.argmax(x @ w + 0.5 * rng.normal(size=(n, 5)), axis=1).astype(np.int64)
np.savez(out + "/data.npz", x=x, y=y)


def mlp():
    return nn.Sequential(nn.Linear(16, 64), act(), nn.Linear(64, 32), act(),
                         nn.Linear(32, 32), act(), nn.Linear(32, 5))


m = mlp()
torch.onnx.export(m, torch.zeros(1, 16), out + "/mlp.onnx", input_names=["x"],
                  output_names=["logits"], dynamic_axes={"x": {0: "N"}, "logits": {0: "N"}},
                  opset_version=13)
opt = torch.optim.Adam(m.parameters(), lr=5e-3)
loss_fn = nn.CrossEntropyLoss()
xt, yt = torch.from_numpy(x), torch.from_numpy(y)
best = 0.0
for e in range(epochs):
    perm = torch.randperm(n)
    t0 = time.perf_counter()
    for i in range(0, n, batch):
        idx = perm[i:i + batch]
        opt.zero_grad()
        loss = loss_fn(m(xt[idx]), yt[idx])
        loss.backward()
        opt.step()
    dt = time.perf_counter() - t0
    best = max(best, n / dt)
print(f"torch {torch.__version__} samples_per_second {best:.0f}")
