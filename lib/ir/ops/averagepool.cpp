// AveragePool: mean over each window; pads count in the divisor when count_include_pad = 1.
// Fixed point: the exact sum of the window, divided by its element count 2^s (which must be
// a power of two at every position) by moving the exponent: the same integer at f + s.
// Training: the gradient is shared equally by the elements of each window. EBOPs: each
// addend its width.
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

// The window over x's range and log2 of each output position's divisor; UserError when a
// divisor is not a power of two.
struct RangeGeom {
  ops::PoolRangeGeom win;
  std::vector<int> shift;
};

RangeGeom range_geom(const Node &n, const ValueRange &x) {
  RangeGeom g{ops::pool_range_geom(n, x.dims), {}};
  bool include_pad = attr_int(n, "count_include_pad", 0);
  const ops::Taps &t = g.win.taps;
  for (int64_t p = 0; p < g.win.osz; ++p) {
    int64_t count = include_pad ? t.padded[p] : t.begin[p + 1] - t.begin[p];
    int s = lin::log2_exact(count);
    if (s < 0)
      throw UserError(
          count == 0 ? "the window of output position " + std::to_string(p) +
                           " lies entirely in the padding: its average has no value"
                     : "the window of output position " + std::to_string(p) + " averages " +
                           std::to_string(count) +
                           " elements: in fixed point the element count must be a power of two" +
                           (include_pad ? "" : " (count_include_pad = 0 excludes the padding)"));
    g.shift.push_back(s);
  }
  return g;
}

auto terms_of(const RangeGeom &g) {
  return [&g](int64_t e, auto &&emit) { g.win.for_taps(e, [&](int64_t xe) { emit(xe, -1); }); };
}

// The sums' intervals moved to the averages' exponents (every element, so that the emulator
// recovers each sum's grid as f - shift).
std::vector<Interval> averages(const RangeGeom &g, std::vector<Interval> sums) {
  for (size_t e = 0; e < sums.size(); ++e)
    sums[e].f += g.shift[e % static_cast<size_t>(g.win.osz)];
  return sums;
}

std::vector<ValueRange> range(const Node &n, std::span<const ValueRange *const> in, ops::Consts) {
  RangeGeom g = range_geom(n, *in[0]);
  auto r =
      lin::sum_ranges(dims_numel(g.win.out), {in[0], nullptr, nullptr}, terms_of(g), lin::no_bias);
  return {ValueRange{g.win.out, averages(g, std::move(r))}};
}

std::vector<FixedTensor> eval_fixed(const Node &n, std::span<const FixedTensor *const> in,
                                    const FixedContext &ctx) {
  const FixedTensor &x = *in[0];
  const ValueRange &rx = *ctx.in_ranges[0], &ry = *ctx.out_ranges[0];
  int64_t samples = lin::require_samples(rx.dims, x.shape);
  RangeGeom g = range_geom(n, rx);
  int64_t n_out = dims_numel(g.win.out);
  Dims yd = g.win.out;
  yd[0] = x.shape[0];
  FixedTensor y{yd, std::vector<int64_t>(static_cast<size_t>(dims_numel(yd)))};
  lin::SumData d{nullptr, nullptr, x.q.data(), dims_numel(rx.dims), samples, y.q.data(), n_out};
  lin::eval_sum(
      n_out, {&rx, nullptr, nullptr}, d,
      [&](int64_t e) { return ry.el[e].f - g.shift[e % g.win.osz]; }, terms_of(g), lin::no_bias);
  return {y};
}

// Hardware: each window's sum as shift-and-add logic (overlapping windows share partial
// sums), its divisor a move of the binary point.
std::vector<std::vector<NetRef>> lower(const Node &n, LowerContext &ctx) {
  const ValueRange &rx = *ctx.in_ranges[0], &ry = *ctx.out_ranges[0];
  RangeGeom g = range_geom(n, rx);
  auto shift = [&](int64_t e) { return g.shift[e % g.win.osz]; };
  std::vector<NetRef> y = lin::lower_sum(
      ctx, dims_numel(g.win.out), *ctx.in[0], nullptr, nullptr,
      [&](int64_t e) { return ry.el[e].f - shift(e); }, terms_of(g), lin::no_bias);
  for (size_t e = 0; e < y.size(); ++e)
    if (!y[e].zero())
      y[e].f += shift(static_cast<int64_t>(e));
  return {y};
}

// ---- Training --------------------------------------------------------------------------

// The divisor of output position p.
int64_t divisor(const Node &n, const ops::Taps &t, int64_t p) {
  return attr_int(n, "count_include_pad", 0) ? t.padded[p] : t.begin[p + 1] - t.begin[p];
}

void train_forward(const Node &n, TrainIns in, TrainOuts out, TrainContext &ctx) {
  const TrainTensor &x = *in[0];
  const ops::WindowCache &w = ops::window_cache(n, x.shape, *ctx.cache);
  Dims yd{x.shape[0], x.shape[1]};
  yd.insert(yd.end(), w.win.out.begin(), w.win.out.end());
  TrainTensor &y = *out[0];
  y.resize(yd);
  int64_t planes = x.shape[0] * x.shape[1], isz = dims_numel(w.win.in), osz = dims_numel(w.win.out);
  for (int64_t pl = 0; pl < planes; ++pl)
    for (int64_t p = 0; p < osz; ++p) {
      float s = 0;
      for (int64_t t = w.taps.begin[p]; t < w.taps.begin[p + 1]; ++t)
        s += x.v[pl * isz + w.taps.off[t]];
      int64_t d = divisor(n, w.taps, p);
      y.v[pl * osz + p] = d > 0 ? s / static_cast<float>(d) : 0.0f;
    }
}

// Each output's gradient, divided by its divisor, goes to every element of its window.
void backward(const Node &n, TrainIns in, TrainIns, TrainIns dout, TrainOuts din,
              TrainContext &ctx) {
  if (!din[0])
    return;
  const TrainTensor &x = *in[0], &dy = *dout[0];
  const ops::WindowCache &w = ops::window_cache(n, x.shape, *ctx.cache);
  din[0]->assign(x.shape, 0.0f);
  int64_t planes = x.shape[0] * x.shape[1], isz = dims_numel(w.win.in), osz = dims_numel(w.win.out);
  for (int64_t pl = 0; pl < planes; ++pl)
    for (int64_t p = 0; p < osz; ++p) {
      int64_t d = divisor(n, w.taps, p);
      if (d == 0)
        continue;
      float g = dy.v[pl * osz + p] / static_cast<float>(d);
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
  d.ebops = &ops::pool_ebops;
  d.addend_counts = &ops::pool_addend_counts;
  return d;
}
} // namespace

const OpDef op_def_AveragePool = make_averagepool();

} // namespace hgqc
