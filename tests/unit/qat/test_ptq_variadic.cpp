// hgqc quantize on the variadic ops: a constant term of Sum, Mean, Max or Min gets a weight
// quantizer, as the constant term of an Add, and the run-time terms none of their own.
#include "ir/fixed_eval.h"
#include "onnx_builder.h"
#include "qat/ptq.h"

#include <doctest/doctest.h>

using namespace hgqc;
using hgqc::test::ModelBuilder;
using hgqc::test::ramp;

TEST_CASE("quantize: constant terms of Sum, Mean, Max and Min are quantized as biases") {
  for (const char *op : {"Sum", "Mean", "Max", "Min"}) {
    CAPTURE(op);
    ModelBuilder b;
    b.input("x", {-1, 4}).init("c", {4}, {0.3, -0.2, 0.1, 0.7}).output("y");
    b.node("Relu", {"x"}, {"r"});
    b.node(op, {"x", "r", "c"}, {"y"});
    Graph g = b.import();
    PtqOptions o;
    o.weight_bits = 4;
    PtqReport rep = quantize_uniform(g, {ramp({16, 4}, -1.6, 0.05)}, o);
    CHECK(rep.act_quantizers == 1); // the graph input only
    CHECK(rep.weight_quantizers == 1);
    const Node &n = g.nodes.back();
    REQUIRE(std::string(op_def(n.op).name) == op);
    REQUIRE(n.inputs.size() == 3);
    // The constant now comes from a FixedQuant of 4 bits (0.7 and the others on the grid 2^-3).
    bool quantized = false;
    for (const Node &m : g.nodes)
      quantized |= m.op == OpKind::FixedQuant && m.outputs[0] == n.inputs[2];
    CHECK(quantized);
    CHECK_NOTHROW(analyze_ranges(g));
  }
}
