# Generates small PyTorch-exported ONNX test models plus reference input/output .npy files into testdata/torch/.
"""Regenerate the PyTorch-exported ONNX test models in testdata/torch/.

Usage (from the repository root; needs Debian's python3-torch, python3-onnx, numpy):

    /usr/bin/python3 scripts/gen_torch_models.py [OUTDIR]

OUTDIR defaults to testdata/torch. For each model NAME it writes:

    NAME.onnx         torch.onnx.export, model.eval(), do_constant_folding=False
    NAME_input.npy    float32, C order, 8 samples drawn from a standard normal
    NAME_output.npy   float32 PyTorch eval-mode output for NAME_input.npy

and for cnn_relu and residual also NAME_calib.npy (256 samples) and NAME_calib_labels.npy
(PyTorch's argmax on them), the data of the `hgqc quantize` flow and co-simulation tests.

Models: mlp (opset 13, declared batch 1), cnn (opset 11, dynamic batch),
cnn1d (opset 9, declared batch 2), cnn_relu (opset 13, dynamic batch; only ops
with an exact fixed-point form, for `hgqc quantize`), residual (opset 13, dynamic batch;
a residual Add between two layers, for the Verilog co-simulation tests), fmnist_mlp
(opset 13, dynamic batch; untrained), fmnist_pool_mlp (opset 13, dynamic batch; untrained: a 2x2
average pool then 196-32-10, the default model of scripts/demo.sh). Exports use TrainingMode.PRESERVE on a model
in eval mode: the exported graph is the inference graph, but torch's
eval-mode peephole pass (which would fold Conv+BatchNormalization before
writing the file) is skipped, so BatchNormalization nodes stay in the graph.

Everything is seeded (torch, numpy) and runs single-threaded, so a rerun
reproduces the same files. After writing, the script reloads each .onnx, runs
onnx.checker, prints its opset and op types, fails if an op outside the set the
hgqc frontend is meant to support shows up, and compares the float32 reference
output with a float64 rerun of the same model (the noise floor).
"""

import copy
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn

SEED = 1234
BATCH = 8

# Op types the generated graphs may contain.
ALLOWED_OPS = {
    "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Relu", "LeakyRelu", "Clip",
    "Sigmoid", "Tanh", "Softmax", "Conv", "BatchNormalization", "MaxPool",
    "AveragePool", "GlobalAveragePool", "Flatten", "Reshape", "Transpose",
    "Squeeze", "Unsqueeze", "Concat", "Identity", "Dropout", "Constant",
    "Shape", "Gather", "Pow",
}


class MLP(nn.Module):
    """Jet-tagger shaped MLP: 16 -> 64 -> 32 -> 32 -> 5."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 64)
        self.bn1 = nn.BatchNorm1d(64)
        self.act1 = nn.ReLU()
        self.drop = nn.Dropout(0.2)
        self.fc2 = nn.Linear(64, 32)
        self.act2 = nn.LeakyReLU(0.1)
        self.fc3 = nn.Linear(32, 32)
        self.act3 = nn.Tanh()
        self.fc4 = nn.Linear(32, 5)
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x):
        x = self.drop(self.act1(self.bn1(self.fc1(x))))
        x = self.act2(self.fc2(x))
        x = self.act3(self.fc3(x))
        return self.softmax(self.fc4(x))


class CNN(nn.Module):
    """(N,1,12,12) -> conv/bn/relu, maxpool, depthwise conv, strided conv, avgpool, view, linear -> 10."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.pool1 = nn.MaxPool2d(2)
        self.dw = nn.Conv2d(4, 4, 3, groups=4, stride=1, padding=1, dilation=1)
        self.conv3 = nn.Conv2d(4, 8, 3, stride=2, padding=1)
        # count_include_pad=False: with the default (True) the opset-11 exporter
        # emits an explicit all-zero Pad node in front of AveragePool.
        self.pool2 = nn.AvgPool2d(kernel_size=2, stride=1, count_include_pad=False)
        self.fc = nn.Linear(8 * 2 * 2, 10)
        # Hardtanh exports as Clip with float Constant min/max; torch.clamp would
        # add Cast nodes on the min/max inputs at opset 11.
        self.clip = nn.Hardtanh(-3.0, 3.0)
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))   # (N,4,12,12)
        x = self.pool1(x)                          # (N,4,6,6)
        x = torch.relu(self.dw(x))                 # (N,4,6,6)
        x = torch.sigmoid(self.conv3(x))           # (N,8,3,3)
        x = self.pool2(x)                          # (N,8,2,2)
        x = x.view(x.size(0), -1)                  # Shape/Gather/Unsqueeze/Concat/Reshape
        x = self.clip(self.fc(x))
        return self.softmax(x)


