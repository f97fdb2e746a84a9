// Finite-difference gradient checks of op backward hooks, shared by the tests of tests/unit/qat/.
#include "grad_check.h"

#include "ir/op.h"
#include "ir/passes/passes.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <any>
#include <cmath>
#include <string>

namespace hgqc::test {
// Random values in [-1, 1] (distinct with probability 1, away from the kinks of max and relu
// by more than the finite-difference step in all but rare cases, which the tolerance absorbs).
TrainTensor random_tensor(const Dims &d, std::mt19937 &rng) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  TrainTensor t;
  t.resize(d);
  for (float &v : t.v) {
    v = u(rng);
    if (std::fabs(v) < 0.05f) // keep away from the kink of Relu and LeakyRelu at 0
      v += v < 0 ? -0.05f : 0.05f;
  }
  return t;
}

namespace {
Dims with_batch(Dims d, int64_t b) {
  if (!d.empty() && d[0] == kDynamic)
    d[0] = b;
  return d;
}
} // namespace

// Checks node `ni` of `g`: random inputs (batch 2), L = sum(out * R); backward(dout = R)
// against (L(x + h) - L(x - h)) / 2h for every element of every float input, then backward
// into gradients holding random values P: P + the gradient.
void check_node(const Graph &g, size_t ni, std::vector<int> skip) {
  const Node &n = g.nodes[ni];
  const OpDef &d = op_def(n.op);
  REQUIRE(static_cast<bool>(d.train_forward));
  REQUIRE(static_cast<bool>(d.backward));
  std::mt19937 rng(1234);
  std::vector<TrainTensor> in(n.inputs.size());
  std::vector<const Tensor *> consts;
  for (size_t j = 0; j < n.inputs.size(); ++j) {
    ValueId v = n.inputs[j];
    const Tensor *c = v == kNoValue ? nullptr : g.constant_of(v);
    consts.push_back(c);
    if (v == kNoValue)
      continue;
    if (c && !is_float(c->dtype())) {
      in[j].resize(c->shape());
      for (int64_t k = 0; k < c->numel(); ++k)
        in[j].v[k] = static_cast<float>((*c)[k]);
    } else {
      in[j] = random_tensor(with_batch(g.values[v].type.dims, 2), rng);
    }
  }
  if (n.op == OpKind::BatchNormalization) // variance must stay positive
    for (float &v : in[4].v)
      v = std::fabs(v) + 0.5f;
  if (n.op == OpKind::Div) // divisors in [1.05, 2] and [-2, -1.05]: a smooth quotient
    for (float &v : in[1].v)
      v += v < 0 ? -1.0f : 1.0f;
  if (n.op == OpKind::Reciprocal) // the same for 1 / x
    for (float &v : in[0].v)
      v += v < 0 ? -1.0f : 1.0f;
  if (n.op == OpKind::Log) // x in [0.5, 1.5]: a smooth log
    for (float &v : in[0].v)
      v = std::fabs(v) * 0.5f + 0.5f;
  std::vector<const TrainTensor *> ip;
  for (size_t j = 0; j < in.size(); ++j)
    ip.push_back(n.inputs[j] == kNoValue ? nullptr : &in[j]);
  std::any cache;
  TrainContext ctx{consts, &cache};
  TrainTensor y;
  std::vector<TrainTensor *> op{&y};
  while (op.size() < n.outputs.size())
    op.push_back(nullptr);
  d.train_forward(n, ip, op, ctx);
  TrainTensor r = random_tensor(y.shape, rng);
  auto loss = [&]() {
    TrainTensor z;
    std::vector<TrainTensor *> o{&z};
    while (o.size() < n.outputs.size())
      o.push_back(nullptr);
    std::any c2;
    TrainContext x2{consts, &c2};
    d.train_forward(n, ip, o, x2);
    double s = 0;
    for (size_t k = 0; k < z.v.size(); ++k)
      s += static_cast<double>(z.v[k]) * r.v[k];
    return s;
  };
  std::vector<TrainTensor> din(n.inputs.size());
  std::vector<TrainTensor *> dp;
  for (size_t j = 0; j < n.inputs.size(); ++j) {
    bool want = n.inputs[j] != kNoValue && !(consts[j] && !is_float(consts[j]->dtype())) &&
                std::find(skip.begin(), skip.end(), static_cast<int>(j)) == skip.end();
    dp.push_back(want ? &din[j] : nullptr);
  }
  d.train_forward(n, ip, op, ctx); // backward reads what the last forward cached
  std::vector<const TrainTensor *> yo{&y}, ro{&r};
  while (yo.size() < n.outputs.size()) {
    yo.push_back(nullptr);
    ro.push_back(nullptr);
  }
  d.backward(n, ip, yo, ro, dp, ctx);
  const float h = 1e-2f;
  for (size_t j = 0; j < n.inputs.size(); ++j) {
    if (!dp[j])
      continue;
    REQUIRE(din[j].shape == in[j].shape);
    for (size_t k = 0; k < in[j].v.size(); ++k) {
      float keep = in[j].v[k];
      in[j].v[k] = keep + h;
      double lp = loss();
      in[j].v[k] = keep - h;
      double lm = loss();
      in[j].v[k] = keep;
      double fd = (lp - lm) / (2 * h);
      INFO(n.name << " input " << j << " element " << k);
      CHECK(din[j].v[k] == doctest::Approx(fd).epsilon(2e-2).scale(1.0));
    }
  }
  // Backward adds into the gradients it is given (a value read twice sums both readers'
  // contributions): from earlier contents P, the result is P + the gradient above.
  std::vector<TrainTensor> acc(n.inputs.size());
  std::vector<TrainTensor *> ap;
  for (size_t j = 0; j < n.inputs.size(); ++j) {
    if (dp[j])
      acc[j] = random_tensor(in[j].shape, rng);
    ap.push_back(dp[j] ? &acc[j] : nullptr);
  }
  std::vector<TrainTensor> prior = acc;
  d.train_forward(n, ip, op, ctx);
  d.backward(n, ip, yo, ro, ap, ctx);
  for (size_t j = 0; j < n.inputs.size(); ++j) {
    if (!dp[j])
      continue;
    REQUIRE(acc[j].shape == in[j].shape);
    for (size_t k = 0; k < acc[j].v.size(); ++k) {
      INFO(n.name << " input " << j << " element " << k << ": backward must add, not overwrite");
      CHECK(acc[j].v[k] == doctest::Approx(prior[j].v[k] + din[j].v[k]).epsilon(1e-5).scale(1.0));
    }
  }
}

