// Squeeze: removes size-1 dimensions listed in `axes` (all size-1 dimensions when
// absent). Canonical form: sorted, normalised `axes` attribute; opset 13+ passes
// axes as an input, which must be a constant. Fixed point: a copy (squeezing the batch
// dimension is refused).
#include "ir/ops/fixed_common.h"

namespace hgqc {
namespace {
void import(Node &n, ImportContext &ctx) {
  const Dims &d = ctx.graph.values[n.inputs[0]].type.dims;
  auto rank = static_cast<int64_t>(d.size());
  std::optional<std::vector<int64_t>> axes = ops::import_axes(n, ctx);
  if (!axes) {
    axes.emplace();
    for (int64_t i = 0; i < rank; ++i) {
      if (d[i] == kDynamic)
        throw UserError("Squeeze without axes on a dimension unknown until run time");
      if (d[i] == 1)
        axes->push_back(i);
    }
  }
  ops::set_axes(n, *axes, rank);
}

Dims out_dims(const Node &n, const Dims &d) {
  auto axes = attr_ints(n, "axes", {});
  Dims r;
  size_t k = 0;
  for (int64_t i = 0; i < static_cast<int64_t>(d.size()); ++i) {
    if (k < axes.size() && axes[k] == i) {
      ++k;
      if (d[i] != 1 && d[i] != kDynamic)
        throw UserError("cannot squeeze dimension " + std::to_string(i) + " of shape " +
                        dims_str(d));
      continue;
    }
    r.push_back(d[i]);
  }
  if (k != axes.size())
    throw UserError("axes out of range for shape " + dims_str(d));
  return r;
}

std::vector<ValueType> infer(const Node &n, ops::Ins in, ops::Consts) {
  return {ValueType{in[0]->dtype, out_dims(n, in[0]->dims)}};
}

std::vector<Tensor> eval(const Node &n, ops::Vals in) {
  return {in[0]->reshaped(out_dims(n, in[0]->shape()))};
}

// Opset 13 passes axes as a constant input.
std::vector<ExportNode> export_form(const Node &n, const ExportContext &) {
  return {ops::export_axes(n)};
}
constexpr OpDef make_squeeze() {
  OpDef d = ops::with_copy_hooks<&eval, 1>(
      {"Squeeze", OpDomain::Onnx, 1, 2, 1, 1, true, &import, &infer, &eval});
  d.export_form = &export_form;
  return d;
}
} // namespace

const OpDef op_def_Squeeze = make_squeeze();

} // namespace hgqc
