// The hoist_quant_over_max pass: the emulator's outputs bit for bit before and after (exhaustive
// at small widths, random otherwise), where it fires and where it must not, and the LUTs it saves.
#include "backend/emit.h"
#include "fixed_test_util.h"
#include "ir/passes/passes.h"

#include <doctest/doctest.h>

using namespace hgqc;
using namespace hgqc::test;

namespace {

// y = FixedQuant(x) with formats k, i, f (int64 initializers of shape `dims`) and the modes.
void quant_m(ModelBuilder &b, const std::string &x, const std::string &y, std::vector<int64_t> dims,
             std::vector<double> k, std::vector<double> i, std::vector<double> f, const char *rnd,
             const char *ovf) {
  b.init(y + "_k", dims, std::move(k), true)
      .init(y + "_i", dims, std::move(i), true)
      .init(y + "_f", dims, std::move(f), true);
  auto &n = b.node("FixedQuant", {x, y + "_k", y + "_i", y + "_f"}, {y}, "q_" + y);
  n.set_domain("hgqc");
  attr_s(n, "round_mode", rnd);
  attr_s(n, "overflow_mode", ovf);
}

// A MaxPool node p -> "m" over "x" with kernel, strides and pads.
onnx::NodeProto &maxpool(ModelBuilder &b, std::vector<int64_t> kernel, std::vector<int64_t> strides,
                         std::vector<int64_t> pads = {}) {
  auto &p = b.node("MaxPool", {"x"}, {"m"}, "pool");
  ModelBuilder::attr_ints(p, "kernel_shape", kernel);
  ModelBuilder::attr_ints(p, "strides", strides);
  if (!pads.empty())
    ModelBuilder::attr_ints(p, "pads", pads);
  return p;
}

// The node named `name`.
const Node &node_named(const Graph &g, const std::string &name) {
  for (const Node &n : g.nodes)
    if (n.name == name)
      return n;
  FAIL("no node " << name);
  throw 0;
}

// Every output of `a` and `b` (the same graph before and after the pass) on `in`, as exact
// values: equal element for element.
void check_same_outputs(const Graph &a, const Graph &b, const std::vector<Tensor> &in) {
  RangeAnalysis ra = analyze_ranges(a), rb = analyze_ranges(b);
  FixedRun x = evaluate_fixed(a, ra, in), y = evaluate_fixed(b, rb, in);
  REQUIRE(x.outputs.size() == y.outputs.size());
  for (size_t o = 0; o < x.outputs.size(); ++o) {
    Tensor u = fixed_to_tensor(x.outputs[o], *ra.ranges[a.outputs[o]]);
    Tensor v = fixed_to_tensor(y.outputs[o], *rb.ranges[b.outputs[o]]);
    REQUIRE(u.shape() == v.shape());
    int64_t bad = 0;
    for (int64_t j = 0; j < u.numel(); ++j)
      bad += u[j] != v[j];
    INFO("output " << o);
    CHECK(bad == 0);
  }
}

// Random float inputs in [-lo, hi] (half on a 2^-4 grid: ties of every rounding), `rows` rows.
std::vector<Tensor> random_inputs(const Graph &g, int64_t rows, unsigned seed, double lo = -20,
                                  double hi = 20) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<Tensor> in;
  for (ValueId v : g.inputs) {
    Dims d = g.values[v].type.dims;
    d[0] = rows;
    Tensor x(DType::Float32, d);
    for (int64_t j = 0; j < x.numel(); ++j) {
      double r = u(rng);
      x[j] = round_to_dtype(j % 2 ? std::round(r * 16) / 16 : r, DType::Float32);
    }
    in.push_back(std::move(x));
  }
  return in;
}

// Runs the pass on a copy of g; checks how many moved and, on random inputs, the outputs.
Graph hoisted(const Graph &g, int want_moved) {
  Graph h = g;
  CHECK(hoist_quant_over_max(h) == want_moved);
  verify(h);
  for (unsigned s = 1; s <= 3; ++s)
    check_same_outputs(g, h, random_inputs(g, 9, s));
  return h;
}

// The quantizer reads the max's input and the max defines the graph output.
void check_moved(const Graph &h, const std::string &quant, const std::string &max) {
  const Node &q = node_named(h, "q_" + quant), &p = node_named(h, max);
  CHECK(p.inputs[0] == q.outputs[0]);
  CHECK(h.values[p.outputs[0]].name == quant);
}

} // namespace

