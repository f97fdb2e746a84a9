// Clip: min(max(x, min), max). Constant bounds become float attributes `min` and
// `max` (attributes before opset 11, inputs after); bounds computed at run time
// stay inputs 1 and 2 (scalars).
#include "ir/ops/common.h"

#include <limits>

namespace hgqc {
namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
const char *const kNames[] = {"min", "max"};

void import(Node &n, ImportContext &ctx) {
  if (ctx.opset < 11) {
    check_known_attrs(n, {"min", "max"});
    if (n.inputs.size() > 1)
      throw UserError("Clip before opset 11 takes one input");
    n.attrs["min"] = attr_float(n, "min", -kInf);
    n.attrs["max"] = attr_float(n, "max", kInf);
    return;
  }
  check_known_attrs(n, {});
  bool dynamic = false;
  for (size_t i = 1; i < 3; ++i) {
    double v = i == 1 ? -kInf : kInf;
    if (i < n.inputs.size() && n.inputs[i] != kNoValue) {
      const Tensor *t = ops::import_const(ctx, n, i);
      if (!t) {
        dynamic = true;
        continue;
      }
      if (t->numel() != 1)
        throw UserError(std::string("input '") + kNames[i - 1] + "' must be a scalar");
      v = (*t)[0];
    }
    n.attrs[kNames[i - 1]] = v;
  }
  if (!dynamic)
    n.inputs.resize(1);
}

std::vector<ValueType> infer(const Node &, ops::Ins in, ops::Consts) {
  ops::require_float(in[0]->dtype, "input");
  for (size_t i = 1; i < in.size(); ++i)
    if (in[i] && (in[i]->dtype != in[0]->dtype || dims_numel(in[i]->dims) != 1))
      throw UserError(std::string("input '") + kNames[i - 1] +
                      "' must be a scalar of the input's type");
  return {*in[0]};
}

std::vector<Tensor> eval(const Node &n, ops::Vals in) {
  ops::require_float(in[0]->dtype(), "input");
  double lo = attr_float(n, "min", -kInf), hi = attr_float(n, "max", kInf);
  // Bounds given as inputs take precedence over (absent) attributes.
  if (in.size() > 1 && in[1])
    lo = (*in[1])[0];
  if (in.size() > 2 && in[2])
    hi = (*in[2])[0];
  return {ops::map_unary(*in[0], [lo, hi](double x) { return x < lo ? lo : (x > hi ? hi : x); })};
}
} // namespace

const OpDef op_def_Clip = {"Clip", OpDomain::Onnx, 1, 3, 1, 1, true, &import, &infer, &eval};

} // namespace hgqc
