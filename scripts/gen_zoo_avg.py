#!/usr/bin/env python3
"""Zoo model of issue 15 for averages over counts that are not powers of two.

Writes into testdata/torch/ (or the directory given as the first argument):

    zoo_gap3_cnn.onnx     a small CNN on (N,1,6,6) ending in a global average over a 3x3 map
    zoo_gap3_cnn_x.npy    float32 (1024,1,6,6): calibration, training and verification data
    zoo_gap3_cnn_y.npy    int64 (1024,): the class of each sample (which quadrant is brightest)

The model: AvgPool2d(3, stride 1, p=1, count_include_pad=False) on the input (a smoothing,
windows of 4, 6 and 9 elements), Conv2d(1,3,3,p=1), ReLU, MaxPool2d(2) -> (3,3,3),
Conv2d(3,6,3,p=1), ReLU,
AdaptiveAvgPool2d(1) (GlobalAveragePool over 3x3 = 9 elements), Flatten, Linear(6,4):
226 parameters. Exported with torch.onnx.export at opset 13, dynamic batch, untrained (the
random initialisation; `hgqc train` trains it on the data). The data: standard normal noise
with 1.5 added to one of the four 3x3 quadrants, whose number is the label.

Seeded and single-threaded: a rerun writes the same files. Run from the repository root with
Debian's /usr/bin/python3.
"""

import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn

SEED = 1515
SAMPLES = 1024


class Gap3CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 3, 3, padding=1)
        self.smooth = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(3, 6, 3, padding=1)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.flat = nn.Flatten()
        self.fc = nn.Linear(6, 4)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv1(self.smooth(x))))
        x = self.gap(torch.relu(self.conv2(x)))
        return self.fc(self.flat(x))


def data(rng):
    x = rng.standard_normal((SAMPLES, 1, 6, 6)).astype(np.float32)
    y = rng.integers(0, 4, SAMPLES).astype(np.int64)
    for n in range(SAMPLES):
        r, c = divmod(int(y[n]), 2)
        x[n, 0, 3 * r:3 * r + 3, 3 * c:3 * c + 3] += 1.5
    return np.ascontiguousarray(x), y


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join("testdata", "torch")
    os.makedirs(outdir, exist_ok=True)
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    rng = np.random.default_rng(SEED)
    model = Gap3CNN().eval()
    path = os.path.join(outdir, "zoo_gap3_cnn.onnx")
    torch.onnx.export(
        model, torch.zeros(1, 1, 6, 6), path,
        export_params=True,
        opset_version=13,
        do_constant_folding=False,
        input_names=["input"],
        output_names=["output"],
        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
    )
    x, y = data(rng)
    np.save(os.path.join(outdir, "zoo_gap3_cnn_x.npy"), x)
    np.save(os.path.join(outdir, "zoo_gap3_cnn_y.npy"), y)

    m = onnx.load(path)
    onnx.checker.check_model(m)
    ops = [n.op_type for n in m.graph.node]
    params = sum(p.numel() for p in model.parameters())
    print("zoo_gap3_cnn: opset %d, ops %s, %d parameters" %
          (m.opset_import[0].version, ops, params))
    want = ["AveragePool", "Conv", "Relu", "MaxPool", "Conv", "Relu", "GlobalAveragePool",
            "Flatten", "Gemm"]
    if ops != want:
        sys.exit("unexpected graph: %s" % ops)


if __name__ == "__main__":
    main()
