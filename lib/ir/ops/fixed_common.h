// Family templates for the fixed-point hooks (range, eval_fixed) of op files: exact
// elementwise unary and binary ops, aligned sums, and ops whose outputs copy input elements.
#pragma once

#include "ir/ops/common.h"

#include <string>

namespace hgqc::ops {

using Ranges = std::span<const ValueRange *const>;
using FixedIns = std::span<const FixedTensor *const>;
/// An op's float evaluation hook.
using EvalFn = std::vector<Tensor> (*)(const Node &, Vals);

/// Compares the exact values a * 2^-fa and b * 2^-fb (|a|, |b| < 2^63): -1, 0 or 1.
int cmp_fixed(Int128 a, int fa, Int128 b, int fb);
/// q * 2^-f written on the grid 2^-to: q * 2^(to - f). Asserts to >= f (unless q = 0) and
/// that the result fits (callers hold values the range analysis bounds).
Int128 to_grid(Int128 q, int f, int to);
/// The int64 value of an exact result the range analysis bounds (asserts that it fits).
int64_t narrow_q(Int128 v);
/// Shortest decimal text that reads back to x (as a float32 when x is one: 0.01f gives
/// "0.01").
std::string real_str(double x);

// ---- Elementwise unary ops ------------------------------------------------------------

/// Family template for exact elementwise unary ops (output shape and range dims are the
/// input's). Impl provides `static P fixed_params(const Node &, Ranges in)` (parameters,
/// checked: throws UserError), `static Interval range(const P &, const Interval &x)`
/// (exact output interval of one element) and `static Int128 eval_fixed(const P &, int64_t
/// q, const Interval &x, const Interval &y)` (output integer on y's grid for input q on
/// x's). Optionally `static void check(const Node &, Ranges in, Consts c)`, run by the
/// range hook only (e.g. to require constant inputs).
template <class Impl> std::vector<ValueRange> unary_range(const Node &n, Ranges in, Consts c) {
  if constexpr (requires { Impl::check(n, in, c); })
    Impl::check(n, in, c);
  auto p = Impl::fixed_params(n, in);
  const ValueRange &x = *in[0];
  ValueRange y{x.dims, std::vector<Interval>(x.el.size())};
  for (size_t e = 0; e < x.el.size(); ++e)
    y.el[e] = Impl::range(p, x.el[e]);
  return {y};
}

/// The emulator hook of the unary family (see unary_range).
template <class Impl>
std::vector<FixedTensor> unary_eval_fixed(const Node &n, FixedIns in, const FixedContext &ctx) {
  auto p = Impl::fixed_params(n, ctx.in_ranges);
  const FixedTensor &x = *in[0];
  const ValueRange &rx = *ctx.in_ranges[0], &ry = *ctx.out_ranges[0];
  HGQC_ASSERT(rx.dims == ry.dims, "unary op with ranges of different dims");
  auto idx = range_index(rx.dims, x.shape);
  FixedTensor y{x.shape, std::vector<int64_t>(x.q.size())};
  for (size_t j = 0; j < x.q.size(); ++j)
    y.q[j] = narrow_q(Impl::eval_fixed(p, x.q[j], rx.el[idx[j]], ry.el[idx[j]]));
  return {y};
}

/// The lowering hook of the unary family: Impl provides `static NetRef lower(const P &,
/// LowerContext &, NetRef x, const Interval &x_range, const Interval &y_range)`.
template <class Impl>
std::vector<std::vector<NetRef>> unary_lower(const Node &n, LowerContext &ctx) {
  auto p = Impl::fixed_params(n, ctx.in_ranges);
  const ValueRange &rx = *ctx.in_ranges[0], &ry = *ctx.out_ranges[0];
  const std::vector<NetRef> &x = *ctx.in[0];
  std::vector<NetRef> y(x.size());
  for (size_t e = 0; e < x.size(); ++e)
    y[e] = Impl::lower(p, ctx, x[e], rx.el[e], ry.el[e]);
  return {y};
}

/// ops::unary_op with the fixed-point hooks of the unary family (and its lowering when
/// Impl has one).
template <class Impl> constexpr OpDef fixed_unary_op(std::string_view name) {
  OpDef d = unary_op<Impl>(name);
  d.range = &unary_range<Impl>;
  d.eval_fixed = &unary_eval_fixed<Impl>;
  if constexpr (requires { &Impl::lower; })
    d.lower = &unary_lower<Impl>;
  return d;
}

// ---- Elementwise binary ops -----------------------------------------------------------

/// Family template for exact elementwise binary ops with numpy broadcasting (over range
/// dims in the analysis, over run-time shapes in the emulator). Impl provides
/// `static Interval range(const Interval &a, const Interval &b)` and `static Int128
/// eval_fixed(int64_t qa, const Interval &a, int64_t qb, const Interval &b, const Interval
/// &y)`; optionally `static void check(Ranges in, Consts c)`, run by the range hook before
/// any element (e.g. to require a constant operand).
template <class Impl> std::vector<ValueRange> binary_range(const Node &, Ranges in, Consts c) {
  if constexpr (requires { Impl::check(in, c); })
    Impl::check(in, c);
  const ValueRange &a = *in[0], &b = *in[1];
  ValueRange y;
  bool ok = broadcast_dims(a.dims, b.dims, y.dims);
  HGQC_ASSERT(ok, "ranges " + dims_str(a.dims) + " and " + dims_str(b.dims) + " do not broadcast");
  auto ia = range_index(a.dims, y.dims), ib = range_index(b.dims, y.dims);
  y.el.resize(ia.size());
  for (size_t e = 0; e < y.el.size(); ++e)
    y.el[e] = Impl::range(a.el[ia[e]], b.el[ib[e]]);
  return {y};
}

/// Shape of the numpy broadcast of two run-time shapes, or UserError.
Dims broadcast_shape(const Dims &a, const Dims &b);

/// The emulator hook of the binary family (see binary_range).
template <class Impl>
std::vector<FixedTensor> binary_eval_fixed(const Node &, FixedIns in, const FixedContext &ctx) {
  const FixedTensor &a = *in[0], &b = *in[1];
  const ValueRange &ra = *ctx.in_ranges[0], &rb = *ctx.in_ranges[1], &ry = *ctx.out_ranges[0];
  Dims shape = broadcast_shape(a.shape, b.shape);
  auto ta = range_index(a.shape, shape), tb = range_index(b.shape, shape);
  auto ia = range_index(ra.dims, shape), ib = range_index(rb.dims, shape),
       iy = range_index(ry.dims, shape);
  FixedTensor y{shape, std::vector<int64_t>(ta.size())};
  for (size_t j = 0; j < y.q.size(); ++j)
    y.q[j] = narrow_q(
        Impl::eval_fixed(a.q[ta[j]], ra.el[ia[j]], b.q[tb[j]], rb.el[ib[j]], ry.el[iy[j]]));
  return {y};
}

/// The lowering hook of the binary family: Impl provides `static NetRef lower(LowerContext &,
/// NetRef a, NetRef b, const Interval &y_range)`.
template <class Impl>
std::vector<std::vector<NetRef>> binary_lower(const Node &, LowerContext &ctx) {
  const ValueRange &ra = *ctx.in_ranges[0], &rb = *ctx.in_ranges[1], &ry = *ctx.out_ranges[0];
  auto ia = range_index(ra.dims, ry.dims), ib = range_index(rb.dims, ry.dims);
  const std::vector<NetRef> &a = *ctx.in[0], &b = *ctx.in[1];
  std::vector<NetRef> y(ry.el.size());
  for (size_t e = 0; e < y.size(); ++e)
    y[e] = Impl::lower(ctx, a[ia[e]], b[ib[e]], ry.el[e]);
  return {y};
}

/// ops::binary_op with the fixed-point hooks of the binary family (and its lowering when
/// Impl has one).
template <class Impl> constexpr OpDef fixed_binary_op(std::string_view name) {
  OpDef d = binary_op<Impl>(name);
  d.range = &binary_range<Impl>;
  d.eval_fixed = &binary_eval_fixed<Impl>;
  if constexpr (requires { &Impl::lower; })
    d.lower = &binary_lower<Impl>;
  return d;
}

/// The product of a signal and a constant signal (a Const node or zero), as a one-by-one
/// constant product built by the backend (shifts and adds).
NetRef lower_const_mul(LowerContext &ctx, NetRef x, NetRef c);
/// The value of a signal that must be a constant (a Const node or the zero ref), as an
/// integer at the ref's exponent; nullopt when it is computed at run time.
std::optional<Int128> const_value(const Netlist &net, NetRef r);

/// Exact interval of a + b (a - b when `negate_b`): aligned to the
/// finest exponent of the non-zero terms; a zero term is ignored.
Interval sum_interval(const Interval &a, Interval b, bool negate_b);
/// The emulator side of sum_interval: qa and qb on y's grid, added (or subtracted).
Int128 sum_fixed(int64_t qa, const Interval &a, int64_t qb, const Interval &b, const Interval &y,
                 bool negate_b);

/// Binary-family Impl part for exact aligned sums (Add) and differences (Sub).
template <bool Negate> struct AlignedSum {
  static Interval range(const Interval &a, const Interval &b) { return sum_interval(a, b, Negate); }
  static NetRef lower(LowerContext &ctx, NetRef a, NetRef b, const Interval &) {
    return ctx.net.add(a, b, Negate);
  }
  static Int128 eval_fixed(int64_t qa, const Interval &a, int64_t qb, const Interval &b,
                           const Interval &y) {
    return sum_fixed(qa, a, qb, b, y, Negate);
  }
  // Partial derivatives (training).
  static double da(double, double) { return 1.0; }
  static double db(double, double) { return Negate ? -1.0 : 1.0; }
};

// ---- Leaky ramps: x for x >= 0, alpha * x below (LeakyRelu, PRelu) -----------------------

/// A constant slope alpha = a * 2^-s with an integer a and s >= 0 (s = 0 for integer alphas).
struct Slope {
  Int128 a = 0; ///< alpha * 2^s
  int s = 0;    ///< fractional bits of alpha
};
/// The slope of the exact constant `c` (an interval with lo == hi, |lo| < 2^62).
Slope slope_of(const Interval &c);
/// Exact interval of x >= 0 ? x : alpha * x: x itself where x cannot be negative, else on the
/// grid x.f + s; nullopt when that needs more than kMaxFixedWidth bits.
std::optional<Interval> leaky_interval(const Interval &x, const Slope &p);
/// The emulator side of leaky_interval: input q on x's grid, the result on y's.
Int128 leaky_fixed(int64_t q, const Interval &x, const Interval &y, const Slope &p);
/// Hardware of the leaky ramp: alpha * x is shift-and-add logic; for 0 < alpha <= 1 the result
/// is max(x, alpha * x), otherwise relu(x) - alpha * relu(-x).
NetRef lower_leaky(LowerContext &c, NetRef x, const Slope &p);

// ---- Ops whose outputs copy input elements ---------------------------------------------

/// The copy family's range hook: output 0's element e has the interval of the input
/// element it copies. The mapping comes from the op's own float evaluation `eval` run on
/// tensors that hold element numbers; inputs 0..n_data-1 (all when n_data < 0) carry data,
/// the others must be constants and are passed as they are. Throws UserError when the op
/// does not keep the batch as the leading dimension with each sample copied from the same
/// sample of its inputs (checked by running it at batch 2 as well).
std::vector<ValueRange> copy_range(EvalFn eval, int n_data, const Node &n, Ranges in, Consts c);
/// The copy family's emulator hook: the same mapping at the run-time shapes.
std::vector<FixedTensor> copy_eval_fixed(EvalFn eval, int n_data, const Node &n, FixedIns in,
                                         const FixedContext &ctx);

/// The copy family's lowering hook: output elements are the signals of the input elements
/// they copy (no logic).
std::vector<std::vector<NetRef>> copy_lower(EvalFn eval, int n_data, const Node &n,
                                            LowerContext &ctx);

/// The copy family's hooks (range, eval_fixed, lower, train_forward, backward) added to `d`, the op
/// whose float evaluation is `Eval`, with data inputs 0..NData-1 (all when NData < 0).
template <EvalFn Eval, int NData> constexpr OpDef with_copy_hooks(OpDef d);

/// copy_range as an OpDef hook for the op whose float evaluation is `Eval`.
template <EvalFn Eval, int NData>
std::vector<ValueRange> copy_range_hook(const Node &n, Ranges in, Consts c) {
  return copy_range(Eval, NData, n, in, c);
}
/// copy_eval_fixed as an OpDef hook for the op whose float evaluation is `Eval`.
template <EvalFn Eval, int NData>
std::vector<FixedTensor> copy_eval_fixed_hook(const Node &n, FixedIns in, const FixedContext &ctx) {
  return copy_eval_fixed(Eval, NData, n, in, ctx);
}

/// The copy family's training forward: output element k is the input element that the op's
/// float evaluation maps it to (traced on element numbers once per input shapes and cached).
/// Inputs beyond n_data are read from TrainContext::consts.
void copy_train_forward(EvalFn eval, int n_data, const Node &n, TrainIns in, TrainOuts out,
                        TrainContext &ctx);
/// The copy family's backward: each output gradient is added to the input element it copies.
void copy_backward(EvalFn eval, int n_data, const Node &n, TrainIns in, TrainIns out, TrainIns dout,
                   TrainOuts din, TrainContext &ctx);

/// copy_train_forward as an OpDef hook.
template <EvalFn Eval, int NData>
void copy_train_forward_hook(const Node &n, TrainIns in, TrainOuts out, TrainContext &ctx) {
  copy_train_forward(Eval, NData, n, in, out, ctx);
}
/// copy_backward as an OpDef hook.
template <EvalFn Eval, int NData>
void copy_backward_hook(const Node &n, TrainIns in, TrainIns out, TrainIns dout, TrainOuts din,
                        TrainContext &ctx) {
  copy_backward(Eval, NData, n, in, out, dout, din, ctx);
}

/// copy_lower as an OpDef hook for the op whose float evaluation is `Eval`.
template <EvalFn Eval, int NData>
std::vector<std::vector<NetRef>> copy_lower_hook(const Node &n, LowerContext &ctx) {
  return copy_lower(Eval, NData, n, ctx);
}

template <EvalFn Eval, int NData> constexpr OpDef with_copy_hooks(OpDef d) {
  d.range = &copy_range_hook<Eval, NData>;
  d.eval_fixed = &copy_eval_fixed_hook<Eval, NData>;
  d.lower = &copy_lower_hook<Eval, NData>;
  d.train_forward = &copy_train_forward_hook<Eval, NData>;
  d.backward = &copy_backward_hook<Eval, NData>;
  return d;
}

} // namespace hgqc::ops
