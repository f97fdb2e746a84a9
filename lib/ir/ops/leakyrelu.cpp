// LeakyRelu: x for x >= 0, alpha * x otherwise (alpha defaults to ONNX's float32 0.01).
// Fixed point: alpha must be exact, alpha = A * 2^-s with an integer A and s >= 0 (s = 0
// for integer alphas); y = q * 2^s for q >= 0 and q * A for q < 0, both at exponent f + s
// (at f, unchanged, where x cannot be negative).
#include "ir/ops/fixed_common.h"

#include <cmath>

namespace hgqc {
namespace {
constexpr float kDefaultAlpha = 0.01f;

struct LeakyReluImpl {
  struct P {
    double alpha;
  };
  static void import(Node &n, ImportContext &) {
    check_known_attrs(n, {"alpha"});
    n.attrs["alpha"] = attr_float(n, "alpha", kDefaultAlpha);
  }
  static P params(const Node &n) { return {attr_float(n, "alpha", kDefaultAlpha)}; }
  static double apply(const P &p, double x) { return x >= 0 ? x : p.alpha * x; }
  static double grad(const P &p, double x) { return x >= 0 ? 1.0 : p.alpha; }

  struct FP {
    double alpha;
    Interval exact; // alpha as a constant interval
    ops::Slope slope;
  };
  static FP fixed_params(const Node &n, ops::Ranges) {
    double alpha = attr_float(n, "alpha", kDefaultAlpha);
    auto iv = constant_interval(alpha);
    if (!iv || std::fabs(alpha) >= 0x1p62)
      throw UserError("alpha = " + ops::real_str(alpha) +
                      " has no fixed-point form (it must be below 2^62 in magnitude, with at "
                      "most " +
                      std::to_string(kMaxFixedExp) + " fractional bits)");
    return FP{alpha, *iv, ops::slope_of(*iv)};
  }
  static Interval range(const FP &p, const Interval &x) {
    auto y = ops::leaky_interval(x, p.slope);
    if (!y)
      throw UserError("with alpha = " + ops::real_str(p.alpha) + " (exactly " +
                      int128_str(p.exact.lo) + " * 2^" + std::to_string(-p.exact.f) +
                      ") the output needs more than " + std::to_string(kMaxFixedWidth) +
                      " bits: alpha's fractional bits widen the positive side and its "
                      "significant bits the negative side; use a short alpha such as 0.125 or "
                      "0.25");
    return *y;
  }
  static Int128 eval_fixed(const FP &p, int64_t q, const Interval &x, const Interval &y) {
    return ops::leaky_fixed(q, x, y, p.slope);
  }
  static NetRef lower(const FP &p, LowerContext &c, NetRef x, const Interval &, const Interval &) {
    return ops::lower_leaky(c, x, p.slope);
  }
};
constexpr OpDef make_leakyrelu() { return ops::fixed_unary_op<LeakyReluImpl>("LeakyRelu"); }
} // namespace

const OpDef op_def_LeakyRelu = make_leakyrelu();

} // namespace hgqc
