// Relu: max(x, 0). Fixed point: max(q, 0) at x's exponent; hardware: a mux on the sign bit.
// Backward: dy where x > 0.
#include "ir/ops/fixed_common.h"

#include <algorithm>

namespace hgqc {
namespace {
struct ReluImpl : ops::NoParams {
  static double apply(const P &, double x) { return x > 0 ? x : 0.0; }
  static double grad(const P &, double x) { return x > 0 ? 1.0 : 0.0; }

  static P fixed_params(const Node &, ops::Ranges) { return {}; }
  static Interval range(const P &, const Interval &x) {
    return Interval{std::max<Int128>(x.lo, 0), std::max<Int128>(x.hi, 0), x.f};
  }
  static Int128 eval_fixed(const P &, int64_t q, const Interval &, const Interval &) {
    return std::max<int64_t>(q, 0);
  }
  static NetRef lower(const P &, LowerContext &c, NetRef x, const Interval &, const Interval &) {
    return c.net.relu(x);
  }
};
constexpr OpDef make_relu() { return ops::fixed_unary_op<ReluImpl>("Relu"); }
} // namespace

const OpDef op_def_Relu = make_relu();

} // namespace hgqc
