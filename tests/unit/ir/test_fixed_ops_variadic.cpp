// Sum, Mean, Max and Min in fixed point: exact ranges by hand, the emulator against the exact
// result for every combination of input codes (small widths, two and three inputs, broadcasting,
// a constant with a pruned element), the Mean against the reciprocal rule of
// docs/fixed-point.md#averages, EBOPs, and the hardware netlist against the emulator.
#include "backend/cmvm_lower.h"
#include "backend/emit.h"
#include "fixed_test_util.h"
#include "ir/lower.h"
#include "ir/ops/fixed_linear.h"

#include <doctest/doctest.h>

#include <cmath>

using namespace hgqc;
using namespace hgqc::test;
namespace lin = hgqc::ops::linear;

namespace {
// One quantized graph input: per-sample dims {n} and the format fixed<k, i, f>.
struct In {
  int64_t n;
  int k, i, f;
  int64_t lo() const { return k ? -(int64_t{1} << (i + f)) : 0; }
  int64_t hi() const { return (int64_t{1} << (i + f)) - 1; }
};

// Graph inputs x0.. (dims [-1, n]) quantized (RND, SAT) to q0.., then `op` over q0.. and the
// constant `c` (when not empty, per-sample dims [c.size()]) writing "y".
Graph model(const std::string &op, const std::vector<In> &ins, const std::vector<double> &c = {}) {
  ModelBuilder b;
  std::vector<std::string> names;
  for (size_t j = 0; j < ins.size(); ++j) {
    std::string x = "x", q = "q";
    x += std::to_string(j);
    q += std::to_string(j);
    b.input(x, {-1, ins[j].n});
    quant(b, x, q, {}, {double(ins[j].k)}, {double(ins[j].i)}, {double(ins[j].f)});
    names.push_back(q);
  }
  if (!c.empty()) {
    b.init("c", {static_cast<int64_t>(c.size())}, c);
    names.push_back("c");
  }
  b.node(op, names, {"y"}, "v");
  b.output("y");
  return b.import();
}

double reference(const std::string &op, const std::vector<double> &v) {
  double r = v[0];
  for (size_t j = 1; j < v.size(); ++j)
    r = op == "Max" ? std::max(r, v[j]) : op == "Min" ? std::min(r, v[j]) : r + v[j];
  return op == "Mean" ? r / static_cast<double>(v.size()) : r;
}

// Every combination of the input elements' codes, one per sample: the emulator against the exact
// result (Sum, Max, Min) or within the averages' bound (Mean: below half the spacing 2^-F / n of
// exact means, F the finest input grid), the outputs over all samples spanning exactly the
// analysed intervals (Sum, Max, Min: the inputs are independent), and the netlist against the
// emulator on every sample. Output element e reads element e of each input (element 0 of an
// input with one element). Returns the number of samples.
int64_t check_exhaustive(const std::string &op, const std::vector<In> &ins,
                         const std::vector<double> &c = {}) {
  Graph g = model(op, ins, c);
  RangeAnalysis ra = analyze_ranges(g);
  const ValueRange &ry = *ra.ranges[g.outputs[0]];
  const int64_t n_out = dims_numel(ry.dims);
  // The elements whose codes are enumerated: (input, element).
  std::vector<std::pair<size_t, int64_t>> el;
  int64_t samples = 1;
  for (size_t j = 0; j < ins.size(); ++j)
    for (int64_t e = 0; e < ins[j].n; ++e) {
      el.emplace_back(j, e);
      samples *= ins[j].hi() - ins[j].lo() + 1;
    }
  REQUIRE(samples <= 20000);
  std::vector<Tensor> xs;
  for (const In &in : ins)
    xs.emplace_back(DType::Float32, Dims{samples, in.n});
  for (int64_t s = 0; s < samples; ++s) {
    int64_t rest = s;
    for (auto [j, e] : el) {
      int64_t span = ins[j].hi() - ins[j].lo() + 1;
      xs[j][s * ins[j].n + e] =
          std::ldexp(static_cast<double>(ins[j].lo() + rest % span), -ins[j].f);
      rest /= span;
    }
  }
  FixedRun run = evaluate_fixed(g, ra, xs);
  const FixedTensor &y = run.outputs[0];
  REQUIRE(y.shape == Dims{samples, n_out});
  int finest = 0;
  for (const In &in : ins)
    finest = std::max(finest, in.f);
  const double n = static_cast<double>(ins.size() + (c.empty() ? 0 : 1));
  std::vector<double> lo(n_out, INFINITY), hi(n_out, -INFINITY);
  for (int64_t s = 0; s < samples; ++s)
    for (int64_t e = 0; e < n_out; ++e) {
      std::vector<double> v;
      for (size_t j = 0; j < ins.size(); ++j)
        v.push_back(xs[j][s * ins[j].n + (ins[j].n == 1 ? 0 : e)]);
      if (!c.empty())
        v.push_back(c[c.size() == 1 ? 0 : e]);
      double want = reference(op, v);
      double got = std::ldexp(static_cast<double>(y.q[s * n_out + e]), -ry.el[e].f);
      CAPTURE(s);
      CAPTURE(e);
      if (op == "Mean")
        CHECK(std::fabs(got - want) < std::ldexp(1.0, -finest) / (2 * n));
      else
        CHECK(got == want);
      lo[e] = std::min(lo[e], got);
      hi[e] = std::max(hi[e], got);
    }
  for (int64_t e = 0; e < n_out; ++e) {
    CAPTURE(e);
    CHECK(std::ldexp(static_cast<double>(ry.el[e].lo), -ry.el[e].f) == lo[e]);
    CHECK(std::ldexp(static_cast<double>(ry.el[e].hi), -ry.el[e].f) == hi[e]);
  }
  Netlist net = lower_graph(g, ra, backend::make_cmvm_builder());
  backend::check_netlist(net, g, ra, xs);
  return samples;
}

const std::vector<In> kThree = {{1, 1, 1, 1}, {1, 1, 2, 0}, {1, 0, 1, 2}};
const std::vector<In> kTwoBroadcast = {{2, 1, 0, 2}, {1, 1, 2, 0}};
} // namespace

