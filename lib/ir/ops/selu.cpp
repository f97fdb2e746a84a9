// Selu: gamma * x for x > 0, gamma * alpha * (exp(x) - 1) otherwise. Fixed point: a table
// (table_common.h); exact for x >= 0. Backward: dy * gamma, or dy * gamma * alpha * e^x.
#include "ir/ops/table_common.h"

namespace hgqc {
namespace {
// ONNX defaults (float32 values of the constants of Klambauer et al.).
constexpr double kAlpha = 1.67326319217681884765625;
constexpr double kGamma = 1.05070102214813232421875;

struct SeluImpl {
  struct P {
    double alpha, gamma;
  };
  static void import(Node &n, ImportContext &) {
    check_known_attrs(n, {"alpha", "gamma"});
    n.attrs["alpha"] = attr_float(n, "alpha", kAlpha);
    n.attrs["gamma"] = attr_float(n, "gamma", kGamma);
  }
  static P params(const Node &n) {
    return {attr_float(n, "alpha", kAlpha), attr_float(n, "gamma", kGamma)};
  }
  template <class T> static ops::TableValue<T> value(const P &p, T x) {
    T g = static_cast<T>(p.gamma);
    if (x >= 0) {
      bool exact = true;
      T y = ops::tmath::mul(g, x, exact);
      return {y, 1, exact};
    }
    bool exact = true;
    T ga = ops::tmath::mul(g, static_cast<T>(p.alpha), exact), e = ops::tmath::expm1(x);
    // e^x - 1 > -1: where it rounds to -1, -gamma * alpha (when exact) is the bound beside it.
    int side = e == -1 && exact ? (ga > 0 ? 1 : ga < 0 ? -1 : 0) : 0;
    return {ga * e, 1, false, side};
  }
  static double grad(const P &p, double x) {
    return x > 0 ? p.gamma : p.gamma * p.alpha * std::exp(x);
  }
};
constexpr OpDef make_selu() { return ops::table_op<SeluImpl>("Selu"); }
} // namespace

const OpDef op_def_Selu = make_selu();

} // namespace hgqc
