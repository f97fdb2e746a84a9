// Unit tests of the fuse_activations pass: PyTorch 1.13's export patterns of nn.GELU (both
// forms), SiLU, Mish, Hardswish, Softsign and LogSigmoid become one table function, near
// misses (other constants, other operands, shared intermediates) stay, float values are
// unchanged up to float rounding; and a fused Gelu round-trips through a quantized model file.
#include "fixed_test_util.h"
#include "frontend/onnx_export.h"
#include "frontend/onnx_import.h"
#include "ir/eval.h"
#include "ir/passes/passes.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <random>

using namespace hgqc;
using namespace hgqc::test;

namespace {
// A scalar float32 constant named `name`.
std::string k(ModelBuilder &b, const std::string &name, double v) {
  b.init(name, {}, {v});
  return name;
}

// The constants of the patterns, as PyTorch writes them.
struct Consts {
  double sqrt2 = std::sqrt(2.0), half = 0.5, one = 1.0, kappa = 0.044715, c = std::sqrt(2 / M_PI),
         hs_alpha = 1.0 / 6;
};

using Body = std::function<void(ModelBuilder &, const Consts &)>;

// x[N, 5] -> body (from "x" to "y") -> y.
Graph model(const Body &body, const Consts &c, bool fuse) {
  ModelBuilder b(13);
  b.input("x", {-1, 5}).output("y");
  body(b, c);
  Graph g = b.import();
  normalize(g, {.fuse_activations = fuse});
  return g;
}

// nn.GELU(): Div, Erf, Add, Mul, Mul (torch 1.13, opset 13 and 14).
void gelu_erf(ModelBuilder &b, const Consts &c) {
  b.node("Div", {"x", k(b, "s2", c.sqrt2)}, {"d"});
  b.node("Erf", {"d"}, {"e"});
  b.node("Add", {"e", k(b, "one", c.one)}, {"a"});
  b.node("Mul", {"x", "a"}, {"m"});
  b.node("Mul", {"m", k(b, "half", c.half)}, {"y"});
}
// The same with Mul(x, 1/sqrt 2) and every binary op's operands swapped.
void gelu_erf_swapped(ModelBuilder &b, const Consts &c) {
  b.node("Mul", {k(b, "r2", 1 / c.sqrt2), "x"}, {"d"});
  b.node("Erf", {"d"}, {"e"});
  b.node("Add", {k(b, "one", c.one), "e"}, {"a"});
  b.node("Mul", {"a", "x"}, {"m"});
  b.node("Mul", {k(b, "half", c.half), "m"}, {"y"});
}
// nn.GELU(approximate='tanh') (torch 1.13).
void gelu_tanh(ModelBuilder &b, const Consts &c) {
  b.node("Mul", {"x", "x"}, {"m0"});
  b.node("Mul", {"x", "m0"}, {"m1"});
  b.node("Mul", {k(b, "kappa", c.kappa), "m1"}, {"m2"});
  b.node("Add", {"x", "m2"}, {"a"});
  b.node("Mul", {k(b, "c", c.c), "a"}, {"m3"});
  b.node("Tanh", {"m3"}, {"t"});
  b.node("Add", {k(b, "one", c.one), "t"}, {"a1"});
  b.node("Mul", {"x", "a1"}, {"m5"});
  b.node("Mul", {k(b, "half", c.half), "m5"}, {"y"});
}
void silu(ModelBuilder &b, const Consts &) {
  b.node("Sigmoid", {"x"}, {"s"});
  b.node("Mul", {"x", "s"}, {"y"});
}
void mish(ModelBuilder &b, const Consts &) {
  b.node("Softplus", {"x"}, {"p"});
  b.node("Tanh", {"p"}, {"t"});
  b.node("Mul", {"t", "x"}, {"y"});
}
// nn.Hardswish at opset 13.
void hardswish(ModelBuilder &b, const Consts &c) {
  auto &h = b.node("HardSigmoid", {"x"}, {"h"});
  attr_f(h, "alpha", static_cast<float>(c.hs_alpha));
  b.node("Mul", {"x", "h"}, {"y"});
}
void softsign(ModelBuilder &b, const Consts &c) {
  b.node("Abs", {"x"}, {"a"});
  b.node("Add", {"a", k(b, "one", c.one)}, {"d"});
  b.node("Div", {"x", "d"}, {"y"});
}
void logsigmoid(ModelBuilder &b, const Consts &) {
  b.node("Sigmoid", {"x"}, {"s"});
  b.node("Log", {"s"}, {"y"});
}

std::vector<OpKind> ops_of(const Graph &g) {
  std::vector<OpKind> r;
  for (const Node &n : g.nodes)
    r.push_back(n.op);
  return r;
}

// The fused and unfused graphs agree on random inputs in [-8, 8] (and a few wide ones).
void check_same_values(const Body &body, const Consts &c) {
  Graph f = model(body, c, true), r = model(body, c, false);
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> u(-8, 8);
  Tensor x(DType::Float32, {40, 5});
  for (int64_t j = 0; j < x.numel(); ++j)
    x[j] = static_cast<float>(j < 10 ? u(rng) * 8 : u(rng));
  Tensor a = evaluate(f, {x}).at(0), e = evaluate(r, {x}).at(0);
  REQUIRE(a.shape() == e.shape());
  for (int64_t j = 0; j < a.numel(); ++j) {
    CAPTURE(x[j]);
    CHECK(a[j] == doctest::Approx(e[j]).epsilon(1e-6).scale(1e-6));
  }
}
} // namespace

