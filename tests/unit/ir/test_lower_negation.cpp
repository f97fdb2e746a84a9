// Lowering of negated constant-product outputs: -(a - b) is built as b - a, on the level of
// a - b, instead of a negation one level deeper; other negations stay exact.
#include "fixed_test_util.h"
#include "ir/lower.h"

#include <doctest/doctest.h>

using namespace hgqc;
using hgqc::test::ModelBuilder;

namespace {
// A CMVM builder for matrices of +-1 that returns every row negated: row r is built as
// v = sum of -m[r][c] * x[c] (the additions first, then the subtractions), with negate set.
std::vector<CmvmRow> negating_builder(Netlist &net, const CmvmRequest &rq) {
  const size_t cols = rq.x.size();
  std::vector<CmvmRow> rows(static_cast<size_t>(rq.rows));
  for (size_t r = 0; r < rows.size(); ++r) {
    NetRef v;
    for (int pass = 0; pass < 2; ++pass)
      for (size_t c = 0; c < cols; ++c) {
        int64_t m = rq.m[r * cols + c];
        REQUIRE((m == 1 || m == -1));
        if ((m < 0) == (pass == 0))
          v = net.add(v, NetRef{rq.x[c], rq.row_f[r]}, m > 0);
      }
    rows[r] = CmvmRow{v, true};
  }
  return rows;
}

// x[N,2] -> FixedQuant fixed<1,2,1> -> MatMul with the column `w` -> y: the netlist with the
// negating builder, checked on every input pair against y = w0 * x0 + w1 * x1; returns the
// number of Neg nodes.
int negations_of(double w0, double w1) {
  ModelBuilder b;
  b.input("x_in", {-1, 2});
  hgqc::test::quant(b, "x_in", "x", {}, {1}, {2}, {1});
  b.init("w", {2, 1}, {w0, w1});
  b.node("MatMul", {"x", "w"}, {"y"}, "mm");
  b.output("y");
  Graph g = b.import();
  RangeAnalysis ra = analyze_ranges(g);
  Netlist net = lower_graph(g, ra, negating_builder);
  REQUIRE(net.outputs.size() == 1);
  const NetRef out = net.outputs[0].el.at(0);
  const int f = net.outputs[0].range.at(0).f;
  REQUIRE(f == 1);
  for (int64_t q0 = -8; q0 <= 7; ++q0)
    for (int64_t q1 = -8; q1 <= 7; ++q1) {
      std::vector<int64_t> bus{q0, q1};
      std::vector<Int128> vals = evaluate_netlist(net, bus);
      CAPTURE(q0);
      CAPTURE(q1);
      CHECK(net_value_at(out, vals, f) == static_cast<Int128>(w0 * q0 + w1 * q1));
    }
  int negs = 0;
  for (const NetNode &n : net.nodes)
    negs += n.op == NetOp::Neg;
  return negs;
}
} // namespace

TEST_CASE("lower: a negated difference is the swapped difference, without a negation") {
  // x0 - x1 comes back as -(x1 - x0): built as x0 - x1, no Neg node.
  CHECK(negations_of(1, -1) == 0);
  CHECK(negations_of(-1, 1) == 0);
  // -(x0 + x1) has no such form: one negation.
  CHECK(negations_of(-1, -1) == 1);
}
