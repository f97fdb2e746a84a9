// Pow: elementwise a^b with numpy broadcasting; the exponent may have another numeric type.
#include "ir/ops/common.h"

namespace hgqc {
namespace {
std::vector<ValueType> infer(const Node &, ops::Ins in, ops::Consts) {
  ops::require_float(in[0]->dtype, "base");
  ops::require_numeric(in[1]->dtype, "exponent");
  ValueType r{in[0]->dtype, {}};
  if (!broadcast_dims(in[0]->dims, in[1]->dims, r.dims))
    throw UserError("shapes " + dims_str(in[0]->dims) + " and " + dims_str(in[1]->dims) +
                    " do not broadcast");
  return {r};
}

std::vector<Tensor> eval(const Node &n, ops::Vals in) {
  ValueType a{in[0]->dtype(), in[0]->shape()}, b{in[1]->dtype(), in[1]->shape()};
  const ValueType *types[] = {&a, &b};
  infer(n, types, {});
  return {ops::map_binary(*in[0], *in[1], in[0]->dtype(),
                          [](double x, double y) { return std::pow(x, y); })};
}
constexpr OpDef make_pow() {
  OpDef d{"Pow", OpDomain::Onnx, 2, 2, 1, 1, true, &ops::import_binary, &infer, &eval};
  return d;
}
} // namespace

const OpDef op_def_Pow = make_pow();

} // namespace hgqc
