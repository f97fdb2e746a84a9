#!/usr/bin/python3
"""Generates the small hand-built ONNX models under testdata/errors/ and testdata/qonnx/.

Run with Debian's Python (it has python3-onnx and numpy):
    /usr/bin/python3 scripts/gen_test_models.py
Output is deterministic; the files are committed so that building and testing need no Python.

testdata/errors/: models hgqc must refuse with a clear error (exit 2), one problem each.
testdata/misc/two_inputs.onnx: y = relu(a) - b, for multi-input data handling, with
two_inputs.npz (arrays a, b), two_inputs_missing.npz (only a) and the expected output.
testdata/qonnx/: a QONNX MLP using Quant (as IntQuant, in a domain with no declared opset)
and BipolarQuant, with an input and the output of a NumPy implementation of the QONNX
reference semantics (qonnx.custom_op.general.quant), for checking the evaluator.
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testdata")


def save(model, *parts):
    path = os.path.join(ROOT, *parts)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(model.SerializeToString())


def model(nodes, inputs, outputs, inits=(), opsets=(("", 13),), name="g"):
    g = helper.make_graph(nodes, name, inputs, outputs, initializer=list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets],
                          producer_name="hgqc-testgen")
    m.ir_version = 8
    return m


def vi(name, shape, t=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, t, shape)


def init(name, arr):
    return numpy_helper.from_array(np.asarray(arr), name)


def errors():
    x = vi("x", [1, 4])
    y = vi("y", [1, 4])
    save(model([helper.make_node("LSTM", ["x"], ["y"], name="lstm0")], [x], [y]),
         "errors", "unsupported_op.onnx")
    save(model([helper.make_node("Foo", ["x"], ["y"], name="foo0", domain="com.example")],
               [x], [y], opsets=(("", 13), ("com.example", 1))),
         "errors", "unknown_domain.onnx")
    w = init("w", np.ones((5, 3), np.float32))
    save(model([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm0")], [x],
               [vi("y", [1, 3])], inits=[w]),
         "errors", "shape_mismatch.onnx")
    save(model([helper.make_node("LeakyRelu", ["x"], ["y"], name="lrelu0", alpha=0.1, beta=2.0)],
               [x], [y]),
         "errors", "bad_attribute.onnx")
    img = vi("img", [1, 2, 5, 5])
    save(model([helper.make_node("AveragePool", ["img"], ["out"], name="pool0", kernel_shape=[2, 2],
                                 auto_pad="SAME_SIDEWAYS")],
               [img], [vi("out", [1, 2, 5, 5])]),
         "errors", "bad_attribute_value.onnx")
    c = [init(n, np.ones(4, np.float32)) for n in ("s", "b", "m", "v")]
    save(model([helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"],
                                 name="bn0", training_mode=1)], [x], [y], inits=c, opsets=(("", 15),)),
         "errors", "training_batchnorm.onnx")
    save(model([helper.make_node("Relu", ["x"], ["y"], name="relu0")], [x], [y],
               opsets=(("", 99),)),
         "errors", "future_opset.onnx")
    save(model([helper.make_node("Relu", ["t"], ["y"], name="relu0")], [x], [y]),
         "errors", "undefined_input.onnx")
    save(model([helper.make_node("Relu", ["x"], ["y"], name="relu0")],
               [vi("x", [1, 4], TensorProto.FLOAT16)], [vi("y", [1, 4], TensorProto.FLOAT16)]),
         "errors", "float16_input.onnx")
    save(model([helper.make_node("Celu", ["x"], ["y"], name="celu0", alpha=0.0)], [x], [y]),
         "errors", "celu_bad_alpha.onnx")
    good = model([helper.make_node("Relu", ["x"], ["h"], name="relu0"),
                  helper.make_node("MatMul", ["h", "w"], ["y"], name="mm0")],
                 [x], [vi("y", [1, 3])], inits=[init("w", np.arange(12, dtype=np.float32).reshape(4, 3))])
    data = good.SerializeToString()
    with open(os.path.join(ROOT, "errors", "truncated.onnx"), "wb") as f:
        f.write(data[: len(data) - 40])
    with open(os.path.join(ROOT, "errors", "not_onnx.onnx"), "w") as f:
        f.write("This is a text file, not an ONNX model.\n")
    # A reference that the torch MLP's output must not match (for `run --compare`).
    ref = np.load(os.path.join(ROOT, "torch", "mlp_output.npy"))
    np.save(os.path.join(ROOT, "errors", "mlp_output_wrong.npy"), ref + np.float32(0.01))
    # A variadic op (Max) with an integer input: these ops take float inputs only.
    save(model([helper.make_node("Max", ["x", "c"], ["y"], name="max0")], [x], [y],
               [init("c", np.arange(4, dtype=np.int64).reshape(1, 4))]),
         "errors", "variadic_int_input.onnx")


# NumPy version of qonnx.custom_op.general.quant.quant (clip, then round, then rescale).
def quant(x, scale, zeropt, bitwidth, signed, narrow, mode):
    y = x / scale + zeropt
    lo = -(2 ** (bitwidth - 1)) + narrow if signed else 0
    hi = 2 ** (bitwidth - 1) - 1 if signed else 2 ** bitwidth - 1 - narrow
    y = np.clip(y, lo, hi)
    rnd = {"ROUND": np.round, "FLOOR": np.floor, "CEIL": np.ceil, "ROUND_TO_ZERO": np.fix}[mode]
    return (rnd(y) - zeropt) * scale


def qonnx_mlp():
    rng = np.random.default_rng(7)
    w1 = rng.normal(size=(6, 8)).astype(np.float32)
    b1 = rng.normal(size=(8,)).astype(np.float32)
    w2 = rng.normal(size=(8, 3)).astype(np.float32)
    s_w1 = np.full((1, 8), 0.125, np.float32)  # per-channel power-of-two scale
    dom = "qonnx.custom_op.general"
    nodes = [
        helper.make_node("IntQuant", ["x", "s_in", "z0", "bw_in"], ["xq"], domain=dom, name="q_in",
                         signed=1, narrow=0, rounding_mode="ROUND"),
        helper.make_node("IntQuant", ["w1", "s_w1", "z0", "bw_w"], ["w1q"], domain=dom, name="q_w1",
                         signed=1, narrow=1, rounding_mode="ROUND"),
        helper.make_node("MatMul", ["xq", "w1q"], ["h0"], name="mm1"),
        helper.make_node("Add", ["h0", "b1"], ["h1"], name="add1"),
        helper.make_node("Relu", ["h1"], ["h2"], name="relu1"),
        helper.make_node("IntQuant", ["h2", "s_act", "z0", "bw_act"], ["h3"], domain=dom,
                         name="q_act", signed=0, narrow=0, rounding_mode="FLOOR"),
        helper.make_node("BipolarQuant", ["w2", "s_one"], ["w2q"], domain=dom, name="q_w2"),
        helper.make_node("MatMul", ["h3", "w2q"], ["y"], name="mm2"),
    ]
    inits = [init("w1", w1), init("b1", b1), init("w2", w2), init("s_w1", s_w1),
             init("s_in", np.float32(0.25)), init("z0", np.float32(0)), init("bw_in", np.float32(4)),
             init("bw_w", np.float32(3)), init("s_act", np.float32(0.5)),
             init("bw_act", np.float32(3)), init("s_one", np.float32(1))]
    m = model(nodes, [vi("x", [1, 6])], [vi("y", [1, 3])], inits=inits, opsets=(("", 13),))
    save(m, "qonnx", "quant_mlp.onnx")
    x = (rng.normal(size=(16, 6)) * 1.5).astype(np.float32)
    xq = quant(x.astype(np.float64), 0.25, 0, 4, 1, 0, "ROUND")
    w1q = quant(w1.astype(np.float64), s_w1.astype(np.float64), 0, 3, 1, 1, "ROUND")
    h = np.maximum(xq @ w1q + b1, 0)
    h3 = quant(h, 0.5, 0, 3, 0, 0, "FLOOR")
    w2q = np.where(w2 >= 0, 1.0, -1.0)
    y = h3 @ w2q
    np.save(os.path.join(ROOT, "qonnx", "quant_mlp_input.npy"), x)
    np.save(os.path.join(ROOT, "qonnx", "quant_mlp_output.npy"), y.astype(np.float32))


def qonnx_pow2_cnn():
    """A QONNX CNN with power-of-two scales, scalar and per channel, for the fixed-point path:
    Quant(x) -> Conv(Quant per-channel w) -> BatchNormalization -> Relu -> Quant (unsigned,
    FLOOR) -> MaxPool -> Flatten -> MatMul(Quant per-column w, narrow) -> Add(Quant b)."""
    rng = np.random.default_rng(11)
    dom = "qonnx.custom_op.general"
    wc = rng.normal(size=(4, 1, 3, 3)).astype(np.float32)
    s_wc = np.array([0.25, 0.125, 0.5, 0.0625], np.float32).reshape(4, 1, 1, 1)
    wd = (rng.normal(size=(64, 5)) * 0.3).astype(np.float32)
    s_wd = np.array([[0.125, 0.0625, 0.25, 0.125, 0.03125]], np.float32)
    bd = rng.normal(size=(5,)).astype(np.float32)
    bn = [rng.uniform(0.5, 1.5, 4), rng.normal(size=4) * 0.2, rng.normal(size=4) * 0.3,
          rng.uniform(0.5, 2.0, 4)]
    nodes = [
        helper.make_node("Quant", ["x", "s_in", "z0", "bw8"], ["xq"], domain=dom, name="q_in",
                         signed=1, narrow=0, rounding_mode="ROUND"),
        helper.make_node("Quant", ["wc", "s_wc", "z0", "bw4"], ["wcq"], domain=dom, name="q_wc",
                         signed=1, narrow=0, rounding_mode="ROUND"),
        helper.make_node("Conv", ["xq", "wcq"], ["c"], name="conv", pads=[1, 1, 1, 1],
                         kernel_shape=[3, 3]),
        helper.make_node("BatchNormalization", ["c", "g", "b", "m", "v"], ["cb"], name="bn"),
        helper.make_node("Relu", ["cb"], ["cr"], name="relu"),
        helper.make_node("Quant", ["cr", "s_act", "z0", "bw4"], ["cq"], domain=dom, name="q_act",
                         signed=0, narrow=0, rounding_mode="FLOOR"),
        helper.make_node("MaxPool", ["cq"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p"], ["f"], name="flat", axis=1),
        helper.make_node("Quant", ["wd", "s_wd", "z0", "bw4"], ["wdq"], domain=dom, name="q_wd",
                         signed=1, narrow=1, rounding_mode="ROUND"),
        helper.make_node("MatMul", ["f", "wdq"], ["d"], name="dense"),
        helper.make_node("Quant", ["bd", "s_b", "z0", "bw8"], ["bdq"], domain=dom, name="q_bd",
                         signed=1, narrow=0, rounding_mode="HALF_UP"),
        helper.make_node("Add", ["d", "bdq"], ["y"], name="bias"),
    ]
    inits = [init("wc", wc), init("s_wc", s_wc), init("wd", wd), init("s_wd", s_wd),
             init("bd", bd), init("s_in", np.float32(0.0625)), init("s_act", np.float32(0.125)),
             init("s_b", np.float32(0.03125)), init("z0", np.float32(0)),
             init("bw8", np.float32(8)), init("bw4", np.float32(4)),
             init("g", bn[0].astype(np.float32)), init("b", bn[1].astype(np.float32)),
             init("m", bn[2].astype(np.float32)), init("v", bn[3].astype(np.float32))]
    m = model(nodes, [vi("x", [1, 1, 8, 8])], [vi("y", [1, 5])], inits=inits)
    save(m, "qonnx", "pow2_cnn.onnx")


def two_inputs():
    nodes = [helper.make_node("Relu", ["a"], ["r"], name="relu0"),
             helper.make_node("Sub", ["r", "b"], ["y"], name="sub0")]
    save(model(nodes, [vi("a", [1, 3]), vi("b", [1, 3])], [vi("y", [1, 3])]), "misc", "two_inputs.onnx")
    rng = np.random.default_rng(3)
    a = rng.normal(size=(4, 3)).astype(np.float32)
    b = rng.normal(size=(4, 3)).astype(np.float32)
    d = os.path.join(ROOT, "misc")
    np.savez(os.path.join(d, "two_inputs.npz"), b=b, a=a)  # not in the model's input order
    np.savez(os.path.join(d, "two_inputs_missing.npz"), a=a)
    np.save(os.path.join(d, "two_inputs_output.npy"), np.maximum(a, 0) - b)


def fixed_errors():
    """Bad quantized models: each must give a clear error naming the node."""
    x, y = vi("x", [1, 4]), vi("y", [1, 4])
    hq = (("", 13), ("hgqc", 1))

    def fq(k, i, f, name="fq0"):
        node = helper.make_node("FixedQuant", ["x", "k", "i", "f"], ["y"], name=name,
                                domain="hgqc", round_mode="RND", overflow_mode="SAT")
        inits = [init("k", np.array(k, np.int64)), init("i", np.array(i, np.int64)),
                 init("f", np.array(f, np.int64))]
        return model([node], [x], [y], inits, opsets=hq)

    save(fq([1, 1, 1], [2, 2, 2, 2], [3, 3, 3, 3]), "errors", "fixed_bad_shape.onnx")
    save(fq([1, -1, 1, 1], [2, 2, 2, 2], [3, 3, 3, 3]), "errors", "fixed_negative_k.onnx")
    save(fq(1, 40, 30), "errors", "fixed_too_wide.onnx")
    # Log of a signed input: its table's input range reaches negative values, where log has no
    # real value.
    nodes = [helper.make_node("FixedQuant", ["x", "k", "i", "f"], ["xq"], name="fq_x",
                              domain="hgqc", round_mode="TRN", overflow_mode="SAT"),
             helper.make_node("Log", ["xq"], ["ly"], name="log"),
             helper.make_node("FixedQuant", ["ly", "k", "i", "f"], ["y"], name="fq_log",
                              domain="hgqc", round_mode="TRN", overflow_mode="SAT")]
    inits = [init("k", np.array(1, np.int64)), init("i", np.array(2, np.int64)),
             init("f", np.array(3, np.int64))]
    save(model(nodes, [x], [y], inits, opsets=hq), "errors", "log_negative_input.onnx")
    # 41-bit inputs times 22-bit weights (3 + 2^-20 on the grid 2^-20): the MatMul
    # accumulator needs more than 62 bits. (A weight costs the bits its value needs, not its
    # declared 31: 3.0 would cost 2.)
    nodes = [helper.make_node("FixedQuant", ["x", "k", "ix", "fx"], ["xq"], name="fq_x",
                              domain="hgqc", round_mode="TRN", overflow_mode="SAT"),
             helper.make_node("FixedQuant", ["w", "k", "iw", "fw"], ["wq"], name="fq_w",
                              domain="hgqc", round_mode="RND", overflow_mode="SAT"),
             helper.make_node("MatMul", ["xq", "wq"], ["y"], name="wide_mm")]
    inits = [init("k", np.array(1, np.int64)), init("ix", np.array(20, np.int64)),
             init("fx", np.array(20, np.int64)), init("iw", np.array(10, np.int64)),
             init("fw", np.array(20, np.int64)),
             init("w", np.full((4, 4), 3.0 + 2.0**-20, np.float32))]
    save(model(nodes, [x], [y], inits, opsets=hq), "errors", "fixed_accumulator_too_wide.onnx")
    # Hardware errors (emit-verilog): a product of two run-time values wider than 62 bits (a
    # 32-bit signed square needs 64), and a 36-bit operand of a constant product (the
    # adder-graph optimiser takes at most 32).
    nodes = [helper.make_node("FixedQuant", ["x", "k", "i31", "f0"], ["xq"], name="fq_x",
                              domain="hgqc", round_mode="TRN", overflow_mode="SAT"),
             helper.make_node("Mul", ["xq", "xq"], ["y"], name="square")]
    inits = [init("k", np.array(1, np.int64)), init("i31", np.array(31, np.int64)),
             init("f0", np.array(0, np.int64))]
    save(model(nodes, [x], [y], inits, opsets=hq), "errors", "hw_product_too_wide.onnx")
    # A graph input without a batch dimension (rank 1): the circuit reads [N, ...] inputs.
    nodes = [helper.make_node("FixedQuant", ["v", "k", "i31", "f0"], ["vq"], name="fq_v",
                              domain="hgqc", round_mode="TRN", overflow_mode="SAT"),
             helper.make_node("Relu", ["vq"], ["y"], name="relu")]
    save(model(nodes, [vi("v", [3])], [vi("y", [3])], inits, opsets=hq), "errors",
         "hw_input_no_batch.onnx")
    nodes = [helper.make_node("FixedQuant", ["x", "k", "ix", "fx"], ["xq"], name="fq_x",
                              domain="hgqc", round_mode="TRN", overflow_mode="SAT"),
             helper.make_node("MatMul", ["xq", "w"], ["y"], name="wide_input_mm")]
    inits = [init("k", np.array(1, np.int64)), init("ix", np.array(16, np.int64)),
             init("fx", np.array(19, np.int64)),
             init("w", np.full((4, 4), 3.0, np.float32))]  # only the operand is too wide
    save(model(nodes, [x], [y], inits, opsets=hq), "errors", "hw_operand_too_wide.onnx")
    q = helper.make_node("Quant", ["x", "s", "z", "b"], ["y"], name="quant0",
                         domain="qonnx.custom_op.general", signed=1, narrow=0,
                         rounding_mode="ROUND")
    save(model([q], [x], [y], [init("s", np.array(0.3, np.float32)),
                               init("z", np.array(0, np.float32)),
                               init("b", np.array(4, np.float32))]),
         "errors", "quant_scale_not_pow2.onnx")


def hostile():
    """Minimized hostile inputs (issue 17): each must give exit 2 and one printable line."""
    x = vi("x", [1, 16])
    # An initializer declaring 2^40 elements with 64 bytes of data: refused before allocating.
    w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[2**20, 2**20],
                    raw_data=bytes(64))
    save(model([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm0")], [x], [vi("y", [1, 4])],
               inits=[w]),
         "errors", "huge_initializer.onnx")
    # FixedQuant formats outside the int range (they used to wrap to small values).
    hq = (("", 13), ("hgqc", 1))
    for name, i, f in (("fixed_i_out_of_range", 2**32 + 5, 4), ("fixed_f_int_min", 3, -2**31)):
        node = helper.make_node("FixedQuant", ["x", "k", "i", "f"], ["y"], name="fq0",
                                domain="hgqc", round_mode="RND", overflow_mode="SAT")
        inits = [init("k", np.array(1, np.int64)), init("i", np.array(i, np.int64)),
                 init("f", np.array(f, np.int64))]
        save(model([node], [x], [vi("y", [1, 16])], inits, opsets=hq), "errors", name + ".onnx")
    # A node name with a control byte, a newline and a byte that is not UTF-8.
    m = model([helper.make_node("LSTM", ["x"], ["y"], name="bad\x01\nname")], [x], [vi("y", [1, 16])])
    data = m.SerializeToString().replace(b"bad\x01\nname", b"bad\x01\nnam\xff")
    with open(os.path.join(ROOT, "errors", "control_name.onnx"), "wb") as f:
        f.write(data)
    # float64 input data for torch/mlp.onnx ([N,16] float32) holding 1e300 at element 19.
    d = np.zeros((2, 16), np.float64)
    d[1, 3] = 1e300
    np.save(os.path.join(ROOT, "errors", "f8_1e300.npy"), d)


if __name__ == "__main__":
    errors()
    fixed_errors()
    hostile()
    qonnx_pow2_cnn()
    two_inputs()
    qonnx_mlp()
