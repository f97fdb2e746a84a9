// Gradient checks of training: every op's backward hook against central finite differences
// of its train_forward, the HGQ quantizers' surrogate gradients against their formula, the
// EBOPs surrogate against its definition, and the engine's whole-model gradients.
#include "grad_check.h"
#include "ir/fixed_eval.h"
#include "ir/op.h"
#include "ir/ops/common.h"
#include "ir/passes/passes.h"
#include "onnx_builder.h"
#include "qat/dataset.h"
#include "qat/engine.h"
#include "qat/hgq.h"

#include <doctest/doctest.h>

#include <cmath>
#include <random>

using namespace hgqc;
using hgqc::test::check_node;
using hgqc::test::ModelBuilder;
using hgqc::test::one_node;
using hgqc::test::random_tensor;

TEST_CASE("Gemm backward matches finite differences (transB, alpha, beta, bias broadcast)") {
  for (int tb = 0; tb <= 1; ++tb) {
    ModelBuilder b;
    b.input("a", {-1, 4}).output("y");
    b.init("w", tb ? std::vector<int64_t>{3, 4} : std::vector<int64_t>{4, 3},
           std::vector<double>(12, 0.1));
    b.init("c", {3}, {0.1, 0.2, 0.3});
    auto &n = b.node("Gemm", {"a", "w", "c"}, {"y"});
    ModelBuilder::attr_int(n, "transB", tb);
    auto *al = n.add_attribute();
    al->set_name("alpha");
    al->set_type(onnx::AttributeProto::FLOAT);
    al->set_f(0.5f);
    auto *be = n.add_attribute();
    be->set_name("beta");
    be->set_type(onnx::AttributeProto::FLOAT);
    be->set_f(2.0f);
    check_node(one_node(b), 0);
  }
}

TEST_CASE("MatMul backward matches finite differences (leading dimensions)") {
  ModelBuilder b;
  b.input("a", {-1, 3, 4}).output("y").init("w", {4, 5}, std::vector<double>(20, 0.1));
  b.node("MatMul", {"a", "w"}, {"y"});
  check_node(one_node(b), 0);
}

TEST_CASE("MatMul of two run-time operands: backward to both matches finite differences") {
  // Attention-like x x^T per sample: [N, 3, 4] x [N, 4, 2], and with one more leading dim.
  ModelBuilder b;
  b.input("a", {-1, 3, 4}).input("c", {-1, 4, 2}).output("y");
  b.node("MatMul", {"a", "c"}, {"y"});
  check_node(one_node(b), 0);
  ModelBuilder b2;
  b2.input("a", {-1, 2, 3, 4}).input("c", {-1, 2, 4, 1}).output("y");
  b2.node("MatMul", {"a", "c"}, {"y"});
  check_node(one_node(b2), 0);
}

TEST_CASE("Conv backward matches finite differences (2-D pads, strides, groups: 1-D)") {
  {
    ModelBuilder b;
    b.input("x", {-1, 4, 5, 5}).output("y");
    b.init("w", {6, 2, 3, 3}, std::vector<double>(108, 0.1))
        .init("b", {6}, std::vector<double>(6, 0.));
    auto &n = b.node("Conv", {"x", "w", "b"}, {"y"});
    ModelBuilder::attr_int(n, "group", 2);
    ModelBuilder::attr_ints(n, "pads", {1, 0, 1, 1});
    ModelBuilder::attr_ints(n, "strides", {2, 1});
    check_node(one_node(b), 0);
  }
  {
    ModelBuilder b;
    b.input("x", {-1, 2, 7}).output("y").init("w", {3, 2, 3}, std::vector<double>(18, 0.1));
    auto &n = b.node("Conv", {"x", "w"}, {"y"});
    ModelBuilder::attr_ints(n, "dilations", {2});
    check_node(one_node(b), 0);
  }
}

TEST_CASE("Add, Sub and Mul backward sum over broadcast dimensions") {
  for (const char *op : {"Add", "Sub", "Mul"}) {
    ModelBuilder b;
    b.input("a", {-1, 3, 4}).output("y").init("c", {4}, {0.1, 0.2, 0.3, 0.4});
    b.node(op, {"a", "c"}, {"y"});
    check_node(one_node(b), 0);
    ModelBuilder b2;
    b2.input("a", {-1, 3, 4}).input("c", {-1, 3, 1}).output("y");
    b2.node(op, {"a", "c"}, {"y"});
    check_node(one_node(b2), 0);
  }
}

