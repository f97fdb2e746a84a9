// GlobalAveragePool: mean over all spatial dimensions, which are kept with size 1.
#include "ir/ops/common.h"

namespace hgqc {
namespace {
std::vector<ValueType> infer(const Node &, ops::Ins in, ops::Consts) {
  ops::require_float(in[0]->dtype, "input X");
  const Dims &x = in[0]->dims;
  if (x.size() < 3)
    throw UserError("input must have rank >= 3 (N, C, spatial...), got " + dims_str(x));
  Dims out(x.size(), 1);
  out[0] = x[0];
  out[1] = x[1];
  return {ValueType{in[0]->dtype, out}};
}

std::vector<Tensor> eval(const Node &n, ops::Vals in) {
  const Tensor &x = *in[0];
  ValueType t{x.dtype(), x.shape()};
  const ValueType *tp[] = {&t};
  Tensor y(x.dtype(), infer(n, tp, {})[0].dims);
  int64_t planes = y.numel(), sz = x.numel() / std::max<int64_t>(planes, 1);
  for (int64_t p = 0; p < planes; ++p) {
    double s = 0;
    for (int64_t i = 0; i < sz; ++i)
      s += x[p * sz + i];
    y[p] = s / static_cast<double>(sz);
  }
  return {y};
}
} // namespace

const OpDef op_def_GlobalAveragePool = {"GlobalAveragePool",   OpDomain::Onnx, 1,    1, 1, 1, true,
                                        &ops::import_no_attrs, &infer,         &eval};

} // namespace hgqc
