// Tanh: hyperbolic tangent. Fixed point: a table (table_common.h); exact at x = 0, elsewhere
// transcendental. Backward: dy * (1 - y^2).
#include "ir/ops/table_common.h"

namespace hgqc {
namespace {
struct TanhImpl : ops::NoParams {
  template <class T> static ops::TableValue<T> value(const P &, T x) {
    if (x == 0)
      return {0, 1, true};
    return ops::tmath::bounded(ops::tmath::tanh(x), T(-1), T(1));
  }
  static float grad_y(const P &, float y) { return 1 - y * y; }
};
constexpr OpDef make_tanh() { return ops::table_op<TanhImpl>("Tanh"); }
} // namespace

const OpDef op_def_Tanh = make_tanh();

} // namespace hgqc
