// Div: elementwise a / b with numpy broadcasting. Fixed point: only by a constant. Each divisor
// element is +-m * 2^-e with m odd; a / (+-2^-e) keeps a's integer (negated for a negative
// divisor) at exponent f - e, and an odd m > 1 multiplies it by the quantized reciprocal of m
// that averages use (docs/fixed-point.md#averages). Training: d/da = 1/b, d/db = -a/b^2.
#include "ir/ops/fixed_linear.h"

namespace hgqc {
namespace {
namespace lin = ops::linear;

// The reciprocal of divisor element b (+-m at exponent b.f, m odd) for dividends in a.
lin::Reciprocal reciprocal_of(const Interval &a, const Interval &b) {
  Int128 m = b.lo < 0 ? -b.lo : b.lo;
  return lin::reciprocal(static_cast<int64_t>(m), a);
}

// R = round(2^k / m) for the exponent k that the range analysis chose (1 for m = 1).
Int128 reciprocal_at(Int128 m, int k) { return m == 1 ? 1 : ((Int128{1} << (k + 1)) / m + 1) / 2; }

struct DivImpl {
  static constexpr bool kIntegerOk = false;
  static double apply(double a, double b) { return a / b; }
  static double da(double, double b) { return 1.0 / b; }
  static double db(double a, double b) { return -a / (b * b); }
  // The divisor's constant range holds each element at its minimal exponent: +-m with m odd.
  static void check(ops::Ranges in, ops::Consts c) {
    if (!c[1])
      throw UserError(std::string(c[0] ? "division by a value computed at run time"
                                       : "division of two values computed at run time") +
                      " has no exact fixed-point form; only division by a constant has");
    for (size_t e = 0; e < in[1]->el.size(); ++e) {
      const Interval &d = in[1]->el[e];
      if (d.lo == 0)
        throw UserError("division by zero (divisor element " + std::to_string(e) + ")");
      if (d.lo > INT64_MAX || d.lo < -INT64_MAX)
        throw UserError("division by " + ops::real_str((*c[1])[static_cast<int64_t>(e)]) +
                        " (divisor element " + std::to_string(e) +
                        "): its odd part is wider than 63 bits");
    }
  }
  // a / (+-m 2^-fb) = +-(qa R) 2^-(fa - fb + k), R 2^-k the reciprocal of m.
  static Interval range(const Interval &a, const Interval &b) {
    lin::Reciprocal r = reciprocal_of(a, b);
    Interval y = lin::average_interval(a, r);
    y.f -= b.f;
    return b.lo > 0 ? y : Interval{-y.hi, -y.lo, y.f};
  }
  static Int128 eval_fixed(int64_t qa, const Interval &a, int64_t qb, const Interval &b,
                           const Interval &y) {
    Int128 m = qb < 0 ? -Int128{qb} : Int128{qb};
    return static_cast<Int128>(qa) * reciprocal_at(m, y.f - a.f + b.f) * (qb < 0 ? -1 : 1);
  }
};

// Hardware: a's bits at another exponent (negated for a negative divisor), times R for an odd
// part m > 1 (a constant product, shift-and-add).
std::vector<std::vector<NetRef>> lower(const Node &, LowerContext &ctx) {
  const ValueRange &ra = *ctx.in_ranges[0], &rb = *ctx.in_ranges[1], &ry = *ctx.out_ranges[0];
  auto ia = range_index(ra.dims, ry.dims), ib = range_index(rb.dims, ry.dims);
  const std::vector<NetRef> &a = *ctx.in[0];
  std::vector<NetRef> y(ry.el.size());
  for (size_t e = 0; e < y.size(); ++e) {
    const Interval &va = ra.el[ia[e]], &vb = rb.el[ib[e]];
    NetRef x = a[ia[e]];
    if (x.zero())
      continue;
    Int128 m = vb.lo < 0 ? -vb.lo : vb.lo;
    int k = ry.el[e].f - va.f + vb.f;
    Int128 c = reciprocal_at(m, k) * (vb.lo < 0 ? -1 : 1);
    // x * c * 2^-(k - fb): the value a * (1 / b) on y's grid or a coarser one.
    if (c == 1 || c == -1) {
      NetRef s{x.node, x.f + k - vb.f};
      y[e] = c < 0 ? ctx.net.neg(s) : s;
    } else {
      y[e] = ops::lower_const_mul(ctx, x, ctx.net.constant(c, k - vb.f));
    }
  }
  return {y};
}

constexpr OpDef make_div() {
  OpDef d = ops::fixed_binary_op<DivImpl>("Div");
  d.lower = &lower;
  return d;
}
} // namespace

const OpDef op_def_Div = make_div();

} // namespace hgqc
