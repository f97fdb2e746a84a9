// Shape: the input's dimensions as a 1-D int64 tensor, sliced by `start`/`end`
// (opset 15). Folded to a constant at import when the dimensions are known.
#include "ir/ops/common.h"

namespace hgqc {
namespace {
std::pair<int64_t, int64_t> range_of(const Node &n, int64_t rank) {
  auto clampi = [rank](int64_t v) {
    if (v < 0)
      v += rank;
    return std::min(std::max<int64_t>(v, 0), rank);
  };
  int64_t s = clampi(attr_int(n, "start", 0)), e = clampi(attr_int(n, "end", rank));
  return {s, std::max(s, e)};
}

void import(Node &n, ImportContext &) { check_known_attrs(n, {"start", "end"}); }

std::vector<ValueType> infer(const Node &n, ops::Ins in, ops::Consts) {
  auto [s, e] = range_of(n, static_cast<int64_t>(in[0]->dims.size()));
  return {ValueType{DType::Int64, {e - s}}};
}

std::vector<Tensor> eval(const Node &n, ops::Vals in) {
  auto [s, e] = range_of(n, in[0]->rank());
  std::vector<double> v;
  for (int64_t i = s; i < e; ++i)
    v.push_back(static_cast<double>(in[0]->shape()[i]));
  return {Tensor(DType::Int64, {e - s}, v)};
}

// Opset 13's Shape has no start/end: a slice is written as the whole shape and a Gather.
std::vector<ExportNode> export_form(const Node &n, const ExportContext &ctx) {
  ExportNode e = default_export_node(n);
  e.attrs.clear();
  auto rank = static_cast<int64_t>(ctx.graph.values[n.inputs[0]].type.dims.size());
  auto [s, end] = range_of(n, rank);
  if (s == 0 && end == rank)
    return {e};
  e.name_suffix = "_full";
  e.outputs = {ExportRef::temp_of(0, "full")};
  std::vector<double> idx;
  for (int64_t i = s; i < end; ++i)
    idx.push_back(static_cast<double>(i));
  ExportNode gather{"Gather",
                    OpDomain::Onnx,
                    "",
                    {{"axis", int64_t{0}}},
                    {ExportRef::temp_of(0, "full"),
                     ExportRef::constant_of(Tensor(DType::Int64, {end - s}, idx), "indices")},
                    {ExportRef::of(n.outputs[0])}};
  return {e, gather};
}
constexpr OpDef make_shape() {
  OpDef d{"Shape", OpDomain::Onnx, 1, 1, 1, 1, true, &import, &infer, &eval};
  d.export_form = &export_form;
  return d;
}
} // namespace

const OpDef op_def_Shape = make_shape();

} // namespace hgqc
