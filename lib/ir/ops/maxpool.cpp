// MaxPool: maximum over each window (pads never win); the Indices output is not supported.
// Fixed point: the exact maximum on the finest grid of the window's elements. Training: the
// gradient flows to each window's (first) maximum. EBOPs: each compared element its width.
#include "ir/ops/fixed_linear.h"
#include "ir/ops/pool_common.h"

#include <limits>

namespace hgqc {

namespace {
void import(Node &n, ImportContext &ctx) {
  check_known_attrs(n, {"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads",
                        "storage_order", "strides"});
  if (n.outputs.size() > 1)
    throw UserError("the Indices output is not supported");
  n.attrs.erase("storage_order"); // only affects Indices
  ops::import_window(n, ctx.graph.values[n.inputs[0]].type.dims, nullptr, true, true);
}

std::vector<ValueType> infer(const Node &n, ops::Ins in, ops::Consts) {
  return {ops::pool_infer(n, *in[0])};
}

std::vector<Tensor> eval(const Node &n, ops::Vals in) {
  return {ops::pool_eval(n, *in[0], [](const std::vector<double> &v, int64_t) {
    double m = -std::numeric_limits<double>::infinity();
    for (double x : v)
      m = std::max(m, x);
    return m;
  })};
}

std::vector<ExportNode> export_form(const Node &n, const ExportContext &) {
  return {ops::export_window(n, true)};
}

// The window over x's range; UserError when a window lies entirely in the padding (its
// maximum would be -infinity).
ops::PoolRangeGeom range_geom(const Node &n, const ValueRange &x) {
  ops::PoolRangeGeom g = ops::pool_range_geom(n, x.dims);
  for (int64_t p = 0; p < g.osz; ++p)
    if (g.taps.begin[p] == g.taps.begin[p + 1])
      throw UserError("the window of output position " + std::to_string(p) +
                      " lies entirely in the padding: its maximum has no fixed-point value");
  return g;
}

auto taps_of(const ops::PoolRangeGeom &g) {
  return [&g](int64_t e, auto &&emit) { g.for_taps(e, emit); };
}

std::vector<ValueRange> range(const Node &n, std::span<const ValueRange *const> in, ops::Consts) {
  ops::PoolRangeGeom g = range_geom(n, *in[0]);
  auto r = ops::linear::max_ranges(dims_numel(g.out), *in[0], taps_of(g));
  return {ValueRange{g.out, std::move(r.el)}};
}

std::vector<FixedTensor> eval_fixed(const Node &n, std::span<const FixedTensor *const> in,
                                    const FixedContext &ctx) {
  namespace lin = ops::linear;
  const FixedTensor &x = *in[0];
  const ValueRange &rx = *ctx.in_ranges[0], &ry = *ctx.out_ranges[0];
  int64_t samples = lin::require_samples(rx.dims, x.shape);
  ops::PoolRangeGeom g = range_geom(n, rx);
  int64_t n_out = dims_numel(g.out);
  lin::MaxRanges mr = lin::max_ranges(n_out, rx, taps_of(g));
  HGQC_ASSERT(mr.el == ry.el, "MaxPool ranges changed between analysis and emulation");
  lin::MaxPlan plan = lin::max_plan(n_out, rx, mr, taps_of(g));
  Dims yd = g.out;
  yd[0] = x.shape[0];
  FixedTensor y{yd, std::vector<int64_t>(static_cast<size_t>(dims_numel(yd)))};
  lin::run_max_plan(plan, x.q.data(), dims_numel(rx.dims), samples, y.q.data(), n_out);
  return {y};
}

// Hardware: each window a balanced tree of comparators and muxes.
std::vector<std::vector<NetRef>> lower(const Node &n, LowerContext &ctx) {
  ops::PoolRangeGeom g = range_geom(n, *ctx.in_ranges[0]);
  return {ops::linear::lower_max(ctx.net, dims_numel(g.out), *ctx.in[0], taps_of(g))};
}

// ---- Training --------------------------------------------------------------------------

// The window and, from the last forward, the input offset (in its plane) of each output's
// maximum (-1: a window entirely in the padding, whose output is 0).
struct TrainCache {
  std::any win;
  std::vector<int64_t> arg;
};

void train_forward(const Node &n, TrainIns in, TrainOuts out, TrainContext &ctx) {
  const TrainTensor &x = *in[0];
  if (!ctx.cache->has_value())
    *ctx.cache = TrainCache{};
  auto &c = *std::any_cast<TrainCache>(ctx.cache);
  const ops::WindowCache &w = ops::window_cache(n, x.shape, c.win);
  Dims yd{x.shape[0], x.shape[1]};
  yd.insert(yd.end(), w.win.out.begin(), w.win.out.end());
  TrainTensor &y = *out[0];
  y.resize(yd);
  int64_t planes = x.shape[0] * x.shape[1], isz = dims_numel(w.win.in), osz = dims_numel(w.win.out);
  c.arg.assign(static_cast<size_t>(planes * osz), -1);
  for (int64_t pl = 0; pl < planes; ++pl) {
    const float *xp = x.data() + pl * isz;
    for (int64_t p = 0; p < osz; ++p) {
      int64_t best = -1;
      for (int64_t t = w.taps.begin[p]; t < w.taps.begin[p + 1]; ++t)
        if (best < 0 || xp[w.taps.off[t]] > xp[best])
          best = w.taps.off[t];
      c.arg[pl * osz + p] = best;
      y.v[pl * osz + p] = best < 0 ? 0.0f : xp[best];
    }
  }
}

// Each output's gradient goes to the input element that was its maximum.
void backward(const Node &, TrainIns in, TrainIns out, TrainIns dout, TrainOuts din,
              TrainContext &ctx) {
  if (!din[0])
    return;
  const TrainTensor &x = *in[0], &dy = *dout[0];
  const auto &c = *std::any_cast<TrainCache>(ctx.cache);
  grad_target(*din[0], x.shape);
  int64_t planes = x.shape[0] * x.shape[1], isz = x.numel() / std::max<int64_t>(planes, 1),
          osz = out[0]->numel() / std::max<int64_t>(planes, 1);
  for (int64_t pl = 0; pl < planes; ++pl)
    for (int64_t p = 0; p < osz; ++p)
      if (int64_t a = c.arg[pl * osz + p]; a >= 0)
        din[0]->v[pl * isz + a] += dy.v[pl * osz + p];
}

constexpr OpDef make_maxpool() {
  OpDef d{"MaxPool", OpDomain::Onnx, 1, 1, 1, 2, true, &import, &infer, &eval};
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

const OpDef op_def_MaxPool = make_maxpool();

} // namespace hgqc
