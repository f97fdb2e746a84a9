// Abs: |x|. Fixed point: |q| at x's exponent, exact interval (x itself when it cannot be
// negative, mirrored when it cannot be positive); hardware: max(x, -x). Backward: dy * sign(x).
#include "ir/ops/fixed_common.h"

#include <algorithm>

namespace hgqc {
namespace {
struct AbsImpl : ops::NoParams {
  static double apply(const P &, double x) { return std::fabs(x); }
  static double grad(const P &, double x) { return x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0; }

  static P fixed_params(const Node &, ops::Ranges) { return {}; }
  static Interval range(const P &, const Interval &x) {
    if (x.lo >= 0)
      return x;
    if (x.hi <= 0)
      return Interval{-x.hi, -x.lo, x.f};
    return Interval{0, std::max<Int128>(-x.lo, x.hi), x.f};
  }
  static Int128 eval_fixed(const P &, int64_t q, const Interval &, const Interval &) {
    return q < 0 ? -static_cast<Int128>(q) : static_cast<Int128>(q);
  }
  static NetRef lower(const P &, LowerContext &c, NetRef x, const Interval &, const Interval &) {
    Netlist &net = c.net;
    if (x.zero() || net.interval(x).lo >= 0)
      return x;
    if (net.interval(x).hi <= 0)
      return net.neg(x);
    return net.max(x, net.neg(x));
  }
};
constexpr OpDef make_abs() { return ops::fixed_unary_op<AbsImpl>("Abs"); }
} // namespace

const OpDef op_def_Abs = make_abs();

} // namespace hgqc
