// The table term of HGQ training's cost (qat/cost.h): its width gradients against finite
// differences, its price against the LUT model's ROM class, and that training with it narrows
// the inputs of table functions.
#include "backend/lut_model.h"
#include "frontend/data_io.h"
#include "frontend/onnx_import.h"
#include "grad_check.h"
#include "ir/op.h"
#include "ir/passes/passes.h"
#include "qat/cost.h"
#include "qat/engine.h"
#include "qat/optim.h"

#include <doctest/doctest.h>

#include <cmath>
#include <string>

using namespace hgqc;
using hgqc::test::cost_of;

namespace {
// zoo_tanh_mlp (Gemm, Tanh, Gemm, Tanh, Gemm) with HGQ quantizers.
Graph tanh_mlp() {
  Graph g = import_onnx(std::string(HGQC_TESTDATA_DIR) + "/torch/zoo_tanh_mlp.onnx");
  normalize(g);
  insert_hgq_quantizers(g);
  return g;
}

// Mean width of the quantizers that feed a table function.
double mean_table_input_width(const TrainEngine &eng) {
  const Graph &g = eng.graph();
  double s = 0;
  int64_t n = 0;
  for (const HgqQuantizer &q : eng.quantizers())
    for (const Node &u : g.nodes)
      if (op_def(u.op).table && u.inputs[0] == g.nodes[static_cast<size_t>(q.node)].outputs[0])
        for (float w : q.width) {
          s += w;
          ++n;
        }
  REQUIRE(n > 0);
  return s / static_cast<double>(n);
}
} // namespace

TEST_CASE("table cost: b_out * 2^(b_in - 6) ROM bits at the LUT model's price, flat below 6 "
          "address bits, gradients match finite differences") {
  // The same price per ROM bit as the LUT model of emit-verilog.
  backend::LutBits bits{};
  bits[backend::kRom] = 100000;
  CHECK(backend::lut_estimate(bits) == std::llround(kLutsPerRomBit * 100000));
  double d_in, d_out;
  CHECK(table_cost(8, 5, &d_in, &d_out) == doctest::Approx(kEbopsPerLut * kLutsPerRomBit * 20));
  CHECK(table_cost(3, 5, &d_in, &d_out) == doctest::Approx(kEbopsPerLut * kLutsPerRomBit * 5));
  CHECK(d_in == 0);                            // below the floor the input width costs nothing more
  CHECK(table_cost(0, 5, &d_in, &d_out) == 0); // a constant input: no ROM
  CHECK(d_out == 0);
  const double h = 1e-4;
  for (double b_in : {2.5, 6.4, 7.0 + 1.0 / 3, 9.6})
    for (double b_out : {1.5, 4.0, 9.25}) {
      table_cost(b_in, b_out, &d_in, &d_out);
      double a, b;
      double fd_in =
          (table_cost(b_in + h, b_out, &a, &b) - table_cost(b_in - h, b_out, &a, &b)) / (2 * h);
      double fd_out =
          (table_cost(b_in, b_out + h, &a, &b) - table_cost(b_in, b_out - h, &a, &b)) / (2 * h);
      INFO("b_in " << b_in << " b_out " << b_out);
      CHECK(d_in == doctest::Approx(fd_in).epsilon(1e-6));
      CHECK(d_out == doctest::Approx(fd_out).epsilon(1e-6));
    }
}

TEST_CASE("table cost: a model's table terms and their width gradients match finite "
          "differences of the term") {
  EngineOptions eo;
  eo.task = TaskKind::Regress;
  TrainEngine eng(tanh_mlp(), eo);
  CostModel cost = cost_of(eng);
  REQUIRE(cost.tables().size() == 2); // the two Tanh, each between two activation quantizers
  std::vector<HgqQuantizer> qs = eng.quantizers();
  // Widths off the integers and around the 6-bit floor; every element live.
  for (HgqQuantizer &q : qs)
    for (int64_t k = 0; k < q.n; ++k) {
      q.width[k] = 3.3f + 0.37f * static_cast<float>(k % 16);
      q.live[k] = 1.0f;
    }
  auto grads = [&](std::vector<std::vector<float>> &eg) {
    eg.assign(qs.size(), {});
    for (size_t q = 0; q < qs.size(); ++q)
      eg[q].assign(static_cast<size_t>(qs[q].n), 0.0f);
    return cost.add_tables(qs, 1.0, eg);
  };
  std::vector<std::vector<float>> eg, scratch;
  double total = grads(eg);
  CHECK(total > 0);
  const float h = 1e-2f;
  int checked = 0;
  for (const TableTerm &t : cost.tables())
    for (int q : {t.qin, t.qout})
      for (int64_t k = 0; k < qs[q].n; ++k) {
        float keep = qs[q].width[k];
        qs[q].width[k] = keep + h;
        double up = grads(scratch);
        qs[q].width[k] = keep - h;
        double down = grads(scratch);
        qs[q].width[k] = keep;
        INFO("quantizer " << q << " element " << k << " width " << keep);
        CHECK(eg[q][k] == doctest::Approx((up - down) / (2 * h)).epsilon(1e-3).scale(1e-3));
        ++checked;
      }
  CHECK(checked > 0);
}

TEST_CASE("training zoo_tanh_mlp with beta > 0 narrows the inputs of its tables") {
  const std::string dir = std::string(HGQC_TESTDATA_DIR) + "/torch/";
  Tensor x = read_npy(dir + "zoo_tanh_mlp_calib.npy"),
         y = read_npy(dir + "zoo_tanh_mlp_calib_targets.npy");
  std::vector<float> xf(x.data().begin(), x.data().end());
  std::vector<int32_t> labels(y.data().begin(), y.data().end()); // 5 classes
  const int64_t rows = x.shape()[0];
  auto train = [&](double beta, double *start) {
    TrainEngine eng(tanh_mlp(), EngineOptions{});
    // Weights at a small rate; fractional bits at 0.1 bits per step, so that 60 steps can move
    // widths by a few bits.
    std::vector<ParamView> weights, bits;
    for (ParamView p : eng.params())
      (p.frac_bits ? bits : weights).push_back(p);
    Optimizer ow(OptimizerKind::Adam, weights), of(OptimizerKind::Adam, bits);
    BatchData b{xf.data(), labels.data(), nullptr, rows};
    double loss = 0;
    for (int s = 0; s < 60; ++s) {
      StepStats st = eng.step(b, beta, 0);
      if (s == 1) { // the first step has seen the ranges
        *start = mean_table_input_width(eng);
        CHECK(st.tables > 0);
      }
      loss = st.loss;
      ow.step(1e-3);
      of.step(1e-1);
      eng.clamp_frac_bits();
    }
    CHECK(std::isfinite(loss));
    eng.step(b, beta, 0);
    return mean_table_input_width(eng);
  };
  double start0, start1;
  double plain = train(0, &start0), priced = train(1e-2, &start1);
  INFO("mean table input width: start " << start0 << ", beta 0 " << plain << ", beta 1e-2 "
                                        << priced);
  CHECK(start0 == start1);
  CHECK(priced < plain - 1.0);
  CHECK(priced < start1 - 1.0);
}