TEST_CASE("Relu, LeakyRelu, Softmax and LogSoftmax backward match finite differences") {
  for (const char *op : {"Relu", "LeakyRelu", "Softmax", "LogSoftmax"}) {
    ModelBuilder b;
    b.input("x", {-1, 7}).output("y");
    b.node(op, {"x"}, {"y"});
    check_node(one_node(b), 0);
  }
}

TEST_CASE("MaxPool and AveragePool backward match finite differences") {
  for (const char *op : {"MaxPool", "AveragePool"})
    for (int pad = 0; pad <= 1; ++pad) {
      ModelBuilder b;
      b.input("x", {-1, 2, 5, 5}).output("y");
      auto &n = b.node(op, {"x"}, {"y"});
      ModelBuilder::attr_ints(n, "kernel_shape", {3, 3});
      ModelBuilder::attr_ints(n, "strides", {2, 2});
      if (pad)
        ModelBuilder::attr_ints(n, "pads", {1, 1, 1, 1});
      if (pad && std::string(op) == "AveragePool")
        ModelBuilder::attr_int(n, "count_include_pad", 1);
      check_node(one_node(b), 0);
    }
}

TEST_CASE("copy ops (Flatten, Reshape, Transpose, Concat) route gradients back") {
  {
    ModelBuilder b;
    b.input("x", {-1, 2, 3}).output("y");
    b.node("Flatten", {"x"}, {"y"});
    check_node(one_node(b), 0);
  }
  {
    ModelBuilder b;
    b.input("x", {-1, 2, 3}).output("y").init("s", {3}, {0, 3, 2}, true);
    b.node("Reshape", {"x", "s"}, {"y"});
    check_node(one_node(b), 0);
  }
  {
    ModelBuilder b;
    b.input("x", {-1, 2, 3}).output("y");
    ModelBuilder::attr_ints(b.node("Transpose", {"x"}, {"y"}), "perm", {0, 2, 1});
    check_node(one_node(b), 0);
  }
  {
    ModelBuilder b;
    b.input("x", {-1, 2, 3}).input("z", {-1, 1, 3}).output("y");
    ModelBuilder::attr_int(b.node("Concat", {"x", "z"}, {"y"}), "axis", 1);
    check_node(one_node(b), 0);
  }
}

TEST_CASE("BatchNormalization backward (inference form) matches finite differences") {
  ModelBuilder b;
  b.input("x", {-1, 3, 2}).output("y");
  b.init("s", {3}, {1, 2, 3}).init("b", {3}, {0, 1, 2}).init("m", {3}, {0, 0, 0});
  b.init("v", {3}, {1, 1, 1});
  b.node("BatchNormalization", {"x", "s", "b", "m", "v"}, {"y"});
  check_node(one_node(b), 0);
}

TEST_CASE("HGQ activation quantizer: rounding, pruning and the surrogate gradient") {
  HgqQuantizer q = make_quantizer(0, false, {1, 3}, 2.4f); // round(f) = 2
  q.f[2] = -3.6f;                                          // round(f) = -4
  float bmin[3] = {0, 0, 0}, bmax[3] = {3, 1, 0.01f};
  hgq_update_range(q, bmin, bmax, 0.0f);
  hgq_act_tables(q);
  CHECK(q.live[0] == 1.0f);
  CHECK(q.live[2] == 0.0f); // max 0.01 at 2^4 steps rounds to 0: pruned
  CHECK(q.width[0] == int_width(0, 12));
  TrainTensor x, y, dy, dx;
  x.shape = {2, 3};
  x.v = {0.3f, -0.61f, 0.01f, 2.9f, 0.124f, 0.004f};
  hgq_act_forward(q, x, y, bmin, bmax);
  CHECK(y.v[0] == 0.25f); // round(1.2) / 4
  CHECK(y.v[1] == -0.5f); // round(-2.44) / 4
  CHECK(y.v[2] == 0.0f);  // pruned
  CHECK(y.v[3] == 3.0f);  // round(11.6) / 4
  dy.shape = x.shape;
  dy.v = {1, 2, 3, 4, 5, 6};
  std::vector<float> eg(3, 0.0f);
  hgq_act_backward(q, x, y, dy, &dx, eg.data());
  const double ln2 = std::log(2.0);
  for (int e = 0; e < 3; ++e) {
    double want = 0;
    for (int r = 0; r < 2; ++r)
      want += dy.v[r * 3 + e] * -ln2 * (y.v[r * 3 + e] - x.v[r * 3 + e]);
    CHECK(eg[e] == doctest::Approx(want).epsilon(1e-6));
  }
  CHECK(dx.v[0] == 1.0f);
  CHECK(dx.v[2] == 0.0f); // no gradient through a pruned element
  CHECK(dx.v[4] == 5.0f);
}

