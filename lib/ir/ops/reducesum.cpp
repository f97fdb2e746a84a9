// ReduceSum: the sum over `axes` (all axes by default; none with noop_with_empty_axes = 1),
// size-1 dimensions kept when keepdims = 1. Fixed point: the exact sum (shift-and-add in
// hardware). Training: the gradient goes to every element of the sum. EBOPs: each addend its
// width.
#include "ir/ops/reduce_common.h"

namespace hgqc {
namespace {
constexpr OpDef make_reducesum() { return ops::sum_reduce_op<false>("ReduceSum"); }
} // namespace

const OpDef op_def_ReduceSum = make_reducesum();

} // namespace hgqc
