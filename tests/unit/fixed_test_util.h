// Helpers shared by the fixed-point op tests: quantizer nodes in test models, exact range
// checks, and the emulator against the float evaluator bit for bit.
#pragma once

#include "ir/eval.h"
#include "ir/fixed_eval.h"
#include "ir/netlist.h"
#include "onnx_builder.h"

#include <doctest/doctest.h>

#include <functional>
#include <random>
#include <string>
#include <vector>

namespace hgqc::test {

/// Adds a string attribute to an ONNX node.
inline void attr_s(onnx::NodeProto &n, const std::string &k, const std::string &v) {
  auto *a = n.add_attribute();
  a->set_name(k);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(v);
}

/// Adds a float attribute to an ONNX node.
inline void attr_f(onnx::NodeProto &n, const std::string &k, float v) {
  auto *a = n.add_attribute();
  a->set_name(k);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(v);
}

/// y = FixedQuant(x) with formats k, i, f (int64 initializers of shape `dims`), RND, SAT.
inline void quant(ModelBuilder &b, const std::string &x, const std::string &y,
                  std::vector<int64_t> dims, std::vector<double> k, std::vector<double> i,
                  std::vector<double> f) {
  b.init(y + "_k", dims, std::move(k), true)
      .init(y + "_i", dims, std::move(i), true)
      .init(y + "_f", dims, std::move(f), true);
  auto &n = b.node("FixedQuant", {x, y + "_k", y + "_i", y + "_f"}, {y}, "q_" + y);
  n.set_domain("hgqc");
  attr_s(n, "round_mode", "RND");
  attr_s(n, "overflow_mode", "SAT");
}

/// The range of the value called `name`.
inline const ValueRange &range_of(const Graph &g, const RangeAnalysis &ra,
                                  const std::string &name) {
  for (ValueId v = 0; v < static_cast<ValueId>(g.values.size()); ++v)
    if (g.values[v].name == name) {
      REQUIRE(ra.ranges[v].has_value());
      return *ra.ranges[v];
    }
  FAIL("no value " << name);
  throw 0;
}

/// Interval{lo, hi, f}.
inline Interval iv(int64_t lo, int64_t hi, int f) { return Interval{lo, hi, f}; }

/// Checks the dims and every element interval of value `name`.
inline void check_range(const Graph &g, const RangeAnalysis &ra, const std::string &name,
                        const Dims &dims, const std::vector<Interval> &want) {
  const ValueRange &r = range_of(g, ra, name);
  INFO("value " << name);
  CHECK(r.dims == dims);
  REQUIRE(r.el.size() == want.size());
  for (size_t e = 0; e < want.size(); ++e) {
    INFO("element " << e << ": " << r.el[e].str() << ", expected " << want[e].str());
    CHECK(r.el[e] == want[e]);
  }
}

/// Options of check_matches_float().
struct MatchOptions {
  int trials = 12;  ///< random batches
  double lo = -6.0; ///< input values in [lo, hi]
  double hi = 6.0;
  int max_batch = 7;         ///< batch sizes 1..max_batch (the first trial uses 1)
  unsigned seed = 4321;      ///< random seed
  bool require_exact = true; ///< require every width <= 53 (the float evaluator is exact)
};

/// Runs the emulator and the float evaluator on random batches and compares every output
/// bit for bit. Inputs are float32 values in [lo, hi]: half on a 2^-6 grid (ties of every
/// rounding), half arbitrary; values beyond the formats exercise saturation.
inline void check_matches_float(const Graph &g, const MatchOptions &o = {}) {
  RangeAnalysis ra = analyze_ranges(g);
  if (o.require_exact) {
    int max_width = 0;
    for (const auto &r : ra.ranges)
      if (r)
        for (const Interval &v : r->el)
          max_width = std::max(max_width, v.width());
    REQUIRE(max_width <= 53);
  }
  std::mt19937 rng(o.seed);
  std::uniform_real_distribution<double> u(o.lo, o.hi);
  std::uniform_int_distribution<int> batch(1, o.max_batch), coin(0, 1);
  for (int t = 0; t < o.trials; ++t) {
    int64_t bsz = t == 0 ? 1 : batch(rng);
    std::vector<Tensor> in;
    for (ValueId v : g.inputs) {
      Dims d = g.values[v].type.dims;
      for (auto &x : d)
        if (x == kDynamic)
          x = bsz;
      Tensor x(DType::Float32, d);
      for (int64_t j = 0; j < x.numel(); ++j) {
        double r = u(rng);
        x[j] = round_to_dtype(coin(rng) ? std::round(r * 64) / 64 : r, DType::Float32);
      }
      in.push_back(std::move(x));
    }
    std::vector<Tensor> want = evaluate(g, in);
    FixedRun run = evaluate_fixed(g, ra, in);
    REQUIRE(run.outputs.size() == want.size());
    for (size_t out = 0; out < want.size(); ++out) {
      INFO("trial " << t << " batch " << bsz << " output " << g.values[g.outputs[out]].name);
      Tensor got = fixed_to_tensor(run.outputs[out], *ra.ranges[g.outputs[out]]);
      REQUIRE(got.shape() == want[out].shape());
      int64_t bad = 0, first = -1;
      for (int64_t j = 0; j < got.numel(); ++j)
        if (got[j] != want[out][j] && bad++ == 0)
          first = j;
      INFO("first mismatch at " << first << ": " << (first >= 0 ? got[first] : 0.0) << " vs "
                                << (first >= 0 ? want[out][first] : 0.0));
      CHECK(bad == 0);
    }
  }
}

/// The message of the UserError that analyze_ranges throws ("" when it throws none).
inline std::string range_error(const Graph &g) {
  try {
    analyze_ranges(g);
  } catch (const UserError &e) {
    return e.what();
  }
  return "";
}

/// Whether `s` contains `part`.
inline bool contains(const std::string &s, const std::string &part) {
  return s.find(part) != std::string::npos;
}

/// Number of nodes of `net` with op `op`.
inline int count_net_ops(const Netlist &net, NetOp op) {
  int c = 0;
  for (const NetNode &n : net.nodes)
    c += n.op == op;
  return c;
}

/// A netlist on `ranges.size()` input elements (one port, one layer) and one output that
/// `body` builds from the input refs.
inline Netlist make_net(const std::vector<Interval> &ranges,
                        const std::function<NetRef(Netlist &, const std::vector<NetRef> &)> &body) {
  Netlist net;
  net.layers = {"layer"};
  net.layer = 0;
  NetPort in{"x", {static_cast<int64_t>(ranges.size())}, {}, ranges};
  std::vector<NetRef> xs;
  for (size_t i = 0; i < ranges.size(); ++i)
    xs.push_back(net.input(static_cast<int64_t>(i), ranges[i]));
  in.el = xs;
  net.inputs.push_back(in);
  NetRef y = body(net, xs);
  net.outputs.push_back(NetPort{"y", {1}, {y}, {net.interval(y)}});
  return net;
}

/// Every combination of the inputs' integers, first input fastest.
inline std::vector<std::vector<int64_t>> all_inputs(const std::vector<Interval> &ranges) {
  std::vector<std::vector<int64_t>> out{{}};
  for (const Interval &r : ranges) {
    std::vector<std::vector<int64_t>> next;
    for (const auto &v : out)
      for (Int128 q = r.lo; q <= r.hi; ++q) {
        auto w = v;
        w.push_back(static_cast<int64_t>(q));
        next.push_back(w);
      }
    out = next;
  }
  return out;
}

/// The value of a netlist's first output element (on its port's grid) for one input bus.
inline Int128 output_of(const Netlist &net, const std::vector<int64_t> &bus) {
  std::vector<Int128> vals = evaluate_netlist(net, bus);
  const NetPort &p = net.outputs[0];
  return net_value_at(p.el[0], vals, p.range[0].f);
}

} // namespace hgqc::test
