// Unsqueeze: inserts size-1 dimensions at `axes` (positions in the output).
// Canonical form: sorted, normalised `axes` attribute; opset 13+ passes axes as
// an input, which must be a constant.
#include "ir/ops/common.h"

#include <algorithm>

namespace hgqc {
namespace {
void import(Node &n, ImportContext &ctx) {
  check_known_attrs(n, {"axes"});
  std::vector<int64_t> axes;
  if (n.inputs.size() > 1 && n.inputs[1] != kNoValue) {
    const Tensor *t = ops::import_const(ctx, n, 1);
    if (!t)
      throw UserError("input 'axes' must be a constant");
    axes = t->as_int64();
    n.inputs.resize(1);
  } else if (n.attrs.count("axes")) {
    axes = attr_ints(n, "axes", {});
  } else {
    throw UserError("missing axes");
  }
  auto out_rank =
      static_cast<int64_t>(ctx.graph.values[n.inputs[0]].type.dims.size() + axes.size());
  for (int64_t &a : axes)
    a = ops::checked_axis(a, out_rank, "axes entry");
  std::sort(axes.begin(), axes.end());
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end())
    throw UserError("axes has repeated entries");
  n.attrs["axes"] = axes;
}

Dims out_dims(const Node &n, const Dims &d) {
  auto axes = attr_ints(n, "axes", {});
  Dims r;
  size_t k = 0, j = 0;
  for (size_t i = 0; i < d.size() + axes.size(); ++i) {
    if (k < axes.size() && axes[k] == static_cast<int64_t>(i)) {
      r.push_back(1);
      ++k;
    } else {
      HGQC_ASSERT(j < d.size(), "Unsqueeze axes inconsistent with rank");
      r.push_back(d[j++]);
    }
  }
  return r;
}

std::vector<ValueType> infer(const Node &n, ops::Ins in, ops::Consts) {
  return {ValueType{in[0]->dtype, out_dims(n, in[0]->dims)}};
}

std::vector<Tensor> eval(const Node &n, ops::Vals in) {
  return {in[0]->reshaped(out_dims(n, in[0]->shape()))};
}
} // namespace

const OpDef op_def_Unsqueeze = {"Unsqueeze", OpDomain::Onnx, 1,       2,      1,
                                1,           true,           &import, &infer, &eval};

} // namespace hgqc
