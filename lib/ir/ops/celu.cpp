// Celu: max(0, x) + min(0, alpha * (e^(x / alpha) - 1)) (alpha defaults to 1; nn.CELU). Fixed
// point: a table (table_common.h); exact for x >= 0. Backward: dy for x > 0, dy * e^(x / alpha)
// otherwise.
#include "ir/ops/table_common.h"

namespace hgqc {
namespace {
struct CeluImpl {
  struct P {
    double alpha;
  };
  static void import(Node &n, ImportContext &) {
    check_known_attrs(n, {"alpha"});
    double a = attr_float(n, "alpha", 1.0);
    if (!(a > 0) || !std::isfinite(a))
      throw UserError("attribute 'alpha' must be a positive number, got " +
                      attr_str(n.attrs.at("alpha"))); // the default 1 is positive
    n.attrs["alpha"] = a;
  }
  static P params(const Node &n) { return {attr_float(n, "alpha", 1.0)}; }
  template <class T> static ops::TableValue<T> value(const P &p, T x) {
    if (x >= 0)
      return {x, 1, true};
    // x / alpha is rounded; e^z - 1 has a relative condition number |z| e^z / (1 - e^z) <= 1
    // for z < 0, so the value keeps the precision of expm1.
    T a = static_cast<T>(p.alpha), e = ops::tmath::expm1(x / a);
    // e^z - 1 > -1: where it rounds to -1, -alpha (exact) is the bound the value lies above.
    return {a * e, 1, false, e == -1 ? 1 : 0};
  }
  static double grad(const P &p, double x) { return x > 0 ? 1.0 : std::exp(x / p.alpha); }
};
constexpr OpDef make_celu() { return ops::table_op<CeluImpl>("Celu"); }
} // namespace

const OpDef op_def_Celu = make_celu();

} // namespace hgqc