TEST_CASE("HGQ activation quantizer: a maximum that only rounds up to 2^k saturates below it") {
  // Pixels / 256 reach 0.996: at f = 2 that rounds up to 4 = 2^2, which would need a third
  // bit. The integer bits come from the range (below 1), so the top is 3 and 0.99 saturates
  // to 0.75, as the exported SAT format does. A maximum exactly on 2^k keeps it.
  HgqQuantizer q = make_quantizer(0, false, {1, 4}, 2.0f);
  q.f[3] = 1.0f;
  float bmin[4] = {0, 0, -1, 0}, bmax[4] = {0.996f, 1.0f, 0.996f, 0.3f};
  hgq_update_range(q, bmin, bmax, 0.0f);
  hgq_act_tables(q);
  int64_t lo, hi;
  hgq_act_interval(q, 0, lo, hi);
  CHECK(lo == 0);
  CHECK(hi == 3);
  CHECK(q.width[0] == 2.0f);
  hgq_act_interval(q, 1, lo, hi);
  CHECK(hi == 4); // the range reaches 1.0 itself: no saturation, 3 bits
  CHECK(q.width[1] == 3.0f);
  hgq_act_interval(q, 2, lo, hi);
  CHECK(lo == -4);
  CHECK(hi == 3); // signed [-4, 3]: 3 bits instead of 4
  CHECK(q.width[2] == 3.0f);
  CHECK(q.live[3] == 0.0f); // 0.3 at f = 1 only rounds up to 1 = 2^0: nothing is left
  TrainTensor x, y;
  x.shape = {1, 4};
  x.v = {0.99f, 0.99f, 0.9f, 0.3f};
  hgq_act_forward(q, x, y, bmin, bmax);
  CHECK(y.v[0] == 0.75f);
  CHECK(y.v[1] == 1.0f);
  CHECK(y.v[2] == 0.75f);
  CHECK(y.v[3] == 0.0f);
  const FixedFormat f0 = hgq_act_format(q, 0, 0, 3);
  CHECK(f0.k == 0);
  CHECK(f0.i == 0);
  CHECK(f0.f == 2);
}

TEST_CASE("the surrogate d x_q / d f is the scaling law of the rounding error") {
  // The error of rounding to f bits shrinks like 2^-f: for a value whose error at f is e,
  // e(f + t) ~ e * 2^-t, and d/dt at t = 0 is -ln2 * e. Check the formula against that law.
  for (float xq : {0.25f, -1.5f, 3.0f})
    for (float x : {0.3f, -1.4f, 2.9f}) {
      auto law = [&](double t) { return (xq - x) * std::pow(2.0, -t); };
      double fd = (law(1e-4) - law(-1e-4)) / 2e-4;
      CHECK(surrogate_df(xq, x) == doctest::Approx(fd).epsilon(1e-4));
    }
}