TEST_CASE("fixed Sum, Max and Min: exact ranges of three inputs on different grids") {
  // q0 in [-2, 1.5] (2^-1), q1 in [-4, 3] (2^0), q2 in [0, 1.75] (2^-2): every result on 2^-2.
  for (auto [op, want] : std::vector<std::pair<std::string, Interval>>{
           {"Sum", iv(-24, 25, 2)}, {"Max", iv(0, 12, 2)}, {"Min", iv(-16, 6, 2)}}) {
    CAPTURE(op);
    Graph g = model(op, kThree);
    RangeAnalysis ra = analyze_ranges(g);
    check_range(g, ra, "y", {1, 1}, {want});
    CHECK(node_ebops(g, ra).back() == 0); // charged as Add
  }
}

TEST_CASE("fixed Mean: the exact sum times the reciprocal of the count, as ReduceMean") {
  Graph g = model("Mean", kThree);
  RangeAnalysis ra = analyze_ranges(g);
  lin::Reciprocal r = lin::reciprocal(3, iv(-24, 25, 2));
  CHECK(r.R > 1);
  check_range(g, ra, "y", {1, 1}, {iv(-24 * r.R, 25 * r.R, 2 + r.f)});
  // EBOPs: width(S) = 6 times the width of R's odd part.
  Int128 odd = r.R;
  while (odd % 2 == 0)
    odd /= 2;
  CHECK(node_ebops(g, ra).back() == 6.0 * Interval{odd, odd, 0}.width());
  // Two inputs: a power of two, a move of the binary point (no EBOPs).
  Graph h = model("Mean", {{1, 1, 1, 1}, {1, 1, 2, 0}});
  RangeAnalysis rh = analyze_ranges(h);
  check_range(h, rh, "y", {1, 1}, {iv(-12, 9, 2)});
  CHECK(node_ebops(h, rh).back() == 0);
}

TEST_CASE("fixed Sum, Mean, Max and Min: every code of three inputs, emulator and netlist") {
  for (const char *op : {"Sum", "Mean", "Max", "Min"}) {
    CAPTURE(op);
    CHECK(check_exhaustive(op, kThree) == 512);
  }
}

TEST_CASE("fixed Sum, Mean, Max and Min: every code of two broadcast inputs, emulator and "
          "netlist") {
  for (const char *op : {"Sum", "Mean", "Max", "Min"}) {
    CAPTURE(op);
    CHECK(check_exhaustive(op, kTwoBroadcast) == 8 * 8 * 8);
  }
}

TEST_CASE("fixed Sum, Mean, Max and Min: a constant with a zero element, and one input") {
  for (const char *op : {"Sum", "Mean", "Max", "Min"}) {
    CAPTURE(op);
    // Max(x, 0) is a ReLU and Min(x, 0) a clamp from above, in the netlist as well.
    CHECK(check_exhaustive(op, {{2, 1, 1, 1}}, {0.75, 0}) == 64);
    CHECK(check_exhaustive(op, {{1, 1, 1, 1}}) == 8);
  }
}

TEST_CASE("fixed Sum, Max and Min: the emulator equals the float evaluator on random batches") {
  for (const char *op : {"Sum", "Max", "Min"}) {
    CAPTURE(op);
    check_matches_float(model(op, {{3, 1, 3, 4}, {1, 1, 2, 6}, {3, 0, 4, 2}}));
  }
}

TEST_CASE("fixed Sum, Mean, Max and Min: per-element formats, emulator and netlist") {
  for (const char *op : {"Sum", "Mean", "Max", "Min"}) {
    CAPTURE(op);
    // q0: one format per element (exponents 1, 4 and 0, one unsigned); q1 broadcast over them.
    ModelBuilder b;
    b.input("x0", {-1, 3}).input("x1", {-1, 1});
    quant(b, "x0", "q0", {3}, {1, 1, 0}, {2, 0, 3}, {1, 4, 0});
    quant(b, "x1", "q1", {}, {1}, {1}, {2});
    b.node(op, {"q0", "q1"}, {"y"}, "v");
    b.output("y");
    Graph g = b.import();
    RangeAnalysis ra = analyze_ranges(g);
    const ValueRange &ry = range_of(g, ra, "y");
    REQUIRE(ry.el.size() == 3);
    // Each element on the finer grid of its two terms (Mean of 2: one more bit).
    int extra = std::string(op) == "Mean" ? 1 : 0;
    CHECK(ry.el[0].f == 2 + extra);
    CHECK(ry.el[1].f == 4 + extra);
    CHECK(ry.el[2].f == 2 + extra);
    if (std::string(op) != "Mean")
      check_matches_float(g);
    Netlist net = lower_graph(g, ra, backend::make_cmvm_builder());
    backend::check_netlist(net, g, ra, backend::random_inputs(g, ra, 400, 7));
  }
}
