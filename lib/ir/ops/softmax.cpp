// Softmax: exp(x) / sum(exp(x)) along `axis`. Canonical attributes: `axis`
// (normalised) and `coerce_2d` = 1 for opsets before 13, where the input is
// viewed as 2-D [prod(dims[:axis]), prod(dims[axis:])] and normalised per row.
#include "ir/ops/common.h"

namespace hgqc {
namespace {
void import(Node &n, ImportContext &ctx) {
  check_known_attrs(n, {"axis"});
  bool legacy = ctx.opset > 0 && ctx.opset < 13;
  const Value &x = ctx.graph.values[n.inputs[0]];
  auto rank = static_cast<int64_t>(x.type.dims.size());
  n.attrs["axis"] = ops::checked_axis(attr_int(n, "axis", legacy ? 1 : -1), rank);
  n.attrs["coerce_2d"] = int64_t{legacy ? 1 : 0};
}

std::vector<ValueType> infer(const Node &n, ops::Ins in, ops::Consts) {
  ops::require_float(in[0]->dtype, "input");
  ops::checked_axis(attr_int(n, "axis", -1), static_cast<int64_t>(in[0]->dims.size()));
  return {*in[0]};
}

std::vector<Tensor> eval(const Node &n, ops::Vals in) {
  const Tensor &x = *in[0];
  const Dims &d = x.shape();
  int64_t axis = ops::checked_axis(attr_int(n, "axis", -1), x.rank());
  // View as [outer, len, inner] and normalise along the middle.
  int64_t outer = 1, len = 1, inner = 1;
  for (int64_t i = 0; i < x.rank(); ++i)
    (i < axis ? outer : (i == axis || attr_int(n, "coerce_2d", 0) ? len : inner)) *= d[i];
  Tensor r(x.dtype(), d);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < inner; ++k) {
      int64_t base = o * len * inner + k;
      double mx = -INFINITY;
      for (int64_t j = 0; j < len; ++j)
        mx = std::max(mx, x[base + j * inner]);
      double s = 0;
      for (int64_t j = 0; j < len; ++j)
        s += (r[base + j * inner] = std::exp(x[base + j * inner] - mx));
      for (int64_t j = 0; j < len; ++j)
        r[base + j * inner] /= s;
    }
  return {r};
}
} // namespace

const OpDef op_def_Softmax = {"Softmax", OpDomain::Onnx, 1, 1, 1, 1, true, &import, &infer, &eval};

} // namespace hgqc
