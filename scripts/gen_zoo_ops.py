#!/usr/bin/python3
"""Generates testdata/torch/zoo_pad_upsample_cnn.onnx, a trigger-sized CNN built from the layers
of issue 15: ZeroPad2d and ReflectionPad2d (Pad), nn.Upsample(scale_factor=2, mode='nearest')
(Resize), nn.PReLU (PRelu), torch.abs (Abs) and a global average over a 3x3 map
(nn.AdaptiveAvgPool2d(1): GlobalAveragePool over 9 elements, a quantized reciprocal).

Run with Debian's Python from the repository root:
    /usr/bin/python3 scripts/gen_zoo_ops.py
Writes, next to the model, zoo_pad_upsample_cnn_calib.npy (1024 samples, float32, C order; the
data of the quantize flow and the co-simulation test), zoo_pad_upsample_cnn_input.npy and
zoo_pad_upsample_cnn_output.npy (8 samples and PyTorch's float32 eval-mode output on them), and
zoo_pad_upsample_cnn_train.npz (x, y: 1024 samples and PyTorch's argmax, targets for
`hgqc train`). Seeded and single-threaded: a rerun gives the same files.
"""
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn

SEED = 1515
NAME = "zoo_pad_upsample_cnn"
SHAPE = (1, 1, 6, 6)  # 36 input features


class PadUpsampleCNN(nn.Module):
    """(N,1,6,6) -> ZeroPad2d(1) -> Conv2d(1,4,3) -> PReLU(4) -> MaxPool2d(2) -> (N,4,3,3)
    -> Upsample(x2, nearest) -> ReflectionPad2d(1) -> Conv2d(4,4,3,stride=2) -> (N,4,3,3)
    -> abs -> AdaptiveAvgPool2d(1) (a mean of 9) -> Flatten -> Linear(4,5)."""

    def __init__(self):
        super().__init__()
        self.pad1 = nn.ZeroPad2d(1)
        self.conv1 = nn.Conv2d(1, 4, 3)
        self.prelu = nn.PReLU(4)
        self.pool = nn.MaxPool2d(2)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.pad2 = nn.ReflectionPad2d(1)
        self.conv2 = nn.Conv2d(4, 4, 3, stride=2)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.flat = nn.Flatten()
        self.fc = nn.Linear(4, 5)

    def forward(self, x):
        x = self.pool(self.prelu(self.conv1(self.pad1(x))))
        x = self.conv2(self.pad2(self.up(x)))
        return self.fc(self.flat(self.gap(torch.abs(x))))


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join("testdata", "torch")
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    rng = np.random.default_rng(SEED)
    model = PadUpsampleCNN()
    with torch.no_grad():
        # Slopes on both sides of 0 and above 1, so both hardware forms of PRelu appear.
        model.prelu.weight.copy_(torch.tensor([0.25, -0.5, 0.1, 1.5]))
        model.conv1.weight.mul_(2.0)
    model.eval()
    with torch.no_grad():
        # Logits of unit spread, then biases moved until every class wins about as often, so
        # that the argmax (the training targets) depends on the input.
        xs = torch.from_numpy(rng.standard_normal((1024,) + SHAPE[1:]).astype(np.float32))
        model.fc.weight.mul_(1.0 / model(xs).std(dim=0, keepdim=True).t())
        for _ in range(300):
            freq = torch.bincount(model(xs).argmax(dim=1), minlength=5).float() / len(xs)
            model.fc.bias.add_(0.05 * (0.2 - freq))
    path = os.path.join(outdir, NAME + ".onnx")
    torch.onnx.export(model, torch.randn(SHAPE), path, opset_version=13,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    m = onnx.load(path)
    onnx.checker.check_model(m)
    print("%s: ops %s" % (path, sorted({n.op_type for n in m.graph.node})))

    xc = rng.standard_normal((1024,) + SHAPE[1:]).astype(np.float32)
    with torch.no_grad():
        yc = model(torch.from_numpy(xc)).numpy()
    np.save(os.path.join(outdir, NAME + "_calib.npy"), xc)
    labels = yc.argmax(axis=1).astype(np.int64)
    np.savez(os.path.join(outdir, NAME + "_train.npz"), x=xc, y=labels)
    print("label counts", np.bincount(labels, minlength=5))
    x = np.ascontiguousarray(xc[:8])
    np.save(os.path.join(outdir, NAME + "_input.npy"), x)
    np.save(os.path.join(outdir, NAME + "_output.npy"), np.ascontiguousarray(yc[:8]))


if __name__ == "__main__":
    main()
