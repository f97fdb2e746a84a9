// Selu: gamma * x for x > 0, gamma * alpha * (exp(x) - 1) otherwise.
#include "ir/ops/common.h"

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
  static double apply(const P &p, double x) {
    return x > 0 ? p.gamma * x : p.gamma * p.alpha * std::expm1(x);
  }
};
constexpr OpDef make_selu() { return ops::unary_op<SeluImpl>("Selu"); }
} // namespace

const OpDef op_def_Selu = make_selu();

} // namespace hgqc
