// Sub: elementwise a - b with numpy broadcasting.
#include "ir/ops/common.h"

namespace hgqc {
namespace {
struct SubImpl {
  static constexpr bool kIntegerOk = true;
  static double apply(double a, double b) { return a - b; }
};
} // namespace

const OpDef op_def_Sub = ops::binary_op<SubImpl>("Sub");

} // namespace hgqc
