"""Writes the minimized fuzz reproducers of tests/fuzz/pending/ (run with /usr/bin/python3)."""
import os

import onnx
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))


def save(model, folder, name):
    path = os.path.join(HERE, folder, name)
    with open(path, "wb") as f:
        f.write(model.SerializeToString())
    print("wrote", path)


def add_model(b_dims, b_raw, x_dims):
    """y = x + B, with B an initializer that declares `b_dims` but holds `b_raw` bytes."""
    b = TensorProto(name="B", data_type=TensorProto.FLOAT, dims=b_dims, raw_data=b_raw)
    g = helper.make_graph(
        [helper.make_node("Add", ["x", "B"], ["y"], name="add")],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_dims)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [b],
    )
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


# An initializer declaring 2^40 elements with no data: import allocates them.
save(add_model([1 << 40], b"", [1, 4]), "pending", "huge_initializer_no_data.onnx")
# One declaring [4, 2^31] elements but holding 4 floats.
save(add_model([4, 1 << 31], b"\0" * 16, [1, 4]), "pending", "huge_initializer_short_data.onnx")
