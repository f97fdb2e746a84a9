// Mul: elementwise a * b with numpy broadcasting. Fixed point: the exact product, whose
// exponent is the sum of the operands' and whose bounds are the extreme corner products;
// EBOPs: the product of the operands' widths per element (none for a power-of-two factor);
// hardware: shift-and-add for a constant factor, a multiplier for two run-time values.
#include "ir/ops/fixed_common.h"

#include <algorithm>

namespace hgqc {
namespace {
struct MulImpl {
  static constexpr bool kIntegerOk = true;
  static double apply(double a, double b) { return a * b; }
  static double da(double, double b) { return b; }
  static double db(double a, double) { return a; }
  // Operands hold at most 63 bits (range analysis and constants), so products fit 128.
  static Interval range(const Interval &a, const Interval &b) {
    Int128 c[] = {a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi};
    return Interval{*std::min_element(c, c + 4), *std::max_element(c, c + 4), a.f + b.f};
  }
  static Int128 eval_fixed(int64_t qa, const Interval &, int64_t qb, const Interval &,
                           const Interval &) {
    return static_cast<Int128>(qa) * qb;
  }
  // Hardware: a product with a constant factor is shift-and-add logic; a product of two
  // run-time values a multiplier of the factors' exact widths (Netlist::mul, which refuses
  // products wider than kMaxProductBits).
  static NetRef lower(LowerContext &c, NetRef a, NetRef b, const Interval &) {
    if (ops::const_value(c.net, b))
      return ops::lower_const_mul(c, a, b);
    if (ops::const_value(c.net, a))
      return ops::lower_const_mul(c, b, a);
    return c.net.mul(a, b);
  }
};

// EBOPs: every elementwise product costs the product of its operands' widths, except a
// product with a constant power of two, which is a shift: wiring, no logic.
double ebops(const Node &, std::span<const ValueRange *const> in) {
  if (!in[0] || !in[1])
    return 0;
  Dims d;
  if (!broadcast_dims(in[0]->dims, in[1]->dims, d))
    return 0;
  auto ia = range_index(in[0]->dims, d), ib = range_index(in[1]->dims, d);
  double sum = 0;
  for (size_t j = 0; j < ia.size(); ++j)
    sum += static_cast<double>(in[0]->el[ia[j]].product_width()) * in[1]->el[ib[j]].product_width();
  return sum;
}

constexpr OpDef make_mul() {
  OpDef d = ops::fixed_binary_op<MulImpl>("Mul");
  d.ebops = &ebops;
  return d;
}
} // namespace

const OpDef op_def_Mul = make_mul();

} // namespace hgqc
