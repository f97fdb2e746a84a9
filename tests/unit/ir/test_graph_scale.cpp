// Unit tests of graph size and shape hazards: long chains, wide nodes, cycles (issue 17).
#include "backend/emit.h"
#include "fixed_graph.h"
#include "ir/eval.h"
#include "ir/fixed_eval.h"
#include "ir/graph_edit.h"
#include "ir/op.h"
#include "ir/passes/passes.h"
#include "onnx_builder.h"

#include <doctest/doctest.h>

#include <set>

using namespace hgqc;
using hgqc::test::ModelBuilder;
using hgqc::test::ramp;

namespace {
// prefix + k, appended rather than with operator+ (GCC 12 warns -Wstringop-overflow, falsely, on
// `"t" + std::to_string(k)` here).
std::string numbered(const char *prefix, int k) {
  std::string s = prefix;
  s += std::to_string(k);
  return s;
}

// x[1,4] -> op -> op ... -> y, n nodes of `op`.
Graph chain_model(const std::string &op, int n) {
  ModelBuilder b;
  b.input("x", {1, 4});
  std::string prev = "x";
  for (int k = 0; k < n; ++k) {
    std::string out = k == n - 1 ? "y" : numbered("t", k);
    b.node(op, {prev}, {out}, op + std::to_string(k));
    prev = out;
  }
  b.output("y");
  return b.import();
}

// x[N,4] -> FixedQuant fixed<1,3,4> -> Relu x n -> y, built in memory.
Graph fixed_relu_chain(int n) {
  Graph g;
  ValueId x = g.add_value("x", ValueType{DType::Float32, {kDynamic, 4}});
  g.inputs = {x};
  auto scalar = [&](const std::string &nm, double v) {
    return g.add_value(nm, ValueType{DType::Int64, {}}, Tensor::scalar(DType::Int64, v));
  };
  auto node = [&](const std::string &name, OpKind op, std::vector<ValueId> in, Attrs a) {
    return hgqc::test::add_node(g, name, op, std::move(in), name + "_out", std::move(a));
  };
  ValueId v =
      node("xq", OpKind::FixedQuant, {x, scalar("k", 1), scalar("i", 3), scalar("f", 4)},
           Attrs{{"round_mode", std::string("TRN")}, {"overflow_mode", std::string("SAT")}});
  for (int k = 0; k < n; ++k)
    v = node("relu" + std::to_string(k), OpKind::Relu, {v}, {});
  g.outputs = {v};
  verify(g);
  return g;
}
} // namespace

TEST_CASE("a 100k-node Identity chain normalises to one node, keeping the output's name") {
  Graph g = chain_model("Identity", 100000);
  normalize(g);
  // The last Identity stays: its input is the graph input, and the output keeps its name.
  REQUIRE(g.nodes.size() == 1);
  CHECK(g.values[g.outputs[0]].name == "y");
  Tensor x = ramp({1, 4}, 0.2);
  CHECK(compare(evaluate(g, {x}).at(0), x, 0, 0).mismatches == 0);
}

TEST_CASE("a 100k-node Dropout chain normalises like the Identity chain") {
  Graph g = chain_model("Dropout", 100000);
  normalize(g);
  CHECK(g.nodes.size() == 1);
  CHECK(g.values[g.outputs[0]].name == "y");
}

TEST_CASE("a 100k-node Relu chain imports, normalises, dumps and evaluates") {
  Graph g = chain_model("Relu", 100000);
  normalize(g);
  CHECK(g.nodes.size() == 100000);
  CHECK(dump(g).size() > 100000);
  Tensor x = ramp({1, 4}, 0.2);
  Tensor y = evaluate(g, {x}).at(0);
  for (int64_t j = 0; j < 4; ++j)
    CHECK(y[j] == std::max(x[j], 0.0));
}

TEST_CASE("a 20000-way Concat imports, normalises and evaluates") {
  const int n = 20000;
  ModelBuilder b;
  b.input("x", {1, 1});
  std::vector<std::string> parts;
  for (int k = 0; k < n; ++k) {
    parts.push_back(numbered("r", k));
    b.node("Relu", {"x"}, {parts.back()});
  }
  ModelBuilder::attr_int(b.node("Concat", parts, {"y"}, "cat"), "axis", 1);
  b.output("y");
  Graph g = b.import();
  normalize(g);
  Tensor y = evaluate(g, {ramp({1, 1}, -0.5)}).at(0);
  REQUIRE(y.shape() == Dims{1, n});
  CHECK(y[n - 1] == doctest::Approx(0.5));
}

TEST_CASE("a 20000-node quantized chain goes through to_fixed, the emulator and emit-verilog") {
  const int n = 20000;
  Graph g = fixed_relu_chain(n);
  to_fixed(g);
  RangeAnalysis ra = analyze_ranges(g);
  Tensor x = ramp({2, 4}, 0.35);
  FixedRun r = evaluate_fixed(g, ra, {x});
  Tensor y = fixed_to_tensor(r.outputs.at(0), *ra.ranges[g.outputs[0]]);
  for (int64_t j = 0; j < 8; ++j)
    CHECK(y[j] == std::max(std::floor(x[j] * 16) / 16, 0.0));
  backend::EmitOptions e;
  e.check_vectors = 16;
  backend::EmittedDesign d = backend::emit_design(g, ra, e);
  CHECK(d.sched.stages == 1);
  CHECK(!d.verilog.empty());
}