TEST_CASE("hoist_quant_over_max: every pair of 4-bit inputs of a 2-wide pool, every mode") {
  // x in fixed<1,2,1> (16 values each); the pool's two inputs take every pair (256 rows).
  Tensor in(DType::Float32, {256, 1, 1, 2});
  for (int64_t r = 0; r < 256; ++r) {
    in[2 * r] = static_cast<double>(r % 16 - 8) / 2;
    in[2 * r + 1] = static_cast<double>(r / 16 - 8) / 2;
  }
  struct Mode {
    const char *rnd, *ovf;
    int k, i, f;
  };
  for (Mode m : {Mode{"TRN", "SAT", 1, 1, 0}, Mode{"RND", "SAT", 1, 1, 0},
                 Mode{"RND_CONV", "SAT", 1, 0, 0}, Mode{"RND", "SAT_SYM", 1, 1, 0},
                 Mode{"RND_CONV", "SAT", 0, 2, -1}, Mode{"TRN", "SAT_SYM", 1, 0, 1}}) {
    INFO(m.rnd << " " << m.ovf << " fixed<" << m.k << "," << m.i << "," << m.f << ">");
    ModelBuilder b;
    b.input("xin", {1, 1, 1, 2});
    quant_m(b, "xin", "x", {}, {1}, {2}, {1}, "TRN", "SAT");
    maxpool(b, {1, 2}, {1, 2});
    quant_m(b, "m", "y", {}, {static_cast<double>(m.k)}, {static_cast<double>(m.i)},
            {static_cast<double>(m.f)}, m.rnd, m.ovf);
    b.output("y");
    Graph g = b.import();
    Graph h = g;
    REQUIRE(hoist_quant_over_max(h) == 1);
    check_moved(h, "y", "pool");
    check_same_outputs(g, h, {in});
  }
}

TEST_CASE("hoist_quant_over_max: a Relu keeps its quantizer after it") {
  // q(relu(x)) = relu(q(x)) holds, but the quantizer's clamp at 0 on the wide signed value costs
  // more than Relu's mux (cnn_relu_w8a8: 2,200 more estimated LUTs), so it is not a rewrite.
  ModelBuilder b;
  b.input("xin", {1, 1, 2, 2});
  quant_m(b, "xin", "x0", {}, {1}, {5}, {3}, "TRN", "SAT");
  b.node("Relu", {"x0"}, {"x"}, "relu");
  maxpool(b, {2, 2}, {2, 2});
  quant_m(b, "m", "y", {}, {0}, {2}, {0}, "RND", "SAT");
  b.output("y");
  Graph h = hoisted(b.import(), 1);
  check_moved(h, "y", "pool");
  CHECK(node_named(h, "q_y").inputs[0] == node_named(h, "relu").outputs[0]);
}

TEST_CASE("hoist_quant_over_max: per-element formats move when every shared input agrees") {
  // 2x2 windows, stride 2 (no overlap): each output's own format moves onto its window.
  ModelBuilder b;
  b.input("xin", {1, 2, 4, 4});
  quant_m(b, "xin", "x", {}, {1}, {5}, {3}, "TRN", "SAT");
  maxpool(b, {2, 2}, {2, 2});
  quant_m(b, "m", "y", {1, 2, 2, 2}, {1, 0, 1, 1, 1, 1, 0, 1}, {1, 2, 3, -1, 0, 2, 1, 4},
          {2, 1, 0, 3, -2, 2, 1, 0}, "RND", "SAT");
  b.output("y");
  Graph g = b.import();
  Graph h = hoisted(g, 1);
  check_moved(h, "y", "pool");
  // Overlapping 3x3 windows at stride 1 (with a padding of 1) under one format: moves too.
  ModelBuilder c;
  c.input("xin", {1, 1, 4, 4});
  quant_m(c, "xin", "x", {}, {1}, {5}, {3}, "TRN", "SAT");
  maxpool(c, {3, 3}, {1, 1}, {1, 1, 1, 1});
  quant_m(c, "m", "y", {}, {1}, {1}, {1}, "RND_CONV", "SAT");
  c.output("y");
  check_moved(hoisted(c.import(), 1), "y", "pool");
  // Stride 3 over 2-wide windows: the inputs no window reads are pruned.
  ModelBuilder d;
  d.input("xin", {1, 1, 1, 8});
  quant_m(d, "xin", "x", {}, {1}, {5}, {3}, "TRN", "SAT");
  maxpool(d, {1, 2}, {1, 3});
  quant_m(d, "m", "y", {1, 1, 1, 3}, {1, 1, 0}, {1, 2, 3}, {1, 0, 2}, "TRN", "SAT");
  d.output("y");
  Graph hd = hoisted(d.import(), 1);
  RangeAnalysis ra = analyze_ranges(hd);
  const ValueRange &xq = *ra.ranges[node_named(hd, "q_y").outputs[0]];
  REQUIRE(xq.el.size() == 8);
  CHECK(xq.el[2].zero());
  CHECK(xq.el[5].zero());
  CHECK(!xq.el[0].zero());
}

