// Tanh: hyperbolic tangent.
#include "ir/ops/common.h"

namespace hgqc {
namespace {
struct TanhImpl {
  struct P {};
  static void import(Node &n, ImportContext &c) { ops::import_no_attrs(n, c); }
  static P params(const Node &) { return {}; }
  static double apply(const P &, double x) { return std::tanh(x); }
};
} // namespace

const OpDef op_def_Tanh = ops::unary_op<TanhImpl>("Tanh");

} // namespace hgqc
