// HardSwish: x * max(0, min(1, x / 6 + 1/2)), i.e. x * min(max(x + 3, 0), 6) / 6. Fixed point: a
// table (table_common.h) of the exact rational. Backward: dy * (2x + 3) / 6 on [-3, 3], dy above.
#include "ir/ops/table_common.h"

namespace hgqc {
namespace {
struct HardSwishImpl : ops::NoParams {
  template <class T> static ops::TableValue<T> value(const P &, T x) {
    if (x <= -3)
      return {0, 1, true};
    if (x >= 3)
      return {x, 1, true};
    bool exact = true;
    T num = ops::tmath::mul(x, ops::tmath::add(x, T(3), exact), exact);
    return {num, 6, exact};
  }
  static double grad(const P &, double x) { return x < -3 ? 0.0 : x > 3 ? 1.0 : (2 * x + 3) / 6; }
};
constexpr OpDef make_hardswish() { return ops::table_op<HardSwishImpl>("HardSwish"); }
} // namespace

const OpDef op_def_HardSwish = make_hardswish();

} // namespace hgqc
