// Reciprocal: 1 / x. Fixed point: a table (table_common.h) of the exact rational; the entry at
// x = 0 is +infinity, which a saturating output quantizer clamps to its largest code (a wrapping
// one refuses it). Backward: -dy / x^2.
#include "ir/ops/table_common.h"

namespace hgqc {
namespace {
struct ReciprocalImpl : ops::NoParams {
  template <class T> static ops::TableValue<T> value(const P &, T x) { return {T(1), x, true}; }
  static double grad(const P &, double x) { return -1 / (x * x); }
};
constexpr OpDef make_reciprocal() { return ops::table_op<ReciprocalImpl>("Reciprocal"); }
} // namespace

const OpDef op_def_Reciprocal = make_reciprocal();

} // namespace hgqc