TEST_CASE("HGQ weight quantizer: widths from the integer itself, STE and surrogate") {
  HgqQuantizer q = make_quantizer(0, true, {4}, 3.0f);
  TrainTensor w, wq, dwq, dw;
  w.shape = {4};
  w.v = {0.3f, -0.5f, 0.04f, -2.2f};
  hgq_weight_forward(q, w, wq);
  CHECK(wq.v[0] == 0.25f);  // 2 / 8
  CHECK(wq.v[1] == -0.5f);  // -4 / 8
  CHECK(wq.v[2] == 0.0f);   // pruned
  CHECK(wq.v[3] == -2.25f); // -18 / 8
  CHECK(q.width[0] == 2);   // 2 = 0b10
  CHECK(q.width[1] == 3);   // -4 in 3-bit two's complement
  CHECK(q.width[2] == 0);
  CHECK(q.live[2] == 0.0f);
  CHECK(hgq_weight_format(q, 3, w.v[3]) == FixedFormat{1, 2, 3});
  dwq.shape = w.shape;
  dwq.v = {1, 1, 1, 1};
  std::vector<float> eg(4, 0.0f);
  hgq_weight_backward(q, w, wq, dwq, dw, eg.data());
  for (int e = 0; e < 4; ++e) {
    CHECK(dw.v[e] == 1.0f);
    CHECK(eg[e] == doctest::Approx(-std::log(2.0) * (wq.v[e] - w.v[e])).epsilon(1e-6));
  }
}

namespace {
// A 6-8-3 MLP with a Softmax output, quantizers inserted.
Graph small_mlp() {
  ModelBuilder b;
  b.input("x", {-1, 6}).output("p");
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(-0.6, 0.6);
  std::vector<double> w1(48), w2(24), b1(8), b2(3);
  for (auto *v : {&w1, &w2, &b1, &b2})
    for (double &x : *v)
      x = u(rng);
  b.init("w1", {8, 6}, w1).init("b1", {8}, b1).init("w2", {3, 8}, w2).init("b2", {3}, b2);
  ModelBuilder::attr_int(b.node("Gemm", {"x", "w1", "b1"}, {"h"}), "transB", 1);
  b.node("Relu", {"h"}, {"r"});
  ModelBuilder::attr_int(b.node("Gemm", {"r", "w2", "b2"}, {"z"}), "transB", 1);
  ModelBuilder::attr_int(b.node("Softmax", {"z"}, {"p"}), "axis", 1);
  Graph g = b.import();
  normalize(g);
  insert_hgq_quantizers(g);
  return g;
}
} // namespace

TEST_CASE("engine: whole-model gradients match finite differences of the loss") {
  for (int threads : {1, 2}) {
    EngineOptions eo;
    eo.threads = threads;
    eo.init_f_weight = 20; // fine grids: the quantized model is smooth at the FD step
    eo.init_f_act = 20;
    TrainEngine eng(small_mlp(), eo);
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> u(-1, 1);
    const int64_t rows = 5;
    std::vector<float> x(rows * 6);
    for (float &v : x)
      v = u(rng);
    std::vector<int32_t> lab{0, 2, 1, 1, 0};
    BatchData b{x.data(), lab.data(), nullptr, rows};
    eng.step(b, 0, 0); // ranges seen
    eng.step(b, 0, 0);
    auto loss = [&]() {
      std::vector<float> z;
      eng.predict(x.data(), rows, z);
      double s = 0;
      for (int64_t r = 0; r < rows; ++r) {
        double m = -1e30, e = 0;
        for (int c = 0; c < 3; ++c)
          m = std::max(m, static_cast<double>(z[r * 3 + c]));
        for (int c = 0; c < 3; ++c)
          e += std::exp(z[r * 3 + c] - m);
        s += std::log(e) + m - z[r * 3 + lab[r]];
      }
      return s / rows;
    };
    std::vector<ParamView> ps = eng.params();
    int checked = 0;
    for (const ParamView &p : ps) {
      if (p.frac_bits)
        continue;
      std::vector<float> g(p.g, p.g + p.n);
      for (size_t k = 0; k < p.n; ++k) {
        float keep = p.w[k];
        const float h = 1e-2f;
        p.w[k] = keep + h;
        double lp = loss();
        p.w[k] = keep - h;
        double lm = loss();
        p.w[k] = keep;
        INFO("threads " << threads << " param element " << k);
        CHECK(g[k] == doctest::Approx((lp - lm) / (2 * h)).epsilon(2e-2).scale(1e-2));
        ++checked;
      }
    }
    CHECK(checked == 48 + 8 + 24 + 3);
  }
}

