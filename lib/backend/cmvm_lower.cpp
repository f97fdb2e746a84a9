// The backend's constant matrix-vector product builder for lowering: optimise_cmvm adder
// graphs turned into netlist adders, with a cache for repeated products (convolutions).
#include "backend/cmvm_lower.h"

#include "backend/lut_model.h"
#include "backend/passes.h"
#include "ir/error.h"

#include <chrono>
#include <limits>
#include <map>

namespace hgqc::backend {

namespace {

// Narrows the bounds of the node that adder `a` was lowered to (ref r) to the adder's exact
// range over its inputs' formats: every value of the graph is a linear form of the inputs,
// which the optimiser bounds exactly, whereas the netlist's interval arithmetic widens a sum
// whose operands share an input. Both bounds hold, so their intersection does.
void narrow_to_adder(Netlist &net, const AdderOp &a, NetRef r) {
  if (r.zero() || net.nodes[static_cast<size_t>(r.node)].op == NetOp::Const)
    return;
  // The node's integer is the value times 2^f (f <= 0: a shifted operand returned as is).
  Int128 mn = a.min, mx = a.max;
  if (r.f >= 0) {
    mn *= Int128{1} << r.f;
    mx *= Int128{1} << r.f;
  } else {
    const Int128 d = Int128{1} << -r.f;
    mn = mn >= 0 ? (mn + d - 1) / d : -(-mn / d);
    mx = mx >= 0 ? mx / d : -((-mx + d - 1) / d);
  }
  NetNode &n = net.nodes[static_cast<size_t>(r.node)];
  n.lo = std::max(n.lo, mn);
  n.hi = std::min(n.hi, mx);
}

struct Builder {
  CmvmLowerOptions options;
  std::shared_ptr<CmvmStats> stats;
  // Key: the matrix shape, depth limit, entries, input formats and arrival levels.
  std::map<std::vector<int64_t>, std::shared_ptr<const AdderGraph>> cache;
  // The adder level of each node of `seen` (schedule_pipeline's levels), extended as the
  // netlist grows.
  const Netlist *seen = nullptr;
  std::vector<int> level;

  /// The adder level of node `id` of `net`.
  int level_of(const Netlist &net, NetId id) {
    if (seen != &net || level.size() > net.nodes.size()) {
      seen = &net;
      level.clear();
    }
    for (size_t k = level.size(); k < net.nodes.size(); ++k) {
      const NetNode &nd = net.nodes[k];
      int l = 0;
      for (NetId o : {nd.a, nd.b})
        if (o != kNoNet)
          l = std::max(l, level[static_cast<size_t>(o)]);
      level.push_back(l + adder_levels(net, nd));
    }
    return level[static_cast<size_t>(id)];
  }

  /// The graph for `m` under `co`. Under a depth limit (a slack), also the graph without the
  /// limit (fewest adders, from the same arrival levels): kept instead when the LUT model
  /// prices it lower and it is no deeper than the limited graph.
  AdderGraph cheapest_graph(const IntMatrix &m, const CmvmOptions &co) {
    AdderGraph g = optimise_cmvm(m, co);
    if (!co.max_depth || !co.share)
      return g;
    CmvmOptions free = co;
    free.max_depth.reset();
    AdderGraph f = optimise_cmvm(m, free);
    if (f.depth() <= g.depth() &&
        lut_sum(adder_graph_lut_bits(f)) < lut_sum(adder_graph_lut_bits(g)))
      return f;
    return g;
  }

  std::vector<CmvmRow> operator()(Netlist &net, const CmvmRequest &rq) {
    const size_t cols = rq.x.size();
    IntMatrix m{static_cast<int>(rq.rows), static_cast<int>(cols), rq.m};
    CmvmOptions co;
    co.share = options.share;
    // Under a slack: the levels at which the operands arrive, from the earliest one (capped:
    // a later operand is then summed last anyway), so the slack bounds the product's outputs
    // from where its inputs really are, and the design's depth follows the slack. Free
    // products ignore them (tried: 1-3 levels shallower designs, but up to 0.4 % more
    // estimated LUTs; bench/cmvm/README.md).
    if (options.depth_slack) {
      int base = std::numeric_limits<int>::max();
      for (NetId id : rq.x)
        base = std::min(base, level_of(net, id));
      for (NetId id : rq.x)
        co.input_depths.push_back(std::min(level_of(net, id) - base, kMaxInputDepth));
      co.max_depth = cmvm_min_depth(m, co.input_depths) + *options.depth_slack;
    }
    std::vector<int64_t> key{rq.rows, static_cast<int64_t>(cols), co.max_depth.value_or(-1)};
    key.insert(key.end(), rq.m.begin(), rq.m.end());
    key.insert(key.end(), co.input_depths.begin(), co.input_depths.end());
    for (NetId id : rq.x) {
      const NetNode &n = net.nodes[static_cast<size_t>(id)];
      int w = n.width();
      if (w > 32)
        throw UserError("an operand of a constant product is " + std::to_string(w) +
                        " bits wide; the adder-graph optimiser takes at most 32: narrow the "
                        "quantizer before this layer");
      co.inputs.push_back(InputFormat{std::max(w, 1), n.is_signed()});
      key.push_back(std::max(w, 1) * 2 + n.is_signed());
    }
    if (stats)
      ++stats->products;
    std::shared_ptr<const AdderGraph> g;
    if (auto it = cache.find(key); it != cache.end()) {
      g = it->second;
      if (stats)
        ++stats->cache_hits;
    } else {
      auto t0 = std::chrono::steady_clock::now();
      g = std::make_shared<const AdderGraph>(cheapest_graph(m, co));
      if (stats)
        stats->optimise_seconds +=
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      cache.emplace(std::move(key), g);
    }
    // Integer-space refs: the ref of value id v has the integer value of v as its real
    // value (inputs at exponent 0; a shifted operand is the same node at a lower exponent).
    std::vector<NetRef> val(cols + g->adders.size());
    for (size_t c = 0; c < cols; ++c)
      val[c] = NetRef{rq.x[c], 0};
    for (size_t k = 0; k < g->adders.size(); ++k) {
      const AdderOp &a = g->adders[k];
      NetRef rb = val[static_cast<size_t>(a.b)];
      if (!rb.zero())
        rb.f -= a.shift;
      const NetRef ra = val[static_cast<size_t>(a.a)];
      NetRef r = a.reverse ? net.add(rb, ra, true) : net.add(ra, rb, a.subtract);
      narrow_to_adder(net, a, r);
      val[cols + k] = r;
      if (stats)
        ++stats->adders;
    }
    std::vector<CmvmRow> rows(static_cast<size_t>(rq.rows));
    for (size_t r = 0; r < rows.size(); ++r) {
      const OutputRef &o = g->outputs[r];
      if (o.value < 0)
        continue;
      NetRef v = val[static_cast<size_t>(o.value)];
      if (!v.zero())
        v.f += rq.row_f[r] - o.shift;
      rows[r] = CmvmRow{v, o.negate};
    }
    return rows;
  }
};
} // namespace

CmvmBuildFn make_cmvm_builder(const CmvmLowerOptions &options, std::shared_ptr<CmvmStats> stats) {
  auto b = std::make_shared<Builder>();
  b->options = options;
  b->stats = std::move(stats);
  return [b](Netlist &net, const CmvmRequest &rq) { return (*b)(net, rq); };
}

} // namespace hgqc::backend
