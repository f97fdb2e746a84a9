"""Shared by the benches' PyTorch float baselines (bench/fashion_mnist, bench/qor): the
Fashion-MNIST IDX reader and the float training loop (Adam 2e-3, cosine decay per step,
shuffled mini-batches, cross-entropy), so both train their networks the same way."""
import gzip

import numpy as np
import torch
import torch.nn as nn

D = "/usr/share/datasets/fashion-mnist/"


def idx(name):
    """An IDX file of Debian's dataset-fashion-mnist as a numpy array."""
    with gzip.open(D + name) as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def train(m, x, y, xt, yt, epochs, batch):
    """Trains m on (x, y) and returns its accuracy on (xt, yt)."""
    opt = torch.optim.Adam(m.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs * ((len(x) + batch - 1) // batch))
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(epochs):
        perm = torch.randperm(len(x))
        for i in range(0, len(x), batch):
            idx_ = perm[i:i + batch]
            opt.zero_grad()
            loss_fn(m(x[idx_]), y[idx_]).backward()
            opt.step()
            sched.step()
    with torch.no_grad():
        return (m(xt).argmax(1) == yt).float().mean().item()
