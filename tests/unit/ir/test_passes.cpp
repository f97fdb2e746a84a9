// Unit tests of the normalisation passes: results are unchanged, the patterns go away.
#include "ir/eval.h"
#include "ir/op.h"
#include "ir/passes/passes.h"
#include "onnx_builder.h"

#include <doctest/doctest.h>

using namespace hgqc;
using hgqc::test::ModelBuilder;
using hgqc::test::ramp;

namespace {
int count_ops(const Graph &g, OpKind k) {
  int c = 0;
  for (const Node &n : g.nodes)
    c += n.op == k;
  return c;
}

// Normalised and raw graphs give the same outputs on x, up to the rounding of folded
// constants to float32 (their declared element type).
void check_same(const Graph &raw, const Graph &norm, const Tensor &x) {
  Tensor a = evaluate(raw, {x}).at(0), b = evaluate(norm, {x}).at(0);
  REQUIRE(a.shape() == b.shape());
  TensorDiff d = compare(b, a, 1e-6, 1e-6);
  CHECK(d.mismatches == 0);
}

onnx::NodeProto &add_bn(ModelBuilder &b, const std::string &in, const std::string &out, int c) {
  std::vector<double> s, bias, m, v;
  for (int i = 0; i < c; ++i) {
    s.push_back(0.5 + 0.1 * i);
    bias.push_back(0.2 * i - 0.3);
    m.push_back(0.05 * i);
    v.push_back(1.0 + 0.3 * i);
  }
  b.init("bn_s", {c}, s).init("bn_b", {c}, bias).init("bn_m", {c}, m).init("bn_v", {c}, v);
  return b.node("BatchNormalization", {in, "bn_s", "bn_b", "bn_m", "bn_v"}, {out}, "bn");
}
} // namespace

TEST_CASE("PyTorch's Shape/Gather/Unsqueeze/Concat/Reshape flatten folds to a batch-free Reshape") {
  ModelBuilder b(11);
  b.input("x", {7, 2, 3, 4});
  b.init("zero", {}, {0}, true).init("minus1", {1}, {-1}, true);
  b.node("Shape", {"x"}, {"shp"});
  b.node("Gather", {"shp", "zero"}, {"n"});
  ModelBuilder::attr_ints(b.node("Unsqueeze", {"n"}, {"n1"}), "axes", {0});
  ModelBuilder::attr_int(b.node("Concat", {"n1", "minus1"}, {"target"}), "axis", 0);
  b.node("Reshape", {"x", "target"}, {"y"});
  b.output("y");
  Graph raw = b.import(), g = raw;
  normalize(g);
  CHECK(g.nodes.size() == 1);
  CHECK(count_ops(g, OpKind::Shape) == 0);
  CHECK(g.values[g.outputs[0]].type.dims == Dims{kDynamic, 24});
  Tensor x = ramp({5, 2, 3, 4});
  CHECK(evaluate(g, {x})[0].shape() == Dims{5, 24});
  check_same(raw, g, x);
}

TEST_CASE("a shape computation that is more than the batch size stays dynamic") {
  // Reshape to [N * 2, -1]: the batch entry is multiplied, so it cannot become a copy.
  ModelBuilder b(11);
  b.input("x", {7, 2, 3});
  b.init("zero", {}, {0}, true).init("two", {}, {2}, true).init("minus1", {1}, {-1}, true);
  b.node("Shape", {"x"}, {"shp"});
  b.node("Gather", {"shp", "zero"}, {"n"});
  b.node("Mul", {"n", "two"}, {"n2"});
  ModelBuilder::attr_ints(b.node("Unsqueeze", {"n2"}, {"n3"}), "axes", {0});
  ModelBuilder::attr_int(b.node("Concat", {"n3", "minus1"}, {"target"}), "axis", 0);
  b.node("Reshape", {"x", "target"}, {"y"});
  b.output("y");
  Graph g = b.import();
  normalize(g);
  CHECK(count_ops(g, OpKind::Shape) == 1);
  CHECK(evaluate(g, {ramp({5, 2, 3})})[0].shape() == Dims{10, 3});
}

