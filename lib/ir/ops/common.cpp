// Shared helpers for the op files in lib/ir/ops/.
#include "ir/ops/common.h"

#include <algorithm>

namespace hgqc::ops {

void require_float(DType t, const char *what) {
  if (!is_float(t))
    throw UserError(std::string(what) + " has element type " + dtype_name(t) +
                    "; this op supports float32 and float64");
}

void require_numeric(DType t, const char *what) {
  if (!is_float(t) && t != DType::Int64 && t != DType::Int32)
    throw UserError(std::string(what) + " has element type " + dtype_name(t) +
                    "; this op supports float32, float64, int32 and int64");
}

void require_rank(const Dims &d, int64_t r, const char *what) {
  if (static_cast<int64_t>(d.size()) != r)
    throw UserError(std::string(what) + " must have rank " + std::to_string(r) + ", got shape " +
                    dims_str(d));
}

int64_t checked_axis(int64_t axis, int64_t rank, const char *what) {
  int64_t a = axis;
  if (!normalize_axis(a, rank))
    throw UserError(std::string(what) + " " + std::to_string(axis) + " is out of range for rank " +
                    std::to_string(rank));
  return a;
}

bool dims_compatible(int64_t a, int64_t b) { return a == b || a == kDynamic || b == kDynamic; }

bool shape_matches(const Dims &actual, const Dims &declared) {
  if (actual.size() != declared.size())
    return false;
  for (size_t i = 0; i < actual.size(); ++i)
    if (!dims_compatible(actual[i], declared[i]))
      return false;
  return true;
}

const Tensor *import_const(const ImportContext &ctx, const Node &n, size_t i) {
  if (i >= n.inputs.size() || n.inputs[i] == kNoValue)
    return nullptr;
  const Value &v = ctx.graph.values[n.inputs[i]];
  return v.constant ? &*v.constant : nullptr;
}

std::optional<std::vector<int64_t>> import_axes(Node &n, const ImportContext &ctx) {
  check_known_attrs(n, {"axes"});
  if (n.inputs.size() > 1 && n.inputs[1] != kNoValue) {
    const Tensor *t = import_const(ctx, n, 1);
    if (!t)
      throw UserError("input 'axes' must be a constant");
    std::vector<int64_t> axes = t->as_int64();
    n.inputs.erase(n.inputs.begin() + 1,
                   n.inputs.end()); // (resize(1) trips g++ 12's -Warray-bounds)
    return axes;
  }
  if (n.attrs.count("axes"))
    return attr_ints(n, "axes", {});
  return std::nullopt;
}

void set_axes(Node &n, std::vector<int64_t> axes, int64_t rank) {
  for (int64_t &a : axes)
    a = checked_axis(a, rank, "axes entry");
  std::sort(axes.begin(), axes.end());
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end())
    throw UserError("axes has repeated entries");
  n.attrs["axes"] = axes;
}

ExportNode export_axes(const Node &n) {
  ExportNode e = default_export_node(n);
  std::vector<int64_t> axes = attr_ints(n, "axes", {});
  e.attrs.erase("axes");
  e.inputs.erase(e.inputs.begin() + 1, e.inputs.end());
  Tensor t(DType::Int64, {static_cast<int64_t>(axes.size())},
           std::vector<double>(axes.begin(), axes.end()));
  e.inputs.push_back(ExportRef::constant_of(std::move(t), "axes"));
  return e;
}

void import_no_attrs(Node &n, ImportContext &) { check_known_attrs(n, {}); }

void import_binary(Node &n, ImportContext &) {
  if (n.attrs.count("axis"))
    throw UserError("legacy broadcasting along 'axis' (opset < 7) is not supported");
  n.attrs.erase("broadcast");
  check_known_attrs(n, {});
}

std::vector<ValueType> infer_like_input0(const Node &, Ins in, Consts) { return {*in[0]}; }

Tensor map_binary(const Tensor &a, const Tensor &b, DType out,
                  const std::function<double(double, double)> &f) {
  Dims d;
  // Shape inference lets an unknown batch broadcast with any size; the data's batch decides.
  if (!broadcast_dims(a.shape(), b.shape(), d))
    throw UserError("shapes " + dims_str(a.shape()) + " and " + dims_str(b.shape()) +
                    " do not broadcast (the data's batch size does not fit the model)");
  Tensor r(out, d);
  auto sa = broadcast_strides(a.shape(), d), sb = broadcast_strides(b.shape(), d);
  const int64_t rank = static_cast<int64_t>(d.size()), n = r.numel();
  std::vector<int64_t> idx(d.size(), 0);
  int64_t ia = 0, ib = 0;
  auto pa = a.data(), pb = b.data();
  auto pr = r.data();
  for (int64_t k = 0; k < n; ++k) {
    pr[k] = f(pa[ia], pb[ib]);
    for (int64_t ax = rank - 1; ax >= 0; --ax) {
      ia += sa[ax];
      ib += sb[ax];
      if (++idx[ax] < d[ax])
        break;
      ia -= sa[ax] * d[ax];
      ib -= sb[ax] * d[ax];
      idx[ax] = 0;
    }
  }
  return r;
}

BroadcastIndex::BroadcastIndex(const Dims &from, const Dims &to) {
  size = dims_numel(from);
  if (from == to)
    return;
  bool suffix = from.size() <= to.size();
  for (size_t i = 0; suffix && i < from.size(); ++i)
    suffix = from[i] == to[to.size() - from.size() + i];
  if (suffix && size > 0) {
    kind = Suffix;
    return;
  }
  kind = General;
  general = range_index(from, to);
}

void reduce_broadcast(const std::vector<float> &g, const Dims &d, const Dims &to,
                      TrainTensor &out) {
  grad_target(out, to);
  if (to == d) {
    for (size_t j = 0; j < g.size(); ++j)
      out.v[j] += g[j];
    return;
  }
  // Each sum is formed first, then added, as any other contribution to the gradient is.
  std::vector<float> s(out.v.size(), 0.0f);
  BroadcastIndex ix(to, d);
  for (size_t j = 0; j < g.size(); ++j)
    s[static_cast<size_t>(ix[static_cast<int64_t>(j)])] += g[j];
  for (size_t j = 0; j < s.size(); ++j)
    out.v[j] += s[j];
}

} // namespace hgqc::ops
