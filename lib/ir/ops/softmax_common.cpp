// The Softmax family's ONNX export (softmax_common.h).
#include "ir/ops/softmax_common.h"

namespace hgqc::ops::softmax {

std::vector<ExportNode> export_form(const Node &n, const ExportContext &ctx, const char *op) {
  ExportNode e = default_export_node(n);
  e.attrs.erase("coerce_2d");
  if (!attr_int(n, "coerce_2d", 0))
    return {e};
  const Dims &d = ctx.graph.values[n.inputs[0]].type.dims;
  int64_t axis = attr_int(n, "axis", -1), rank = static_cast<int64_t>(d.size());
  HGQC_ASSERT(axis >= 0 && axis < rank, std::string(op) + " axis not canonical");
  bool trailing_ones = true;
  for (int64_t i = axis + 1; i < rank; ++i)
    trailing_ones &= d[i] == 1;
  if (trailing_ones)
    return {e};
  using R = ExportRef;
  R x = R::of(n.inputs[0]), flat = R::temp_of(0, "2d"), soft = R::temp_of(1, "2d_softmax");
  std::vector<ExportNode> r;
  if (axis == 0) // (a Flatten with axis 0 may be read back as axis 1 when the batch is 1)
    r.push_back({"Reshape",
                 OpDomain::Onnx,
                 "_to_2d",
                 {},
                 {x, R::constant_of(Tensor(DType::Int64, {2}, {1, -1}), "2d_shape")},
                 {flat}});
  else
    r.push_back({"Flatten", OpDomain::Onnx, "_to_2d", {{"axis", axis}}, {x}, {flat}});
  r.push_back({op, OpDomain::Onnx, "", {{"axis", int64_t{1}}}, {flat}, {soft}});
  R shape = R::temp_of(2, "shape");
  if (std::count(d.begin(), d.end(), kDynamic) <= 1 && std::count(d.begin(), d.end(), 0) == 0) {
    std::vector<double> s(d.begin(), d.end()); // the unknown dimension, if any, is -1
    shape = R::constant_of(Tensor(DType::Int64, {rank}, s), "shape");
  } else {
    r.push_back({"Shape", OpDomain::Onnx, "_shape", {}, {x}, {shape}});
  }
  r.push_back({"Reshape", OpDomain::Onnx, "_restore", {}, {soft, shape}, {R::of(n.outputs[0])}});
  return r;
}

} // namespace hgqc::ops::softmax
