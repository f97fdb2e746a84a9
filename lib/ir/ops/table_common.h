// Family template for elementwise table functions (Sigmoid, Tanh, Exp, ...): float and
// training hooks, and the fixed-point form, a ROM over the input codes read through the
// quantizer that the fuse_table_quant pass folds into the node (docs/fixed-point.md).
#pragma once

#include "ir/ops/fixed_common.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <memory>
#include <type_traits>

namespace hgqc::ops {

/// IEEE binary128 (GCC's __float128, libquadmath): the precision that decides table entries
/// close to a rounding boundary.
using Quad = __float128;

/// Widest input element (bits of its exact range) a table accepts: 2^16 entries.
inline constexpr int kMaxTableInputWidth = 16;

/// A function value num / den in precision T. `exact`: num and den hold exact values (the
/// function is rational there and nothing was rounded), so the quotient decides ties itself;
/// otherwise num (den 1) approximates, within a few units in the last place, a value that is
/// not a dyadic rational, so it never lies on a rounding boundary.
/// `side`: for a value that is not exact but where num is the exact bound that the function
/// approaches (tanh's 1 at large x, where precision T rounds to it), the sign of the true value
/// minus num (-1: just below); 0 otherwise.
template <class T> struct TableValue {
  T num;
  T den = 1;
  bool exact = false;
  int side = 0;
};

/// Precision-generic maths for table functions: long double (libm) and Quad (libquadmath).
namespace tmath {
long double exp(long double x);
long double expm1(long double x);
long double log1p(long double x);
long double log(long double x);
long double tanh(long double x);
long double erf(long double x);
long double erfc(long double x);
long double fma(long double a, long double b, long double c);
long double sqrt(long double x);
Quad exp(Quad x);
Quad expm1(Quad x);
Quad log1p(Quad x);
Quad log(Quad x);
Quad tanh(Quad x);
Quad erf(Quad x);
Quad erfc(Quad x);
Quad fma(Quad a, Quad b, Quad c);
Quad sqrt(Quad x);
/// The decimal number `s` rounded to precision T (strtod, strtold, strtoflt128).
template <class T> T from_decimal(const char *s);
template <> long double from_decimal<long double>(const char *s);
template <> Quad from_decimal<Quad>(const char *s);
template <> inline double from_decimal<double>(const char *s) { return std::strtod(s, nullptr); }
// double: the float evaluator and training (no table entry is decided from these).
inline double exp(double x) { return std::exp(x); }
inline double expm1(double x) { return std::expm1(x); }
inline double log1p(double x) { return std::log1p(x); }
inline double log(double x) { return std::log(x); }
inline double tanh(double x) { return std::tanh(x); }
inline double erf(double x) { return std::erf(x); }
inline double erfc(double x) { return std::erfc(x); }
inline double fma(double a, double b, double c) { return std::fma(a, b, c); }
inline double sqrt(double x) { return std::sqrt(x); }
/// |x|.
template <class T> T abs(T x) { return x < 0 ? -x : x; }
/// The value `v` of a function whose true values lie strictly between `lo` and `hi`: when `v`
/// rounded onto one of them, that bound with the side the true value lies on.
template <class T> TableValue<T> bounded(T v, T lo, T hi) {
  return {v, 1, false, v == hi ? -1 : v == lo ? 1 : 0};
}
/// a + b, and whether the sum is exact (TwoSum: its rounding error is 0).
template <class T> T add(T a, T b, bool &exact) {
  T s = a + b, bb = s - a;
  exact = exact && (a - (s - bb)) + (b - bb) == 0;
  return s;
}
/// a * b, and whether the product is exact (its fused error is 0).
template <class T> T mul(T a, T b, bool &exact) {
  T p = a * b;
  exact = exact && fma(a, b, -p) == 0;
  return p;
}
/// The logistic function 1 / (1 + e^-x), written so that neither branch overflows.
template <class T> T sigmoid(T x) {
  if (x >= 0)
    return 1 / (1 + exp(-x));
  T e = exp(x);
  return e / (1 + e);
}
} // namespace tmath

/// The entry f(x) quantized to `fmt` with `rnd` and `ovf`, from its long double value when
/// that is farther than 2^-48 (relative) from every rounding boundary, else from its Quad
/// value (margin 2^-100), else exactly when the value is exact. Throws UserError when neither
/// decides (a value within 2^-100 of a boundary that is not known exactly). `value(T x)` gives
/// TableValue<T> for T = long double and Quad; x is the input code's value q * 2^-f.
template <class F>
QuantResult table_entry(F value, int64_t q, int f, FixedFormat fmt, RoundMode rnd,
                        OverflowMode ovf);

/// Decides one value (see table_entry): nullopt when it lies within 2^-margin_bits (relative)
/// of a rounding boundary and is not exact. Throws UserError for a wrapped value beyond 2^100
/// output units.
template <class T>
std::optional<QuantResult> decide_entry(const TableValue<T> &v, int margin_bits, FixedFormat fmt,
                                        RoundMode rnd, OverflowMode ovf);
/// q * 2^-f as a Quad (exact).
Quad quad_ldexp(int64_t q, int f);
/// Throws the UserError of an entry that no precision decides.
[[noreturn]] void table_undecidable(int64_t q, int f, FixedFormat fmt);

template <class F>
QuantResult table_entry(F value, int64_t q, int f, FixedFormat fmt, RoundMode rnd,
                        OverflowMode ovf) {
  if (auto r = decide_entry(value(std::ldexp(static_cast<long double>(q), -f)), 48, fmt, rnd, ovf))
    return *r;
  if (auto r = decide_entry(value(quad_ldexp(q, -f)), 100, fmt, rnd, ovf))
    return *r;
  table_undecidable(q, f, fmt);
}

/// One element's table: entries for the input integers lo..hi (on the input grid) and which
/// of them overflowed the output format.
struct TableData {
  Int128 lo = 0;
  std::vector<int64_t> q;
  std::vector<uint8_t> overflow;
};

/// The output quantizer of a fused table node (inputs 1..3 and its attributes).
struct TableQuant {
  std::vector<FixedFormat> fmts; ///< per element of the range (or run-time tensor)
  RoundMode rnd = RoundMode::TRN;
  OverflowMode ovf = OverflowMode::WRAP;
};
/// The fused quantizer of `n` broadcast to `dims`; throws UserError when the node has none
/// (its output is not read by a FixedQuant alone).
TableQuant table_quant(const Node &n, std::span<const Tensor *const> consts, const Dims &dims);
/// Whether `n` carries its output quantizer (fuse_table_quant).
inline bool table_fused(const Node &n) { return n.inputs.size() == 4; }
/// Throws UserError unless the input element `e` of range `x` has at most
/// kMaxTableInputWidth bits.
void check_table_input(const Interval &x, size_t e);
/// The table of one element, computed once per process and key (thread-safe cache): `key`
/// names the function and its parameters; `make` computes the entries.
std::shared_ptr<const TableData> cached_table(const std::string &key, const Interval &x,
                                              FixedFormat fmt, RoundMode rnd, OverflowMode ovf,
                                              const std::function<QuantResult(int64_t)> &make);
/// The ONNX form of a fused node: the function node on input 0, then a FixedQuant node.
std::vector<ExportNode> table_export(const Node &n, const ExportContext &ctx);

// ---- The family template ----------------------------------------------------------------
// Impl provides `struct P` (trivially copyable), `static void import(Node &, ImportContext &)`,
// `static P params(const Node &)`, `template <class T> static TableValue<T> value(const P &, T
// x)` (the function in precision T) and its derivative for training: `static double grad(const P
// &, double x)`, or `static float grad_y(const P &, float y)` from the output (backward_unary).

template <class Impl> struct Table {
  using P = typename Impl::P;
  static double apply(const P &p, double x) { // in double: float evaluation and training
    auto v = Impl::value(p, x);
    return v.num / v.den;
  }
  static double grad(const P &p, double x) requires requires { Impl::grad(p, x); }
  { return Impl::grad(p, x); }
  static float grad_y(const P &p, float y) requires requires { Impl::grad_y(p, y); }
  { return Impl::grad_y(p, y); }
  static void import(Node &n, ImportContext &c) {
    if (n.inputs.size() != 1)
      throw UserError("takes one input, got " + std::to_string(n.inputs.size()));
    Impl::import(n, c);
  }
  static P params(const Node &n) { return Impl::params(n); }

  static std::string key(const Node &n) {
    std::string k(op_def(n.op).name);
    if constexpr (!std::is_empty_v<P>) {
      static_assert(std::is_trivially_copyable_v<P>);
      P p = Impl::params(n);
      k.append(reinterpret_cast<const char *>(&p), sizeof p);
    }
    return k;
  }
  static QuantResult entry(const P &p, int64_t q, int f, FixedFormat fmt, RoundMode rnd,
                           OverflowMode ovf) {
    return table_entry([&](auto x) { return Impl::value(p, x); }, q, f, fmt, rnd, ovf);
  }
  static std::shared_ptr<const TableData> data(const Node &n, const Interval &x, FixedFormat fmt,
                                               const TableQuant &tq) {
    P p = Impl::params(n);
    return cached_table(key(n), x, fmt, tq.rnd, tq.ovf,
                        [&](int64_t q) { return entry(p, q, x.f, fmt, tq.rnd, tq.ovf); });
  }

  static std::vector<ValueType> infer(const Node &n, Ins in, Consts c) {
    if (table_fused(n))
      return op_def_FixedQuant.infer(n, in, c); // checks the formats as the quantizer did
    return infer_unary<Table>(n, in, c);
  }
  static std::vector<Tensor> eval(const Node &n, Vals in) {
    if (!table_fused(n))
      return eval_unary<Table>(n, in);
    require_float(in[0]->dtype(), "input");
    const Tensor &x = *in[0];
    TableQuant tq = table_quant(n, in, x.shape());
    P p = Impl::params(n);
    Tensor y(x.dtype(), x.shape());
    for (int64_t j = 0; j < x.numel(); ++j) {
      if (!std::isfinite(x[j]))
        throw UserError("input element " + std::to_string(j) + " is not finite");
      auto v = Impl::value(p, static_cast<Quad>(x[j]));
      auto r = decide_entry(v, 100, tq.fmts[j], tq.rnd, tq.ovf);
      if (!r) // the float form: no guarantee needed, the nearest decision is as good
        r = decide_entry(TableValue<Quad>{v.num, v.den, true}, 100, tq.fmts[j], tq.rnd, tq.ovf);
      y[j] = fixed_to_double(r->q, tq.fmts[j].f);
    }
    return {y};
  }
  static std::vector<ValueRange> range(const Node &n, Ranges in, Consts c) {
    const ValueRange &x = *in[0];
    TableQuant tq = table_quant(n, c, x.dims);
    ValueRange y{x.dims, std::vector<Interval>(x.el.size())};
    for (size_t e = 0; e < x.el.size(); ++e) {
      if (tq.fmts[e].pruned())
        continue;
      check_table_input(x.el[e], e);
      auto t = data(n, x.el[e], tq.fmts[e], tq);
      auto [mn, mx] = std::minmax_element(t->q.begin(), t->q.end());
      y.el[e] = Interval{*mn, *mx, tq.fmts[e].f};
      if (y.el[e].zero())
        y.el[e] = Interval{};
    }
    return {y};
  }
  static std::vector<FixedTensor> eval_fixed(const Node &n, FixedIns in, const FixedContext &ctx) {
    const FixedTensor &x = *in[0];
    const ValueRange &rx = *ctx.in_ranges[0];
    // The formats arrive as integer tensors in the emulator; the range dims index them.
    std::vector<const Tensor *> consts(4, nullptr);
    std::vector<Tensor> fm(3);
    for (int j = 1; j < 4; ++j) {
      const FixedTensor &t = *in[j];
      fm[j - 1] = Tensor(DType::Int64, t.shape);
      for (int64_t e = 0; e < fm[j - 1].numel(); ++e)
        fm[j - 1][e] = fixed_to_double(t.q[e], ctx.in_ranges[j]->el[e].f);
      consts[j] = &fm[j - 1];
    }
    TableQuant tq = table_quant(n, consts, rx.dims);
    std::vector<std::shared_ptr<const TableData>> tabs(rx.el.size());
    for (size_t e = 0; e < tabs.size(); ++e)
      if (!tq.fmts[e].pruned())
        tabs[e] = data(n, rx.el[e], tq.fmts[e], tq);
    RangeMap idx(rx.dims, x.shape);
    FixedTensor y{x.shape, std::vector<int64_t>(x.q.size())};
    int64_t over = 0;
    for (size_t j = 0; j < x.q.size(); ++j) {
      const auto &t = tabs[static_cast<size_t>(idx[static_cast<int64_t>(j)])];
      if (!t)
        continue;
      Int128 k = x.q[j] - t->lo;
      HGQC_ASSERT(k >= 0 && k < static_cast<Int128>(t->q.size()), "table input off its range");
      y.q[j] = t->q[static_cast<size_t>(k)];
      over += t->overflow[static_cast<size_t>(k)];
    }
    if (ctx.overflows)
      *ctx.overflows += over;
    return {y};
  }
  static std::vector<std::vector<NetRef>> lower(const Node &n, LowerContext &ctx) {
    const ValueRange &rx = *ctx.in_ranges[0], &ry = *ctx.out_ranges[0];
    TableQuant tq = table_quant(n, ctx.consts, rx.dims);
    const std::vector<NetRef> &x = *ctx.in[0];
    std::vector<NetRef> y(x.size());
    for (size_t e = 0; e < x.size(); ++e) {
      if (ry.el[e].zero())
        continue;
      auto t = data(n, rx.el[e], tq.fmts[e], tq);
      NetTable nt{t->lo, std::vector<Int128>(t->q.begin(), t->q.end())};
      y[e] = ctx.net.table(x[e], rx.el[e].f, std::move(nt), tq.fmts[e].f);
    }
    return {y};
  }
};

/// The OpDef of table function `Impl` (see Table): float, training and fixed-point hooks.
template <class Impl> constexpr OpDef table_op(std::string_view name) {
  using T = Table<Impl>;
  OpDef d = unary_op<T>(name);
  d.max_inputs = 4;
  d.infer = &T::infer;
  d.eval = &T::eval;
  d.range = &T::range;
  d.eval_fixed = &T::eval_fixed;
  d.lower = &T::lower;
  d.export_form = &table_export;
  d.table = true;
  return d;
}

} // namespace hgqc::ops
