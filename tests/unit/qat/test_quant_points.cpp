// Where quantize and train put activation quantizers around a max pool: on its input, so that
// the comparators work at a set (and, in training, learned and charged) width.
#include "ir/fixed_eval.h"
#include "ir/passes/passes.h"
#include "onnx_builder.h"
#include "qat/engine.h"
#include "qat/ptq.h"

#include <doctest/doctest.h>

#include <cmath>

using namespace hgqc;
using hgqc::test::ModelBuilder;
using hgqc::test::ramp;

namespace {

// x -> Conv 2x2 -> Relu -> MaxPool 2x2 (or ReduceMax over the spatial axes) -> Flatten -> Gemm.
Graph conv_max_net(bool reduce) {
  ModelBuilder b;
  b.input("x", {-1, 1, 5, 5}).output("z");
  b.init("k", {2, 1, 2, 2}, {0.75, -0.3, 0.45, 1.1, -0.6, 0.2, 0.9, 0.35});
  std::vector<double> w(3 * (reduce ? 2 : 8));
  for (size_t i = 0; i < w.size(); ++i)
    w[i] = 0.1 * static_cast<double>(i % 7) - 0.3;
  b.init("w", {3, static_cast<int64_t>(w.size() / 3)}, w);
  b.node("Conv", {"x", "k"}, {"cv"});
  b.node("Relu", {"cv"}, {"cr"});
  if (reduce) {
    auto &r = b.node("ReduceMax", {"cr"}, {"mx"});
    ModelBuilder::attr_ints(r, "axes", {2, 3});
  } else {
    auto &mp = b.node("MaxPool", {"cr"}, {"mx"});
    ModelBuilder::attr_ints(mp, "kernel_shape", {2, 2});
    ModelBuilder::attr_ints(mp, "strides", {2, 2});
  }
  b.node("Flatten", {"mx"}, {"f"});
  ModelBuilder::attr_int(b.node("Gemm", {"f", "w"}, {"z"}), "transB", 1);
  Graph g = b.import();
  normalize(g);
  return g;
}

// The node that reads value v first, or nullptr.
const Node *reader_of(const Graph &g, ValueId v) {
  for (const Node &n : g.nodes)
    for (ValueId i : n.inputs)
      if (i == v)
        return &n;
  return nullptr;
}

// Whether the max node reads a FixedQuant of the ReLU's output.
bool max_reads_quantizer(const Graph &g) {
  std::vector<int> prod = g.producers();
  auto producer = [&](ValueId v) {
    return prod[v] < 0 ? nullptr : &g.nodes[static_cast<size_t>(prod[v])];
  };
  for (const Node &n : g.nodes) {
    if (n.op != OpKind::MaxPool && n.op != OpKind::ReduceMax)
      continue;
    const Node *q = producer(n.inputs[0]);
    const Node *r = q && q->op == OpKind::FixedQuant ? producer(q->inputs[0]) : nullptr;
    return r && r->op == OpKind::Relu;
  }
  return false;
}

} // namespace

TEST_CASE("quantize: the input of a MaxPool or ReduceMax gets an activation quantizer") {
  for (bool reduce : {false, true}) {
    CAPTURE(reduce);
    Graph g = conv_max_net(reduce);
    PtqOptions o;
    PtqReport rep = quantize_uniform(g, {ramp({8, 1, 5, 5}, -1.0, 0.01)}, o);
    // The graph input, the max's input and the Gemm's input (after the max).
    CHECK(rep.act_quantizers == 3);
    CHECK(max_reads_quantizer(g));
    CHECK_NOTHROW(analyze_ranges(g));
  }
}

