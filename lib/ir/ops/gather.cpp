// Gather: picks entries of `data` along `axis` at `indices` (negative indices count
// from the end); output shape data[:axis] + indices.shape + data[axis+1:].
#include "ir/ops/common.h"

namespace hgqc {
namespace {
void import(Node &n, ImportContext &) {
  check_known_attrs(n, {"axis"});
  n.attrs["axis"] = attr_int(n, "axis", 0);
}

std::vector<ValueType> infer(const Node &n, ops::Ins in, ops::Consts) {
  if (in[1]->dtype != DType::Int64 && in[1]->dtype != DType::Int32)
    throw UserError("indices must be int32 or int64");
  const Dims &d = in[0]->dims;
  int64_t axis = ops::checked_axis(attr_int(n, "axis", 0), static_cast<int64_t>(d.size()));
  Dims r(d.begin(), d.begin() + axis);
  r.insert(r.end(), in[1]->dims.begin(), in[1]->dims.end());
  r.insert(r.end(), d.begin() + axis + 1, d.end());
  return {ValueType{in[0]->dtype, r}};
}

std::vector<Tensor> eval(const Node &n, ops::Vals in) {
  const Tensor &x = *in[0], &ix = *in[1];
  const Dims &d = x.shape();
  int64_t axis = ops::checked_axis(attr_int(n, "axis", 0), x.rank());
  Dims od(d.begin(), d.begin() + axis);
  od.insert(od.end(), ix.shape().begin(), ix.shape().end());
  od.insert(od.end(), d.begin() + axis + 1, d.end());
  int64_t outer = 1, inner = 1, len = d[axis];
  for (int64_t i = 0; i < axis; ++i)
    outer *= d[i];
  for (int64_t i = axis + 1; i < x.rank(); ++i)
    inner *= d[i];
  Tensor r(x.dtype(), od);
  int64_t ni = ix.numel();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < ni; ++k) {
      auto j = static_cast<int64_t>(ix[k]);
      if (j < -len || j >= len)
        throw UserError("index " + std::to_string(j) + " out of range for dimension of size " +
                        std::to_string(len));
      if (j < 0)
        j += len;
      for (int64_t i = 0; i < inner; ++i)
        r[(o * ni + k) * inner + i] = x[(o * len + j) * inner + i];
    }
  return {r};
}
constexpr OpDef make_gather() {
  OpDef d{"Gather", OpDomain::Onnx, 2, 2, 1, 1, true, &import, &infer, &eval};
  return d;
}
} // namespace

const OpDef op_def_Gather = make_gather();

} // namespace hgqc