TEST_CASE("a chain of 20000 Mul and Add by constants folds into one Mul and one Add") {
  const int n = 20000;
  ModelBuilder b;
  b.input("x", {1, 4});
  b.init("two", {}, {2.0}).init("half", {}, {0.5}).init("one", {}, {1.0});
  std::string prev = "x";
  for (int k = 0; k < n; ++k) {
    std::string out = k == n - 1 ? "y" : numbered("t", k);
    // Per group of four: ((x * 2) * 0.5 + 1) * 1 = x + 1.
    const char *op[] = {"Mul", "Mul", "Add", "Mul"}, *c[] = {"two", "half", "one", "one"};
    b.node(op[k % 4], {prev, c[k % 4]}, {out});
    prev = out;
  }
  b.output("y");
  Graph g = b.import();
  normalize(g);
  std::vector<std::string> notes;
  fold_affine(g, &notes);
  CHECK(g.nodes.size() == 2);
  Tensor x = ramp({1, 4}, 0.2);
  Tensor y = evaluate(g, {x}).at(0);
  for (int64_t j = 0; j < 4; ++j)
    CHECK(y[j] == doctest::Approx(x[j] + n / 4));
}

TEST_CASE("FreshNames gives the names Graph::fresh_value_name gives") {
  Graph g;
  g.add_value("a", {});
  g.add_value("a_1", {});
  g.add_value("b", {});
  Graph h = g;
  FreshNames names(h);
  for (const char *base : {"a", "a", "b", "c", "c", "a_1"}) {
    std::string want = g.fresh_value_name(base);
    g.add_value(want, {});
    ValueId id = names.add_value(base, {});
    CHECK(id == static_cast<ValueId>(h.values.size() - 1));
    CHECK(h.values.back().name == want);
  }
}

TEST_CASE("quantize_inputs puts a quantizer per float input in front and rewires every reader") {
  ModelBuilder b;
  b.input("a", {1, 2}).input("b", {1, 2}).input("c", {1, 2});
  b.node("Add", {"a", "b"}, {"s"});
  b.node("Add", {"s", "c"}, {"y"});
  b.output("y");
  Graph g = b.import();
  normalize(g);
  CHECK(quantize_inputs(g, InputQuantizer{}, nullptr) == 3);
  verify(g);
  REQUIRE(g.nodes.size() == 5);
  // The last input's quantizer first, as when each was inserted at the front.
  CHECK(g.nodes[0].name == "c_quant");
  CHECK(g.nodes[1].name == "b_quant");
  CHECK(g.nodes[2].name == "a_quant");
  for (size_t k = 3; k < 5; ++k)
    for (ValueId v : g.nodes[k].inputs)
      for (ValueId in : g.inputs)
        CHECK(v != in);
}

TEST_CASE("20000 nodes of the same name get unique names") {
  const int n = 20000;
  ModelBuilder b;
  b.input("x", {1, 4});
  std::string prev = "x";
  for (int k = 0; k < n; ++k) {
    std::string out = k == n - 1 ? "y" : numbered("t", k);
    b.node("Relu", {prev}, {out}, "same");
    prev = out;
  }
  b.output("y");
  Graph g = b.import();
  std::set<std::string> names;
  for (const Node &nd : g.nodes)
    names.insert(nd.name);
  CHECK(names.size() == static_cast<size_t>(n));
  CHECK(g.nodes[0].name == "same");
  CHECK(g.nodes[1].name == "same_1");
}

TEST_CASE("a graph cycle is refused naming a node on the cycle") {
  ModelBuilder b;
  b.input("x", {1, 4});
  b.node("Relu", {"t1"}, {"y"}, "after");
  b.node("Add", {"x", "t1"}, {"t0"}, "loop_add");
  b.node("Relu", {"t0"}, {"t1"}, "loop_relu");
  b.output("y");
  try {
    b.import();
    FAIL("a cycle was accepted");
  } catch (const UserError &e) {
    std::string m = e.what();
    CHECK(m.find("cycle") != std::string::npos);
    CHECK(m.find("loop_") != std::string::npos);
    CHECK(m.find("after") == std::string::npos);
  }
}

TEST_CASE("a QONNX Quant with a bit width beyond any format is refused, not cast") {
  ModelBuilder b;
  b.input("x", {1, 4});
  b.init("s", {}, {0.25}).init("z", {}, {0.0}).init("bw", {}, {1e30});
  b.node("Quant", {"x", "s", "z", "bw"}, {"y"}, "q").set_domain("qonnx.custom_op.general");
  b.output("y");
  // The importer refuses it already (the width is checked before any cast to int).
  try {
    Graph g = b.import();
    normalize(g);
    to_fixed(g);
    FAIL("a bit width of 1e30 was accepted");
  } catch (const UserError &e) {
    CHECK(std::string(e.what()).find("is not an integer in [1, 53]") != std::string::npos);
    CHECK(std::string(e.what()).find("'q'") != std::string::npos);
  }
}
