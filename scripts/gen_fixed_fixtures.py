# Generates the data for the fixed-point flow tests: jet-tagger-shaped MLP features and the float model's argmax.
"""Regenerate testdata/fixed/ (needs numpy and Debian's python3-onnx).

Usage (from the repository root):

    /usr/bin/python3 scripts/gen_fixed_fixtures.py [SHARED_MODELS_DIR]

Writes:

    jet_x.npy       float32 [2000, 16], standard normal features (seed 7)
    jet_labels.npy  int64 [2000], argmax of the float three_layer_keras.onnx
                    (../shared/models/example-models), evaluated here in float64 numpy

The labels let `hgqc quantize --labels` / `hgqc run --fixed --labels` report how often the
quantized model agrees with the float model.
"""

import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testdata", "fixed")


def run_mlp(model, x):
    """Evaluates a MatMul/Add/Relu/Softmax graph in float64."""
    vals = {i.name: numpy_helper.to_array(i).astype(np.float64) for i in model.graph.initializer}
    vals[model.graph.input[0].name] = x.astype(np.float64)
    for n in model.graph.node:
        a = [vals[i] for i in n.input]
        if n.op_type == "MatMul":
            r = a[0] @ a[1]
        elif n.op_type == "Add":
            r = a[0] + a[1]
        elif n.op_type == "Relu":
            r = np.maximum(a[0], 0)
        elif n.op_type == "Softmax":
            e = np.exp(a[0] - a[0].max(axis=1, keepdims=True))
            r = e / e.sum(axis=1, keepdims=True)
        else:
            raise SystemExit("unexpected op " + n.op_type)
        vals[n.output[0]] = r
    return vals[model.graph.output[0].name]


def main():
    shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "models")
    model = onnx.load(os.path.join(shared, "example-models", "three_layer_keras.onnx"))
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2000, 16)).astype(np.float32)
    y = run_mlp(model, x).argmax(axis=1).astype(np.int64)
    os.makedirs(ROOT, exist_ok=True)
    np.save(os.path.join(ROOT, "jet_x.npy"), x)
    np.save(os.path.join(ROOT, "jet_labels.npy"), y)
    print("jet:", x.shape, "classes", np.bincount(y, minlength=5))


if __name__ == "__main__":
    main()
