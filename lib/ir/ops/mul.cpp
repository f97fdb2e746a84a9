// Mul: elementwise a * b with numpy broadcasting.
#include "ir/ops/common.h"

namespace hgqc {
namespace {
struct MulImpl {
  static constexpr bool kIntegerOk = true;
  static double apply(double a, double b) { return a * b; }
};
} // namespace

const OpDef op_def_Mul = ops::binary_op<MulImpl>("Mul");

} // namespace hgqc
