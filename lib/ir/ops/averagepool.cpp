// AveragePool: mean over each window; pads count in the divisor when count_include_pad = 1.
#include "ir/ops/pool_common.h"

namespace hgqc {
namespace {
void import(Node &n, ImportContext &ctx) {
  check_known_attrs(
      n, {"auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides"});
  n.attrs["count_include_pad"] = attr_int(n, "count_include_pad", 0);
  ops::import_window(n, ctx.graph.values[n.inputs[0]].type.dims, nullptr, false, true);
}

std::vector<ValueType> infer(const Node &n, ops::Ins in, ops::Consts) {
  return {ops::pool_infer(n, *in[0])};
}

std::vector<Tensor> eval(const Node &n, ops::Vals in) {
  bool include_pad = attr_int(n, "count_include_pad", 0);
  return {ops::pool_eval(n, *in[0], [include_pad](const std::vector<double> &v, int64_t padded) {
    double s = 0;
    for (double x : v)
      s += x;
    return s / static_cast<double>(include_pad ? padded : static_cast<int64_t>(v.size()));
  })};
}
} // namespace

const OpDef op_def_AveragePool = {"AveragePool", OpDomain::Onnx, 1,      1,    1, 1,
                                  true,          &import,        &infer, &eval};

} // namespace hgqc
