// Min: the elementwise minimum of 1..N inputs with numpy broadcasting. Fixed point: the exact
// minimum on the finest grid of the non-zero inputs. Hardware: a tree of comparators
// (NetOp::Min). Training: the gradient goes to the input that is the minimum (the first of equal
// ones). EBOPs: none (as Add).
#include "ir/ops/variadic_common.h"

namespace hgqc {
namespace {
constexpr OpDef make_min() { return ops::variadic_op<ops::Variadic::Min>("Min"); }
} // namespace

const OpDef op_def_Min = make_min();

} // namespace hgqc
