// Add: elementwise a + b with numpy broadcasting. Fixed point: the exact sum, aligned to
// the finer exponent of the two terms (a pruned, constant-zero term is ignored).
#include "ir/ops/fixed_common.h"

namespace hgqc {
namespace {
struct AddImpl : ops::AlignedSum<false> {
  static constexpr bool kIntegerOk = true;
  static double apply(double a, double b) { return a + b; }
};
constexpr OpDef make_add() { return ops::fixed_binary_op<AddImpl>("Add"); }
} // namespace

const OpDef op_def_Add = make_add();

} // namespace hgqc
