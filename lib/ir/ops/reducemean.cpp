// ReduceMean: the mean over `axes` (all axes by default; none with noop_with_empty_axes = 1),
// size-1 dimensions kept when keepdims = 1. Fixed point: the exact sum times the reciprocal of
// the element count (a move of the binary point for 2^s; docs/fixed-point.md#averages
// otherwise). Training: the gradient, divided by the count, goes to every element. EBOPs: each
// addend its width, and the reciprocal products.
#include "ir/ops/reduce_common.h"

namespace hgqc {
namespace {
constexpr OpDef make_reducemean() { return ops::sum_reduce_op<true>("ReduceMean"); }
} // namespace

const OpDef op_def_ReduceMean = make_reducemean();

} // namespace hgqc
