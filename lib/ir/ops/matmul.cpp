// MatMul: numpy matmul (1-D operands promoted, leading dimensions broadcast). Fixed point:
// each output element is the exact sum of its products (fixed_linear.h); EBOPs: the
// product of the factors' widths over every multiplication of one sample. Training: samples
// in A's leading dimensions times a rank-2 B, or batched products of two run-time operands,
// through the shared GEMM kernel.
#include "ir/ops/fixed_linear.h"
#include "ir/ops/train_kernels.h"

#include <algorithm>

namespace hgqc {
namespace {
// Output dims, or throws. Works on static dims (kDynamic allowed) and run-time dims.
Dims out_dims(const Dims &a0, const Dims &b0) {
  if (a0.empty() || b0.empty())
    throw UserError("MatMul operands must have rank >= 1");
  Dims a = a0, b = b0;
  if (a.size() == 1)
    a.insert(a.begin(), 1);
  if (b.size() == 1)
    b.push_back(1);
  int64_t k = a.back(), kb = b[b.size() - 2];
  if (!ops::dims_compatible(k, kb))
    throw UserError("inner dimensions differ: " + dims_str(a0) + " x " + dims_str(b0));
  Dims ba(a.begin(), a.end() - 2), bb(b.begin(), b.end() - 2), r;
  if (!broadcast_dims(ba, bb, r))
    throw UserError("batch dimensions do not broadcast: " + dims_str(a0) + " x " + dims_str(b0));
  if (a0.size() > 1)
    r.push_back(a[a.size() - 2]);
  if (b0.size() > 1)
    r.push_back(b.back());
  return r;
}

// The product structure of known dims a x b: batch element t multiplies matrix sa(t) of A
// ([m, k]) by matrix sb(t) of B ([k, n]).
struct Geom {
  Dims out;                    // output dims
  Dims batch;                  // broadcast batch dims
  int64_t m = 0, k = 0, n = 0; // matrix sizes
  std::vector<int64_t> sa, sb; // batch strides of A's and B's matrices over `batch`
  int64_t batches() const { return dims_numel(batch); }
  // Matrix numbers of A and B multiplied in batch element t.
  std::pair<int64_t, int64_t> matrices(int64_t t) const {
    int64_t oa = 0, ob = 0;
    for (size_t ax = batch.size(); ax-- > 0;) {
      int64_t i = t % batch[ax];
      t /= batch[ax];
      oa += i * sa[ax];
      ob += i * sb[ax];
    }
    return {oa, ob};
  }
};

Geom geom(const Dims &a0, const Dims &b0) {
  Geom g;
  g.out = out_dims(a0, b0);
  Dims a = a0, b = b0;
  if (a.size() == 1)
    a.insert(a.begin(), 1);
  if (b.size() == 1)
    b.push_back(1);
  g.m = a[a.size() - 2];
  g.k = a.back();
  g.n = b.back();
  Dims ba(a.begin(), a.end() - 2), bb(b.begin(), b.end() - 2);
  broadcast_dims(ba, bb, g.batch);
  g.sa = broadcast_strides(ba, g.batch);
  g.sb = broadcast_strides(bb, g.batch);
  return g;
}

std::vector<ValueType> infer(const Node &, ops::Ins in, ops::Consts) {
  ops::require_float(in[0]->dtype, "input A");
  ops::require_float(in[1]->dtype, "input B");
  return {ValueType{in[0]->dtype, out_dims(in[0]->dims, in[1]->dims)}};
}

std::vector<Tensor> eval(const Node &, ops::Vals in) {
  Geom g = geom(in[0]->shape(), in[1]->shape());
  Tensor r(in[0]->dtype(), g.out);
  int64_t m = g.m, k = g.k, n = g.n;
  for (int64_t t = 0; t < g.batches(); ++t) {
    auto [oa, ob] = g.matrices(t);
    const double *pa = in[0]->data().data() + oa * m * k;
    const double *pb = in[1]->data().data() + ob * k * n;
    double *pr = r.data().data() + t * m * n;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0;
        for (int64_t l = 0; l < k; ++l)
          acc += pa[i * k + l] * pb[l * n + j];
        pr[i * n + j] = acc;
      }
  }
  return {r};
}

// ---- Fixed point ------------------------------------------------------------------------

// The product structure over the operands' ranges (per-sample dims). Throws UserError when
// the inner dimension is not static (a dynamic dimension has range dims 1).
Geom range_geom(const ValueRange &a, const ValueRange &b) {
  if (!a.dims.empty() && !b.dims.empty() &&
      a.dims.back() != b.dims[b.dims.size() >= 2 ? b.dims.size() - 2 : 0])
    throw UserError("in fixed point the inner dimension must be known before run time (operand "
                    "ranges " +
                    dims_str(a.dims) + " x " + dims_str(b.dims) + ")");
  return geom(a.dims, b.dims);
}

// Calls emit(a element, b element) for the terms of output element e of geometry g.
auto terms_of(const Geom &g) {
  return [&g](int64_t e, auto &&emit) {
    int64_t mn = g.m * g.n, t = e / mn, i = (e % mn) / g.n, j = e % g.n;
    auto [oa, ob] = g.matrices(t);
    int64_t a0 = (oa * g.m + i) * g.k, b0 = ob * g.k * g.n + j;
    for (int64_t l = 0; l < g.k; ++l)
      emit(a0 + l, b0 + l * g.n);
  };
}

std::vector<ValueRange> range(const Node &, std::span<const ValueRange *const> in, ops::Consts) {
  Geom g = range_geom(*in[0], *in[1]);
  return {ValueRange{g.out, ops::linear::sum_ranges(dims_numel(g.out), {in[0], in[1], nullptr},
                                                    terms_of(g), ops::linear::no_bias)}};
}

double ebops(const Node &, std::span<const ValueRange *const> in) {
  if (!in[0] || !in[1])
    return 0;
  Geom g = range_geom(*in[0], *in[1]);
  return ops::linear::sum_ebops(dims_numel(g.out), {in[0], in[1], nullptr}, terms_of(g));
}

// Run-time and range strides of an operand of run-time dims `d` and range dims `rd` (both
// promoted) over the index space `space` (batch dims, then the matrix).
struct Strides {
  std::vector<int64_t> rt, rg;
};
Strides strides_in(const Dims &d, const Dims &rd, const Dims &space) {
  return {broadcast_strides(d, space), broadcast_strides(rd, space)};
}

std::vector<FixedTensor> eval_fixed(const Node &, std::span<const FixedTensor *const> in,
                                    const FixedContext &ctx) {
  namespace lin = ops::linear;
  const FixedTensor &a = *in[0], &b = *in[1];
  const ValueRange &ra = *ctx.in_ranges[0], &rb = *ctx.in_ranges[1], &ry = *ctx.out_ranges[0];
  Geom gr = range_geom(ra, rb), gt = geom(a.shape, b.shape);
  if (gt.k != gr.k)
    throw UserError("in fixed point the inner dimension must be known before run time (" +
                    std::to_string(gt.k) + " at run time)");
  FixedTensor y{gt.out, std::vector<int64_t>(static_cast<size_t>(dims_numel(gt.out)))};
  int64_t n_out = dims_numel(gr.out);

  // Common case: A splits into samples like its range (e.g. [N, K] rows) and B is the same
  // for every sample (weights): a compiled plan with pre-shifted weights.
  int64_t sa = lin::sample_count(ra.dims, a.shape), sy = lin::sample_count(ry.dims, y.shape);
  if (sa > 0 && sa == sy && rb.dims == b.shape) {
    lin::SumData d{b.q.data(), nullptr, a.q.data(), dims_numel(ra.dims), sa, y.q.data(), n_out};
    lin::eval_sum(
        n_out, {&ra, &rb, nullptr}, d, [&](int64_t e) { return ry.el[e].f; }, terms_of(gr),
        lin::no_bias);
    return {y};
  }

  // General case: the matrix product of every batch element, with the ranges broadcast
  // over the run-time dims.
  auto promote = [](Dims d, bool left) {
    if (d.size() == 1)
      d.insert(left ? d.begin() : d.end(), 1);
    return d;
  };
  Dims pa = promote(a.shape, true), pb = promote(b.shape, false);
  Dims pra = promote(ra.dims, true), prb = promote(rb.dims, false);
  Dims sa_space = gt.batch, sb_space = gt.batch, sy_space = gt.batch;
  sa_space.insert(sa_space.end(), {gt.m, gt.k});
  sb_space.insert(sb_space.end(), {gt.k, gt.n});
  sy_space.insert(sy_space.end(), {gt.m, gt.n});
  Dims ry_p = gr.batch;
  ry_p.insert(ry_p.end(), {gr.m, gr.n});
  Strides s_a = strides_in(pa, pra, sa_space), s_b = strides_in(pb, prb, sb_space),
          s_y = strides_in(sy_space, ry_p, sy_space);
  size_t nb = gt.batch.size();
  std::vector<lin::ProductBlock> blocks(static_cast<size_t>(gt.batches()));
  for (int64_t t = 0; t < gt.batches(); ++t) {
    lin::ProductBlock &k = blocks[t];
    k.R = gt.m;
    k.C = gt.n;
    k.K = gt.k;
    k.a = {0, s_a.rt[nb], s_a.rt[nb + 1]};
    k.ra = {0, s_a.rg[nb], s_a.rg[nb + 1]};
    k.b = {0, s_b.rt[nb], s_b.rt[nb + 1]};
    k.rb = {0, s_b.rg[nb], s_b.rg[nb + 1]};
    k.y = {0, s_y.rt[nb], s_y.rt[nb + 1]};
    k.ry = {0, s_y.rg[nb], s_y.rg[nb + 1]};
    for (size_t ax = nb, rem = static_cast<size_t>(t); ax-- > 0;) {
      auto i = static_cast<int64_t>(rem % gt.batch[ax]);
      rem /= gt.batch[ax];
      k.a.off += i * s_a.rt[ax];
      k.ra.off += i * s_a.rg[ax];
      k.b.off += i * s_b.rt[ax];
      k.rb.off += i * s_b.rg[ax];
      k.y.off += i * s_y.rt[ax];
      k.ry.off += i * s_y.rg[ax];
    }
  }
  lin::run_product_blocks(blocks, a, b, nullptr, ra, rb, nullptr, ry, y);
  return {y};
}

// Hardware: constant matrix-vector products, and multipliers where both factors are computed
// at run time (fixed_linear.h's lower_sum).
std::vector<std::vector<NetRef>> lower(const Node &, LowerContext &ctx) {
  const ValueRange &ra = *ctx.in_ranges[0], &rb = *ctx.in_ranges[1], &ry = *ctx.out_ranges[0];
  Geom gr = range_geom(ra, rb);
  return {ops::linear::lower_sum(
      ctx, dims_numel(gr.out), *ctx.in[0], ctx.in[1], nullptr,
      [&](int64_t e) { return ry.el[e].f; }, terms_of(gr), ops::linear::no_bias)};
}

// ---- Training --------------------------------------------------------------------------

namespace tk = ops::train;

// Training: A [..., K] with the samples (and any further leading dimensions) in front, B a
// [K, N] matrix the same for every sample (a weight): A is viewed as [rows, K], one GEMM. Or
// both computed at run time: A [..., M, K] and B [..., K, N] of the same rank >= 3 with the
// same leading dimensions (the samples first), one GEMM per leading index.
struct TrainGeom {
  int64_t batches = 1; // matrix products
  int64_t rows, k, n;  // each: [rows, k] x [k, n]
};
TrainGeom train_geom(const TrainTensor &a, const TrainTensor &b) {
  const size_t ra = a.shape.size(), rb = b.shape.size();
  if (rb >= 3 && ra == rb && std::equal(a.shape.begin(), a.shape.end() - 2, b.shape.begin())) {
    if (a.shape.back() != b.shape[rb - 2])
      throw UserError("inner dimensions differ: " + dims_str(a.shape) + " x " + dims_str(b.shape));
    int64_t m = a.shape[ra - 2], k = a.shape.back();
    return {a.numel() / std::max<int64_t>(m * k, 1), m, k, b.shape.back()};
  }
  if (rb != 2 || ra < 2)
    throw UserError("training supports A of rank >= 2 times a rank-2 B, or two operands of the "
                    "same rank >= 3 with the same leading dimensions, not " +
                    dims_str(a.shape) + " x " + dims_str(b.shape));
  if (a.shape.back() != b.shape[0])
    throw UserError("inner dimensions differ: " + dims_str(a.shape) + " x " + dims_str(b.shape));
  return {1, a.numel() / std::max<int64_t>(a.shape.back(), 1), b.shape[0], b.shape[1]};
}

void train_forward(const Node &, TrainIns in, TrainOuts out, TrainContext &) {
  const TrainTensor &a = *in[0], &b = *in[1];
  TrainGeom g = train_geom(a, b);
  out[0]->resize(out_dims(a.shape, b.shape));
  for (int64_t t = 0; t < g.batches; ++t)
    tk::gemm(false, false, g.rows, g.n, g.k, 1.0f, a.data() + t * g.rows * g.k,
             b.data() + t * g.k * g.n, 0.0f, out[0]->data() + t * g.rows * g.n);
}

// dA += dY B^T, dB += A^T dY (for a weight B, summed over all rows).
void backward(const Node &, TrainIns in, TrainIns, TrainIns dout, TrainOuts din, TrainContext &) {
  const TrainTensor &a = *in[0], &b = *in[1], &dy = *dout[0];
  TrainGeom g = train_geom(a, b);
  const int64_t sa = g.rows * g.k, sb = g.k * g.n, sy = g.rows * g.n;
  if (din[0]) {
    grad_target(*din[0], a.shape);
    for (int64_t t = 0; t < g.batches; ++t)
      tk::gemm(false, true, g.rows, g.k, g.n, 1.0f, dy.data() + t * sy, b.data() + t * sb, 1.0f,
               din[0]->data() + t * sa);
  }
  if (din[1]) {
    grad_target(*din[1], b.shape);
    for (int64_t t = 0; t < g.batches; ++t)
      tk::gemm(true, false, g.k, g.n, g.rows, 1.0f, a.data() + t * sa, dy.data() + t * sy, 1.0f,
               din[1]->data() + t * sb);
  }
}

constexpr OpDef make_matmul() {
  OpDef d{"MatMul", OpDomain::Onnx, 2, 2, 1, 1, true, &ops::import_no_attrs, &infer, &eval};
  d.range = &range;
  d.eval_fixed = &eval_fixed;
  d.ebops = &ebops;
  d.lower = &lower;
  d.train_forward = &train_forward;
  d.backward = &backward;
  return d;
}
} // namespace

const OpDef op_def_MatMul = make_matmul();

} // namespace hgqc
