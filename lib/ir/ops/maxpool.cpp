// MaxPool: maximum over each window (pads never win); the Indices output is not supported.
#include "ir/ops/pool_common.h"

#include <limits>

namespace hgqc {

namespace {
void import(Node &n, ImportContext &ctx) {
  check_known_attrs(n, {"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads",
                        "storage_order", "strides"});
  if (n.outputs.size() > 1)
    throw UserError("the Indices output is not supported");
  n.attrs.erase("storage_order"); // only affects Indices
  ops::import_window(n, ctx.graph.values[n.inputs[0]].type.dims, nullptr, true, true);
}

std::vector<ValueType> infer(const Node &n, ops::Ins in, ops::Consts) {
  return {ops::pool_infer(n, *in[0])};
}

std::vector<Tensor> eval(const Node &n, ops::Vals in) {
  return {ops::pool_eval(n, *in[0], [](const std::vector<double> &v, int64_t) {
    double m = -std::numeric_limits<double>::infinity();
    for (double x : v)
      m = std::max(m, x);
    return m;
  })};
}
} // namespace

const OpDef op_def_MaxPool = {"MaxPool", OpDomain::Onnx, 1, 1, 1, 2, true, &import, &infer, &eval};

} // namespace hgqc
