// Averages over any element count (AveragePool, GlobalAveragePool, ReduceMean), the exact
// reductions (ReduceSum, ReduceMax) and Div by any constant:
// the reciprocal rule of docs/fixed-point.md#averages, exact ranges and EBOPs, the emulator
// against the exact quotient, and the hardware netlist against the emulator bit for bit.
#include "backend/cmvm_lower.h"
#include "fixed_test_util.h"
#include "ir/lower.h"
#include "ir/ops/fixed_linear.h"

#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <random>

using namespace hgqc;
using namespace hgqc::test;
namespace lin = hgqc::ops::linear;

namespace {
// Nearest integer to num / den (den > 0, num / den never half an odd integer here).
Int128 nearest(Int128 num, Int128 den) {
  Int128 t = 2 * num + den, d = 2 * den;
  Int128 q = t / d;
  return t % d != 0 && t < 0 ? q - 1 : q;
}

// Graph input `x_in` of dims `dims` quantized to fixed<1,2,2> (integers [-16, 15] on 2^-2),
// then `build` adds the op reading "x" and writing "y".
template <class Build> Graph averaging_model(std::vector<int64_t> dims, Build build) {
  ModelBuilder b;
  b.input("x_in", dims);
  quant(b, "x_in", "x", {}, {1}, {2}, {2});
  build(b);
  b.output("y");
  return b.import();
}

// Random integers q in [-16, 15] for every input element: the float evaluator's mean of
// q / 4, the emulator, and the netlist (the backend's shift-and-add builder) on the same
// sample. Checks netlist == emulator bit for bit, and |emulator - mean| < 2^-2 / (2 n) with
// n = count(output element), the rule's bound (for a Div, n is |divisor|). Returns the number of
// outputs checked.
template <class Count> int64_t check_average(const Graph &g, Count count, int trials = 40) {
  RangeAnalysis ra = analyze_ranges(g);
  Netlist net = lower_graph(g, ra, backend::make_cmvm_builder());
  const ValueRange &ry = *ra.ranges[g.outputs[0]];
  Dims d = g.values[g.inputs[0]].type.dims;
  d[0] = 1;
  std::mt19937 rng(99);
  std::uniform_int_distribution<int64_t> u(-16, 15);
  int64_t checked = 0;
  for (int t = 0; t < trials; ++t) {
    Tensor x(DType::Float32, d);
    std::vector<int64_t> bus(static_cast<size_t>(x.numel()));
    for (int64_t j = 0; j < x.numel(); ++j) {
      bus[j] = t == 0 ? -16 : t == 1 ? 15 : u(rng); // the extremes first
      x[j] = static_cast<double>(bus[j]) / 4;
    }
    Tensor mean = evaluate(g, {x})[0];
    FixedRun run = evaluate_fixed(g, ra, {x});
    const FixedTensor &y = run.outputs[0];
    std::vector<Int128> vals = evaluate_netlist(net, bus);
    REQUIRE(y.q.size() == ry.el.size());
    for (size_t e = 0; e < y.q.size(); ++e) {
      CAPTURE(t);
      CAPTURE(e);
      int f = ry.el[e].f;
      CHECK(net_value_at(net.outputs[0].el[e], vals, f) == Int128{y.q[e]});
      double got = std::ldexp(static_cast<double>(y.q[e]), -f);
      double n = std::fabs(static_cast<double>(count(static_cast<int64_t>(e))));
      CHECK(std::fabs(got - mean[static_cast<int64_t>(e)]) < 0.25 / (2 * n));
      ++checked;
    }
  }
  return checked;
}
} // namespace

