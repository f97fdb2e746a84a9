// LeakyRelu: x for x >= 0, alpha * x otherwise (alpha defaults to ONNX's float32 0.01).
// Fixed point: alpha must be exact, alpha = A * 2^-s with an integer A and s >= 0 (s = 0
// for integer alphas); y = q * 2^s for q >= 0 and q * A for q < 0, both at exponent f + s
// (at f, unchanged, where x cannot be negative).
#include "ir/ops/fixed_common.h"

#include <algorithm>

namespace hgqc {
namespace {
constexpr float kDefaultAlpha = 0.01f;

struct LeakyReluImpl {
  struct P {
    double alpha;
  };
  static void import(Node &n, ImportContext &) {
    check_known_attrs(n, {"alpha"});
    n.attrs["alpha"] = attr_float(n, "alpha", kDefaultAlpha);
  }
  static P params(const Node &n) { return {attr_float(n, "alpha", kDefaultAlpha)}; }
  static double apply(const P &p, double x) { return x >= 0 ? x : p.alpha * x; }
  static double grad(const P &p, double x) { return x >= 0 ? 1.0 : p.alpha; }

  struct FP {
    double alpha;
    Interval exact; // alpha as a constant interval
    Int128 a;       // alpha * 2^s, an integer
    int s;
  };
  static FP fixed_params(const Node &n, ops::Ranges) {
    double alpha = attr_float(n, "alpha", kDefaultAlpha);
    auto iv = constant_interval(alpha);
    if (!iv || std::fabs(alpha) >= 0x1p62)
      throw UserError("alpha = " + ops::real_str(alpha) +
                      " has no fixed-point form (it must be below 2^62 in magnitude, with at "
                      "most " +
                      std::to_string(kMaxFixedExp) + " fractional bits)");
    FP p{alpha, *iv, iv->lo, std::max(iv->f, 0)};
    if (iv->f < 0)
      p.a = ops::to_grid(iv->lo, iv->f, 0);
    return p;
  }
  [[noreturn]] static void too_wide(const FP &p) {
    throw UserError("with alpha = " + ops::real_str(p.alpha) + " (exactly " +
                    int128_str(p.exact.lo) + " * 2^" + std::to_string(-p.exact.f) +
                    ") the output needs more than " + std::to_string(kMaxFixedWidth) +
                    " bits: alpha's fractional bits widen the positive side and its significant "
                    "bits the negative side; use a short alpha such as 0.125 or 0.25");
  }
  static Interval range(const FP &p, const Interval &x) {
    if (x.lo >= 0) // never negative: the identity (also for the constant zero)
      return x;
    Int128 c1 = x.lo * p.a, c2 = std::min<Int128>(x.hi, -1) * p.a;
    Interval y{std::min(c1, c2), std::max(c1, c2), x.f + p.s};
    if (x.hi >= 0) { // and the positive side [0, hi] * 2^s
      if (x.hi > 0 && p.s > kMaxFixedWidth)
        too_wide(p);
      y.lo = std::min<Int128>(y.lo, 0);
      y.hi = std::max(y.hi, ops::to_grid(x.hi, x.f, y.f));
    }
    if (y.width() > kMaxFixedWidth)
      too_wide(p);
    return y;
  }
  static Int128 eval_fixed(const FP &p, int64_t q, const Interval &x, const Interval &y) {
    if (q >= 0)
      return ops::to_grid(q, x.f, y.f);
    HGQC_ASSERT(y.f == x.f + p.s, "LeakyRelu output exponent");
    return static_cast<Int128>(q) * p.a;
  }
  // Hardware: alpha * x is shift-and-add logic. For 0 < alpha <= 1 the result is
  // max(x, alpha * x); otherwise relu(x) - alpha * relu(-x).
  static NetRef lower(const FP &p, LowerContext &c, NetRef x, const Interval &, const Interval &) {
    Netlist &net = c.net;
    if (x.zero() || net.interval(x).lo >= 0)
      return x;
    NetRef a = net.constant(p.a, p.s);
    if (p.a > 0 && p.a <= (Int128{1} << p.s))
      return net.max(x, ops::lower_const_mul(c, x, a));
    NetRef neg_part = ops::lower_const_mul(c, net.relu(net.neg(x)), a);
    return net.add(net.relu(x), neg_part, true);
  }
};
constexpr OpDef make_leakyrelu() { return ops::fixed_unary_op<LeakyReluImpl>("LeakyRelu"); }
} // namespace

const OpDef op_def_LeakyRelu = make_leakyrelu();

} // namespace hgqc
