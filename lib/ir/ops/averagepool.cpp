// AveragePool: mean over each window; pads count in the divisor when count_include_pad = 1.
// Fixed point: the exact sum of the window times the reciprocal of its divisor (a move of the
// binary point for 2^s; docs/fixed-point.md#averages otherwise). Training: the gradient is
// shared equally by the elements of each window. EBOPs: each addend its width, and the
// reciprocal products.
#include "ir/ops/fixed_linear.h"
#include "ir/ops/pool_common.h"

namespace hgqc {
namespace {
void import(Node &n, ImportContext &ctx) {
  check_known_attrs(
      n, {"auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides"});
  n.attrs["count_include_pad"] = attr_int(n, "count_include_pad", 0);
  ops::import_window(n, ctx.graph.values[n.inputs[0]].type.dims, nullptr, false, true);
}

std::vector<ValueType> infer(const Node &n, ops::Ins in, ops::Consts) {
  return {ops::pool_infer(n, *in[0])};
}

std::vector<Tensor> eval(const Node &n, ops::Vals in) {
  bool include_pad = attr_int(n, "count_include_pad", 0);
  return {ops::pool_eval(n, *in[0], [include_pad](const std::vector<double> &v, int64_t padded) {
    double s = 0;
    for (double x : v)
      s += x;
    return s / static_cast<double>(include_pad ? padded : static_cast<int64_t>(v.size()));
  })};
}

// AveragePool-11 (opset 13) has no dilations attribute.
std::vector<ExportNode> export_form(const Node &n, const ExportContext &) {
  return {ops::export_window(n, false)};
}

namespace lin = ops::linear;

// The divisor of output position p.
int64_t divisor(const Node &n, const ops::Taps &t, int64_t p) {
  return attr_int(n, "count_include_pad", 0) ? t.padded[p] : t.begin[p + 1] - t.begin[p];
}

// The divisor of every output position, for the training loops: the attribute is read once
// per call, not once per element of every batch.
std::vector<float> divisors(const Node &n, const ops::Taps &t, int64_t osz) {
  std::vector<float> d(static_cast<size_t>(osz));
  for (int64_t p = 0; p < osz; ++p)
    d[static_cast<size_t>(p)] = static_cast<float>(divisor(n, t, p));
  return d;
}

// The window over x's range; UserError when a window lies entirely in the padding.
ops::PoolRangeGeom range_geom(const Node &n, const ValueRange &x) {
  ops::PoolRangeGeom g = ops::pool_range_geom(n, x.dims);
  for (int64_t p = 0; p < g.osz; ++p)
    if (divisor(n, g.taps, p) == 0)
      throw UserError("the window of output position " + std::to_string(p) +
                      " lies entirely in the padding: its average has no value");
  return g;
}

// Each window's average: its sum times the reciprocal of its divisor (lin::reciprocal).
auto average_of(const Node &n, const ops::PoolRangeGeom &g, const ValueRange &x) {
  return lin::AverageGeom{
      dims_numel(g.out), x,
      [&g](int64_t e, auto &&emit) { g.for_taps(e, [&](int64_t xe) { emit(xe, -1); }); },
      [&n, &g](int64_t e) { return divisor(n, g.taps, e % g.osz); }};
}

std::vector<ValueRange> range(const Node &n, std::span<const ValueRange *const> in, ops::Consts) {
  ops::PoolRangeGeom g = range_geom(n, *in[0]);
  return {ValueRange{g.out, average_of(n, g, *in[0]).ranges()}};
}

std::vector<FixedTensor> eval_fixed(const Node &n, std::span<const FixedTensor *const> in,
                                    const FixedContext &ctx) {
  const FixedTensor &x = *in[0];
  const ValueRange &rx = *ctx.in_ranges[0];
  int64_t samples = lin::require_samples(rx.dims, x.shape);
  ops::PoolRangeGeom g = range_geom(n, rx);
  Dims yd = g.out;
  yd[0] = x.shape[0];
  FixedTensor y{yd, std::vector<int64_t>(static_cast<size_t>(dims_numel(yd)))};
  average_of(n, g, rx).eval(x.q.data(), samples, y.q.data());
  return {y};
}

// Hardware: each window's sum as shift-and-add logic (overlapping windows share partial
// sums), then its reciprocal: a move of the binary point, or a constant product.
std::vector<std::vector<NetRef>> lower(const Node &n, LowerContext &ctx) {
  ops::PoolRangeGeom g = range_geom(n, *ctx.in_ranges[0]);
  return {average_of(n, g, *ctx.in_ranges[0]).lower(ctx, *ctx.in[0])};
}

// EBOPs: each addend its width (ops::pool_ebops), plus the reciprocal products.
double ebops(const Node &n, std::span<const ValueRange *const> in) {
  if (!in[0])
    return 0;
  ops::PoolRangeGeom g = range_geom(n, *in[0]);
  return ops::pool_ebops(n, in) + average_of(n, g, *in[0]).ebops();
}

// ---- Training --------------------------------------------------------------------------

void train_forward(const Node &n, TrainIns in, TrainOuts out, TrainContext &ctx) {
  const TrainTensor &x = *in[0];
  const ops::WindowCache &w = ops::window_cache(n, x.shape, *ctx.cache);
  Dims yd{x.shape[0], x.shape[1]};
  yd.insert(yd.end(), w.win.out.begin(), w.win.out.end());
  TrainTensor &y = *out[0];
  y.resize(yd);
  int64_t planes = x.shape[0] * x.shape[1], isz = dims_numel(w.win.in), osz = dims_numel(w.win.out);
  const std::vector<float> div = divisors(n, w.taps, osz);
  for (int64_t pl = 0; pl < planes; ++pl)
    for (int64_t p = 0; p < osz; ++p) {
      float s = 0;
      for (int64_t t = w.taps.begin[p]; t < w.taps.begin[p + 1]; ++t)
        s += x.v[pl * isz + w.taps.off[t]];
      const float d = div[static_cast<size_t>(p)];
      y.v[pl * osz + p] = d > 0 ? s / d : 0.0f;
    }
}

// Each output's gradient, divided by its divisor, goes to every element of its window.
void backward(const Node &n, TrainIns in, TrainIns, TrainIns dout, TrainOuts din,
              TrainContext &ctx) {
  if (!din[0])
    return;
  const TrainTensor &x = *in[0], &dy = *dout[0];
  const ops::WindowCache &w = ops::window_cache(n, x.shape, *ctx.cache);
  grad_target(*din[0], x.shape);
  int64_t planes = x.shape[0] * x.shape[1], isz = dims_numel(w.win.in), osz = dims_numel(w.win.out);
  const std::vector<float> div = divisors(n, w.taps, osz);
  for (int64_t pl = 0; pl < planes; ++pl)
    for (int64_t p = 0; p < osz; ++p) {
      const float d = div[static_cast<size_t>(p)];
      if (d == 0)
        continue;
      float g = dy.v[pl * osz + p] / d;
      for (int64_t t = w.taps.begin[p]; t < w.taps.begin[p + 1]; ++t)
        din[0]->v[pl * isz + w.taps.off[t]] += g;
    }
}

constexpr OpDef make_averagepool() {
  OpDef d{"AveragePool", OpDomain::Onnx, 1, 1, 1, 1, true, &import, &infer, &eval};
  d.range = &range;
  d.eval_fixed = &eval_fixed;
  d.lower = &lower;
  d.export_form = &export_form;
  d.train_forward = &train_forward;
  d.backward = &backward;
  d.ebops = &ebops;
  d.addend_counts = &ops::pool_addend_counts;
  return d;
}
} // namespace

const OpDef op_def_AveragePool = make_averagepool();

} // namespace hgqc