TEST_CASE("fuse_activations: PyTorch's activation patterns become one table function") {
  using K = OpKind;
  const Consts c;
  struct Case {
    const char *name;
    Body body;
    std::vector<K> ops;
    const char *approximate;
  };
  const Case cases[] = {
      {"gelu", gelu_erf, {K::Gelu}, "none"},
      {"gelu swapped", gelu_erf_swapped, {K::Gelu}, "none"},
      {"gelu tanh", gelu_tanh, {K::Gelu}, "tanh"},
      {"silu", silu, {K::Silu}, nullptr},
      {"mish", mish, {K::Mish}, nullptr},
      {"hardswish", hardswish, {K::HardSwish}, nullptr},
      {"softsign", softsign, {K::Softsign}, nullptr},
      {"logsigmoid", logsigmoid, {K::Neg, K::Softplus, K::Neg}, nullptr},
  };
  for (const Case &cs : cases) {
    CAPTURE(cs.name);
    Graph g = model(cs.body, c, true);
    CHECK(ops_of(g) == cs.ops);
    CHECK(g.nodes.front().inputs == g.inputs);
    CHECK(g.nodes.back().outputs == g.outputs);
    if (cs.approximate)
      CHECK(attr_string(g.nodes[0], "approximate", "") == cs.approximate);
    check_same_values(cs.body, c);
  }
}

