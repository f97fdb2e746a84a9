// Mean: the elementwise mean of 1..N inputs with numpy broadcasting. Fixed point: the exact sum
// times the reciprocal of N, as ReduceMean (a move of the binary point for N = 2^s;
// docs/fixed-point.md#averages otherwise). Hardware: an adder graph, then the reciprocal's
// constant product. Training: 1/N of the gradient to every input. EBOPs: the reciprocal products.
#include "ir/ops/variadic_common.h"

namespace hgqc {
namespace {
constexpr OpDef make_mean() { return ops::variadic_op<ops::Variadic::Mean>("Mean"); }
} // namespace

const OpDef op_def_Mean = make_mean();

} // namespace hgqc
