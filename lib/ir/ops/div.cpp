// Div: elementwise a / b with numpy broadcasting.
#include "ir/ops/common.h"

namespace hgqc {
namespace {
struct DivImpl {
  static constexpr bool kIntegerOk = false;
  static double apply(double a, double b) { return a / b; }
};
} // namespace

const OpDef op_def_Div = ops::binary_op<DivImpl>("Div");

} // namespace hgqc
