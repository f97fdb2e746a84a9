// Conv: N-d convolution (1-D and 2-D in practice) with pads, strides, dilations,
// auto_pad and groups (group = 1, depthwise, or any divisor of the channels). Fixed point:
// fully unrolled, every output position is its own exact sum of products (fixed_linear.h);
// EBOPs: the product of the factors' widths over every multiplication of every position.
// Training: im2col and one GEMM per sample and group; backward by the transposed products.
#include "ir/ops/fixed_linear.h"
#include "ir/ops/train_kernels.h"
#include "ir/ops/window.h"

namespace hgqc {
namespace {
void import(Node &n, ImportContext &ctx) {
  check_known_attrs(n, {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"});
  const Dims &x = ctx.graph.values[n.inputs[0]].type.dims;
  const Dims &w = ctx.graph.values[n.inputs[1]].type.dims;
  if (w.size() != x.size())
    throw UserError("weight " + dims_str(w) + " and input " + dims_str(x) + " differ in rank");
  ops::import_window(n, x, &w, true, false);
  n.attrs["group"] = attr_int(n, "group", 1);
}

std::vector<ValueType> infer(const Node &n, ops::Ins in, ops::Consts) {
  const Dims &x = in[0]->dims, &w = in[1]->dims;
  ops::require_float(in[0]->dtype, "input X");
  ops::require_float(in[1]->dtype, "weight W");
  if (w.size() != x.size() || x.size() < 3)
    throw UserError("input " + dims_str(x) + " and weight " + dims_str(w) +
                    " must have the same rank >= 3");
  int64_t g = attr_int(n, "group", 1);
  if (g < 1 || w[0] % g != 0)
    throw UserError("group " + std::to_string(g) + " does not divide the " + std::to_string(w[0]) +
                    " output channels");
  if (x[1] != kDynamic && x[1] != w[1] * g)
    throw UserError("input has " + std::to_string(x[1]) + " channels; weight " + dims_str(w) +
                    " with group " + std::to_string(g) + " expects " + std::to_string(w[1] * g));
  if (in.size() > 2 && in[2] && (in[2]->dims.size() != 1 || in[2]->dims[0] != w[0]))
    throw UserError("bias of shape " + dims_str(in[2]->dims) + " does not match " +
                    std::to_string(w[0]) + " output channels");
  for (size_t i = 2; i < w.size(); ++i)
    if (w[i] == kDynamic)
      throw UserError("kernel size unknown");
  ops::Window win = ops::window_of(n, x);
  Dims out{x[0], w[0]};
  out.insert(out.end(), win.out.begin(), win.out.end());
  return {ValueType{in[0]->dtype, out}};
}

std::vector<Tensor> eval(const Node &n, ops::Vals in) {
  ValueType tx{in[0]->dtype(), in[0]->shape()}, tw{in[1]->dtype(), in[1]->shape()}, tb;
  std::vector<const ValueType *> ts{&tx, &tw};
  if (in.size() > 2 && in[2]) {
    tb = {in[2]->dtype(), in[2]->shape()};
    ts.push_back(&tb);
  }
  ValueType ty = infer(n, ts, {})[0];
  const Tensor &x = *in[0], &w = *in[1];
  ops::Window win = ops::window_of(n, x.shape());
  ops::Taps taps = ops::window_taps(win);
  int64_t nb = x.shape()[0], cin = x.shape()[1], m = w.shape()[0], g = attr_int(n, "group", 1);
  int64_t cpg = cin / g, mpg = m / g;
  int64_t isz = dims_numel(win.in), osz = dims_numel(win.out), ksz = dims_numel(win.kernel);
  Tensor y(x.dtype(), ty.dims);
  for (int64_t b = 0; b < nb; ++b)
    for (int64_t oc = 0; oc < m; ++oc) {
      int64_t grp = oc / mpg;
      double bias = in.size() > 2 && in[2] ? (*in[2])[oc] : 0.0;
      for (int64_t p = 0; p < osz; ++p) {
        double acc = bias;
        for (int64_t c = 0; c < cpg; ++c) {
          const double *xp = x.data().data() + (b * cin + grp * cpg + c) * isz;
          const double *wp = w.data().data() + (oc * cpg + c) * ksz;
          for (int64_t t = taps.begin[p]; t < taps.begin[p + 1]; ++t)
            acc += xp[taps.off[t]] * wp[taps.kidx[t]];
        }
        y[(b * m + oc) * osz + p] = acc;
      }
    }
  return {y};
}

std::vector<ExportNode> export_form(const Node &n, const ExportContext &) {
  return {ops::export_window(n, true)};
}

// ---- Fixed point ------------------------------------------------------------------------

namespace lin = ops::linear;

// The convolution over the ranges (per-sample dims; the batch dimension of x's range is 1
// or the static batch): output element e = (b, oc, position).
struct RangeGeom {
  int64_t nb = 0, cin = 0, m = 0, cpg = 0, mpg = 0, isz = 0, osz = 0, ksz = 0;
  Dims out;
  ops::Taps taps;
  bool has_bias = false;
};

RangeGeom range_geom(const Node &n, std::span<const ValueRange *const> in) {
  const Dims &x = in[0]->dims, &w = in[1]->dims;
  RangeGeom g;
  int64_t grp = attr_int(n, "group", 1);
  if (x.size() != w.size() || x.size() < 3 || w[0] % grp != 0 || x[1] != w[1] * grp)
    throw UserError("in fixed point the channels and the weight shape must be known before run "
                    "time (ranges of input " +
                    dims_str(x) + " and weight " + dims_str(w) + ")");
  ops::Window win = ops::window_of(n, x);
  g.taps = ops::window_taps(win);
  g.nb = x[0];
  g.cin = x[1];
  g.m = w[0];
  g.cpg = w[1];
  g.mpg = g.m / grp;
  g.isz = dims_numel(win.in);
  g.osz = dims_numel(win.out);
  g.ksz = dims_numel(win.kernel);
  g.out = {g.nb, g.m};
  g.out.insert(g.out.end(), win.out.begin(), win.out.end());
  g.has_bias = in.size() > 2 && in[2];
  if (g.has_bias && in[2]->dims != Dims{g.m})
    throw UserError("bias range of dims " + dims_str(in[2]->dims) + " does not match " +
                    std::to_string(g.m) + " output channels");
  return g;
}

auto terms_of(const RangeGeom &g) {
  return [&g](int64_t e, auto &&emit) {
    int64_t p = e % g.osz, oc = (e / g.osz) % g.m, b = e / (g.osz * g.m);
    int64_t c0 = oc / g.mpg * g.cpg;
    const int64_t *kidx = g.taps.kidx.data(), *off = g.taps.off.data();
    for (int64_t c = 0; c < g.cpg; ++c) {
      int64_t xb = (b * g.cin + c0 + c) * g.isz, wb = (oc * g.cpg + c) * g.ksz;
      for (int64_t t = g.taps.begin[p]; t < g.taps.begin[p + 1]; ++t)
        emit(xb + off[t], wb + kidx[t]);
    }
  };
}

auto bias_of(const RangeGeom &g) {
  return [&g](int64_t e) -> int64_t { return g.has_bias ? (e / g.osz) % g.m : -1; };
}

const ValueRange *bias_range(std::span<const ValueRange *const> in) {
  return in.size() > 2 ? in[2] : nullptr;
}

std::vector<ValueRange> range(const Node &n, std::span<const ValueRange *const> in, ops::Consts) {
  RangeGeom g = range_geom(n, in);
  return {ValueRange{g.out, lin::sum_ranges(dims_numel(g.out), {in[0], in[1], bias_range(in)},
                                            terms_of(g), bias_of(g))}};
}

double ebops(const Node &n, std::span<const ValueRange *const> in) {
  if (!in[0] || !in[1])
    return 0;
  RangeGeom g = range_geom(n, in);
  return lin::sum_ebops(dims_numel(g.out), {in[0], in[1], nullptr}, terms_of(g));
}

std::vector<FixedTensor> eval_fixed(const Node &n, std::span<const FixedTensor *const> in,
                                    const FixedContext &ctx) {
  const FixedTensor &x = *in[0], &w = *in[1];
  const FixedTensor *bias = in.size() > 2 ? in[2] : nullptr;
  const ValueRange &rx = *ctx.in_ranges[0], &rw = *ctx.in_ranges[1], &ry = *ctx.out_ranges[0];
  const ValueRange *rb = bias_range(ctx.in_ranges);
  int64_t samples = lin::require_samples(rx.dims, x.shape);
  if (rw.dims != w.shape || (bias && rb->dims != bias->shape))
    throw UserError("in fixed point the weight and bias must be the same for every sample");
  RangeGeom g = range_geom(n, ctx.in_ranges);
  Dims yd = g.out;
  yd[0] = x.shape[0];
  FixedTensor y{yd, std::vector<int64_t>(static_cast<size_t>(dims_numel(yd)))};
  int64_t n_out = dims_numel(g.out);
  lin::SumData d{w.q.data(), bias ? bias->q.data() : nullptr,
                 x.q.data(), dims_numel(rx.dims),
                 samples,    y.q.data(),
                 n_out};
  lin::eval_sum(
      n_out, {&rx, &rw, rb}, d, [&](int64_t e) { return ry.el[e].f; }, terms_of(g), bias_of(g));
  return {y};
}

// Hardware: fully unrolled, one constant matrix-vector product per output position.
std::vector<std::vector<NetRef>> lower(const Node &n, LowerContext &ctx) {
  RangeGeom g = range_geom(n, ctx.in_ranges);
  const ValueRange &ry = *ctx.out_ranges[0];
  return {lin::lower_sum(
      ctx, dims_numel(g.out), *ctx.in[0], ctx.in[1], ctx.in.size() > 2 ? ctx.in[2] : nullptr,
      [&](int64_t e) { return ry.el[e].f; }, terms_of(g), bias_of(g))};
}

// ---- Training --------------------------------------------------------------------------

namespace tk = ops::train;

// The geometry of a training chunk: im2col per sample and group, one GEMM each.
struct TrainGeom {
  const ops::WindowCache *w;
  int64_t nb, cin, m, g, cpg, mpg, isz, osz, ksz;
  Dims out;
};
TrainGeom train_geom(const Node &n, const TrainTensor &x, const TrainTensor &w, TrainContext &ctx) {
  TrainGeom t;
  t.w = &ops::window_cache(n, x.shape, *ctx.cache);
  t.nb = x.shape[0];
  t.cin = x.shape[1];
  t.m = w.shape[0];
  t.g = attr_int(n, "group", 1);
  t.cpg = w.shape[1];
  t.mpg = t.m / t.g;
  if (t.cin != t.cpg * t.g)
    throw UserError("input has " + std::to_string(t.cin) + " channels; weight " +
                    dims_str(w.shape) + " expects " + std::to_string(t.cpg * t.g));
  t.isz = dims_numel(t.w->win.in);
  t.osz = dims_numel(t.w->win.out);
  t.ksz = dims_numel(t.w->win.kernel);
  t.out = {t.nb, t.m};
  t.out.insert(t.out.end(), t.w->win.out.begin(), t.w->win.out.end());
  return t;
}

void train_forward(const Node &n, TrainIns in, TrainOuts out, TrainContext &ctx) {
  const TrainTensor &x = *in[0], &w = *in[1];
  const TrainTensor *b = in.size() > 2 ? in[2] : nullptr;
  TrainGeom t = train_geom(n, x, w, ctx);
  TrainTensor &y = *out[0];
  y.resize(t.out);
  std::vector<float> col(static_cast<size_t>(t.cpg * t.ksz * t.osz));
  for (int64_t s = 0; s < t.nb; ++s)
    for (int64_t gi = 0; gi < t.g; ++gi) {
      tk::im2col(t.w->taps, t.cpg, t.isz, t.ksz, t.osz, x.data() + (s * t.cin + gi * t.cpg) * t.isz,
                 col.data());
      float *yp = y.data() + (s * t.m + gi * t.mpg) * t.osz;
      tk::gemm(false, false, t.mpg, t.osz, t.cpg * t.ksz, 1.0f,
               w.data() + gi * t.mpg * t.cpg * t.ksz, col.data(), 0.0f, yp);
      if (b)
        for (int64_t oc = 0; oc < t.mpg; ++oc)
          for (int64_t p = 0; p < t.osz; ++p)
            yp[oc * t.osz + p] += b->v[static_cast<size_t>(gi * t.mpg + oc)];
    }
}

// dW += dY col^T, dcol = W^T dY scattered back by col2im, db = dY summed over positions.
void backward(const Node &n, TrainIns in, TrainIns, TrainIns dout, TrainOuts din,
              TrainContext &ctx) {
  const TrainTensor &x = *in[0], &w = *in[1], &dy = *dout[0];
  TrainGeom t = train_geom(n, x, w, ctx);
  if (din[0])
    grad_target(*din[0], x.shape);
  if (din[1])
    grad_target(*din[1], w.shape);
  TrainTensor *db = din.size() > 2 ? din[2] : nullptr;
  if (db)
    grad_target(*db, in[2]->shape);
  int64_t rows = t.cpg * t.ksz;
  std::vector<float> col(static_cast<size_t>(rows * t.osz)), dcol(col.size());
  for (int64_t s = 0; s < t.nb; ++s)
    for (int64_t gi = 0; gi < t.g; ++gi) {
      const float *dyp = dy.data() + (s * t.m + gi * t.mpg) * t.osz;
      const float *wp = w.data() + gi * t.mpg * rows;
      if (din[1]) {
        tk::im2col(t.w->taps, t.cpg, t.isz, t.ksz, t.osz,
                   x.data() + (s * t.cin + gi * t.cpg) * t.isz, col.data());
        tk::gemm(false, true, t.mpg, rows, t.osz, 1.0f, dyp, col.data(), 1.0f,
                 din[1]->data() + gi * t.mpg * rows);
      }
      if (din[0]) {
        tk::gemm(true, false, rows, t.osz, t.mpg, 1.0f, wp, dyp, 0.0f, dcol.data());
        tk::col2im(t.w->taps, t.cpg, t.isz, t.ksz, t.osz, dcol.data(),
                   din[0]->data() + (s * t.cin + gi * t.cpg) * t.isz);
      }
      if (db)
        for (int64_t oc = 0; oc < t.mpg; ++oc)
          for (int64_t p = 0; p < t.osz; ++p)
            db->v[static_cast<size_t>(gi * t.mpg + oc)] += dyp[oc * t.osz + p];
    }
}

constexpr OpDef make_conv() {
  OpDef d{"Conv", OpDomain::Onnx, 2, 3, 1, 1, true, &import, &infer, &eval};
  d.range = &range;
  d.eval_fixed = &eval_fixed;
  d.ebops = &ebops;
  d.lower = &lower;
  d.export_form = &export_form;
  d.train_forward = &train_forward;
  d.backward = &backward;
  return d;
}
} // namespace

const OpDef op_def_Conv = make_conv();

} // namespace hgqc