TEST_CASE("fuse_activations: near misses are left alone") {
  using K = OpKind;
  auto unfused = [](const Body &body, const Consts &c) {
    Graph f = model(body, c, true), r = model(body, c, false);
    CHECK(ops_of(f) == ops_of(r));
  };
  Consts c;
  c.sqrt2 = 1.4142; // not sqrt 2 rounded to float32
  unfused(gelu_erf, c);
  c = {};
  c.half = 0.4999;
  unfused(gelu_erf, c);
  c = {};
  c.one = 2;
  unfused(gelu_erf_swapped, c);
  unfused(softsign, c);
  c = {};
  c.kappa = 0.0447;
  unfused(gelu_tanh, c);
  c = {};
  c.c = 0.798;
  unfused(gelu_tanh, c);
  c = {};
  c.hs_alpha = 0.2; // HardSigmoid's default: not hardswish
  unfused(hardswish, c);
  // Within float32 rounding: fused.
  c = {};
  c.sqrt2 = std::nextafter(static_cast<float>(std::sqrt(2.0)), 2.0f);
  CHECK(ops_of(model(gelu_erf, c, true)) != std::vector<K>{K::Gelu});
  c.sqrt2 = static_cast<float>(std::sqrt(2.0));
  CHECK(ops_of(model(gelu_erf, c, true)) == std::vector<K>{K::Gelu});
  // Another operand: y = z * sigmoid(x).
  {
    ModelBuilder b(13);
    b.input("x", {-1, 5}).input("z", {-1, 5}).output("y");
    b.node("Sigmoid", {"x"}, {"s"});
    b.node("Mul", {"z", "s"}, {"y"});
    Graph g = b.import();
    normalize(g);
    CHECK(ops_of(g) == std::vector<K>{K::Sigmoid, K::Mul});
  }
  // An intermediate that is also a graph output stays, and so does its pattern.
  {
    ModelBuilder b(13);
    b.input("x", {-1, 5}).output("y").output("t");
    b.node("Softplus", {"x"}, {"p"});
    b.node("Tanh", {"p"}, {"t"});
    b.node("Mul", {"x", "t"}, {"y"});
    Graph g = b.import();
    normalize(g);
    CHECK(ops_of(g) == std::vector<K>{K::Softplus, K::Tanh, K::Mul});
  }
  // A Sigmoid that carries its output quantizer (fixed-point form) is not sigmoid(x).
  {
    ModelBuilder b(13);
    b.input("x_in", {-1, 5}).output("y");
    quant(b, "x_in", "x", {}, {1}, {2}, {3});
    b.node("Sigmoid", {"x"}, {"t"});
    quant(b, "t", "s", {}, {0}, {1}, {6});
    b.node("Mul", {"x", "s"}, {"y"});
    Graph g = b.import();
    normalize(g);
    to_fixed(g);
    std::vector<K> fixed = ops_of(g);
    REQUIRE(std::count(fixed.begin(), fixed.end(), K::Sigmoid) == 1);
    normalize(g);
    CHECK(ops_of(g) == fixed);
  }
  // A constant of higher rank would broadcast x: no rewrite.
  {
    ModelBuilder b(13);
    b.input("x", {-1, 5}).output("y");
    b.init("s2", {1, 1, 1}, {std::sqrt(2.0)}).init("one", {}, {1.0}).init("half", {}, {0.5});
    b.node("Div", {"x", "s2"}, {"d"});
    b.node("Erf", {"d"}, {"e"});
    b.node("Add", {"e", "one"}, {"a"});
    b.node("Mul", {"x", "a"}, {"m"});
    b.node("Mul", {"m", "half"}, {"y"});
    Graph g = b.import();
    normalize(g);
    CHECK(ops_of(g) == std::vector<K>{K::Div, K::Erf, K::Add, K::Mul, K::Mul});
  }
}

TEST_CASE("fuse_activations: a quantized Gelu (tanh form) writes and reads back") {
  ModelBuilder b(13);
  b.input("x_in", {-1, 3});
  quant(b, "x_in", "x", {}, {1}, {3}, {3});
  gelu_tanh(b, Consts{});
  // Rename the pattern's output: y -> quantized.
  b.output("q");
  quant(b, "y", "q", {}, {1}, {3}, {5});
  Graph g = b.import();
  normalize(g);
  to_fixed(g);
  auto path = std::filesystem::temp_directory_path() /
              ("hgqc_unit_gelu_" + std::to_string(::getpid()) + ".onnx");
  export_onnx(g, path.string());
  Graph h = import_onnx(path.string());
  std::filesystem::remove(path);
  normalize(h);
  to_fixed(h);
  int gelus = 0;
  for (const Node &n : h.nodes)
    if (n.op == OpKind::Gelu) {
      ++gelus;
      CHECK(attr_string(n, "approximate", "") == "tanh");
      CHECK(n.inputs.size() == 4);
    }
  CHECK(gelus == 1);
  RangeAnalysis ra = analyze_ranges(g), rb = analyze_ranges(h);
  for (int64_t q = -64; q < 64; ++q) {
    Tensor x(DType::Float32, {1, 3});
    x[0] = std::ldexp(double(q), -3), x[1] = -x[0], x[2] = x[0] / 2;
    CHECK(evaluate_fixed(g, ra, {x}).outputs.at(0).q == evaluate_fixed(h, rb, {x}).outputs.at(0).q);
  }
  check_matches_float(g, MatchOptions{.trials = 6, .lo = -9, .hi = 9, .seed = 3});
}
