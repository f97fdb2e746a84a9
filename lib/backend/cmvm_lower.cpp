// The backend's constant matrix-vector product builder for lowering: optimise_cmvm adder
// graphs turned into netlist adders, with a cache for repeated products (convolutions).
#include "backend/cmvm_lower.h"

#include "ir/error.h"

#include <chrono>
#include <map>

namespace hgqc::backend {

namespace {
struct Builder {
  CmvmLowerOptions options;
  std::shared_ptr<CmvmStats> stats;
  // Key: the matrix shape, entries and input formats.
  std::map<std::vector<int64_t>, std::shared_ptr<const AdderGraph>> cache;

  std::vector<CmvmRow> operator()(Netlist &net, const CmvmRequest &rq) {
    const size_t cols = rq.x.size();
    IntMatrix m{static_cast<int>(rq.rows), static_cast<int>(cols), rq.m};
    CmvmOptions co;
    co.share = options.share;
    if (options.depth_slack)
      co.max_depth = cmvm_min_depth(m) + *options.depth_slack;
    std::vector<int64_t> key{rq.rows, static_cast<int64_t>(cols), co.max_depth.value_or(-1)};
    key.insert(key.end(), rq.m.begin(), rq.m.end());
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
      g = std::make_shared<const AdderGraph>(optimise_cmvm(m, co));
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
      val[cols + k] = a.reverse ? net.add(rb, ra, true) : net.add(ra, rb, a.subtract);
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
