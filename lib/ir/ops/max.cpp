// Max: the elementwise maximum of 1..N inputs with numpy broadcasting. Fixed point: the exact
// maximum on the finest grid of the non-zero inputs. Hardware: a tree of comparators
// (NetOp::Max). Training: the gradient goes to the input that is the maximum (the first of equal
// ones). EBOPs: none (as Add).
#include "ir/ops/variadic_common.h"

namespace hgqc {
namespace {
constexpr OpDef make_max() { return ops::variadic_op<ops::Variadic::Max>("Max"); }
} // namespace

const OpDef op_def_Max = make_max();

} // namespace hgqc
