// PRelu: x for x >= 0, slope * x otherwise, the slope broadcast to x (nn.PReLU: one per
// channel, shape [C, 1, 1]). Fixed point: the slope must be a constant (or a quantized constant,
// as HGQ training leaves it); per element the exact leaky ramp of LeakyRelu with that slope;
// hardware: shift-and-add logic for slope * x.
// Backward: dy to x where x >= 0, dy * slope below; dy * x (summed over broadcasts) to the slope.
#include "ir/ops/fixed_common.h"

namespace hgqc {
namespace {
// Opset 1 carried `consumed_inputs` (legacy optimisation hints, meaningless here); opset 7
// brought unidirectional broadcasting, which infer checks for every opset.
void import(Node &n, ImportContext &) {
  check_known_attrs(n, {"consumed_inputs"});
  n.attrs.erase("consumed_inputs");
}

struct PReluImpl {
  static constexpr bool kIntegerOk = false;
  static double apply(double x, double s) { return x >= 0 ? x : s * x; }
  static double da(double x, double s) { return x >= 0 ? 1.0 : s; }
  static double db(double x, double) { return x >= 0 ? 0.0 : x; }

  // A constant, or a quantized constant (HGQ trains the slope behind a weight quantizer):
  // every element of its range is one value.
  static void check(ops::Ranges in, ops::Consts c) {
    bool fixed = c[1] || (in[1] && std::all_of(in[1]->el.begin(), in[1]->el.end(),
                                               [](const Interval &s) { return s.lo == s.hi; }));
    if (!fixed)
      throw UserError("input 'slope' is computed at run time; in fixed point it must be a "
                      "constant");
  }
  static Interval range(const Interval &x, const Interval &s) {
    if (s.lo != s.hi || magnitude_bits(s.lo) > 62)
      throw UserError("slope element " + int128_str(s.lo) + " * 2^" + std::to_string(-s.f) +
                      " has no fixed-point form (it must be below 2^62 in magnitude)");
    auto y = ops::leaky_interval(x, ops::slope_of(s));
    if (!y)
      throw UserError("slope element " +
                      ops::real_str(fixed_to_double(static_cast<int64_t>(s.lo), s.f)) +
                      " (exactly " + int128_str(s.lo) + " * 2^" + std::to_string(-s.f) +
                      ") makes the output wider than " + std::to_string(kMaxFixedWidth) +
                      " bits: its fractional bits widen the positive side and its significant "
                      "bits the negative side; use short slopes such as 0.125 or 0.25");
    return *y;
  }
  static Int128 eval_fixed(int64_t q, const Interval &x, int64_t, const Interval &s,
                           const Interval &y) {
    return ops::leaky_fixed(q, x, y, ops::slope_of(s));
  }
  static NetRef lower(LowerContext &c, NetRef x, NetRef s, const Interval &) {
    auto v = ops::const_value(c.net, s);
    HGQC_ASSERT(v, "PRelu slope is not a constant signal");
    return ops::lower_leaky(c, x, ops::slope_of(Interval{*v, *v, s.f}));
  }
};

// Unidirectional broadcasting: each slope dimension (aligned right) is 1 or X's (a free
// dimension of X, the batch, takes only 1 or the batch).
std::vector<ValueType> infer(const Node &n, ops::Ins in, ops::Consts c) {
  std::vector<ValueType> r = ops::infer_binary<PReluImpl>(n, in, c);
  const Dims &x = in[0]->dims, &s = in[1]->dims;
  bool ok = s.size() <= x.size();
  for (size_t i = 0; ok && i < s.size(); ++i) {
    int64_t xd = x[x.size() - s.size() + i], sd = s[i];
    ok = sd == 1 || sd == xd;
  }
  if (!ok)
    throw UserError("slope of shape " + dims_str(s) + " does not broadcast to X of shape " +
                    dims_str(x) + " (PRelu broadcasts the slope only)");
  r[0].dims = x;
  return r;
}

constexpr OpDef make_prelu() {
  OpDef d = ops::fixed_binary_op<PReluImpl>("PRelu");
  d.import = &import;
  d.infer = &infer;
  return d;
}
} // namespace

const OpDef op_def_PRelu = make_prelu();

} // namespace hgqc
