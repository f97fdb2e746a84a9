// Slice: the elements start, start + step, ... (before end) of each listed axis, with ONNX's
// clamping of out-of-range starts and ends. Import brings the attribute form (opset < 10)
// and the constant-input form (opset 10 and later) to attributes starts, ends, axes (each
// normalised) and steps. torch writes it for x[:, a:b] and in the pads computation of
// nn.ZeroPad2d and F.pad (folded away). Fixed point: a copy (slicing the batch is refused).
#include "ir/ops/fixed_common.h"

#include <algorithm>

namespace hgqc {
namespace {
std::vector<int64_t> const_ints(const ImportContext &ctx, const Node &n, size_t i,
                                const char *what) {
  const Tensor *t = ops::import_const(ctx, n, i);
  if (!t)
    throw UserError(std::string("input '") + what + "' must be a constant");
  if (t->rank() != 1)
    throw UserError(std::string("input '") + what + "' must be 1-D, got shape " +
                    dims_str(t->shape()));
  return t->as_int64();
}

void import(Node &n, ImportContext &ctx) {
  std::vector<int64_t> starts, ends, axes, steps;
  const auto rank = static_cast<int64_t>(ctx.graph.values[n.inputs[0]].type.dims.size());
  if (ctx.opset < 10) {
    check_known_attrs(n, {"axes", "ends", "starts"});
    if (!n.attrs.count("starts") || !n.attrs.count("ends"))
      throw UserError("missing attribute 'starts' or 'ends'");
    starts = attr_ints(n, "starts", {});
    ends = attr_ints(n, "ends", {});
    axes = attr_ints(n, "axes", {});
  } else {
    check_known_attrs(n, {});
    if (n.inputs.size() < 3 || n.inputs[1] == kNoValue || n.inputs[2] == kNoValue)
      throw UserError("inputs 'starts' and 'ends' are required");
    starts = const_ints(ctx, n, 1, "starts");
    ends = const_ints(ctx, n, 2, "ends");
    if (n.inputs.size() > 3 && n.inputs[3] != kNoValue)
      axes = const_ints(ctx, n, 3, "axes");
    if (n.inputs.size() > 4 && n.inputs[4] != kNoValue)
      steps = const_ints(ctx, n, 4, "steps");
  }
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i)
      axes.push_back(static_cast<int64_t>(i));
  if (steps.empty())
    steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    throw UserError("starts, ends, axes and steps have different lengths");
  std::vector<int64_t> seen;
  for (int64_t &a : axes) {
    a = ops::checked_axis(a, rank, "axes entry");
    if (std::find(seen.begin(), seen.end(), a) != seen.end())
      throw UserError("axes has repeated entries");
    seen.push_back(a);
  }
  for (int64_t s : steps)
    if (s == 0)
      throw UserError("steps must not be 0");
  n.attrs.clear();
  n.attrs["starts"] = starts;
  n.attrs["ends"] = ends;
  n.attrs["axes"] = axes;
  n.attrs["steps"] = steps;
  n.inputs.resize(1);
}

// For each dimension of `d`: first index, step and count (kDynamic dims give count kDynamic
// when sliced).
struct Range1 {
  int64_t start = 0, step = 1, count = 0;
};
std::vector<Range1> ranges(const Node &n, const Dims &d) {
  std::vector<int64_t> starts = attr_ints(n, "starts", {}), ends = attr_ints(n, "ends", {}),
                       axes = attr_ints(n, "axes", {}), steps = attr_ints(n, "steps", {});
  std::vector<Range1> r(d.size());
  for (size_t i = 0; i < d.size(); ++i)
    r[i] = Range1{0, 1, d[i]};
  for (size_t k = 0; k < axes.size(); ++k) {
    auto a = static_cast<size_t>(axes[k]);
    int64_t dim = d[a], step = steps[k];
    if (dim == kDynamic) {
      r[a] = Range1{0, step, kDynamic};
      continue;
    }
    int64_t s = starts[k], e = ends[k];
    if (s < 0)
      s = s < -dim ? -1 : s + dim; // -1: before the first element
    if (e < 0)
      e = e < -dim ? -1 : e + dim;
    int64_t count;
    if (step > 0) {
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      count = e > s ? (e - s + step - 1) / step : 0;
    } else {
      s = std::clamp<int64_t>(s, -1, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      count = s > e ? (s - e + (-step) - 1) / (-step) : 0;
    }
    r[a] = Range1{s, step, count};
  }
  return r;
}

std::vector<ValueType> infer(const Node &n, ops::Ins in, ops::Consts) {
  std::vector<Range1> r = ranges(n, in[0]->dims);
  Dims od;
  for (const Range1 &x : r)
    od.push_back(x.count);
  return {ValueType{in[0]->dtype, od}};
}

std::vector<Tensor> eval(const Node &n, ops::Vals in) {
  const Tensor &x = *in[0];
  const Dims &d = x.shape();
  std::vector<Range1> r = ranges(n, d);
  Dims od;
  for (const Range1 &v : r)
    od.push_back(v.count);
  Tensor y(x.dtype(), od);
  const size_t rank = d.size();
  std::vector<int64_t> stride(rank, 1), idx(rank, 0);
  for (size_t i = rank; i-- > 1;)
    stride[i - 1] = stride[i] * d[i];
  for (int64_t k = 0; k < y.numel(); ++k) {
    int64_t off = 0;
    for (size_t i = 0; i < rank; ++i)
      off += (r[i].start + idx[i] * r[i].step) * stride[i];
    y[k] = x[off];
    for (size_t i = rank; i-- > 0;) // next output index, row-major
      if (++idx[i] < od[i])
        break;
      else
        idx[i] = 0;
  }
  return {y};
}

// Opset 13: starts, ends, axes and steps as constant int64 inputs.
std::vector<ExportNode> export_form(const Node &n, const ExportContext &) {
  ExportNode e = default_export_node(n);
  e.attrs.clear();
  for (const char *k : {"starts", "ends", "axes", "steps"}) {
    std::vector<int64_t> v = attr_ints(n, k, {});
    e.inputs.push_back(ExportRef::constant_of(Tensor(DType::Int64, {static_cast<int64_t>(v.size())},
                                                     std::vector<double>(v.begin(), v.end())),
                                              k));
  }
  return {e};
}

constexpr OpDef make_slice() {
  OpDef d = ops::with_copy_hooks<&eval, 1>(
      {"Slice", OpDomain::Onnx, 1, 5, 1, 1, true, &import, &infer, &eval});
  d.export_form = &export_form;
  return d;
}
} // namespace

const OpDef op_def_Slice = make_slice();

} // namespace hgqc