Graph one_node(ModelBuilder &b) { return b.import(); }

Graph gated_mlp(bool scaled_input) {
  ModelBuilder b;
  b.input("x", {-1, 4}).output("p");
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> u(-0.9, 0.9);
  std::vector<double> w1(12), w2(12), w3(6), b1(3), b2(3);
  for (auto *v : {&w1, &w2, &w3, &b1, &b2})
    for (double &x : *v)
      x = u(rng);
  const std::string s = scaled_input ? "s" : "x";
  if (scaled_input)
    b.init("c", {4}, {3, 0.75, 5, 1.25});
  b.init("w1", {3, 4}, w1).init("b1", {3}, b1).init("w2", {3, 4}, w2).init("b2", {3}, b2);
  b.init("w3", {2, 3}, w3);
  if (scaled_input)
    b.node("Mul", {"x", "c"}, {"s"});
  ModelBuilder::attr_int(b.node("Gemm", {s, "w1", "b1"}, {"h"}), "transB", 1);
  b.node("Relu", {"h"}, {"a"});
  ModelBuilder::attr_int(b.node("Gemm", {s, "w2", "b2"}, {"k"}), "transB", 1);
  b.node("Mul", {"a", "k"}, {"m"});
  ModelBuilder::attr_int(b.node("Gemm", {"m", "w3"}, {"z"}), "transB", 1);
  ModelBuilder::attr_int(b.node("Softmax", {"z"}, {"p"}), "axis", 1);
  Graph g = b.import();
  normalize(g);
  return g;
}

CostModel cost_of(const TrainEngine &eng) {
  const Graph &g = eng.graph();
  std::vector<int> quant_of(g.nodes.size(), -1);
  for (size_t q = 0; q < eng.quantizers().size(); ++q)
    quant_of[static_cast<size_t>(eng.quantizers()[q].node)] = static_cast<int>(q);
  auto is_const = [&](ValueId v) { return g.values[v].constant.has_value(); };
  return CostModel(g, eng.quantizers(), quant_of, is_const, -1);
}

} // namespace hgqc::test
