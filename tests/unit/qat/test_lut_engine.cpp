// The engine's use of the LUT cost (qat/engine.h, qat/cost.h): the width gradients each
// --cost adds to a step, price_luts on the current weights, and the calibrated scales'
// average (LutScaleAverage).
#include "grad_check.h"
#include "lut_helpers.h"
#include "qat/cost.h"
#include "qat/engine.h"

#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <vector>

using namespace hgqc;
using namespace hgqc::test;

TEST_CASE("engine: --cost luts adds beta * d LUTs / d width to the f gradients, --cost ebops "
          "beta * d (EBOPs + tables) / d width, and both costs are measured in either mode") {
  std::vector<float> x;
  std::vector<int32_t> lab;
  const BatchData b = two_rows(x, lab);
  // The f gradients of one step at beta (after a first step has seen the ranges).
  auto f_grads = [&](CostKind kind, double beta, StepStats &st) {
    EngineOptions eo;
    eo.init_f_act = 3;
    eo.range_decay = 0;
    eo.cost = kind;
    TrainEngine eng(hgq_gated_mlp(), eo);
    eng.step(b, 0, 0);
    st = eng.step(b, beta, 0);
    std::vector<std::vector<float>> g;
    for (ParamView p : eng.params())
      if (p.frac_bits)
        g.emplace_back(p.g, p.g + p.n);
    return g;
  };
  StepStats s0, sl, se;
  auto g0 = f_grads(CostKind::Luts, 0, s0);
  auto gl = f_grads(CostKind::Luts, 0.5, sl);
  auto ge = f_grads(CostKind::Ebops, 0.5, se);
  CHECK(sl.luts == s0.luts);
  CHECK(se.luts == sl.luts);
  CHECK(se.ebops == sl.ebops);
  CHECK(sl.luts > 0);
  // The differences against beta = 0 are the cost models' egrad (one f per element here).
  std::unique_ptr<TrainEngine> ep = stepped_classify(hgq_gated_mlp(), 4);
  CostModel cm = cost_of(*ep);
  std::vector<HgqQuantizer> qs = ep->quantizers();
  std::vector<TrainTensor> wq = quantized_weights(ep->graph(), qs);
  auto el = zero_grads(qs), ee = zero_grads(qs);
  cm.add_luts(ep->graph(), qs, pointers(wq), 0.5, el);
  cm.add_ebops(ep->graph(), qs, 0.5, ee);
  cm.add_tables(qs, 0.5, ee);
  REQUIRE(g0.size() == qs.size());
  int differ = 0;
  for (size_t q = 0; q < qs.size(); ++q)
    for (int64_t e = 0; e < qs[q].n; ++e) {
      size_t k = static_cast<size_t>(e);
      INFO("quantizer " << q << " element " << e);
      CHECK(gl[q][k] - g0[q][k] == doctest::Approx(el[q][k]).epsilon(1e-4).scale(1e-3));
      CHECK(ge[q][k] - g0[q][k] == doctest::Approx(ee[q][k]).epsilon(1e-4).scale(1e-3));
      differ += std::fabs(el[q][k] - ee[q][k]) > 1e-3f;
    }
  CHECK(differ > 0);
}

TEST_CASE("engine: price_luts prices the current weights, the model a checkpoint exports, not "
          "those of the last step") {
  std::vector<float> x;
  std::vector<int32_t> lab;
  const BatchData b = two_rows(x, lab);
  std::unique_ptr<TrainEngine> ep = stepped_classify(hgq_gated_mlp(), 4);
  TrainEngine &eng = *ep;
  const StepStats before = eng.step(b, 0, 0);
  // Unchanged weights: the same figure as the step.
  CHECK(eng.price_luts() == doctest::Approx(before.luts).epsilon(1e-12));
  // An optimiser's move (here: every weight scaled by 3) changes the rounded integers and
  // their digits; price_luts sees it at once, the next step (same batch, same ranges) agrees.
  for (ParamView p : eng.params())
    if (!p.frac_bits)
      for (size_t k = 0; k < p.n; ++k)
        p.w[k] *= 3.0f;
  const double priced = eng.price_luts();
  double layers = 0;
  for (const LutLayer &l : eng.lut_layers())
    layers += l.scaled();
  CHECK(priced != doctest::Approx(before.luts).epsilon(1e-3));
  CHECK(layers + eng.lut_rest().scaled() == doctest::Approx(priced).epsilon(1e-9));
  const StepStats after = eng.step(b, 0, 0);
  CHECK(after.luts == doctest::Approx(priced).epsilon(1e-12));
}

TEST_CASE("LUT cost: calibrated scales average the recent ratios, less so while the "
          "surrogate moves") {
  LutScaleAverage avg;
  // A key's first calibration takes the ratio as it is.
  CHECK(avg.update("fc", 1.0, 0.6, 100) == 0.6);
  CHECK(avg.update("", 1.0, 1.3, 50) == 1.3);
  // With the surrogate where it was, a later one moves the scale an eighth of the way,
  // geometrically.
  const double w = LutScaleAverage::kWeight;
  CHECK(w == doctest::Approx(0.125));
  double s = avg.update("fc", 0.6, 1.2, 100);
  CHECK(s == doctest::Approx(std::exp((1 - w) * std::log(0.6) + w * std::log(1.2))));
  CHECK(s > 0.6);
  CHECK(s < 0.7);
  // A steady ratio is a fixed point; one outlier moves the scale by its eighth root.
  CHECK(avg.update("fc", 0.8, 0.8, 100) == doctest::Approx(0.8));
  CHECK(avg.update("fc", 0.8, 0.4, 100) == doctest::Approx(0.8 * std::pow(0.5, w)));
  // The surrogate fell by 10 % since the last calibration: the new ratio weighs
  // 1/8 + 2 |ln 0.9| (0.336).
  const double w2 = w + LutScaleAverage::kDrift * std::fabs(std::log(0.9));
  CHECK(w2 == doctest::Approx(0.3357).epsilon(1e-3));
  CHECK(avg.update("fc", 0.8, 0.4, 90) ==
        doctest::Approx(std::exp((1 - w2) * std::log(0.8) + w2 * std::log(0.4))));
  // Halved (|ln 0.5| > 7/16): the new ratio alone.
  CHECK(avg.update("fc", 0.8, 0.4, 45) == doctest::Approx(0.4));
  // Another layer starts from its own first ratio.
  CHECK(avg.update("conv", 1.0, 2.0, 45) == 2.0);
}
