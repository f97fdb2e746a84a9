// LeakyRelu: x for x >= 0, alpha * x otherwise (alpha defaults to 0.01).
#include "ir/ops/common.h"

namespace hgqc {
namespace {
struct LeakyReluImpl {
  struct P {
    double alpha;
  };
  static void import(Node &n, ImportContext &) {
    check_known_attrs(n, {"alpha"});
    n.attrs["alpha"] = attr_float(n, "alpha", 0.01);
  }
  static P params(const Node &n) { return {attr_float(n, "alpha", 0.01)}; }
  static double apply(const P &p, double x) { return x >= 0 ? x : p.alpha * x; }
};
} // namespace

const OpDef op_def_LeakyRelu = ops::unary_op<LeakyReluImpl>("LeakyRelu");

} // namespace hgqc
