// Neg: -x. Fixed point: -q at x's exponent, the interval mirrored; hardware: a negation.
// Backward: -dy.
#include "ir/ops/fixed_common.h"

namespace hgqc {
namespace {
struct NegImpl : ops::NoParams {
  static double apply(const P &, double x) { return -x; }
  static double grad(const P &, double) { return -1.0; }

  static P fixed_params(const Node &, ops::Ranges) { return {}; }
  static Interval range(const P &, const Interval &x) { return Interval{-x.hi, -x.lo, x.f}; }
  static Int128 eval_fixed(const P &, int64_t q, const Interval &, const Interval &) {
    return -static_cast<Int128>(q);
  }
  static NetRef lower(const P &, LowerContext &c, NetRef x, const Interval &, const Interval &) {
    return c.net.neg(x);
  }
};
constexpr OpDef make_neg() { return ops::fixed_unary_op<NegImpl>("Neg"); }
} // namespace

const OpDef op_def_Neg = make_neg();

} // namespace hgqc