TEST_CASE("train: a max pool's input quantizer is charged for the comparators, in both costs") {
  Graph g = conv_max_net(false);
  insert_hgq_quantizers(g);
  REQUIRE(max_reads_quantizer(g));
  for (CostKind cost : {CostKind::Luts, CostKind::Ebops}) {
    CAPTURE(static_cast<int>(cost));
    EngineOptions eo;
    eo.task = TaskKind::Regress;
    eo.cost = cost;
    eo.init_f_act = 4;
    eo.range_decay = 0;
    TrainEngine eng(g, eo);
    // The quantizer whose FixedQuant the MaxPool reads.
    const Graph &tg = eng.graph();
    int qmax = -1;
    for (size_t q = 0; q < eng.quantizers().size(); ++q) {
      const Node &fq = tg.nodes[static_cast<size_t>(eng.quantizers()[q].node)];
      const Node *r = reader_of(tg, fq.outputs[0]);
      if (r && r->op == OpKind::MaxPool)
        qmax = static_cast<int>(q);
    }
    REQUIRE(qmax >= 0);
    std::vector<float> x(2 * 25), t(2 * 3, 0.0f);
    for (size_t i = 0; i < x.size(); ++i)
      x[i] = 0.37f * static_cast<float>(i % 9) - 0.4f;
    BatchData b{x.data(), nullptr, t.data(), 2};
    // The f gradient with beta = 1 minus that with beta = 0 is the cost's: positive on the
    // elements the comparators read (a wider input costs more), for some element at least.
    auto fgrad = [&](double beta) {
      eng.step(b, 0, 0); // ranges seen
      eng.step(b, beta, 0);
      std::vector<ParamView> ps = eng.params();
      const ParamView &pv = ps[ps.size() - eng.quantizers().size() + static_cast<size_t>(qmax)];
      REQUIRE(pv.frac_bits);
      return std::vector<float>(pv.g, pv.g + pv.n);
    };
    std::vector<float> g0 = fgrad(0), g1 = fgrad(1);
    REQUIRE(g0.size() == g1.size());
    double charged = 0;
    for (size_t e = 0; e < g0.size(); ++e) {
      CHECK(g1[e] - g0[e] >= -1e-4);
      charged += g1[e] - g0[e];
    }
    CHECK(charged > 0);
  }
}

TEST_CASE("train: PRelu's slope is a trained weight behind its own quantizer, and the saved "
          "model has a fixed-point form") {
  ModelBuilder b;
  b.input("x", {-1, 1, 4, 4}).output("z");
  b.init("k", {2, 1, 2, 2}, {0.75, -0.3, 0.45, 1.1, -0.6, 0.2, 0.9, 0.35});
  b.init("s", {2, 1, 1}, {0.2137, -0.4});
  std::vector<double> w(3 * 18);
  for (size_t i = 0; i < w.size(); ++i)
    w[i] = 0.1 * static_cast<double>(i % 7) - 0.3;
  b.init("w", {3, 18}, w);
  b.node("Conv", {"x", "k"}, {"cv"});
  b.node("PRelu", {"cv", "s"}, {"pr"}, "prelu");
  b.node("Flatten", {"pr"}, {"f"});
  ModelBuilder::attr_int(b.node("Gemm", {"f", "w"}, {"z"}), "transB", 1);
  Graph g = b.import();
  normalize(g);
  insert_hgq_quantizers(g);
  std::vector<int> prod = g.producers();
  const Node *pr = nullptr;
  for (const Node &n : g.nodes)
    if (n.op == OpKind::PRelu)
      pr = &n;
  REQUIRE(pr);
  int p = prod[static_cast<size_t>(pr->inputs[1])];
  REQUIRE(p >= 0);
  CHECK(g.nodes[static_cast<size_t>(p)].op == OpKind::FixedQuant);

  EngineOptions eo;
  eo.task = TaskKind::Regress;
  eo.init_f_act = 6;
  TrainEngine eng(g, eo);
  std::vector<float> x(4 * 16), t(4 * 3, 1.0f);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = 0.37f * static_cast<float>(i % 9) - 1.4f; // negative inputs reach the slope
  eng.step({x.data(), nullptr, t.data(), 4}, 0, 0);
  // The slope's weights (the only two-element weight tensor) get a gradient.
  const ParamView *slope = nullptr;
  std::vector<ParamView> ps = eng.params();
  for (const ParamView &pv : ps)
    if (!pv.frac_bits && pv.n == 2)
      slope = &pv;
  REQUIRE(slope);
  CHECK(std::fabs(slope->g[0]) + std::fabs(slope->g[1]) > 0);
  // The saved model's slope is a quantized constant: the fixed-point analysis takes it.
  Graph out = eng.export_graph();
  CHECK_NOTHROW(analyze_ranges(out));
}