TEST_CASE("hoist_quant_over_max: ReduceMax and chained pools") {
  ModelBuilder b;
  b.input("xin", {1, 3, 4});
  quant_m(b, "xin", "x", {}, {1}, {4}, {4}, "TRN", "SAT");
  auto &r = b.node("ReduceMax", {"x"}, {"m"}, "rmax");
  ModelBuilder::attr_ints(r, "axes", {2});
  ModelBuilder::attr_int(r, "keepdims", 0);
  quant_m(b, "m", "y", {1, 3}, {1, 0, 1}, {1, 2, 0}, {1, 1, 3}, "RND", "SAT");
  b.output("y");
  check_moved(hoisted(b.import(), 1), "y", "rmax");
  // Two pools in a row: the quantizer moves in front of both.
  ModelBuilder c;
  c.input("xin", {1, 1, 4, 4});
  quant_m(c, "xin", "x", {}, {1}, {5}, {3}, "TRN", "SAT");
  maxpool(c, {2, 2}, {2, 2});
  auto &p2 = c.node("MaxPool", {"m"}, {"m2"}, "pool2");
  ModelBuilder::attr_ints(p2, "kernel_shape", {2, 2});
  quant_m(c, "m2", "y", {}, {1}, {1}, {0}, "RND", "SAT");
  c.output("y");
  Graph h = hoisted(c.import(), 2);
  const Node &q = node_named(h, "q_y"), &p = node_named(h, "pool");
  CHECK(q.inputs[0] == node_named(h, "q_x").outputs[0]);
  CHECK(p.inputs[0] == q.outputs[0]);
}

TEST_CASE("hoist_quant_over_max: what must stay") {
  auto base = [](ModelBuilder &b) {
    b.input("xin", {1, 1, 1, 4});
    quant_m(b, "xin", "x", {}, {1}, {5}, {3}, "TRN", "SAT");
  };
  SUBCASE("a wrapping quantizer is not monotone") {
    ModelBuilder b;
    base(b);
    maxpool(b, {1, 2}, {1, 2});
    quant_m(b, "m", "y", {}, {1}, {1}, {0}, "RND", "WRAP");
    b.output("y");
    hoisted(b.import(), 0);
  }
  SUBCASE("overlapping windows with different formats") {
    ModelBuilder b;
    base(b);
    maxpool(b, {1, 2}, {1, 1});
    quant_m(b, "m", "y", {1, 1, 1, 3}, {1, 1, 1}, {1, 2, 2}, {0, 0, 0}, "RND", "SAT");
    b.output("y");
    hoisted(b.import(), 0);
  }
  SUBCASE("the max's output is read by another node too") {
    ModelBuilder b;
    base(b);
    maxpool(b, {1, 2}, {1, 2});
    quant_m(b, "m", "y", {}, {1}, {1}, {0}, "RND", "SAT");
    b.node("Neg", {"m"}, {"n"});
    b.output("y").output("n");
    hoisted(b.import(), 0);
  }
  SUBCASE("the max reads a graph input: its quantizer would become the input bus") {
    ModelBuilder b;
    b.input("x", {1, 1, 1, 4});
    maxpool(b, {1, 2}, {1, 2});
    quant_m(b, "m", "y", {}, {1}, {1}, {0}, "RND", "SAT");
    b.output("y");
    Graph g = b.import();
    CHECK(hoist_quant_over_max(g) == 0);
  }
}

TEST_CASE("hoist_quant_over_max: a max input read elsewhere keeps its unquantized value") {
  ModelBuilder b;
  b.input("xin", {1, 1, 2, 2});
  quant_m(b, "xin", "x", {}, {1}, {5}, {3}, "TRN", "SAT");
  maxpool(b, {2, 2}, {2, 2});
  quant_m(b, "m", "y", {}, {1}, {1}, {0}, "RND", "SAT");
  b.node("Neg", {"x"}, {"n"}, "neg");
  b.output("y").output("n");
  Graph h = hoisted(b.import(), 1);
  check_moved(h, "y", "pool");
  CHECK(node_named(h, "neg").inputs[0] == node_named(h, "q_x").outputs[0]);
}

TEST_CASE("hoist_quant_over_max: the comparators narrow, the estimated LUTs drop") {
  // 11-bit values pooled 2x2, then quantized to 4 bits.
  ModelBuilder b;
  b.input("xin", {1, 4, 6, 6});
  quant_m(b, "xin", "x", {}, {1}, {6}, {4}, "TRN", "SAT");
  maxpool(b, {2, 2}, {2, 2});
  quant_m(b, "m", "y", {}, {1}, {2}, {1}, "RND", "SAT");
  b.output("y");
  Graph g = b.import();
  Graph h = hoisted(g, 1);
  backend::EmitOptions eo;
  eo.check_vectors = 200;
  backend::EmittedDesign before = backend::emit_design(g, analyze_ranges(g), eo);
  backend::EmittedDesign after = backend::emit_design(h, analyze_ranges(h), eo);
  INFO("LUTs " << before.total.luts << " -> " << after.total.luts);
  CHECK(after.total.luts < before.total.luts);
}
