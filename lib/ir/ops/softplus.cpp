// Softplus: log(1 + e^x). Fixed point: a table (table_common.h); never a dyadic rational
// (log 2 at x = 0, transcendental elsewhere). Backward: dy * sigmoid(x).
#include "ir/ops/table_common.h"

namespace hgqc {
namespace {
struct SoftplusImpl : ops::NoParams {
  template <class T> static ops::TableValue<T> value(const P &, T x) {
    using namespace ops::tmath;
    // x + log(1 + e^-x) for x > 0 keeps e^x from overflowing.
    T y = x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
    // Softplus(x) > max(x, 0): where the correction rounds away, that bound (exact) and above.
    return {y, 1, false, y == (x > 0 ? x : T(0)) ? 1 : 0};
  }
  static double grad(const P &, double x) {
    return static_cast<double>(ops::tmath::sigmoid(static_cast<long double>(x)));
  }
};
constexpr OpDef make_softplus() { return ops::table_op<SoftplusImpl>("Softplus"); }
} // namespace

const OpDef op_def_Softplus = make_softplus();

} // namespace hgqc
