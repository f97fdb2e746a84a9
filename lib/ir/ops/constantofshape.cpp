// ConstantOfShape: a tensor of the shape held by the (constant) int64 input, every element
// the one-element `value` (float32 0 by default). torch writes it in the pads computation of
// nn.ZeroPad2d and F.pad, which constant folding removes; no fixed-point form.
#include "ir/ops/common.h"

namespace hgqc {
namespace {
void import(Node &n, ImportContext &) {
  check_known_attrs(n, {"value"});
  Tensor v(DType::Float32, {1});
  if (n.attrs.count("value")) {
    const auto *t = std::get_if<Tensor>(&n.attrs.at("value"));
    if (!t)
      throw UserError("attribute 'value' must be a tensor");
    if (t->numel() != 1)
      throw UserError("attribute 'value' must hold one element, got shape " + dims_str(t->shape()));
    v = t->reshaped({1});
  }
  n.attrs["value"] = v;
}

Dims out_dims(const Tensor &shape) {
  if (shape.rank() != 1)
    throw UserError("input 'input' must be a 1-D shape, got shape " + dims_str(shape.shape()));
  Dims d = shape.as_int64();
  for (int64_t x : d)
    if (x < 0)
      throw UserError("shape " + dims_str(d) + " has a negative dimension");
  (void)dims_numel(d); // throws UserError when the element count overflows the cap
  return d;
}

std::vector<ValueType> infer(const Node &n, ops::Ins in, ops::Consts c) {
  if (in[0]->dtype != DType::Int64)
    throw UserError("input 'input' must be int64");
  if (!c[0])
    throw UserError("input 'input' (the shape) must be a constant");
  return {ValueType{std::get<Tensor>(n.attrs.at("value")).dtype(), out_dims(*c[0])}};
}

std::vector<Tensor> eval(const Node &n, ops::Vals in) {
  const Tensor &v = std::get<Tensor>(n.attrs.at("value"));
  Tensor r(v.dtype(), out_dims(*in[0]));
  for (int64_t i = 0; i < r.numel(); ++i)
    r[i] = v[0];
  return {r};
}

constexpr OpDef make_constantofshape() {
  return {"ConstantOfShape", OpDomain::Onnx, 1, 1, 1, 1, true, &import, &infer, &eval};
}
} // namespace

const OpDef op_def_ConstantOfShape = make_constantofshape();

} // namespace hgqc
