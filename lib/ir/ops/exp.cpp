// Exp: e^x. Fixed point: a table (table_common.h); exact at x = 0, elsewhere transcendental
// (Lindemann-Weierstrass). Backward: dy * e^x.
#include "ir/ops/table_common.h"

namespace hgqc {
namespace {
struct ExpImpl : ops::NoParams {
  template <class T> static ops::TableValue<T> value(const P &, T x) {
    if (x == 0)
      return {1, 1, true};
    T e = ops::tmath::exp(x);
    return {e, 1, false, e == 0 ? 1 : 0}; // e^x > 0 where it underflows
  }
  static float grad_y(const P &, float y) { return y; }
};
constexpr OpDef make_exp() { return ops::table_op<ExpImpl>("Exp"); }
} // namespace

const OpDef op_def_Exp = make_exp();

} // namespace hgqc
