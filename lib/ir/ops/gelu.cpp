// Gelu (hgqc domain; fuse_activations rewrites PyTorch's nn.GELU export into it): x * Phi(x),
// or with approximate = "tanh" x * (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2. Fixed point:
// a table (table_common.h); exact at x = 0, elsewhere taken as not dyadic (an entry within
// 2^-100 of a rounding boundary is refused). Backward: dy * (Phi(x) + x phi(x)), or the tanh
// form's derivative.
#include "ir/ops/table_common.h"

namespace hgqc {
namespace {
// sqrt(2/pi) to 40 digits.
constexpr const char *kSqrt2OverPi = "0.7978845608028653558798921198687637369517";
constexpr double kKappa = 0.044715; // the tanh form's cubic coefficient, exactly 44715e-6

struct GeluImpl {
  struct P {
    bool tanh;
  };
  static void import(Node &n, ImportContext &) {
    check_known_attrs(n, {"approximate"});
    std::string a = attr_string(n, "approximate", "none");
    if (a != "none" && a != "tanh")
      throw UserError("attribute 'approximate' must be \"none\" or \"tanh\", got \"" + a + "\"");
    n.attrs["approximate"] = a;
  }
  static P params(const Node &n) { return {attr_string(n, "approximate", "none") == "tanh"}; }

  // x * Phi(x) = x (1 - erfc(|x| / sqrt 2) / 2) for x >= 0, x erfc(|x| / sqrt 2) / 2 below.
  // |x| / sqrt 2 is rounded to z; its error dz (from an FMA and the low part of 1/sqrt 2)
  // enters to first order, erfc(z + dz) = erfc(z) - 2/sqrt(pi) e^(-z^2) dz, so that the
  // result keeps the precision of erfc itself also where erfc is steep.
  template <class T> static T erf_form(T x) {
    using namespace ops::tmath;
    T r = sqrt(T(0.5)), r_lo = fma(-r, r, T(0.5)) / (2 * r); // 1/sqrt 2 = r + r_lo
    T a = abs(x), z = a * r, dz = fma(a, r, -z) + a * r_lo;
    T e = erfc(z) - T(1.1283791670955126) * exp(-z * z) * dz;
    return x >= 0 ? x * (1 - e / 2) : x * e / 2;
  }
  // x * sigmoid(2 u), u = sqrt(2/pi) (x + kappa x^3): the two terms have the sign of x.
  template <class T> static T tanh_form(T x) {
    using namespace ops::tmath;
    static const T c = from_decimal<T>(kSqrt2OverPi), kappa = T(44715) / T(1000000);
    T u = c * (x + kappa * x * x * x);
    return x * sigmoid(2 * u);
  }
  template <class T> static ops::TableValue<T> value(const P &p, T x) {
    if (x == 0)
      return {0, 1, true};
    T y = p.tanh ? tanh_form(x) : erf_form(x);
    // Phi and sigmoid(2u) lie in (1/2, 1) for x > 0 and in (0, 1/2) below: y lies strictly
    // between x / 2 and x, or x / 2 and 0.
    return x > 0 ? ops::tmath::bounded(y, x / 2, x) : ops::tmath::bounded(y, x / 2, T(0));
  }
  static double grad(const P &p, double x) {
    if (!p.tanh) // Phi(x) + x phi(x)
      return 0.5 * std::erfc(-x * 0.7071067811865476) +
             x * 0.3989422804014327 * std::exp(-0.5 * x * x);
    double c = 0.7978845608028654, u = c * (x + kKappa * x * x * x), t = std::tanh(u);
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * kKappa * x * x);
  }
};
constexpr OpDef make_gelu() {
  OpDef d = ops::table_op<GeluImpl>("Gelu");
  d.domain = OpDomain::Hgqc;
  return d;
}
} // namespace

const OpDef op_def_Gelu = make_gelu();

} // namespace hgqc
