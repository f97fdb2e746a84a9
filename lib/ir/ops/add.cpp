// Add: elementwise a + b with numpy broadcasting.
#include "ir/ops/common.h"

namespace hgqc {
namespace {
struct AddImpl {
  static constexpr bool kIntegerOk = true;
  static double apply(double a, double b) { return a + b; }
};
} // namespace

const OpDef op_def_Add = ops::binary_op<AddImpl>("Add");

} // namespace hgqc
