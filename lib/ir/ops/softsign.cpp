// Softsign: x / (1 + |x|). Fixed point: a table (table_common.h) of the exact rational.
// Backward: dy / (1 + |x|)^2.
#include "ir/ops/table_common.h"

namespace hgqc {
namespace {
struct SoftsignImpl : ops::NoParams {
  template <class T> static ops::TableValue<T> value(const P &, T x) {
    bool exact = true;
    T den = ops::tmath::add(T(1), ops::tmath::abs(x), exact);
    return {x, den, exact};
  }
  static double grad(const P &, double x) {
    double d = 1 + std::fabs(x);
    return 1 / (d * d);
  }
};
constexpr OpDef make_softsign() { return ops::table_op<SoftsignImpl>("Softsign"); }
} // namespace

const OpDef op_def_Softsign = make_softsign();

} // namespace hgqc