TEST_CASE("fixed average: the reciprocal of n keeps every mean within half a step") {
  const int64_t bounds[] = {1, 3, 15, 144, 1000, (int64_t{1} << 20) - 3};
  for (int64_t n = 1; n <= 40; ++n)
    for (int64_t M : bounds) {
      CAPTURE(n);
      CAPTURE(M);
      lin::Reciprocal r = lin::reciprocal(n, Interval{-M, M - 1, 0});
      int s = std::countr_zero(static_cast<uint64_t>(n));
      int64_t m = n >> s;
      if (m == 1) { // a power of two: a move of the binary point, as before
        CHECK(r.R == 1);
        CHECK(r.f == s);
        continue;
      }
      int k = r.f - s;
      REQUIRE(k >= 1);
      Int128 p = Int128{1} << k;
      // The bound, at its worst sum (|S| = M): 2 M |m R - 2^k| < 2^k.
      Int128 err = m * r.R - p;
      CHECK(2 * M * (err < 0 ? -err : err) < p);
      // Minimal: no integer reciprocal at k - 1 meets it.
      Int128 ph = p / 2;
      for (Int128 R2 : {ph / m, ph / m + 1}) {
        Int128 e2 = m * R2 - ph;
        CHECK(2 * M * (e2 < 0 ? -e2 : e2) >= ph);
      }
      // Hence each sum S comes back from its average: round(S R m / 2^k) = S.
      for (int64_t S = -M; S <= M - 1; S += std::max<int64_t>(1, M / 500))
        CHECK(nearest(Int128{S} * r.R * m, p) == S);
    }
  // A zero sum needs no reciprocal.
  CHECK(lin::reciprocal(9, Interval{0, 0, 3}).R == 1);
}

TEST_CASE("fixed average: GlobalAveragePool over a 3x3 plane multiplies by 57 * 2^-9") {
  Graph g = averaging_model(
      {1, 2, 3, 3}, [](ModelBuilder &b) { b.node("GlobalAveragePool", {"x"}, {"y"}, "gap"); });
  RangeAnalysis ra = analyze_ranges(g);
  // S in [-144, 135] at 2^-2; k = 9 is the first with 2 * 144 * |9 R - 2^k| < 2^k (R = 57,
  // 9 * 57 = 513): y = S * 57 at 2^-11.
  check_range(g, ra, "y", {1, 2, 1, 1}, {iv(-144 * 57, 135 * 57, 11), iv(-144 * 57, 135 * 57, 11)});
  // EBOPs: width(S) = 9 times width(57) = 6, per channel.
  CHECK(node_ebops(g, ra).back() == 2 * 9 * 6);
  CHECK(check_average(g, [](int64_t) { return 9; }) == 80);

  // Other plane sizes: 5 (1-D), 6 = 3 * 2, 12 and 25.
  for (std::vector<int64_t> dims : std::vector<std::vector<int64_t>>{
           {1, 3, 5}, {1, 2, 2, 3}, {1, 1, 3, 4}, {1, 2, 5, 5}, {1, 1, 2, 2, 3}}) {
    int64_t n = 1;
    for (size_t i = 2; i < dims.size(); ++i)
      n *= dims[i];
    CAPTURE(n);
    Graph h = averaging_model(
        dims, [](ModelBuilder &b) { b.node("GlobalAveragePool", {"x"}, {"y"}, "gap"); });
    CHECK(check_average(
              h, [n](int64_t) { return n; }, 10) > 0);
  }
}

TEST_CASE("fixed average: a power-of-two plane is still a move of the binary point") {
  Graph g = averaging_model(
      {1, 2, 2, 2}, [](ModelBuilder &b) { b.node("GlobalAveragePool", {"x"}, {"y"}, "gap"); });
  RangeAnalysis ra = analyze_ranges(g);
  check_range(g, ra, "y", {1, 2, 1, 1}, {iv(-64, 60, 4), iv(-64, 60, 4)});
  CHECK(node_ebops(g, ra).back() == 0);
  Netlist net = lower_graph(g, ra, backend::make_cmvm_builder());
  for (const NetNode &n : net.nodes) // adders only: no constant product
    CHECK((n.op == NetOp::Input || n.op == NetOp::Add));
  check_matches_float(g);
}

