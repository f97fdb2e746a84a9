// HardSigmoid: max(0, min(1, alpha * x + beta)) (ONNX defaults alpha 0.2, beta 0.5; PyTorch
// exports alpha 1/6 as a float32). Fixed point: a table (table_common.h) of the exact value.
// Backward: dy * alpha where 0 < alpha * x + beta < 1.
#include "ir/ops/table_common.h"

#include <algorithm>

namespace hgqc {
namespace {
constexpr float kAlpha = 0.2f, kBeta = 0.5f;

struct HardSigmoidImpl {
  struct P {
    double alpha, beta;
  };
  static void import(Node &n, ImportContext &) {
    check_known_attrs(n, {"alpha", "beta"});
    n.attrs["alpha"] = attr_float(n, "alpha", kAlpha);
    n.attrs["beta"] = attr_float(n, "beta", kBeta);
  }
  static P params(const Node &n) {
    return {attr_float(n, "alpha", kAlpha), attr_float(n, "beta", kBeta)};
  }
  template <class T> static ops::TableValue<T> value(const P &p, T x) {
    bool exact = true;
    T t = ops::tmath::mul(static_cast<T>(p.alpha), x, exact);
    T y = ops::tmath::add(t, static_cast<T>(p.beta), exact);
    if (y <= 0 || y >= 1) // the clamp is exact
      return {y <= 0 ? T(0) : T(1), 1, true};
    return {y, 1, exact};
  }
  static double grad(const P &p, double x) {
    double y = p.alpha * x + p.beta;
    return y > 0 && y < 1 ? p.alpha : 0.0;
  }
};
constexpr OpDef make_hardsigmoid() { return ops::table_op<HardSigmoidImpl>("HardSigmoid"); }
} // namespace

const OpDef op_def_HardSigmoid = make_hardsigmoid();

} // namespace hgqc
