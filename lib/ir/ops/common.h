// Shared helpers and op-family templates for the op files in lib/ir/ops/.
#pragma once

#include "ir/op.h"

#include <cmath>
#include <functional>
#include <optional>

namespace hgqc::ops {

using Ins = std::span<const ValueType *const>;
using Consts = std::span<const Tensor *const>;
using Vals = std::span<const Tensor *const>;

/// Throws UserError unless `t` is float32 or float64.
void require_float(DType t, const char *what);
/// Throws UserError unless `t` is float32, float64, int64 or int32.
void require_numeric(DType t, const char *what);
/// Throws UserError with "expected rank R, got shape S" unless dims has rank r.
void require_rank(const Dims &d, int64_t r, const char *what);
/// Normalises `axis` for rank `rank` or throws UserError naming the attribute.
int64_t checked_axis(int64_t axis, int64_t rank, const char *what = "axis");
/// Two static dimensions agree (kDynamic agrees with anything).
bool dims_compatible(int64_t a, int64_t b);
/// Checks a run-time shape against a static one (kDynamic matches anything).
bool shape_matches(const Dims &actual, const Dims &declared);

/// The constant value of input i of `n` during import, or nullptr.
const Tensor *import_const(const ImportContext &ctx, const Node &n, size_t i);

/// Reads `axes` of Squeeze/Unsqueeze: from constant input 1 (opset >= 13; the input is
/// then dropped) or from the attribute (earlier opsets); nullopt when there are none.
std::optional<std::vector<int64_t>> import_axes(Node &n, const ImportContext &ctx);
/// Normalises `axes` for `rank`, sorts them, rejects repeats, and stores them as the
/// node's canonical `axes` attribute.
void set_axes(Node &n, std::vector<int64_t> axes, int64_t rank);
/// Export form of Squeeze/Unsqueeze at opset 13: the canonical `axes` attribute becomes
/// a constant int64 input.
ExportNode export_axes(const Node &n);

/// Import hook for ops that take no attributes.
void import_no_attrs(Node &n, ImportContext &ctx);
/// The parameters and import hook of an elementwise op without attributes: the op's Impl
/// derives from it (unary_op, table_op).
struct NoParams {
  struct P {};
  static void import(Node &n, ImportContext &c) { import_no_attrs(n, c); }
  static P params(const Node &) { return {}; }
};
/// Import hook for numpy-broadcasting binary ops: before opset 7 they carried
/// `broadcast` (dropped: suffix broadcasting is numpy's) and `axis` (rejected).
void import_binary(Node &n, ImportContext &ctx);
/// Shape inference: one output with the type of input 0.
std::vector<ValueType> infer_like_input0(const Node &n, Ins in, Consts c);

/// Applies f to every element.
template <class F> Tensor map_unary(const Tensor &x, F f) {
  Tensor r(x.dtype(), x.shape());
  auto src = x.data();
  auto dst = r.data();
  for (size_t i = 0; i < src.size(); ++i)
    dst[i] = f(src[i]);
  return r;
}

/// Numpy-broadcast binary map; the result has element type `out`.
Tensor map_binary(const Tensor &a, const Tensor &b, DType out,
                  const std::function<double(double, double)> &f);

/// Family template for elementwise unary float ops: Impl provides
/// `static void import(Node&, ImportContext&)`, `static P params(const Node&)` (the
/// attributes, read once per evaluation) and `static double apply(const P&, double)`.
template <class Impl> std::vector<Tensor> eval_unary(const Node &n, Vals in) {
  require_float(in[0]->dtype(), "input");
  auto p = Impl::params(n);
  return {map_unary(*in[0], [&](double x) { return Impl::apply(p, x); })};
}
template <class Impl> std::vector<ValueType> infer_unary(const Node &, Ins in, Consts) {
  require_float(in[0]->dtype, "input");
  return {*in[0]};
}
/// Training forward of the unary family: Impl::apply per element, in float32.
template <class Impl>
void train_forward_unary(const Node &n, TrainIns in, TrainOuts out, TrainContext &) {
  auto p = Impl::params(n);
  const TrainTensor &x = *in[0];
  TrainTensor &y = *out[0];
  y.resize(x.shape);
  for (size_t i = 0; i < x.v.size(); ++i)
    y.v[i] = static_cast<float>(Impl::apply(p, x.v[i]));
}
/// Backward of the unary family: dx += dy * Impl::grad_y(p, y), the derivative from the forward
/// output y (tanh: 1 - y^2, sparing a second evaluation of the function), where Impl has it;
/// else dx += dy * Impl::grad(p, x), Impl's derivative at x.
template <class Impl>
void backward_unary(const Node &n, TrainIns in, TrainIns out, TrainIns dout, TrainOuts din,
                    TrainContext &) {
  if (!din[0])
    return;
  auto p = Impl::params(n);
  const TrainTensor &x = *in[0], &dy = *dout[0];
  grad_target(*din[0], x.shape);
  if constexpr (requires { Impl::grad_y(p, 0.0f); }) {
    const TrainTensor &y = *out[0];
    for (size_t i = 0; i < x.v.size(); ++i)
      din[0]->v[i] += dy.v[i] * Impl::grad_y(p, y.v[i]);
  } else {
    for (size_t i = 0; i < x.v.size(); ++i)
      din[0]->v[i] += dy.v[i] * static_cast<float>(Impl::grad(p, x.v[i]));
  }
}
/// The unary family's OpDef; with training hooks when Impl has `static double grad(const P&,
/// double x)`, the derivative of apply at x, or `static float grad_y(const P &, float y)`, the
/// derivative from apply's output.
template <class Impl> constexpr OpDef unary_op(std::string_view name) {
  OpDef d{
      name, OpDomain::Onnx, 1, 1, 1, 1, true, &Impl::import, &infer_unary<Impl>, &eval_unary<Impl>};
  if constexpr (
      requires { &Impl::grad; } || requires { &Impl::grad_y; }) {
    d.train_forward = &train_forward_unary<Impl>;
    d.backward = &backward_unary<Impl>;
  }
  return d;
}

/// Family template for elementwise binary ops with numpy broadcasting: Impl provides
/// `static double apply(double a, double b)` and `static constexpr bool kIntegerOk`.
template <class Impl> std::vector<ValueType> infer_binary(const Node &, Ins in, Consts) {
  if (Impl::kIntegerOk)
    require_numeric(in[0]->dtype, "input A");
  else
    require_float(in[0]->dtype, "input A");
  if (in[0]->dtype != in[1]->dtype)
    throw UserError(std::string("inputs have different element types: ") +
                    dtype_name(in[0]->dtype) + " and " + dtype_name(in[1]->dtype));
  ValueType r{in[0]->dtype, {}};
  if (!broadcast_dims(in[0]->dims, in[1]->dims, r.dims))
    throw UserError("shapes " + dims_str(in[0]->dims) + " and " + dims_str(in[1]->dims) +
                    " do not broadcast");
  return {r};
}
template <class Impl> std::vector<Tensor> eval_binary(const Node &, Vals in) {
  Dims d;
  if (!broadcast_dims(in[0]->shape(), in[1]->shape(), d))
    throw UserError("shapes " + dims_str(in[0]->shape()) + " and " + dims_str(in[1]->shape()) +
                    " do not broadcast");
  DType t = in[0]->dtype();
  return {map_binary(*in[0], *in[1], t, [t](double a, double b) {
    return is_float(t) ? Impl::apply(a, b) : round_to_dtype(Impl::apply(a, b), t);
  })};
}
/// Index of output element j in an operand of dims `from` broadcast to `to`: the identity,
/// a repeat of a suffix (j % size), or the general map in `general` (filled when needed).
struct BroadcastIndex {
  enum { Same, Suffix, General } kind = Same;
  int64_t size = 0;
  std::vector<int64_t> general;
  BroadcastIndex(const Dims &from, const Dims &to);
  int64_t operator[](int64_t j) const {
    return kind == Same ? j : kind == Suffix ? j % size : general[static_cast<size_t>(j)];
  }
};

/// Training forward of the binary family (numpy broadcasting), in float32.
template <class Impl>
void train_forward_binary(const Node &, TrainIns in, TrainOuts out, TrainContext &) {
  const TrainTensor &a = *in[0], &b = *in[1];
  Dims d;
  if (!broadcast_dims(a.shape, b.shape, d))
    throw UserError("shapes " + dims_str(a.shape) + " and " + dims_str(b.shape) +
                    " do not broadcast");
  TrainTensor &y = *out[0];
  y.resize(d);
  BroadcastIndex ia(a.shape, d), ib(b.shape, d);
  for (int64_t j = 0; j < y.numel(); ++j)
    y.v[j] = static_cast<float>(Impl::apply(a.v[ia[j]], b.v[ib[j]]));
}
/// Sums `g` (over dims `d`) down to dims `to` (the broadcast's reverse) and adds the sums into
/// `out` (grad_target()); see train_kernels.
void reduce_broadcast(const std::vector<float> &g, const Dims &d, const Dims &to, TrainTensor &out);
/// Backward of the binary family: Impl::da and Impl::db are the partial derivatives of
/// apply; gradients of broadcast operands are summed over the stretched dimensions.
template <class Impl>
void backward_binary(const Node &, TrainIns in, TrainIns out, TrainIns dout, TrainOuts din,
                     TrainContext &) {
  const TrainTensor &a = *in[0], &b = *in[1], &dy = *dout[0];
  const Dims &d = out[0]->shape;
  BroadcastIndex ia(a.shape, d), ib(b.shape, d);
  std::vector<float> full(dy.v.size());
  for (int k = 0; k < 2; ++k) {
    if (!din[k])
      continue;
    for (size_t j = 0; j < full.size(); ++j) {
      double x = a.v[ia[j]], z = b.v[ib[j]];
      full[j] = dy.v[j] * static_cast<float>(k == 0 ? Impl::da(x, z) : Impl::db(x, z));
    }
    reduce_broadcast(full, d, k == 0 ? a.shape : b.shape, *din[k]);
  }
}
/// The binary family's OpDef; with training hooks when Impl has `static double da(double a,
/// double b)` and `db` (the partial derivatives of apply).
template <class Impl> constexpr OpDef binary_op(std::string_view name) {
  OpDef d{name,
          OpDomain::Onnx,
          2,
          2,
          1,
          1,
          true,
          &import_binary,
          &infer_binary<Impl>,
          &eval_binary<Impl>};
  if constexpr (requires { &Impl::da; }) {
    d.train_forward = &train_forward_binary<Impl>;
    d.backward = &backward_binary<Impl>;
  }
  return d;
}

} // namespace hgqc::ops
