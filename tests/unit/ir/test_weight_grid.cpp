// A FixedQuant on a weight stored on its grid is neutral: the same EBOPs, ranges, output
// formats, emulator results and hardware as the bare weight (issue 16, "findings").
#include "backend/emit.h"
#include "fixed_test_util.h"
#include "ir/passes/passes.h"

#include <doctest/doctest.h>

#include <numeric>

using namespace hgqc;
using hgqc::test::ModelBuilder;

namespace {
// Weights [3, 2] and bias [2], every value a multiple of 2^-3 (bias: 2^-2), but declared on
// the grids 2^-9 (weights) and 2^-8 (bias): the declared grids have trailing zeros.
const std::vector<double> kW = {0.5, -0.375, 1.125, 0.25, 0, -1.5};
const std::vector<double> kB = {0.75, -0.5};

// x[N,3] -> FixedQuant -> MatMul(w) -> Add(b) -> y, with the weight and bias either bare
// constants or read through FixedQuant nodes of the wider declared formats.
Graph dense_model(bool quantized_weights) {
  ModelBuilder b;
  b.input("x_in", {-1, 3});
  hgqc::test::quant(b, "x_in", "x", {3}, {1, 1, 0}, {2, 3, 1}, {3, 2, 4});
  if (quantized_weights) {
    b.init("w_real", {3, 2}, kW).init("b_real", {2}, kB);
    hgqc::test::quant(b, "w_real", "w", {}, {1}, {1}, {9});
    hgqc::test::quant(b, "b_real", "b", {}, {1}, {1}, {8});
  } else {
    b.init("w", {3, 2}, kW).init("b", {2}, kB);
  }
  b.node("MatMul", {"x", "w"}, {"mm"}, "mm");
  b.node("Add", {"mm", "b"}, {"y"}, "add");
  b.output("y");
  Graph g = b.import();
  normalize(g);
  return g;
}

double total_ebops(const Graph &g, const RangeAnalysis &ra) {
  std::vector<double> e = node_ebops(g, ra);
  return std::accumulate(e.begin(), e.end(), 0.0);
}
} // namespace

TEST_CASE("weight grid: a FixedQuant on a weight stored on its grid changes no EBOPs or format") {
  Graph bare = dense_model(false), quant = dense_model(true);
  RangeAnalysis rb = analyze_ranges(bare), rq = analyze_ranges(quant);

  // The quantizer's output holds each weight at its own minimal exponent, as a constant does.
  const ValueRange &w = hgqc::test::range_of(quant, rq, "w");
  REQUIRE(w.el.size() == kW.size());
  for (size_t e = 0; e < kW.size(); ++e) {
    INFO("weight " << e << ": " << w.el[e].str());
    if (kW[e] == 0)
      CHECK(w.el[e].zero()); // pruned: its exponent does not count
    else
      CHECK(w.el[e] == *constant_interval(kW[e]));
  }

  CHECK(total_ebops(quant, rq) == total_ebops(bare, rb));
  CHECK(total_ebops(quant, rq) > 0);
  for (const char *v : {"mm", "y"}) {
    const ValueRange &a = hgqc::test::range_of(bare, rb, v),
                     &c = hgqc::test::range_of(quant, rq, v);
    REQUIRE(a.el.size() == c.el.size());
    for (size_t e = 0; e < a.el.size(); ++e) {
      INFO(v << " element " << e << ": " << c.el[e].str() << " vs " << a.el[e].str());
      CHECK(c.el[e] == a.el[e]);
      CHECK(c.el[e].min_format() == a.el[e].min_format());
    }
  }
  // The sums sit on the weights' real grids (x1 * 9 * 2^-3: 2^-5), not the declared 2^-9
  // (which would give 2^-12).
  CHECK(hgqc::test::range_of(quant, rq, "y").el[0].f == 5);

  // Same results in the emulator, and the same hardware (bus widths, logic).
  Tensor x(DType::Float32, {5, 3},
           {0.5, -1.25, 0.0625, 3.9, 7.75, -0.5, -4, 0.25, 1.9375, 1, 2, 3, -3.875, 5.5, -2});
  FixedRun fb = evaluate_fixed(bare, rb, {x}), fq = evaluate_fixed(quant, rq, {x});
  CHECK(fb.outputs.at(0).q == fq.outputs.at(0).q);
  backend::EmitOptions eo;
  eo.check_vectors = 200;
  backend::EmittedDesign db = backend::emit_design(bare, rb, eo);
  backend::EmittedDesign dq = backend::emit_design(quant, rq, eo);
  CHECK(dq.layout.out_width == db.layout.out_width);
  CHECK(dq.layout.in_width == db.layout.in_width);
  CHECK(dq.total.luts == db.total.luts);
  CHECK(dq.total.ebops == db.total.ebops);
  CHECK(dq.sched.depth == db.sched.depth);
}

TEST_CASE("weight grid: a weight quantizer that rounds gives the rounded value's own grid") {
  // 0.3 on the grid 2^-6 (RND) is 19 * 2^-6; 0.7 is 45 * 2^-6; 0.0078125 rounds to 2^-6 * 1
  // (half up) and 1.03 to 66 * 2^-6 = 33 * 2^-5.
  ModelBuilder b;
  b.input("x_in", {-1, 4});
  hgqc::test::quant(b, "x_in", "x", {}, {1}, {3}, {2});
  b.init("w_real", {4, 1}, {0.3, 0.7, 0.0078125, 1.03});
  hgqc::test::quant(b, "w_real", "w", {}, {1}, {1}, {6});
  b.node("MatMul", {"x", "w"}, {"y"}, "mm");
  b.output("y");
  Graph g = b.import();
  RangeAnalysis ra = analyze_ranges(g);
  hgqc::test::check_range(g, ra, "w", {4, 1},
                          {hgqc::test::iv(19, 19, 6), hgqc::test::iv(45, 45, 6),
                           hgqc::test::iv(1, 1, 6), hgqc::test::iv(33, 33, 5)});
  hgqc::test::check_matches_float(g);
  backend::EmitOptions eo;
  eo.check_vectors = 200;
  CHECK_NOTHROW(backend::emit_design(g, ra, eo));
}
