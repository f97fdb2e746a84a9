// Unsqueeze: inserts size-1 dimensions at `axes` (positions in the output).
// Canonical form: sorted, normalised `axes` attribute; opset 13+ passes axes as
// an input, which must be a constant. Fixed point: a copy (inserting a dimension before
// the batch is refused).
#include "ir/ops/fixed_common.h"

namespace hgqc {
namespace {
void import(Node &n, ImportContext &ctx) {
  std::optional<std::vector<int64_t>> axes = ops::import_axes(n, ctx);
  if (!axes)
    throw UserError("missing axes");
  // Axes index the output, whose rank is the input's plus one per axis.
  auto out_rank =
      static_cast<int64_t>(ctx.graph.values[n.inputs[0]].type.dims.size() + axes->size());
  ops::set_axes(n, *axes, out_rank);
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

// Opset 13 passes axes as a constant input.
std::vector<ExportNode> export_form(const Node &n, const ExportContext &) {
  return {ops::export_axes(n)};
}
constexpr OpDef make_unsqueeze() {
  OpDef d = ops::with_copy_hooks<&eval, 1>(
      {"Unsqueeze", OpDomain::Onnx, 1, 2, 1, 1, true, &import, &infer, &eval});
  d.export_form = &export_form;
  return d;
}
} // namespace

const OpDef op_def_Unsqueeze = make_unsqueeze();

} // namespace hgqc
