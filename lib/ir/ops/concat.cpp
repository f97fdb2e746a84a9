// Concat: joins inputs along `axis`; other dimensions must agree. Fixed point: a copy
// (joining along the batch dimension is refused).
#include "ir/ops/fixed_common.h"

namespace hgqc {
namespace {
void import(Node &n, ImportContext &) {
  check_known_attrs(n, {"axis"});
  if (!n.attrs.count("axis"))
    throw UserError("missing attribute 'axis'");
}

Dims out_dims(const Node &n, const std::vector<Dims> &ds, int64_t &axis) {
  const Dims &d0 = ds[0];
  auto rank = static_cast<int64_t>(d0.size());
  axis = ops::checked_axis(attr_int(n, "axis", 0), rank);
  Dims r = d0;
  for (size_t k = 1; k < ds.size(); ++k) {
    if (static_cast<int64_t>(ds[k].size()) != rank)
      throw UserError("inputs have different ranks: " + dims_str(d0) + " and " + dims_str(ds[k]));
    for (int64_t i = 0; i < rank; ++i) {
      if (i == axis)
        r[i] = (r[i] == kDynamic || ds[k][i] == kDynamic) ? kDynamic : r[i] + ds[k][i];
      else if (!ops::dims_compatible(r[i], ds[k][i]))
        throw UserError("input shapes " + dims_str(d0) + " and " + dims_str(ds[k]) +
                        " differ outside axis " + std::to_string(axis));
      else if (r[i] == kDynamic)
        r[i] = ds[k][i];
    }
  }
  return r;
}

std::vector<ValueType> infer(const Node &n, ops::Ins in, ops::Consts) {
  std::vector<Dims> ds;
  for (const ValueType *t : in) {
    if (t->dtype != in[0]->dtype)
      throw UserError("inputs have different element types");
    ds.push_back(t->dims);
  }
  int64_t axis;
  return {ValueType{in[0]->dtype, out_dims(n, ds, axis)}};
}

std::vector<Tensor> eval(const Node &n, ops::Vals in) {
  std::vector<Dims> ds;
  for (const Tensor *t : in)
    ds.push_back(t->shape());
  int64_t axis;
  Dims od = out_dims(n, ds, axis);
  Tensor r(in[0]->dtype(), od);
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i)
    outer *= od[i];
  for (size_t i = axis + 1; i < od.size(); ++i)
    inner *= od[i];
  int64_t off = 0;
  for (const Tensor *t : in) {
    int64_t chunk = t->shape()[axis] * inner;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < chunk; ++j)
        r[o * od[axis] * inner + off + j] = (*t)[o * chunk + j];
    off += chunk;
  }
  return {r};
}
constexpr OpDef make_concat() {
  OpDef d{"Concat", OpDomain::Onnx, 1, 1 << 20, 1, 1, true, &import, &infer, &eval};
  return ops::with_copy_hooks<&eval, -1>(d);
}
} // namespace

const OpDef op_def_Concat = make_concat();

} // namespace hgqc
