// Sub: elementwise a - b with numpy broadcasting. Fixed point: the exact difference,
// aligned to the finer exponent of the two terms (a pruned, constant-zero term is ignored).
#include "ir/ops/fixed_common.h"

namespace hgqc {
namespace {
struct SubImpl : ops::AlignedSum<true> {
  static constexpr bool kIntegerOk = true;
  static double apply(double a, double b) { return a - b; }
};
constexpr OpDef make_sub() { return ops::fixed_binary_op<SubImpl>("Sub"); }
} // namespace

const OpDef op_def_Sub = make_sub();

} // namespace hgqc
