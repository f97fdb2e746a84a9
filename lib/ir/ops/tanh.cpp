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
constexpr OpDef make_tanh() { return ops::unary_op<TanhImpl>("Tanh"); }
} // namespace

const OpDef op_def_Tanh = make_tanh();

} // namespace hgqc
