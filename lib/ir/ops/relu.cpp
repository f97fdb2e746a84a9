// Relu: max(x, 0).
#include "ir/ops/common.h"

namespace hgqc {
namespace {
struct ReluImpl {
  struct P {};
  static void import(Node &n, ImportContext &c) { ops::import_no_attrs(n, c); }
  static P params(const Node &) { return {}; }
  static double apply(const P &, double x) { return x > 0 ? x : 0.0; }
};
} // namespace

const OpDef op_def_Relu = ops::unary_op<ReluImpl>("Relu");

} // namespace hgqc