TEST_CASE("engine: EBOPs surrogate is sum b_a[k] * b_w[j,k] and its gradient reaches f") {
  EngineOptions eo;
  eo.cost = CostKind::Ebops;
  TrainEngine eng(small_mlp(), eo);
  std::vector<float> x(4 * 6, 0.5f);
  x[3] = -0.7f;
  std::vector<int32_t> lab{0, 1, 2, 0};
  BatchData b{x.data(), lab.data(), nullptr, 4};
  eng.step(b, 0, 0);
  StepStats st = eng.step(b, 0, 0);
  // The first Gemm reads the quantizer of x and of w1 [8, 6] (transB); the second the
  // quantizers of r and w2 [3, 8].
  const auto &qs = eng.quantizers();
  const HgqQuantizer *ax = nullptr, *ar = nullptr, *w1 = nullptr, *w2 = nullptr;
  for (const HgqQuantizer &q : qs) {
    if (!q.weight && q.n == 6)
      ax = &q;
    else if (!q.weight && q.n == 8)
      ar = &q;
    else if (q.weight && q.n == 48)
      w1 = &q;
    else if (q.weight && q.n == 24)
      w2 = &q;
  }
  REQUIRE((ax && ar && w1 && w2));
  double want = 0;
  for (int j = 0; j < 8; ++j)
    for (int k = 0; k < 6; ++k)
      want += ax->width[k] * w1->width[j * 6 + k];
  for (int j = 0; j < 3; ++j)
    for (int k = 0; k < 8; ++k)
      want += ar->width[k] * w2->width[j * 8 + k];
  CHECK(want > 0);
  CHECK(st.ebops == doctest::Approx(want));
  // With only the EBOPs term (huge beta), f gradients of kept weights equal beta * b_a.
  std::vector<float> before;
  st = eng.step(b, 1e6, 0);
  for (ParamView p : eng.params())
    if (p.frac_bits && p.n == 48)
      for (int j = 0; j < 8; ++j)
        for (int k = 0; k < 6; ++k)
          if (w1->live[j * 6 + k] > 0)
            CHECK(p.g[j * 6 + k] == doctest::Approx(1e6 * ax->width[k]).epsilon(1e-3));
}

namespace {
// Two training steps of graph g (HGQ quantizers inserted, activations at init f 3 or 4) on
// batch x with labels 0 and 2: the exact EBOPs of the saved model (total, and of the nodes
// of op `part`), the surrogate's, and then, with only the EBOPs term (huge beta), d loss / d f
// of the quantizer of the graph input and whether each of its elements is live.
struct TermCheck {
  double exact = 0, part = 0, surrogate = 0;
  std::vector<float> gx, live;
};
TermCheck term_check(Graph g, float init_f, std::vector<float> x, OpKind part) {
  normalize(g);
  insert_hgq_quantizers(g);
  EngineOptions eo;
  eo.cost = CostKind::Ebops;
  eo.init_f_act = init_f;
  // No decay: the second step's widths are those the saved model's ranges give (a decayed
  // maximum just below 2^k would already saturate there, one bit narrower).
  eo.range_decay = 0;
  TrainEngine eng(g, eo);
  std::vector<int32_t> lab{0, 2};
  BatchData b{x.data(), lab.data(), nullptr, 2};
  eng.step(b, 0, 0);
  TermCheck r;
  r.surrogate = eng.step(b, 0, 0).ebops;
  Graph q = eng.export_graph();
  to_fixed(q);
  RangeAnalysis ra = analyze_ranges(q);
  std::vector<double> per = node_ebops(q, ra);
  for (size_t ni = 0; ni < per.size(); ++ni) {
    r.exact += per[ni];
    if (q.nodes[ni].op == part)
      r.part += per[ni];
  }
  const auto &qs = eng.quantizers();
  size_t xi = qs.size();
  for (size_t k = 0; k < qs.size(); ++k)
    if (!qs[k].weight && g.nodes[static_cast<size_t>(qs[k].node)].inputs[0] == g.inputs[0])
      xi = k;
  REQUIRE(xi < qs.size());
  r.live = qs[xi].live;
  eng.step(b, 1e6, 0);
  std::vector<ParamView> ps = eng.params();
  const ParamView &fx = ps[ps.size() - qs.size() + xi];
  r.gx.assign(fx.g, fx.g + fx.n);
  return r;
}

// The surrogate counts each weight at its declared width k + i + f (method.md §2); the exact
// count of the saved model at the width its value needs (a weight stored on its grid: trailing
// zeros of the grid cost nothing, docs/fixed-point.md). So the surrogate is an upper bound,
// met when no weight has such trailing zeros; these weights do have them.
void check_surrogate(const TermCheck &r) {
  CHECK(r.exact > 0);
  CHECK(r.surrogate >= r.exact);
}

// x -> Mul(x, scale) -> Gemm.
TermCheck scaled_gemm(double scale) {
  ModelBuilder mb;
  mb.input("x", {-1, 4}).output("z");
  mb.init("s", {}, {scale});
  mb.init("w", {3, 4}, {0.5, -0.25, 0.75, 0.125, -0.625, 0.3, 0.2, -0.1, 0.9, 0.05, -0.4, 0.6});
  mb.init("c", {3}, {0.1, -0.2, 0.3});
  mb.node("Mul", {"x", "s"}, {"xs"});
  ModelBuilder::attr_int(mb.node("Gemm", {"xs", "w", "c"}, {"z"}), "transB", 1);
  return term_check(mb.import(), 4, {0.5f, -0.75f, 1.5f, 0.25f, -1.0f, 0.125f, 0.6f, -0.3f},
                    OpKind::Mul);
}
} // namespace

