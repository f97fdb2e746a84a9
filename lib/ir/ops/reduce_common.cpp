// Shared import, shapes, float evaluation, fixed-point geometry and training of the reductions.
#include "ir/ops/reduce_common.h"

#include <algorithm>
#include <any>

namespace hgqc::ops {

void import_reduce(Node &n, ImportContext &ctx) {
  check_known_attrs(n, {"axes", "keepdims", "noop_with_empty_axes"});
  const Dims &d = ctx.graph.values[n.inputs[0]].type.dims;
  auto rank = static_cast<int64_t>(d.size());
  std::vector<int64_t> axes;
  bool given = false;
  if (n.inputs.size() > 1 && n.inputs[1] != kNoValue) {
    if (n.attrs.count("axes"))
      throw UserError("axes given both as an attribute and as an input");
    const Tensor *t = import_const(ctx, n, 1);
    if (!t)
      throw UserError("input 'axes' must be a constant");
    axes = t->as_int64();
    given = true;
  } else if (n.attrs.count("axes")) {
    axes = attr_ints(n, "axes", {});
    given = true;
  }
  n.inputs.erase(n.inputs.begin() + 1, n.inputs.end());
  bool noop = attr_int(n, "noop_with_empty_axes", 0) != 0;
  if ((!given || axes.empty()) && !noop)
    for (int64_t i = 0; i < rank; ++i)
      axes.push_back(i);
  int64_t keep = attr_int(n, "keepdims", 1);
  if (keep != 0 && keep != 1)
    throw UserError("keepdims must be 0 or 1, got " + std::to_string(keep));
  n.attrs.erase("noop_with_empty_axes");
  set_axes(n, axes, rank);
  n.attrs["keepdims"] = keep;
}

Dims reduce_out_dims(const Node &n, const Dims &x) {
  std::vector<int64_t> axes = attr_ints(n, "axes", {});
  bool keep = attr_int(n, "keepdims", 1) != 0;
  Dims r;
  for (int64_t i = 0; i < static_cast<int64_t>(x.size()); ++i) {
    bool reduced = std::binary_search(axes.begin(), axes.end(), i);
    if (!reduced)
      r.push_back(x[i]);
    else if (keep)
      r.push_back(1);
  }
  if (!axes.empty() && axes.back() >= static_cast<int64_t>(x.size()))
    throw UserError("axes out of range for shape " + dims_str(x));
  return r;
}

ReduceGeom reduce_geom(const Node &n, const Dims &x) {
  std::vector<int64_t> axes = attr_ints(n, "axes", {});
  ReduceGeom g;
  g.out = reduce_out_dims(n, x);
  const auto rank = static_cast<int64_t>(x.size());
  // Output strides of the kept axes (0 for reduced ones).
  std::vector<int64_t> ostride(static_cast<size_t>(rank), 0);
  int64_t s = 1;
  for (int64_t i = rank - 1; i >= 0; --i)
    if (!std::binary_search(axes.begin(), axes.end(), i)) {
      ostride[i] = s;
      s *= x[i];
    }
  int64_t n_out = s, n_in = dims_numel(x);
  std::vector<int64_t> out_of(static_cast<size_t>(n_in));
  std::vector<int64_t> idx(static_cast<size_t>(rank), 0);
  for (int64_t k = 0; k < n_in; ++k) {
    int64_t o = 0;
    for (int64_t i = 0; i < rank; ++i)
      o += idx[i] * ostride[i];
    out_of[k] = o;
    for (int64_t i = rank - 1; i >= 0; --i) {
      if (++idx[i] < x[i])
        break;
      idx[i] = 0;
    }
  }
  g.begin.assign(static_cast<size_t>(n_out) + 1, 0);
  for (int64_t o : out_of)
    ++g.begin[o + 1];
  for (int64_t e = 0; e < n_out; ++e)
    g.begin[e + 1] += g.begin[e];
  g.off.resize(static_cast<size_t>(n_in));
  std::vector<int64_t> fill(g.begin.begin(), g.begin.end() - 1);
  for (int64_t k = 0; k < n_in; ++k)
    g.off[fill[out_of[k]]++] = k;
  return g;
}

ReduceGeom reduce_range_geom(const Node &n, const Dims &x) {
  std::vector<int64_t> axes = attr_ints(n, "axes", {});
  if (!axes.empty() && axes[0] == 0)
    throw UserError("the reduction includes the batch dimension (axis 0), which mixes samples: "
                    "it has no fixed-point form");
  return reduce_geom(n, x);
}

ExportNode export_reduce(const Node &n, bool axes_input) {
  ExportNode e = default_export_node(n);
  std::vector<int64_t> axes = attr_ints(n, "axes", {});
  if (axes.empty()) {
    e.op_type = "Identity";
    e.attrs.clear();
    return e;
  }
  if (axes_input) {
    e.attrs.erase("axes");
    Tensor t(DType::Int64, {static_cast<int64_t>(axes.size())},
             std::vector<double>(axes.begin(), axes.end()));
    e.inputs.push_back(ExportRef::constant_of(std::move(t), "axes"));
  }
  return e;
}

const ReduceGeom &reduce_train_geom(const Node &n, const Dims &x, std::any &cache) {
  struct Cached {
    Dims x;
    ReduceGeom g;
  };
  auto *c = std::any_cast<Cached>(&cache);
  if (!c || c->x != x) {
    cache = Cached{x, reduce_geom(n, x)};
    c = std::any_cast<Cached>(&cache);
  }
  return c->g;
}

void reduce_sum_train_forward(bool mean, const Node &n, TrainIns in, TrainOuts out,
                              TrainContext &ctx) {
  const TrainTensor &x = *in[0];
  const ReduceGeom &g = reduce_train_geom(n, x.shape, *ctx.cache);
  TrainTensor &y = *out[0];
  y.resize(g.out);
  for (int64_t e = 0; e < g.size(); ++e) {
    float s = 0;
    g.for_taps(e, [&](int64_t o) { s += x.v[o]; });
    y.v[e] = mean ? s / static_cast<float>(g.count(e)) : s;
  }
}

void reduce_sum_backward(bool mean, const Node &n, TrainIns in, TrainIns dout, TrainOuts din,
                         TrainContext &ctx) {
  if (!din[0])
    return;
  const TrainTensor &x = *in[0], &dy = *dout[0];
  const ReduceGeom &g = reduce_train_geom(n, x.shape, *ctx.cache);
  grad_target(*din[0], x.shape);
  for (int64_t e = 0; e < g.size(); ++e) {
    float d = mean ? dy.v[e] / static_cast<float>(g.count(e)) : dy.v[e];
    g.for_taps(e, [&](int64_t o) { din[0]->v[o] += d; });
  }
}

} // namespace hgqc::ops

namespace hgqc::ops {

void reduce_addend_counts(const Node &, const Dims &x, std::vector<float> &counts) {
  counts.assign(static_cast<size_t>(dims_numel(x)), 1.0f);
}

double reduce_addend_ebops(const ValueRange &x) {
  double s = 0;
  for (const Interval &v : x.el)
    s += v.width();
  return s;
}

} // namespace hgqc::ops