class CNN1D(nn.Module):
    """(N,3,20) -> conv1d/relu, dilated strided conv1d, [maxpool+flatten | global avg pool] concat, linear -> 4."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(3, 6, 5, padding=2)
        self.conv2 = nn.Conv1d(6, 6, 3, dilation=2, stride=2)
        self.pool = nn.MaxPool1d(2)
        self.gap = nn.AdaptiveAvgPool1d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(6 * 4 + 6, 4)

    def forward(self, x):
        x = torch.relu(self.conv1(x))              # (N,6,20)
        x = self.conv2(x)                          # (N,6,8)
        a = self.flatten(self.pool(x))             # (N,24)
        b = self.flatten(self.gap(x))              # (N,6)
        return self.fc(torch.cat([a, b], dim=1))   # (N,4)


class CNNReLU(nn.Module):
    """A CNN made only of ops with an exact fixed-point form (for hgqc quantize)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(4, 8, 3, stride=2, padding=1)
        self.pool2 = nn.AvgPool2d(2, count_include_pad=False)
        self.fc = nn.Linear(8 * 2 * 2, 10)
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))   # (N,4,16,16)
        x = self.pool1(x)                          # (N,4,8,8)
        x = torch.relu(self.conv2(x))              # (N,8,4,4)
        x = self.pool2(x)                          # (N,8,2,2)
        x = torch.flatten(x, 1)                    # Flatten
        return self.softmax(self.fc(x))


class Residual(nn.Module):
    """Residual MLP 16 -> 32 -> (32 + skip) -> 5: the hardware test of an Add of two layers."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 32)
        self.fc2 = nn.Linear(32, 32)
        self.fc3 = nn.Linear(32, 5)

    def forward(self, x):
        h = torch.relu(self.fc1(x))
        return self.fc3(torch.relu(self.fc2(h) + h))


class FMnistMLP(nn.Module):
    """784 -> 32 -> 10 MLP, freshly initialised: the default model that `hgqc train` trains on
    Fashion-MNIST in scripts/demo.sh."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


class FMnistPoolMLP(nn.Module):
    """2x2 average pooling (28x28 -> 14x14) -> 196 -> 32 -> 10 MLP, freshly initialised: the
    default model of scripts/demo.sh (small enough to synthesise in minutes when unrolled)."""

    def __init__(self):
        super().__init__()
        self.pool = nn.AvgPool2d(2, count_include_pad=False)  # no Pad node in the export
        self.fc1 = nn.Linear(196, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(torch.flatten(self.pool(x), 1))))