TEST_CASE("fixed average: AveragePool windows of 3, 4, 6 and 9 elements") {
  // 1-D windows of 3 with stride 3.
  Graph g1 = averaging_model({1, 2, 9}, [](ModelBuilder &b) {
    auto &n = b.node("AveragePool", {"x"}, {"y"}, "pool");
    ModelBuilder::attr_ints(n, "kernel_shape", {3});
    ModelBuilder::attr_ints(n, "strides", {3});
  });
  CHECK(check_average(g1, [](int64_t) { return 3; }) == 40 * 6);

  // 3x3 windows over 4x4 with pads 1, the padding not counted: corners average 4 elements,
  // edges 6, the inside 9.
  auto count = [](int64_t e) {
    int64_t i = e % 16 / 4, j = e % 4;
    return (i == 0 || i == 3 ? 2 : 3) * (j == 0 || j == 3 ? 2 : 3);
  };
  Graph g2 = averaging_model({1, 2, 4, 4}, [](ModelBuilder &b) {
    auto &n = b.node("AveragePool", {"x"}, {"y"}, "pool");
    ModelBuilder::attr_ints(n, "kernel_shape", {3, 3});
    ModelBuilder::attr_ints(n, "pads", {1, 1, 1, 1});
  });
  CHECK(check_average(g2, count) == 40 * 32);
  // EBOPs: the addends (9 taps of 4 bits per inside window and so on) plus each
  // non-power-of-two window's reciprocal product.
  RangeAnalysis ra = analyze_ranges(g2);
  const ValueRange &ry = range_of(g2, ra, "y");
  CHECK(ry.el[0].f == 4); // a corner: 4 elements, a shift
  CHECK(ry.el[1].f > 4);  // an edge: 6 elements, times a reciprocal
  CHECK(node_ebops(g2, ra).back() > 2 * 4 * (4 * 4 + 8 * 6 + 4 * 9));

  // The padding counted (count_include_pad = 1): 9 everywhere.
  Graph g3 = averaging_model({1, 1, 4, 4}, [](ModelBuilder &b) {
    auto &n = b.node("AveragePool", {"x"}, {"y"}, "pool");
    ModelBuilder::attr_ints(n, "kernel_shape", {3, 3});
    ModelBuilder::attr_ints(n, "pads", {1, 1, 1, 1});
    ModelBuilder::attr_int(n, "count_include_pad", 1);
  });
  CHECK(check_average(
            g3, [](int64_t) { return 9; }, 10) == 10 * 16);
}

TEST_CASE("fixed average: a reciprocal product beyond 62 bits is refused") {
  ModelBuilder b;
  b.input("x_in", {1, 1, 3, 3});
  quant(b, "x_in", "x", {}, {1}, {30}, {20}); // 51-bit inputs: sums of 55 bits
  b.node("GlobalAveragePool", {"x"}, {"y"}, "gap");
  b.output("y");
  std::string e = range_error(b.import());
  CHECK(contains(e, "node 'gap'"));
  CHECK(contains(e, "the average of 9 elements multiplies its 55-bit sum"));
  CHECK(contains(e, "exceeds 62 bits"));
}

TEST_CASE("fixed average: Div by a constant multiplies by the reciprocal of its odd part") {
  Graph g = averaging_model({1, 6}, [](ModelBuilder &b) {
    b.init("c", {6}, {3, -6, 0.75, 5, -0.5, 1.0 / 1024});
    b.node("Div", {"x", "c"}, {"y"}, "div");
  });
  RangeAnalysis ra = analyze_ranges(g);
  // |x| <= 16 on 2^-2. 3: 2 * 16 * |3 R - 2^k| < 2^k first at k = 6 (R = 21, 63 = 2^6 - 1).
  // -6 = -3 at 2^-(-1): the same R, one exponent further, negated. 0.75 = 3 at 2^-2.
  // 5: R = 13 (65 = 2^6 + 1). -0.5 and 2^-10: the exponent moves, as before.
  check_range(g, ra, "y", {1, 6},
              {iv(-336, 315, 8), iv(-315, 336, 9), iv(-336, 315, 6), iv(-208, 195, 8),
               iv(-15, 16, 1), iv(-16, 15, -8)});
  const double c[] = {3, -6, 0.75, 5, -0.5, 1.0 / 1024};
  CHECK(check_average(g, [&](int64_t e) { return c[e]; }) == 40 * 6);
}

