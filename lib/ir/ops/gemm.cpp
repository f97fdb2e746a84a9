// Gemm: Y = alpha * A' * B' + beta * C, with A' = A or A^T (transA) and likewise B';
// C (optional) broadcasts to [M, N]. Fixed point (alpha = beta = 1): each output element is
// the exact sum of its products and its bias (fixed_linear.h); EBOPs: the product of the
// factors' widths over every multiplication of one sample. Training: the samples are A's rows
// (transA = 0); the products run through the shared GEMM kernel.
#include "ir/ops/fixed_linear.h"
#include "ir/ops/train_kernels.h"

#include <cstdio>

namespace hgqc {
namespace {
void import(Node &n, ImportContext &) {
  // `broadcast` (before opset 7) only allowed what later opsets always allow.
  check_known_attrs(n, {"alpha", "beta", "transA", "transB", "broadcast"});
  n.attrs.erase("broadcast");
  n.attrs["alpha"] = attr_float(n, "alpha", 1.0);
  n.attrs["beta"] = attr_float(n, "beta", 1.0);
  n.attrs["transA"] = attr_int(n, "transA", 0);
  n.attrs["transB"] = attr_int(n, "transB", 0);
}

struct MNK {
  int64_t m, n, k;
};

MNK dims_of(const Node &nd, const Dims &a, const Dims &b) {
  ops::require_rank(a, 2, "input A");
  ops::require_rank(b, 2, "input B");
  bool ta = attr_int(nd, "transA", 0), tb = attr_int(nd, "transB", 0);
  int64_t m = ta ? a[1] : a[0], k = ta ? a[0] : a[1];
  int64_t kb = tb ? b[1] : b[0], n = tb ? b[0] : b[1];
  if (!ops::dims_compatible(k, kb))
    throw UserError("inner dimensions differ: A is " + dims_str(a) + (ta ? " (transposed)" : "") +
                    ", B is " + dims_str(b) + (tb ? " (transposed)" : ""));
  return {m, n, k == kDynamic ? kb : k};
}

// C must broadcast to Y without growing it (unidirectional broadcast).
void check_bias(const Dims &c, const Dims &y) {
  Dims b;
  bool ok = c.size() <= 2 && broadcast_dims(c, y, b);
  for (size_t i = 0; ok && i < b.size(); ++i)
    ok = ops::dims_compatible(b[i], y[i]);
  if (!ok)
    throw UserError("bias C of shape " + dims_str(c) + " does not broadcast to " + dims_str(y));
}

std::vector<ValueType> infer(const Node &nd, ops::Ins in, ops::Consts) {
  ops::require_float(in[0]->dtype, "input A");
  ops::require_float(in[1]->dtype, "input B");
  MNK s = dims_of(nd, in[0]->dims, in[1]->dims);
  Dims y{s.m, s.n};
  if (in.size() > 2 && in[2])
    check_bias(in[2]->dims, y);
  return {ValueType{in[0]->dtype, y}};
}

std::vector<Tensor> eval(const Node &nd, ops::Vals in) {
  const Tensor &a = *in[0], &b = *in[1];
  MNK s = dims_of(nd, a.shape(), b.shape());
  bool ta = attr_int(nd, "transA", 0), tb = attr_int(nd, "transB", 0);
  double alpha = attr_float(nd, "alpha", 1.0), beta = attr_float(nd, "beta", 1.0);
  Tensor y(a.dtype(), {s.m, s.n});
  if (in.size() > 2 && in[2]) {
    check_bias(in[2]->shape(), y.shape());
    y = ops::map_binary(y, *in[2], a.dtype(), [beta](double, double c) { return beta * c; });
  }
  for (int64_t i = 0; i < s.m; ++i)
    for (int64_t j = 0; j < s.n; ++j) {
      double acc = 0;
      for (int64_t k = 0; k < s.k; ++k)
        acc += a[ta ? k * s.m + i : i * s.k + k] * b[tb ? j * s.k + k : k * s.n + j];
      y[i * s.n + j] += alpha * acc;
    }
  return {y};
}

// ---- Fixed point ------------------------------------------------------------------------

namespace lin = ops::linear;

std::string num_str(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", x);
  return buf;
}

// The fixed-point form has no scaling: alpha and beta must be 1 (fold them into the
// operands' quantizers instead).
void check_scales(const Node &nd, bool has_c) {
  double alpha = attr_float(nd, "alpha", 1.0), beta = attr_float(nd, "beta", 1.0);
  if (alpha != 1.0)
    throw UserError("alpha = " + num_str(alpha) +
                    " has no fixed-point form: only alpha = 1 is supported (fold alpha into B)");
  if (has_c && beta != 1.0)
    throw UserError("beta = " + num_str(beta) +
                    " has no fixed-point form: only beta = 1 is supported (fold beta into C)");
}

// The product structure over the operands' ranges: output element e = i * n + j.
struct RangeGeom {
  int64_t m = 0, n = 0, k = 0;
  bool ta = false, tb = false;
  std::vector<int64_t> cs; // strides of C's range over the output range (empty: no C)
};

RangeGeom range_geom(const Node &nd, std::span<const ValueRange *const> in) {
  RangeGeom g;
  g.ta = attr_int(nd, "transA", 0);
  g.tb = attr_int(nd, "transB", 0);
  const Dims &a = in[0]->dims, &b = in[1]->dims;
  HGQC_ASSERT(a.size() == 2 && b.size() == 2, "Gemm operands of rank != 2");
  g.m = g.ta ? a[1] : a[0];
  g.k = g.ta ? a[0] : a[1];
  g.n = g.tb ? b[0] : b[1];
  if ((g.tb ? b[1] : b[0]) != g.k)
    throw UserError("in fixed point the inner dimension must be known before run time "
                    "(operand ranges " +
                    dims_str(a) + " x " + dims_str(b) + ")");
  if (in.size() > 2 && in[2]) {
    const Dims &c = in[2]->dims;
    Dims y{g.m, g.n};
    for (size_t i = 0; i < c.size(); ++i) {
      int64_t yd = y[y.size() - c.size() + i];
      if (c[i] != 1 && c[i] != yd)
        throw UserError("bias C of shape " + dims_str(c) + " differs between samples");
    }
    g.cs = broadcast_strides(c, y);
  }
  return g;
}

auto terms_of(const RangeGeom &g) {
  return [&g](int64_t e, auto &&emit) {
    int64_t i = e / g.n, j = e % g.n;
    for (int64_t l = 0; l < g.k; ++l)
      emit(g.ta ? l * g.m + i : i * g.k + l, g.tb ? j * g.k + l : l * g.n + j);
  };
}

auto bias_of(const RangeGeom &g) {
  return [&g](int64_t e) -> int64_t {
    return g.cs.empty() ? -1 : (e / g.n) * g.cs[0] + (e % g.n) * g.cs[1];
  };
}

const ValueRange *bias_range(std::span<const ValueRange *const> in) {
  return in.size() > 2 ? in[2] : nullptr;
}

std::vector<ValueRange> range(const Node &nd, std::span<const ValueRange *const> in, ops::Consts) {
  check_scales(nd, bias_range(in));
  RangeGeom g = range_geom(nd, in);
  return {ValueRange{
      {g.m, g.n},
      lin::sum_ranges(g.m * g.n, {in[0], in[1], bias_range(in)}, terms_of(g), bias_of(g))}};
}

double ebops(const Node &nd, std::span<const ValueRange *const> in) {
  if (!in[0] || !in[1])
    return 0;
  RangeGeom g = range_geom(nd, in);
  return lin::sum_ebops(g.m * g.n, {in[0], in[1], nullptr}, terms_of(g));
}

std::vector<FixedTensor> eval_fixed(const Node &nd, std::span<const FixedTensor *const> in,
                                    const FixedContext &ctx) {
  const FixedTensor &a = *in[0], &b = *in[1];
  const FixedTensor *c = in.size() > 2 ? in[2] : nullptr;
  const ValueRange &ra = *ctx.in_ranges[0], &rb = *ctx.in_ranges[1], &ry = *ctx.out_ranges[0];
  const ValueRange *rc = bias_range(ctx.in_ranges);
  check_scales(nd, c);
  RangeGeom g = range_geom(nd, ctx.in_ranges);
  MNK s = dims_of(nd, a.shape, b.shape);
  if (s.k != g.k)
    throw UserError("in fixed point the inner dimension must be known before run time (" +
                    std::to_string(s.k) + " at run time)");
  FixedTensor y{{s.m, s.n}, std::vector<int64_t>(static_cast<size_t>(s.m * s.n))};
  if (c)
    check_bias(c->shape, y.shape);

  // Common case: A's rows are samples like its range, B and C are the same for every
  // sample (weights and bias): a compiled plan with pre-shifted weights.
  int64_t sa = lin::sample_count(ra.dims, a.shape), sy = lin::sample_count(ry.dims, y.shape);
  if (sa > 0 && sa == sy && rb.dims == b.shape && (!c || rc->dims == c->shape)) {
    lin::SumData d{
        b.q.data(), c ? c->q.data() : nullptr, a.q.data(), dims_numel(ra.dims), sa, y.q.data(),
        g.m * g.n};
    lin::eval_sum(
        g.m * g.n, {&ra, &rb, rc}, d, [&](int64_t e) { return ry.el[e].f; }, terms_of(g),
        bias_of(g));
    return {y};
  }

  // General case: one matrix product with the ranges broadcast over the run-time dims.
  auto view = [](const std::vector<int64_t> &st, bool t) {
    return t ? lin::MatView{0, st[1], st[0]} : lin::MatView{0, st[0], st[1]};
  };
  lin::ProductBlock k;
  k.R = s.m;
  k.C = s.n;
  k.K = s.k;
  k.a = view(dims_strides(a.shape), g.ta);
  k.ra = view(broadcast_strides(ra.dims, a.shape), g.ta);
  k.b = view(dims_strides(b.shape), g.tb);
  k.rb = view(broadcast_strides(rb.dims, b.shape), g.tb);
  k.y = view(dims_strides(y.shape), false);
  k.ry = view(broadcast_strides(ry.dims, y.shape), false);
  if (c) {
    k.bias = view(broadcast_strides(c->shape, y.shape), false);
    k.rbias = view(broadcast_strides(rc->dims, y.shape), false);
  }
  lin::run_product_blocks({&k, 1}, a, b, c, ra, rb, rc, ry, y);
  return {y};
}

// Hardware: one constant matrix-vector product per row of A (method.md §3).
std::vector<std::vector<NetRef>> lower(const Node &nd, LowerContext &ctx) {
  check_scales(nd, bias_range(ctx.in_ranges));
  RangeGeom g = range_geom(nd, ctx.in_ranges);
  const ValueRange &ry = *ctx.out_ranges[0];
  return {lin::lower_sum(
      ctx, g.m * g.n, *ctx.in[0], ctx.in[1], ctx.in.size() > 2 ? ctx.in[2] : nullptr,
      [&](int64_t e) { return ry.el[e].f; }, terms_of(g), bias_of(g))};
}

// ---- Training --------------------------------------------------------------------------

namespace tk = ops::train;

// Training: A [M, K] holds the samples (transA = 0), B and C are the same for every sample.
void train_check(const Node &nd, const TrainTensor &a, const TrainTensor &b) {
  if (attr_int(nd, "transA", 0))
    throw UserError("training needs transA = 0 (the samples in A's rows)");
  dims_of(nd, a.shape, b.shape);
}

void train_forward(const Node &nd, TrainIns in, TrainOuts out, TrainContext &) {
  const TrainTensor &a = *in[0], &b = *in[1];
  const TrainTensor *c = in.size() > 2 ? in[2] : nullptr;
  train_check(nd, a, b);
  MNK s = dims_of(nd, a.shape, b.shape);
  bool tb = attr_int(nd, "transB", 0);
  auto alpha = static_cast<float>(attr_float(nd, "alpha", 1.0));
  auto beta = static_cast<float>(attr_float(nd, "beta", 1.0));
  TrainTensor &y = *out[0];
  y.resize({s.m, s.n});
  float keep = 0.0f;
  if (c) {
    check_bias(c->shape, y.shape);
    ops::BroadcastIndex ic(c->shape, y.shape);
    for (int64_t j = 0; j < y.numel(); ++j)
      y.v[j] = c->v[ic[j]];
    keep = beta;
  }
  tk::gemm(false, tb, s.m, s.n, s.k, alpha, a.data(), b.data(), keep, y.data());
}

// dA += alpha dY B'^T, dB' += alpha A^T dY, dC += beta * dY summed over broadcast dimensions.
void backward(const Node &nd, TrainIns in, TrainIns, TrainIns dout, TrainOuts din, TrainContext &) {
  const TrainTensor &a = *in[0], &b = *in[1], &dy = *dout[0];
  MNK s = dims_of(nd, a.shape, b.shape);
  bool tb = attr_int(nd, "transB", 0);
  auto alpha = static_cast<float>(attr_float(nd, "alpha", 1.0));
  auto beta = static_cast<float>(attr_float(nd, "beta", 1.0));
  if (din[0]) {
    grad_target(*din[0], a.shape);
    tk::gemm(false, !tb, s.m, s.k, s.n, alpha, dy.data(), b.data(), 1.0f, din[0]->data());
  }
  if (din[1]) {
    grad_target(*din[1], b.shape);
    if (tb) // B is [N, K]: dB = alpha dY^T A
      tk::gemm(true, false, s.n, s.k, s.m, alpha, dy.data(), a.data(), 1.0f, din[1]->data());
    else // B is [K, N]: dB = alpha A^T dY
      tk::gemm(true, false, s.k, s.n, s.m, alpha, a.data(), dy.data(), 1.0f, din[1]->data());
  }
  if (din.size() > 2 && din[2]) {
    TrainTensor dc; // beta times the sums, then added as one contribution
    ops::reduce_broadcast(dy.v, dy.shape, in[2]->shape, dc);
    for (float &g : dc.v)
      g *= beta;
    tk::add_to(grad_target(*din[2], in[2]->shape).data(), dc.data(), dc.numel());
  }
}

constexpr OpDef make_gemm() {
  OpDef d{"Gemm", OpDomain::Onnx, 2, 3, 1, 1, true, &import, &infer, &eval};
  d.range = &range;
  d.eval_fixed = &eval_fixed;
  d.ebops = &ebops;
  d.lower = &lower;
  d.train_forward = &train_forward;
  d.backward = &backward;
  return d;
}
} // namespace

const OpDef op_def_Gemm = make_gemm();

} // namespace hgqc