TEST_CASE("engine: EBOPs surrogate bounds the exact EBOPs of the saved model, a Mul by a "
          "constant included, whose input quantizer it trains") {
  // The exact count charges the Mul width(x_q) * width(0.375) = 2 per element; the quantizer
  // of x feeds no Gemm, so only that term moves its f: d/df = beta * 2 per element.
  TermCheck r = scaled_gemm(0.375);
  CHECK(r.part > 0);
  check_surrogate(r);
  REQUIRE(r.gx.size() == 4);
  for (float gk : r.gx)
    CHECK(gk == doctest::Approx(2e6).epsilon(1e-3));
}

TEST_CASE("engine: a Mul by a power of two is a shift and costs no EBOPs, exact or surrogate") {
  // In hardware the Mul by 0.25 is wiring, so neither count charges it and the quantizer of x
  // gets no EBOPs gradient (only the Gemm's own input quantizer does).
  TermCheck r = scaled_gemm(0.25);
  CHECK(r.part == 0);
  CHECK(r.exact > 0);
  check_surrogate(r);
  REQUIRE(r.gx.size() == 4);
  for (float gk : r.gx)
    CHECK(std::abs(gk) < 1e-3f * 1e6f);
}

TEST_CASE("engine: pooling windows charge each addend its width, exact and surrogate alike") {
  // x -> Pool(2x2, stride 1 on 4x4: overlapping windows) -> Flatten -> Gemm: the pool costs
  // sum_i counts[i] * width(x_i), counts[i] the windows element i enters (1, 2 or 4 here).
  // With `shift`, x is scaled by 2^-2 before the pool (as --normalize scale does): the shift
  // keeps the widths, so the quantizer of x is charged through it. (A MaxPool reading the
  // shifted x has a quantizer of its own, which is then charged: test_quant_points.cpp.)
  for (bool shift : {false, true})
    for (OpKind op : {OpKind::AveragePool, OpKind::MaxPool}) {
      if (shift && op == OpKind::MaxPool)
        continue;
      const char *name = op == OpKind::AveragePool ? "AveragePool" : "MaxPool";
      CAPTURE(name);
      CAPTURE(shift);
      ModelBuilder mb;
      mb.input("x", {-1, 1, 4, 4}).output("z");
      std::vector<double> w(3 * 9);
      for (size_t j = 0; j < w.size(); ++j)
        w[j] = 0.1 * static_cast<double>(j % 7) - 0.3;
      mb.init("w", {3, 9}, w);
      if (shift) {
        mb.init("s", {}, {0.25});
        mb.node("Mul", {"x", "s"}, {"xs"});
      }
      auto &pool = mb.node(name, {shift ? "xs" : "x"}, {"p"});
      ModelBuilder::attr_ints(pool, "kernel_shape", {2, 2});
      ModelBuilder::attr_ints(pool, "strides", {1, 1});
      mb.node("Flatten", {"p"}, {"pf"});
      ModelBuilder::attr_int(mb.node("Gemm", {"pf", "w"}, {"z"}), "transB", 1);
      std::vector<float> x(2 * 16);
      for (size_t j = 0; j < x.size(); ++j)
        x[j] = 0.37f * static_cast<float>((j * 5) % 11) - 1.6f;
      TermCheck r = term_check(mb.import(), 3, x, op);
      CHECK(r.part > 0);
      check_surrogate(r);
      // d/df of element (row, col) of x is beta * the number of 2x2 windows (of the 3x3
      // output) that contain it.
      REQUIRE(r.gx.size() == 16);
      auto span = [](int i) { return i == 0 || i == 3 ? 1 : 2; };
      for (int row = 0; row < 4; ++row)
        for (int col = 0; col < 4; ++col)
          if (r.live[static_cast<size_t>(row * 4 + col)] > 0)
            CHECK(r.gx[static_cast<size_t>(row * 4 + col)] ==
                  doctest::Approx(1e6 * span(row) * span(col)).epsilon(1e-3));
    }
}

