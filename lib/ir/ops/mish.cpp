// Mish (hgqc domain; fuse_activations rewrites PyTorch's nn.Mish export x * Tanh(Softplus(x))
// into it): x * tanh(log(1 + e^x)). Fixed point: a table (table_common.h); exact at x = 0,
// elsewhere transcendental. Backward: dy * (t + x (1 - t^2) sigmoid(x)), t = tanh(softplus x).
#include "ir/ops/table_common.h"

namespace hgqc {
namespace {
struct MishImpl : ops::NoParams {
  // tanh(log(1 + u)) = (u^2 + 2u) / (u^2 + 2u + 2) with u = e^x; for x > 0 in w = e^-x,
  // (1 + 2w) / (1 + 2w + 2w^2), so that nothing overflows or cancels.
  template <class T> static T t_of(T x) {
    if (x > 0) {
      T w = ops::tmath::exp(-x), n = 1 + 2 * w;
      return n / (n + 2 * w * w);
    }
    T u = ops::tmath::exp(x), n = u * (u + 2);
    return n / (n + 2);
  }
  template <class T> static ops::TableValue<T> value(const P &, T x) {
    if (x == 0)
      return {0, 1, true};
    T y = x * t_of(x);
    // t lies in (0, 1): y lies strictly between 0 and x.
    return x > 0 ? ops::tmath::bounded(y, T(0), x) : ops::tmath::bounded(y, x, T(0));
  }
  static double grad(const P &, double x) {
    double t = t_of(x), s = static_cast<double>(ops::tmath::sigmoid(static_cast<long double>(x)));
    return t + x * (1 - t * t) * s;
  }
};
constexpr OpDef make_mish() {
  OpDef d = ops::table_op<MishImpl>("Mish");
  d.domain = OpDomain::Hgqc;
  return d;
}
} // namespace

const OpDef op_def_Mish = make_mish();

} // namespace hgqc
