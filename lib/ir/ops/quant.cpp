// Quant (QONNX; IntQuant is the same op): y = (clip(round(x / scale + zeropt)) - zeropt) * scale
// with the integer range given by `bitwidth`, `signed` and `narrow`; `rounding_mode` is
// ROUND (half to even), HALF_UP, HALF_DOWN, ROUND_TO_ZERO, CEIL, FLOOR, UP or DOWN.
#include "ir/ops/common.h"

#include <algorithm>

namespace hgqc {
namespace {
/// The widest bit width accepted (beyond it the integer bounds are not exact in double).
constexpr int kMaxBitwidth = 64;
const char *const kModes[] = {"ROUND", "HALF_EVEN", "HALF_UP", "HALF_DOWN", "ROUND_TO_ZERO",
                              "DOWN",  "CEIL",      "FLOOR",   "UP"};

double round_mode(double v, const std::string &m) {
  if (m == "ROUND" || m == "HALF_EVEN")
    return std::nearbyint(v); // default FP environment rounds half to even
  if (m == "HALF_UP")
    return std::floor(v + 0.5);
  if (m == "HALF_DOWN")
    return std::ceil(v - 0.5);
  if (m == "ROUND_TO_ZERO" || m == "DOWN")
    return std::trunc(v);
  if (m == "CEIL")
    return std::ceil(v);
  if (m == "FLOOR")
    return std::floor(v);
  HGQC_ASSERT(m == "UP");
  return v < 0 ? std::floor(v) : std::ceil(v);
}

void import(Node &n, ImportContext &) {
  check_known_attrs(n, {"signed", "narrow", "rounding_mode"});
  std::string mode = attr_string(n, "rounding_mode", "ROUND");
  bool ok = false;
  for (const char *m : kModes)
    ok |= mode == m;
  if (!ok) {
    std::string list;
    for (const char *m : kModes)
      list += std::string(list.empty() ? "" : ", ") + m;
    throw UserError("rounding_mode '" + mode + "' is not supported (supported: " + list + ")");
  }
  n.attrs["signed"] = attr_int(n, "signed", 1);
  n.attrs["narrow"] = attr_int(n, "narrow", 0);
  n.attrs["rounding_mode"] = mode;
}

std::vector<ValueType> infer(const Node &, ops::Ins in, ops::Consts c) {
  ops::require_float(in[0]->dtype, "input x");
  ValueType r{in[0]->dtype, in[0]->dims};
  const char *names[] = {"x", "scale", "zeropt", "bitwidth"};
  for (int i = 1; i < 3; ++i)
    if (!broadcast_dims(r.dims, in[i]->dims, r.dims))
      throw UserError(std::string("input '") + names[i] + "' of shape " + dims_str(in[i]->dims) +
                      " does not broadcast with " + dims_str(in[0]->dims));
  if (!std::ranges::all_of(in[3]->dims, [](int64_t d) { return d == 1; })) // kDynamic too
    throw UserError("input 'bitwidth' must be a scalar");
  if (c[3] &&
      !(((*c[3])[0] >= 1 && (*c[3])[0] <= kMaxBitwidth && (*c[3])[0] == std::floor((*c[3])[0]))))
    throw UserError("bitwidth " + std::to_string((*c[3])[0]) + " is not an integer in [1, " +
                    std::to_string(kMaxBitwidth) + "]");
  return {r};
}

std::vector<Tensor> eval(const Node &n, ops::Vals in) {
  double bw = (*in[3])[0];
  if (in[3]->numel() != 1 || !(bw >= 1 && bw <= kMaxBitwidth) || bw != std::floor(bw))
    throw UserError("bitwidth must be an integer scalar in [1, " + std::to_string(kMaxBitwidth) +
                    "]");
  bool sgn = attr_int(n, "signed", 1), narrow = attr_int(n, "narrow", 0);
  std::string mode = attr_string(n, "rounding_mode", "ROUND");
  double lo = sgn ? -std::ldexp(1.0, static_cast<int>(bw) - 1) + (narrow ? 1 : 0) : 0.0;
  double hi = sgn ? std::ldexp(1.0, static_cast<int>(bw) - 1) - 1
                  : std::ldexp(1.0, static_cast<int>(bw)) - 1 - (narrow ? 1 : 0);
  // y_int = x / scale + zeropt, then clip, round, and back: done in two broadcast passes.
  DType t = in[0]->dtype();
  Tensor q = ops::map_binary(*in[0], *in[1], t, [](double x, double s) {
    if (s <= 0 || !std::isfinite(s))
      throw UserError("scale must be positive and finite");
    return x / s;
  });
  q = ops::map_binary(q, *in[2], t, [&](double v, double z) {
    v += z;
    v = std::min(std::max(v, lo), hi);
    return round_mode(v, mode) - z;
  });
  return {ops::map_binary(q, *in[1], t, [](double v, double s) { return v * s; })};
}
} // namespace

const OpDef op_def_Quant = {"Quant", OpDomain::Qonnx, 4, 4, 1, 1, false, &import, &infer, &eval};

} // namespace hgqc
