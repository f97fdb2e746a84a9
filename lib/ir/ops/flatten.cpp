// Flatten: [d0..dn) -> [prod(d[:axis]), prod(d[axis:])] (axis defaults to 1).
// Exporters that assume batch 1 write axis = 0 (Keras); on a model declaring batch 1,
// axis 0 is read as axis 1, which is the same at batch 1 and keeps the batch free.
// Fixed point: a copy (axis 0 on a batched value, which merges the batch, is refused).
#include "ir/ops/fixed_common.h"

namespace hgqc {
namespace {
// Static or run-time output dims; any kDynamic factor makes the product kDynamic.
Dims out_dims(const Node &n, const Dims &d) {
  auto rank = static_cast<int64_t>(d.size());
  int64_t axis = attr_int(n, "axis", 1);
  if (axis < -rank || axis > rank)
    throw UserError("axis " + std::to_string(axis) + " is out of range for rank " +
                    std::to_string(rank));
  if (axis < 0)
    axis += rank;
  int64_t a = 1, b = 1;
  for (int64_t i = 0; i < rank; ++i) {
    int64_t &p = i < axis ? a : b;
    p = (p == kDynamic || d[i] == kDynamic) ? kDynamic : p * d[i];
  }
  return {a, b};
}

void import(Node &n, ImportContext &ctx) {
  check_known_attrs(n, {"axis"});
  int64_t axis = attr_int(n, "axis", 1);
  const Dims &d = ctx.graph.values[n.inputs[0]].type.dims;
  if (axis == 0 && !d.empty() && d[0] == kDynamic && ctx.declared_batch == 1)
    axis = 1;
  n.attrs["axis"] = axis;
}

std::vector<ValueType> infer(const Node &n, ops::Ins in, ops::Consts) {
  return {ValueType{in[0]->dtype, out_dims(n, in[0]->dims)}};
}

std::vector<Tensor> eval(const Node &n, ops::Vals in) {
  return {in[0]->reshaped(out_dims(n, in[0]->shape()))};
}
constexpr OpDef make_flatten() {
  OpDef d{"Flatten", OpDomain::Onnx, 1, 1, 1, 1, true, &import, &infer, &eval};
  return ops::with_copy_hooks<&eval, 1>(d);
}
} // namespace

const OpDef op_def_Flatten = make_flatten();

} // namespace hgqc
