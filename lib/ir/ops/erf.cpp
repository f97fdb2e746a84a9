// Erf: the error function. Fixed point: a table (table_common.h); exact at x = 0; elsewhere
// taken as not dyadic (an entry within 2^-100 of a rounding boundary is refused).
// Backward: dy * 2 / sqrt(pi) * e^(-x^2).
#include "ir/ops/table_common.h"

namespace hgqc {
namespace {
struct ErfImpl : ops::NoParams {
  template <class T> static ops::TableValue<T> value(const P &, T x) {
    if (x == 0)
      return {0, 1, true};
    // Near +-1 from erfc, whose small value keeps its precision.
    T a = ops::tmath::abs(x), y = a < 1 ? ops::tmath::erf(a) : 1 - ops::tmath::erfc(a);
    return ops::tmath::bounded(x < 0 ? -y : y, T(-1), T(1));
  }
  static double grad(const P &, double x) {
    return 1.1283791670955126 * std::exp(-x * x); // 2 / sqrt(pi)
  }
};
constexpr OpDef make_erf() { return ops::table_op<ErfImpl>("Erf"); }
} // namespace

const OpDef op_def_Erf = make_erf();

} // namespace hgqc