TEST_CASE("data_frac_bits: the data's own grid, capped") {
  Dataset d;
  d.xf = {0, 3, 255, -7};
  CHECK(data_frac_bits(d, 8) == 0);
  d.xf.push_back(0.5f);
  CHECK(data_frac_bits(d, 8) == 1);
  d.xf.push_back(3.0f / 256);
  CHECK(data_frac_bits(d, 8) == 8);
  CHECK(data_frac_bits(d, 4) == 4);
  d.xf.push_back(0.1f); // on no grid coarser than float32's
  CHECK(data_frac_bits(d, 12) == 12);
  CHECK(data_frac_bits(d, -2) == 0);
}

TEST_CASE("engine: init_f_input starts only the graph input's quantizer lower") {
  EngineOptions eo;
  eo.init_f_act = 6;
  eo.init_f_input = 0;
  Graph g = small_mlp();
  TrainEngine eng(g, eo);
  int inputs = 0, acts = 0;
  for (const HgqQuantizer &q : eng.quantizers()) {
    if (q.weight)
      continue;
    bool is_input = g.nodes[static_cast<size_t>(q.node)].inputs[0] == g.inputs[0];
    inputs += is_input;
    acts += !is_input;
    for (float f : q.f)
      CHECK(f == (is_input ? 0.0f : 6.0f));
  }
  CHECK(inputs == 1);
  CHECK(acts >= 1);
  eo.init_f_input = 9; // above init_f_act: no effect
  TrainEngine eng2(g, eo);
  for (const HgqQuantizer &q : eng2.quantizers())
    if (!q.weight)
      for (float f : q.f)
        CHECK(f == 6.0f);
}

TEST_CASE("engine: same seed and thread count give the same weights") {
  auto run = [](int threads) {
    EngineOptions eo;
    eo.threads = threads;
    TrainEngine eng(small_mlp(), eo);
    std::vector<float> x(64 * 6);
    std::mt19937 rng(11);
    std::uniform_real_distribution<float> u(-1, 1);
    for (float &v : x)
      v = u(rng);
    std::vector<int32_t> lab(64);
    for (int i = 0; i < 64; ++i)
      lab[i] = i % 3;
    for (int s = 0; s < 5; ++s) {
      eng.step({x.data(), lab.data(), nullptr, 64}, 1e-4, 1e-6);
      for (ParamView p : eng.params())
        for (size_t k = 0; k < p.n; ++k)
          p.w[k] -= 0.01f * p.g[k];
      eng.clamp_frac_bits();
    }
    std::vector<float> all;
    for (ParamView p : eng.params())
      all.insert(all.end(), p.w, p.w + p.n);
    return all;
  };
  CHECK(run(1) == run(1));
  CHECK(run(2) == run(2));
}

TEST_CASE("table functions (Sigmoid, Tanh, Exp, Softplus, Softsign, Elu, Selu, HardSigmoid, "
          "HardSwish, Erf) backward match finite differences") {
  for (const char *op : {"Sigmoid", "Tanh", "Exp", "Softplus", "Softsign", "Elu", "Selu",
                         "HardSigmoid", "HardSwish", "Erf"}) {
    ModelBuilder b(14);
    b.input("x", {-1, 7}).output("y");
    b.node(op, {"x"}, {"y"});
    check_node(one_node(b), 0);
  }
}
