// Div: elementwise a / b with numpy broadcasting. Fixed point: only by a constant whose
// every element is +-2^e, which keeps a's integer (negated for -2^e) at exponent f + e.
#include "ir/ops/fixed_common.h"

namespace hgqc {
namespace {
struct DivImpl {
  static constexpr bool kIntegerOk = false;
  static double apply(double a, double b) { return a / b; }
  // The divisor's constant range holds each element at its minimal exponent: +-2^e is
  // exactly the integer +-1 at exponent -e.
  static void check(ops::Ranges in, ops::Consts c) {
    const char *only = "only division by a constant power of two (+-2^e) is exact; multiply by a "
                       "quantized constant instead";
    if (!c[1])
      throw UserError(std::string(c[0] ? "division by a value computed at run time"
                                       : "division of two values computed at run time") +
                      " has no exact fixed-point form; " + only);
    for (size_t e = 0; e < in[1]->el.size(); ++e) {
      const Interval &d = in[1]->el[e];
      if (d.lo == 0)
        throw UserError("division by zero (divisor element " + std::to_string(e) + ")");
      if (d.lo != 1 && d.lo != -1)
        throw UserError("division by " + ops::real_str((*c[1])[static_cast<int64_t>(e)]) +
                        " (divisor element " + std::to_string(e) +
                        ") has no exact fixed-point form; " + only);
    }
  }
  // a / (s * 2^-fb) = s * qa * 2^-(fa - fb) for s = +-1.
  static Interval range(const Interval &a, const Interval &b) {
    return b.lo > 0 ? Interval{a.lo, a.hi, a.f - b.f} : Interval{-a.hi, -a.lo, a.f - b.f};
  }
  static Int128 eval_fixed(int64_t qa, const Interval &, int64_t qb, const Interval &,
                           const Interval &) {
    return static_cast<Int128>(qa) * qb;
  }
  // Hardware: a's bits at another exponent (negated for a negative divisor).
  static NetRef lower(LowerContext &c, NetRef a, NetRef b, const Interval &) {
    auto d = ops::const_value(c.net, b);
    HGQC_ASSERT(d && (*d == 1 || *d == -1), "Div lowering by a non-power-of-two");
    if (a.zero())
      return a;
    NetRef y{a.node, a.f - b.f};
    return *d < 0 ? c.net.neg(y) : y;
  }
};
constexpr OpDef make_div() { return ops::fixed_binary_op<DivImpl>("Div"); }
} // namespace

const OpDef op_def_Div = make_div();

} // namespace hgqc