TEST_CASE("BatchNormalization folds into Conv, Gemm (transB) and rank-2 MatMul") {
  SUBCASE("Conv") {
    ModelBuilder b;
    b.input("x", {1, 2, 5, 5});
    std::vector<double> w;
    for (int i = 0; i < 3 * 2 * 9; ++i)
      w.push_back(0.01 * i - 0.2);
    b.init("w", {3, 2, 3, 3}, w);
    b.node("Conv", {"x", "w"}, {"c"});
    add_bn(b, "c", "y", 3);
    b.output("y");
    Graph raw = b.import(), g = raw;
    normalize(g);
    CHECK(count_ops(g, OpKind::BatchNormalization) == 0);
    CHECK(g.values[g.outputs[0]].name == "y");
    check_same(raw, g, ramp({2, 2, 5, 5}, 1.0, 0.03));
  }
  SUBCASE("Gemm") {
    ModelBuilder b;
    b.input("x", {1, 4});
    std::vector<double> w;
    for (int i = 0; i < 12; ++i)
      w.push_back(0.1 * i - 0.5);
    b.init("w", {3, 4}, w).init("c", {3}, {0.1, 0.2, 0.3});
    auto &n = b.node("Gemm", {"x", "w", "c"}, {"h"});
    ModelBuilder::attr_int(n, "transB", 1);
    auto *beta = n.add_attribute();
    beta->set_name("beta");
    beta->set_type(onnx::AttributeProto::FLOAT);
    beta->set_f(0.5f);
    add_bn(b, "h", "y", 3);
    b.output("y");
    Graph raw = b.import(), g = raw;
    normalize(g);
    CHECK(count_ops(g, OpKind::BatchNormalization) == 0);
    check_same(raw, g, ramp({3, 4}, 0.4));
  }
  SUBCASE("MatMul") {
    ModelBuilder b;
    b.input("x", {1, 4});
    std::vector<double> w;
    for (int i = 0; i < 12; ++i)
      w.push_back(0.1 * i - 0.5);
    b.init("w", {4, 3}, w);
    b.node("MatMul", {"x", "w"}, {"h"});
    add_bn(b, "h", "y", 3);
    b.output("y");
    Graph raw = b.import(), g = raw;
    normalize(g);
    CHECK(count_ops(g, OpKind::BatchNormalization) == 0);
    CHECK(count_ops(g, OpKind::Add) == 1);
    check_same(raw, g, ramp({3, 4}, 0.4));
  }
  SUBCASE("not when the result has another use") {
    ModelBuilder b;
    b.input("x", {1, 4});
    b.init("w", {4, 3}, std::vector<double>(12, 0.5));
    b.node("MatMul", {"x", "w"}, {"h"});
    add_bn(b, "h", "y", 3);
    b.output("y");
    b.output("h");
    Graph g = b.import();
    normalize(g);
    CHECK(count_ops(g, OpKind::BatchNormalization) == 1);
  }
}

TEST_CASE("Identity and Dropout are removed and graph output names are kept") {
  ModelBuilder b;
  b.input("x", {1, 4});
  b.node("Relu", {"x"}, {"r"});
  b.node("Dropout", {"r"}, {"d"});
  b.node("Identity", {"d"}, {"y"});
  b.output("y");
  Graph g = b.import();
  normalize(g);
  CHECK(g.nodes.size() == 1);
  CHECK(g.values[g.outputs[0]].name == "y");
}

TEST_CASE("import and normalisation are deterministic") {
  auto build = [] {
    ModelBuilder b(11);
    b.input("x", {1, 2, 3, 4});
    b.init("zero", {}, {0}, true).init("minus1", {1}, {-1}, true);
    b.node("Shape", {"x"}, {"shp"});
    b.node("Gather", {"shp", "zero"}, {"n"});
    ModelBuilder::attr_ints(b.node("Unsqueeze", {"n"}, {"n1"}), "axes", {0});
    ModelBuilder::attr_int(b.node("Concat", {"n1", "minus1"}, {"t"}), "axis", 0);
    b.node("Reshape", {"x", "t"}, {"y"});
    b.output("y");
    Graph g = b.import();
    normalize(g);
    return dump(g);
  };
  CHECK(build() == build());
}

TEST_CASE("the verifier rejects a value used before it is defined") {
  ModelBuilder b;
  b.input("x", {1, 4});
  b.node("Relu", {"x"}, {"a"});
  b.node("Relu", {"a"}, {"y"});
  b.output("y");
  Graph g = b.import();
  std::swap(g.nodes[0], g.nodes[1]);
  CHECK_THROWS_AS(verify(g), InternalError);
}

TEST_CASE("BatchNormalization folds through PyTorch's opset-6 Unsqueeze/Squeeze of BatchNorm1d") {
  ModelBuilder b(6);
  b.input("x", {1, 4});
  std::vector<double> w;
  for (int i = 0; i < 12; ++i)
    w.push_back(0.1 * i - 0.5);
  b.init("w", {3, 4}, w).init("c", {3}, {0.1, 0.2, 0.3});
  ModelBuilder::attr_int(b.node("Gemm", {"x", "w", "c"}, {"h"}), "transB", 1);
  ModelBuilder::attr_ints(b.node("Unsqueeze", {"h"}, {"h3"}), "axes", {2});
  ModelBuilder::attr_int(add_bn(b, "h3", "bn_out", 3), "is_test", 1); // opset 6 needs it
  ModelBuilder::attr_ints(b.node("Squeeze", {"bn_out"}, {"s"}), "axes", {2});
  b.node("Relu", {"s"}, {"y"});
  b.output("y");
  Graph raw = b.import(), g = raw;
  normalize(g);
  CHECK(count_ops(g, OpKind::BatchNormalization) == 0);
  CHECK(count_ops(g, OpKind::Unsqueeze) == 0);
  CHECK(count_ops(g, OpKind::Squeeze) == 0);
  CHECK(g.nodes.size() == 2);
  check_same(raw, g, ramp({3, 4}, 0.4));
}
