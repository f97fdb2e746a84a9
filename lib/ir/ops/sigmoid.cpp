// Sigmoid: 1 / (1 + exp(-x)). Fixed point: a table (table_common.h); exact at x = 0 (1/2),
// elsewhere transcendental. Backward: dy * y (1 - y).
#include "ir/ops/table_common.h"

namespace hgqc {
namespace {
struct SigmoidImpl : ops::NoParams {
  template <class T> static ops::TableValue<T> value(const P &, T x) {
    if (x == 0)
      return {1, 2, true};
    return ops::tmath::bounded(ops::tmath::sigmoid(x), T(0), T(1));
  }
  static float grad_y(const P &, float y) { return y * (1 - y); }
};
constexpr OpDef make_sigmoid() { return ops::table_op<SigmoidImpl>("Sigmoid"); }
} // namespace

const OpDef op_def_Sigmoid = make_sigmoid();

} // namespace hgqc
