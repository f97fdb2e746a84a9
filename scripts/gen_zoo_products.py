# Generates the zoo models with products of two run-time values into testdata/torch/.
"""Regenerate the product zoo models (issue 15, products of two activations).

Usage (from the repository root; needs Debian's python3-torch, python3-onnx, numpy):

    /usr/bin/python3 scripts/gen_zoo_products.py [OUTDIR]

OUTDIR defaults to testdata/torch. For each model NAME it writes:

    zoo_NAME.onnx          torch.onnx.export (opset 13, dynamic batch, eval mode)
    zoo_NAME_calib.npy     float32, 256 samples from a standard normal (quantize / verify data)
    zoo_NAME_targets.npy   float32 regression targets for those samples (`hgqc train`)

It also writes testdata/fixed/products_mix.onnx (beside OUTDIR): a quantized model of products
of two run-time values with factors of every sign and of 1 to 9 bits (see products_mix()).

Models:
  gated_mlp  y = W3 (relu(W1 x) * sigmoid(W2 x)): 16 inputs, 24 hidden, 4 outputs; the
             gate's sigmoid is a table (ROM) in hardware, the product a multiplier.
  matmul_mix a = relu(W1 x), b = W2 x (16 inputs, each viewed as 4 x 4 per sample), y =
             W3 flatten(a @ b): a batched MatMul of two activations; 4 outputs.

The weights are random (seeded); the targets come from a second, seeded random model of the
same shape so that training has something to fit. Everything is seeded and single-threaded,
so a rerun reproduces the same files. The script reloads each .onnx, runs onnx.checker and
prints its op types.
"""

import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
from zoo_common import save_fixed_model

SEED = 2026
CALIB = 256


class GatedMLP(nn.Module):
    """y = W3 (relu(W1 x) * sigmoid(W2 x))."""

    def __init__(self, n_in=16, n_hidden=24, n_out=4):
        super().__init__()
        self.value = nn.Linear(n_in, n_hidden)
        self.gate = nn.Linear(n_in, n_hidden)
        self.out = nn.Linear(n_hidden, n_out)

    def forward(self, x):
        v = torch.relu(self.value(x))
        g = torch.sigmoid(self.gate(x))
        return self.out(v * g)


class MatMulMix(nn.Module):
    """An attention-like product of two activations: a = relu(W1 x) and b = W2 x viewed as
    4 x 4 matrices per sample, y = W3 flatten(a @ b)."""

    def __init__(self, n_in=16, n_out=4):
        super().__init__()
        self.left = nn.Linear(n_in, 16)
        self.right = nn.Linear(n_in, 16)
        self.out = nn.Linear(16, n_out)

    def forward(self, x):
        a = torch.relu(self.left(x)).reshape(-1, 4, 4)
        b = self.right(x).reshape(-1, 4, 4)
        return self.out(torch.matmul(a, b).reshape(-1, 16))


MODELS = [("gated_mlp", GatedMLP, 16), ("matmul_mix", MatMulMix, 16)]


def export(name, ctor, n_in, outdir):
    torch.manual_seed(SEED)
    model = ctor().eval()
    teacher = ctor().eval()
    rng = np.random.default_rng(SEED)
    x = rng.standard_normal((CALIB, n_in)).astype(np.float32)
    with torch.no_grad():
        t = teacher(torch.from_numpy(x)).numpy().astype(np.float32)
    path = os.path.join(outdir, f"zoo_{name}.onnx")
    torch.onnx.export(model, torch.from_numpy(x[:1]), path, opset_version=13,
                      input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "N"}, "y": {0: "N"}},
                      do_constant_folding=True)
    np.save(os.path.join(outdir, f"zoo_{name}_calib.npy"), x)
    np.save(os.path.join(outdir, f"zoo_{name}_targets.npy"), t)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    ops = sorted({n.op_type for n in m.graph.node})
    params = sum(p.numel() for p in model.parameters())
    print(f"{path}: opset {m.opset_import[0].version}, {params} parameters, ops {ops}")


# Per-element formats (k, i, f) of the two factors of products_mix: signed and unsigned, 1 to
# 9 bits, including one-bit factors of either sign (the gate-only and subtract-only circuits).
MIX_A = [(1, 3, 2), (0, 4, 1), (1, 0, 3), (0, 1, 0), (1, 0, 0), (1, 7, 0), (0, 2, 3), (1, 2, 2)]
MIX_B = [(0, 1, 0), (1, 0, 0), (1, 4, 2), (0, 3, 3), (1, 2, 1), (1, 6, 2), (0, 5, 0), (1, 1, 1)]


def products_mix(path):
    """A quantized model (hgqc FixedQuant) of products of two run-time values: inputs a and b
    [N, 8], each quantized per element; y = concat(a * b, the batched MatMul of a as [N, 2, 4]
    and b as [N, 4, 2], flattened): 8 + 16 multipliers."""
    from onnx import TensorProto, helper, numpy_helper

    inits = []
    for name, fmts in (("a", MIX_A), ("b", MIX_B)):
        fmt = np.array([fmts], dtype=np.int64)  # [1, 8, 3]
        inits += [numpy_helper.from_array(np.ascontiguousarray(fmt[..., j]), f"{name}_{c}")
                  for j, c in enumerate("kif")]
    inits += [numpy_helper.from_array(np.array([-1, 2, 4], np.int64), "sa"),
              numpy_helper.from_array(np.array([-1, 4, 2], np.int64), "sb"),
              numpy_helper.from_array(np.array([-1, 4], np.int64), "sy")]
    mk = helper.make_node
    nodes = [mk("FixedQuant", [f"{v}_in", f"{v}_k", f"{v}_i", f"{v}_f"], [v], name=f"q_{v}",
                domain="hgqc", round_mode="TRN", overflow_mode="WRAP") for v in "ab"]
    nodes += [mk("Mul", ["a", "b"], ["ab"], name="mul"),
              mk("Reshape", ["a", "sa"], ["a3"], name="a3"),
              mk("Reshape", ["b", "sb"], ["b3"], name="b3"),
              mk("MatMul", ["a3", "b3"], ["mm"], name="matmul"),
              mk("Reshape", ["mm", "sy"], ["mm2"], name="mm2"),
              mk("Concat", ["ab", "mm2"], ["y"], axis=1, name="y")]
    save_fixed_model(nodes, "products_mix",
                     [helper.make_tensor_value_info(f"{v}_in", TensorProto.FLOAT, ["N", 8])
                      for v in "ab"],
                     [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 12])],
                     inits, path)


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else "testdata/torch"
    torch.set_num_threads(1)
    os.makedirs(outdir, exist_ok=True)
    for name, ctor, n_in in MODELS:
        export(name, ctor, n_in, outdir)
    fixed = os.path.join(os.path.dirname(os.path.abspath(outdir)), "fixed")
    products_mix(os.path.join(fixed, "products_mix.onnx"))


if __name__ == "__main__":
    main()