TEST_CASE("fixed average: ReduceMean over 3 and 12 elements, ReduceSum and ReduceMax exactly") {
  // ReduceMean over axis 2 of [N,2,3,4] (3 elements): S in [-48, 45] at 2^-2.
  Graph g = averaging_model({1, 2, 3, 4}, [](ModelBuilder &b) {
    ModelBuilder::attr_ints(b.node("ReduceMean", {"x"}, {"y"}, "mean"), "axes", {2});
  });
  RangeAnalysis ra = analyze_ranges(g);
  CHECK(range_of(g, ra, "y").dims == Dims{1, 2, 1, 4});
  // 2 * 48 * |3 R - 2^k| < 2^k first at k = 7 (R = 43, 129 = 2^7 + 1).
  CHECK(range_of(g, ra, "y").el[0] == iv(-48 * 43, 45 * 43, 9));
  CHECK(check_average(g, [](int64_t) { return 3; }) == 40 * 8);
  // Over axes 2 and 3, kept: 12 = 3 * 4 elements.
  Graph g12 = averaging_model({1, 2, 3, 4}, [](ModelBuilder &b) {
    auto &n = b.node("ReduceMean", {"x"}, {"y"}, "mean");
    ModelBuilder::attr_ints(n, "axes", {-1, 2});
    ModelBuilder::attr_int(n, "keepdims", 0);
  });
  CHECK(check_average(g12, [](int64_t) { return 12; }) == 40 * 2);

  // ReduceSum (axes input) and ReduceMax are exact: the emulator equals the float evaluator.
  ModelBuilder b;
  b.input("x_in", {1, 2, 3, 5});
  quant(b, "x_in", "x", {}, {1}, {2}, {2});
  b.init("ax", {2}, {1, 3}, true);
  b.node("ReduceSum", {"x", "ax"}, {"s"}, "sum");
  ModelBuilder::attr_ints(b.node("ReduceMax", {"x"}, {"m"}, "max"), "axes", {3});
  b.output("s").output("m");
  Graph h = b.import();
  RangeAnalysis rh = analyze_ranges(h);
  check_range(h, rh, "s", {1, 1, 3, 1}, {iv(-160, 150, 2), iv(-160, 150, 2), iv(-160, 150, 2)});
  // EBOPs: each addend its width (5 bits, 30 elements); the sum needs no reciprocal.
  CHECK(node_ebops(h, rh)[1] == 30 * 5);
  check_matches_float(h);
  CHECK(check_average(
            averaging_model(
                {1, 2, 3, 5},
                [](ModelBuilder &m) {
                  ModelBuilder::attr_ints(m.node("ReduceMax", {"x"}, {"y"}, "max"), "axes", {2, 3});
                }),
            [](int64_t) { return 1; }) == 40 * 2);
}

TEST_CASE("fixed average: a reduction over the batch dimension is refused") {
  ModelBuilder b;
  b.input("x_in", {1, 4});
  quant(b, "x_in", "x", {}, {1}, {2}, {2});
  ModelBuilder::attr_ints(b.node("ReduceSum", {"x"}, {"y"}, "rsum"), "axes", {0});
  b.output("y");
  std::string e = range_error(b.import());
  CHECK(contains(e, "node 'rsum'"));
  CHECK(contains(e, "the reduction includes the batch dimension (axis 0)"));
}