def randomize_batchnorm(model, gen):
    """Give every BatchNorm layer non-trivial running stats and affine params."""
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            c = m.num_features
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(c, generator=gen) * 0.5)
                m.running_var.copy_(torch.rand(c, generator=gen) * 1.5 + 0.5)
                m.weight.copy_(torch.rand(c, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(c, generator=gen) * 0.2)


# PyTorch's default init gives tiny activations in these small nets: the
# softmax outputs come out nearly uniform and identical for every sample, and
# the cnn Clip is never active. Scaling the weights of the named layers up
# makes the reference outputs input dependent and clips ~10-20% of cnn logits.
WEIGHT_GAINS = {
    "mlp": {"fc1": 1.5, "fc2": 2.0, "fc3": 2.0, "fc4": 4.0},
    "cnn": {"conv1": 4.0, "dw": 4.0, "conv3": 4.0, "fc": 5.0},
    "cnn1d": {},
    "cnn_relu": {"conv1": 2.0, "conv2": 2.0, "fc": 3.0},
    "residual": {"fc3": 2.0},
    "fmnist_mlp": {},
    "fmnist_pool_mlp": {},
}


# name, constructor, declared export input shape, opset, dynamic batch
MODELS = [
    ("mlp", MLP, (1, 16), 13, False),
    ("cnn", CNN, (1, 1, 12, 12), 11, True),
    ("cnn1d", CNN1D, (2, 3, 20), 9, False),
    ("cnn_relu", CNNReLU, (1, 1, 16, 16), 13, True),
    ("residual", Residual, (1, 16), 13, True),
    ("fmnist_mlp", FMnistMLP, (1, 784), 13, True),
    ("fmnist_pool_mlp", FMnistPoolMLP, (1, 1, 28, 28), 13, True),
]


def export_one(name, ctor, shape, opset, dynamic, outdir, rng, gen):
    model = ctor()
    with torch.no_grad():
        for layer, gain in WEIGHT_GAINS[name].items():
            getattr(model, layer).weight.mul_(gain)
    # A few training-mode passes move the BN running stats, then they are set
    # to explicit random values so BN folding is exercised for sure.
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn((BATCH,) + tuple(shape[1:]), generator=gen) * 2.0 + 0.5)
    randomize_batchnorm(model, gen)
    model.eval()
    if name == "cnn_relu":
        # Centre the logits (the ReLU features all have positive means, so one class
        # would win everywhere): the argmax then depends on the input.
        with torch.no_grad():
            xs = torch.randn((256,) + tuple(shape[1:]), generator=gen)
            feats = torch.flatten(model.pool2(torch.relu(model.conv2(model.pool1(
                torch.relu(model.bn1(model.conv1(xs))))))), 1)
            model.fc.bias.copy_(-model.fc(feats).mean(dim=0) + model.fc.bias)

    path = os.path.join(outdir, name + ".onnx")
    dummy = torch.randn(shape, generator=gen)
    kwargs = {}
    if dynamic:
        kwargs["dynamic_axes"] = {"input": {0: "batch"}, "output": {0: "batch"}}
    torch.onnx.export(
        model, dummy, path,
        export_params=True,
        opset_version=opset,
        do_constant_folding=False,
        training=torch.onnx.TrainingMode.PRESERVE,  # model is in eval mode; skips Conv+BN fusion
        input_names=["input"],
        output_names=["output"],
        **kwargs,
    )

    x = rng.standard_normal((BATCH,) + tuple(shape[1:])).astype(np.float32)
    x = np.ascontiguousarray(x)
    with torch.no_grad():
        y = model(torch.from_numpy(x)).numpy().astype(np.float32)
    y = np.ascontiguousarray(y)
    np.save(os.path.join(outdir, name + "_input.npy"), x)
    np.save(os.path.join(outdir, name + "_output.npy"), y)
    if name in ("cnn_relu", "residual"):
        # Calibration data for `hgqc quantize` and the float model's argmax as labels.
        xc = rng.standard_normal((256,) + tuple(shape[1:])).astype(np.float32)
        with torch.no_grad():
            yc = model(torch.from_numpy(xc)).numpy().argmax(axis=1).astype(np.int64)
        np.save(os.path.join(outdir, name + "_calib.npy"), xc)
        np.save(os.path.join(outdir, name + "_calib_labels.npy"), yc)

    # Noise floor: same model and input in float64.
    m64 = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        y64 = m64(torch.from_numpy(x.astype(np.float64))).numpy()
    absdiff = np.abs(y.astype(np.float64) - y64)
    max_abs = float(absdiff.max())
    max_rel = float((absdiff / np.maximum(np.abs(y64), 1e-30)).max())
    max_rel_to_range = max_abs / float(np.abs(y64).max())
    return path, x.shape, y.shape, max_abs, max_rel, max_rel_to_range


def check_one(path):
    m = onnx.load(path)
    onnx.checker.check_model(m)
    opsets = {imp.domain or "ai.onnx": imp.version for imp in m.opset_import}
    ops = sorted({n.op_type for n in m.graph.node})
    counts = {}
    for n in m.graph.node:
        counts[n.op_type] = counts.get(n.op_type, 0) + 1

    def dims(vi):
        return [d.dim_param if d.dim_param else d.dim_value
                for d in vi.type.tensor_type.shape.dim]

    ins = [(vi.name, dims(vi)) for vi in m.graph.input]
    outs = [(vi.name, dims(vi)) for vi in m.graph.output]
    return opsets, ops, counts, ins, outs


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join("testdata", "torch")
    os.makedirs(outdir, exist_ok=True)
    torch.manual_seed(SEED)
    np.random.seed(SEED)
    torch.set_num_threads(1)

    bad = False
    for i, (name, ctor, shape, opset, dynamic) in enumerate(MODELS):
        torch.manual_seed(SEED + i)
        gen = torch.Generator().manual_seed(SEED + 100 + i)
        rng = np.random.default_rng(SEED + 200 + i)
        path, xs, ys, max_abs, max_rel, max_rel_rng = export_one(
            name, ctor, shape, opset, dynamic, outdir, rng, gen)
        opsets, ops, counts, ins, outs = check_one(path)
        extra = sorted(set(ops) - ALLOWED_OPS)
        print("%s: opset %s, %d bytes" % (name, opsets, os.path.getsize(path)))
        print("  graph inputs %s outputs %s" % (ins, outs))
        print("  ops: %s" % ", ".join("%s x%d" % (o, counts[o]) for o in ops))
        print("  reference input %s output %s" % (xs, ys))
        print("  float32 vs float64: max abs %.3e, max elementwise rel %.3e, "
              "max abs / max|y| %.3e" % (max_abs, max_rel, max_rel_rng))
        if extra:
            print("  ERROR: ops outside the supported set: %s" % extra)
            bad = True
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
