// Pass: a saturating quantizer that alone reads a MaxPool or ReduceMax moves in front of it, so
// that the comparators work on the narrow quantized values (exact; docs/fixed-point.md).
#include "ir/op.h"
#include "ir/ops/pool_common.h"
#include "ir/ops/reduce_common.h"
#include "ir/passes/passes.h"

#include <algorithm>
#include <optional>

namespace hgqc {

namespace {

// The format every element of x gets, one per element of x's range: the format of the windows
// that read it, all the same (nullopt when two windows that share an element differ). Pruned
// formats all quantize to 0, so they count as one; an element no window reads is pruned.
template <class Taps>
std::optional<std::vector<FixedFormat>> input_formats(const std::vector<FixedFormat> &fy,
                                                      int64_t nx, Taps &&taps) {
  const FixedFormat kPruned{0, 0, 0};
  std::vector<FixedFormat> fx(static_cast<size_t>(nx), kPruned);
  std::vector<char> seen(static_cast<size_t>(nx), 0);
  bool ok = true;
  for (size_t j = 0; j < fy.size() && ok; ++j) {
    FixedFormat want = fy[j].pruned() ? kPruned : fy[j];
    taps(static_cast<int64_t>(j), [&](int64_t e) {
      auto u = static_cast<size_t>(e);
      if (seen[u] && fx[u] != want)
        ok = false;
      fx[u] = want;
      seen[u] = 1;
    });
  }
  if (!ok)
    return std::nullopt;
  return fx;
}

// The per-element formats of x for quantizer q after max node p, or nullopt when the rewrite
// is not exact or the geometry is not static.
std::optional<std::vector<FixedFormat>> hoisted_formats(const Graph &g, const Node &p,
                                                        const Node &q) {
  const Dims &xd = g.values[p.inputs[0]].type.dims;
  if (xd.empty())
    return std::nullopt;
  for (size_t a = 1; a < xd.size(); ++a)
    if (xd[a] == kDynamic)
      return std::nullopt;
  Dims rx = range_dims(xd);
  const Tensor *k = g.constant_of(q.inputs[1]), *i = g.constant_of(q.inputs[2]),
               *f = g.constant_of(q.inputs[3]);
  if (!k || !i || !f)
    return std::nullopt;
  if (p.op == OpKind::MaxPool) {
    ops::PoolRangeGeom geom = ops::pool_range_geom(p, rx);
    // A window entirely in the padding is refused by MaxPool itself; leave it to say so.
    for (int64_t pos = 0; pos < geom.osz; ++pos)
      if (geom.taps.begin[pos] == geom.taps.begin[pos + 1])
        return std::nullopt;
    return input_formats(broadcast_formats(*k, *i, *f, geom.out), dims_numel(rx),
                         [&](int64_t e, auto &&emit) { geom.for_taps(e, emit); });
  }
  // ReduceMax: every input element enters one output; the batch axis is never reduced here
  // (the op refuses that itself).
  std::vector<int64_t> axes = attr_ints(p, "axes", {});
  if (std::find(axes.begin(), axes.end(), 0) != axes.end())
    return std::nullopt;
  ops::ReduceGeom geom = ops::reduce_range_geom(p, rx);
  return input_formats(broadcast_formats(*k, *i, *f, geom.out), dims_numel(rx),
                       [&](int64_t e, auto &&emit) { geom.for_taps(e, emit); });
}

// Integer constants of the formats `fx` over dims `d`, or q's own when they are one format
// given as scalars.
void set_formats(Graph &g, size_t qi, const std::vector<FixedFormat> &fx, const Dims &d) {
  bool uniform =
      std::all_of(fx.begin(), fx.end(), [&](const FixedFormat &x) { return x == fx[0]; });
  const Node &q = g.nodes[qi];
  bool scalars = true;
  for (int j = 1; j < 4; ++j)
    scalars &= g.constant_of(q.inputs[static_cast<size_t>(j)])->numel() == 1;
  if (uniform && scalars &&
      broadcast_formats(*g.constant_of(q.inputs[1]), *g.constant_of(q.inputs[2]),
                        *g.constant_of(q.inputs[3]), {1})[0] == fx[0])
    return;
  Tensor tk(DType::Int64, d), ti(DType::Int64, d), tf(DType::Int64, d);
  for (size_t e = 0; e < fx.size(); ++e) {
    tk[static_cast<int64_t>(e)] = fx[e].k;
    ti[static_cast<int64_t>(e)] = fx[e].i;
    tf[static_cast<int64_t>(e)] = fx[e].f;
  }
  const std::string base = q.name;
  ValueId vk = g.add_constant(base + "_k", std::move(tk));
  ValueId vi = g.add_constant(base + "_i", std::move(ti));
  ValueId vf = g.add_constant(base + "_f", std::move(tf));
  Node &qn = g.nodes[qi];
  qn.inputs[1] = vk;
  qn.inputs[2] = vi;
  qn.inputs[3] = vf;
}

// One sweep over the graph; returns the number of quantizers moved.
int hoist_once(Graph &g) {
  std::vector<int> uses = g.use_counts();
  std::vector<int> prod = g.producers();
  int moved = 0;
  for (size_t qi = 0; qi < g.nodes.size(); ++qi) {
    const Node &q = g.nodes[qi];
    if (q.op != OpKind::FixedQuant || q.inputs.size() != 4 || q.inputs[0] == kNoValue)
      continue;
    // Monotone quantizers only: rounding is, saturation is, wrapping is not.
    std::string ovf = attr_string(q, "overflow_mode", "WRAP");
    if (ovf != "SAT" && ovf != "SAT_SYM")
      continue;
    ValueId y = q.inputs[0];
    if (prod[y] < 0 || uses[y] != 1)
      continue;
    auto pi = static_cast<size_t>(prod[y]);
    const Node &p = g.nodes[pi];
    if ((p.op != OpKind::MaxPool && p.op != OpKind::ReduceMax) || p.outputs.size() != 1 ||
        p.inputs.empty())
      continue;
    ValueId x = p.inputs[0];
    // x must be a computed fixed-point value: a graph input's quantizer is the input bus.
    if (x == kNoValue || prod[x] < 0)
      continue;
    std::optional<std::vector<FixedFormat>> fx = hoisted_formats(g, p, q);
    if (!fx)
      continue;
    set_formats(g, qi, *fx, range_dims(g.values[x].type.dims));
    // The quantizer now reads x and defines a new value that the max reads; the max defines
    // what the quantizer defined. Swapping the two nodes keeps the topological order: the
    // quantizer takes the max's place (after x), the max the quantizer's (before z's uses).
    ValueId z = g.nodes[qi].outputs[0];
    ValueId xq = g.add_value(g.fresh_value_name(g.values[x].name + "_q"), g.values[x].type);
    Node &qn = g.nodes[qi];
    Node &pn = g.nodes[pi];
    qn.inputs[0] = x;
    qn.outputs[0] = xq;
    pn.inputs[0] = xq;
    pn.outputs[0] = z;
    std::swap(g.nodes[pi], g.nodes[qi]);
    ++moved;
  }
  return moved;
}

} // namespace

int hoist_quant_over_max(Graph &g) {
  int total = 0;
  // A moved quantizer may now follow another max (MaxPool after MaxPool): sweep again. Each
  // sweep moves every quantizer that can move one node up, so this ends after at most as many
  // sweeps as the longest chain of max nodes.
  while (int moved = hoist_once(g))
    total += moved;
  if (total) {
    g.remove_dead();
    infer_shapes(g);
  }
  return total;
}

} // namespace hgqc
