// Sum: the elementwise sum of 1..N inputs with numpy broadcasting. Fixed point: the exact sum of
// the inputs aligned to the finest exponent of its non-zero terms (as Add). Hardware: an adder
// graph. Training: the gradient goes to every input. EBOPs: none (as Add).
#include "ir/ops/variadic_common.h"

namespace hgqc {
namespace {
constexpr OpDef make_sum() { return ops::variadic_op<ops::Variadic::Sum>("Sum"); }
} // namespace

const OpDef op_def_Sum = make_sum();

} // namespace hgqc
