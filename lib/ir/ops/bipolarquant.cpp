// BipolarQuant (QONNX): y = (x >= 0 ? 1 : -1) * scale.
#include "ir/ops/common.h"

namespace hgqc {
namespace {
std::vector<ValueType> infer(const Node &, ops::Ins in, ops::Consts) {
  ops::require_float(in[0]->dtype, "input x");
  ValueType r{in[0]->dtype, {}};
  if (!broadcast_dims(in[0]->dims, in[1]->dims, r.dims))
    throw UserError("scale of shape " + dims_str(in[1]->dims) + " does not broadcast with " +
                    dims_str(in[0]->dims));
  return {r};
}

std::vector<Tensor> eval(const Node &, ops::Vals in) {
  return {ops::map_binary(*in[0], *in[1], in[0]->dtype(),
                          [](double x, double s) { return (x >= 0 ? 1.0 : -1.0) * s; })};
}
constexpr OpDef make_bipolarquant() {
  OpDef d{"BipolarQuant", OpDomain::Qonnx, 2, 2, 1, 1, false, &ops::import_no_attrs, &infer, &eval};
  return d;
}
} // namespace

const OpDef op_def_BipolarQuant = make_bipolarquant();

} // namespace hgqc
