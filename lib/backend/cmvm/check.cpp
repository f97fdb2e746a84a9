// Checks of adder graphs: depth and width totals, exact evaluation, and the comparison with
// the direct product (values, recorded ranges, widths, depths).
#include "backend/cmvm/internal.h"

#include "ir/error.h"

#include <algorithm>
#include <string>

namespace hgqc::backend {

using cmvm::bits_for;

int AdderGraph::depth() const {
  int d = 0;
  for (const OutputRef &o : outputs)
    d = std::max(d, o.depth);
  return d;
}

int64_t AdderGraph::total_width() const {
  int64_t w = 0;
  for (const AdderOp &a : adders)
    w += a.width;
  return w;
}

std::vector<Int128> evaluate_adder_graph(const AdderGraph &g, std::span<const int64_t> x) {
  HGQC_ASSERT(x.size() == static_cast<size_t>(g.num_inputs), "evaluate: wrong input count");
  std::vector<Int128> v(x.begin(), x.end());
  v.reserve(v.size() + g.adders.size());
  for (const AdderOp &a : g.adders) {
    const Int128 b = v[a.b] * (Int128{1} << a.shift);
    v.push_back(a.subtract ? (a.reverse ? b - v[a.a] : v[a.a] - b) : v[a.a] + b);
  }
  std::vector<Int128> out;
  out.reserve(g.outputs.size());
  for (const OutputRef &o : g.outputs) {
    if (o.value < 0) {
      out.push_back(0);
      continue;
    }
    const Int128 y = v[o.value] * (Int128{1} << o.shift);
    out.push_back(o.negate ? -y : y);
  }
  return out;
}

std::string check_adder_graph(const AdderGraph &g, const IntMatrix &m, std::span<const int64_t> x) {
  if (g.num_inputs != m.cols || g.outputs.size() != static_cast<size_t>(m.rows) ||
      x.size() != static_cast<size_t>(m.cols))
    return "shape mismatch";
  const int n = g.num_inputs;
  std::vector<Int128> v(x.begin(), x.end());
  if (!g.input_depths.empty() && g.input_depths.size() != static_cast<size_t>(n))
    return "input depths do not match the inputs";
  std::vector<int> depth = g.input_depths;
  depth.resize(n, 0);
  for (size_t k = 0; k < g.adders.size(); ++k) {
    const AdderOp &a = g.adders[k];
    const int id = n + static_cast<int>(k);
    if (a.a < 0 || a.a >= id || a.b < 0 || a.b >= id || a.shift < 0)
      return "adder " + std::to_string(k) + " has a bad operand or shift";
    const Int128 b = v[a.b] * (Int128{1} << a.shift);
    if (a.reverse && !a.subtract)
      return "adder " + std::to_string(k) + " is reversed but not a subtraction";
    const Int128 r = a.subtract ? (a.reverse ? b - v[a.a] : v[a.a] - b) : v[a.a] + b;
    if (r < a.min || r > a.max)
      return "adder " + std::to_string(k) + " value " + int128_str(r) + " outside [" +
             int128_str(a.min) + ", " + int128_str(a.max) + "]";
    if (bits_for(a.min, a.max) != a.width)
      return "adder " + std::to_string(k) + " width does not match its range";
    const int d = std::max(depth[a.a], depth[a.b]) + 1;
    if (d != a.depth)
      return "adder " + std::to_string(k) + " depth mismatch";
    depth.push_back(d);
    v.push_back(r);
  }
  for (int i = 0; i < m.rows; ++i) {
    Int128 want = 0;
    for (int j = 0; j < m.cols; ++j)
      want += static_cast<Int128>(m.at(i, j)) * x[j];
    const OutputRef &o = g.outputs[i];
    Int128 got = 0;
    if (o.value >= 0) {
      if (o.value >= static_cast<int>(v.size()) || o.shift < 0)
        return "output " + std::to_string(i) + " refers to a missing value";
      got = v[o.value] * (Int128{1} << o.shift);
      if (o.negate)
        got = -got;
      if (depth[o.value] != o.depth)
        return "output " + std::to_string(i) + " depth mismatch";
    }
    if (got != want)
      return "output " + std::to_string(i) + ": graph gives " + int128_str(got) +
             ", direct product " + int128_str(want);
  }
  return {};
}

} // namespace hgqc::backend
