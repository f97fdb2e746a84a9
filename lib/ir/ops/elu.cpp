// Elu: x for x > 0, alpha * (e^x - 1) otherwise (alpha defaults to 1). Fixed point: a table
// (table_common.h); exact for x >= 0. Backward: dy for x > 0, dy * alpha * e^x otherwise.
#include "ir/ops/table_common.h"

namespace hgqc {
namespace {
struct EluImpl {
  struct P {
    double alpha;
  };
  static void import(Node &n, ImportContext &) {
    check_known_attrs(n, {"alpha"});
    n.attrs["alpha"] = attr_float(n, "alpha", 1.0);
  }
  static P params(const Node &n) { return {attr_float(n, "alpha", 1.0)}; }
  template <class T> static ops::TableValue<T> value(const P &p, T x) {
    if (x >= 0)
      return {x, 1, true};
    T a = static_cast<T>(p.alpha), e = ops::tmath::expm1(x);
    // e^x - 1 > -1: where it rounds to -1, -alpha (exact) is the bound the value lies beside.
    return {a * e, 1, false, e == -1 ? (a > 0 ? 1 : a < 0 ? -1 : 0) : 0};
  }
  static double grad(const P &p, double x) { return x > 0 ? 1.0 : p.alpha * std::exp(x); }
};
constexpr OpDef make_elu() { return ops::table_op<EluImpl>("Elu"); }
} // namespace

const OpDef op_def_Elu = make_elu();

} // namespace hgqc
