"""Writes the minimized fuzz reproducers of tests/fuzz/regressions/ (run with /usr/bin/python3)."""
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
save(add_model([1 << 40], b"", [1, 4]), "regressions", "huge_initializer_no_data.onnx")
# One declaring [4, 2^31] elements but holding 4 floats.
save(add_model([4, 1 << 31], b"\0" * 16, [1, 4]), "regressions", "huge_initializer_short_data.onnx")


def fixedquant_then(op, extra_inputs, out_dims):
    """x [1,4] -> FixedQuant(1,3,4) -> xq -> op(xq, *extra_inputs) -> y."""
    ints = [helper.make_tensor(n, TensorProto.INT64, [], [v]) for n, v in (("k", 1), ("i", 3), ("f", 4))]
    fq = helper.make_node("FixedQuant", ["x", "k", "i", "f"], ["xq"], name="fq_x", domain="hgqc",
                          round_mode="TRN", overflow_mode="SAT")
    node = helper.make_node(op, ["xq"] + extra_inputs, ["y"], name="n")
    g = helper.make_graph([fq, node], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_dims)], ints)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13),
                                               helper.make_opsetid("hgqc", 1)])


# Clip whose min is a run-time tensor [N,4]: the scalar check took the numel of a shape with an
# unknown dimension (InternalError); now "input 'min' must be a scalar".
save(fixedquant_then("Clip", ["xq"], [1, 4]), "regressions", "clip_runtime_min.onnx")


def quant_bitwidth_runtime(bitwidth=None):
    """QONNX Quant whose bit width is the run-time input x [N,4] (or the constant `bitwidth`)."""
    inits = [helper.make_tensor("s", TensorProto.FLOAT, [], [0.25]),
             helper.make_tensor("z", TensorProto.FLOAT, [], [0.0])]
    if bitwidth is not None:
        inits.append(helper.make_tensor("bw", TensorProto.FLOAT, [], [bitwidth]))
    q = helper.make_node("Quant", ["x", "s", "z", "x" if bitwidth is None else "bw"], ["y"], name="q",
                         domain="qonnx.custom_op.general", signed=1, narrow=0,
                         rounding_mode="ROUND")
    g = helper.make_graph([q], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13),
                                               helper.make_opsetid("qonnx.custom_op.general", 1)])


# Quant whose bit width is a run-time tensor: the same InternalError; now "must be a scalar".
save(quant_bitwidth_runtime(), "regressions", "quant_runtime_bitwidth.onnx")
# Quant with the bit width 2^40: accepted, then static_cast<int> of it in eval (UBSan: signed
# overflow); now "bitwidth ... is not an integer in [1, 53]".
save(quant_bitwidth_runtime(float(1 << 40)), "regressions", "quant_huge_bitwidth.onnx")
