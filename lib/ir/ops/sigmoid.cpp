// Sigmoid: 1 / (1 + exp(-x)).
#include "ir/ops/common.h"

namespace hgqc {
namespace {
struct SigmoidImpl {
  struct P {};
  static void import(Node &n, ImportContext &c) { ops::import_no_attrs(n, c); }
  static P params(const Node &) { return {}; }
  static double apply(const P &, double x) {
    // Written so that neither branch overflows exp().
    if (x >= 0)
      return 1.0 / (1.0 + std::exp(-x));
    double e = std::exp(x);
    return e / (1.0 + e);
  }
};
constexpr OpDef make_sigmoid() { return ops::unary_op<SigmoidImpl>("Sigmoid"); }
} // namespace

const OpDef op_def_Sigmoid = make_sigmoid();

} // namespace hgqc
