// Silu (hgqc domain; fuse_activations rewrites PyTorch's nn.SiLU export x * Sigmoid(x) into
// it): x * sigmoid(x). Fixed point: a table (table_common.h); exact at x = 0, elsewhere
// transcendental. Backward: dy * s (1 + x (1 - s)), s = sigmoid(x).
#include "ir/ops/table_common.h"

namespace hgqc {
namespace {
struct SiluImpl : ops::NoParams {
  template <class T> static ops::TableValue<T> value(const P &, T x) {
    if (x == 0)
      return {0, 1, true};
    T y = x * ops::tmath::sigmoid(x);
    // sigmoid lies in (1/2, 1) for x > 0 and in (0, 1/2) below.
    return x > 0 ? ops::tmath::bounded(y, x / 2, x) : ops::tmath::bounded(y, x / 2, T(0));
  }
  static double grad(const P &, double x) {
    double s = static_cast<double>(ops::tmath::sigmoid(static_cast<long double>(x)));
    return s * (1 + x * (1 - s));
  }
};
constexpr OpDef make_silu() {
  OpDef d = ops::table_op<SiluImpl>("Silu");
  d.domain = OpDomain::Hgqc;
  return d;
}
} // namespace

const OpDef op_def_Silu = make_silu();

} // namespace hgqc
