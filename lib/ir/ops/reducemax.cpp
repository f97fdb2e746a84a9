// ReduceMax: the maximum over `axes` (all axes by default; none with noop_with_empty_axes = 1),
// size-1 dimensions kept when keepdims = 1. Fixed point: the exact maximum (a comparator tree in
// hardware). Training: the gradient goes to the element that was the maximum. EBOPs: each
// compared element its width.
#include "ir/ops/fixed_linear.h"
#include "ir/ops/reduce_common.h"

#include <algorithm>
#include <any>

namespace hgqc {
namespace {
namespace lin = ops::linear;

std::vector<ValueType> infer(const Node &n, ops::Ins in, ops::Consts) {
  ops::require_float(in[0]->dtype, "input");
  return {ValueType{in[0]->dtype, ops::reduce_out_dims(n, in[0]->dims)}};
}

std::vector<Tensor> eval(const Node &n, ops::Vals in) {
  return {ops::reduce_eval(n, *in[0], [](const std::vector<double> &v) {
    return *std::max_element(v.begin(), v.end());
  })};
}

std::vector<ExportNode> export_form(const Node &n, const ExportContext &) {
  return {ops::export_reduce(n, false)};
}

auto taps_of(const ops::ReduceGeom &g) {
  return [&g](int64_t e, auto &&emit) { g.for_taps(e, emit); };
}

std::vector<ValueRange> range(const Node &n, std::span<const ValueRange *const> in, ops::Consts) {
  ops::ReduceGeom g = ops::reduce_range_geom(n, in[0]->dims);
  return {ValueRange{g.out, lin::max_ranges(g.size(), *in[0], taps_of(g)).el}};
}

std::vector<FixedTensor> eval_fixed(const Node &n, std::span<const FixedTensor *const> in,
                                    const FixedContext &ctx) {
  const FixedTensor &x = *in[0];
  const ValueRange &rx = *ctx.in_ranges[0];
  int64_t samples = lin::require_samples(rx.dims, x.shape);
  ops::ReduceGeom g = ops::reduce_range_geom(n, rx.dims);
  lin::MaxRanges mr = lin::max_ranges(g.size(), rx, taps_of(g));
  lin::MaxPlan plan = lin::max_plan(g.size(), rx, mr, taps_of(g));
  Dims yd = g.out;
  yd[0] = x.shape[0];
  FixedTensor y{yd, std::vector<int64_t>(static_cast<size_t>(dims_numel(yd)))};
  lin::run_max_plan(plan, x.q.data(), dims_numel(rx.dims), samples, y.q.data(), g.size());
  return {y};
}

// Hardware: each output a balanced tree of comparators and muxes.
std::vector<std::vector<NetRef>> lower(const Node &n, LowerContext &ctx) {
  ops::ReduceGeom g = ops::reduce_range_geom(n, ctx.in_ranges[0]->dims);
  return {lin::lower_max(ctx.net, g.size(), *ctx.in[0], taps_of(g))};
}

double ebops(const Node &, std::span<const ValueRange *const> in) {
  return in[0] ? ops::reduce_addend_ebops(*in[0]) : 0.0;
}

// ---- Training --------------------------------------------------------------------------

// The geometry, and from the last forward the input offset of each output's maximum.
struct TrainCache {
  std::any geom;
  std::vector<int64_t> arg;
};

void train_forward(const Node &n, TrainIns in, TrainOuts out, TrainContext &ctx) {
  const TrainTensor &x = *in[0];
  if (!ctx.cache->has_value())
    *ctx.cache = TrainCache{};
  auto &c = *std::any_cast<TrainCache>(ctx.cache);
  const ops::ReduceGeom &g = ops::reduce_train_geom(n, x.shape, c.geom);
  TrainTensor &y = *out[0];
  y.resize(g.out);
  c.arg.assign(static_cast<size_t>(g.size()), 0);
  for (int64_t e = 0; e < g.size(); ++e) {
    int64_t best = -1;
    g.for_taps(e, [&](int64_t o) {
      if (best < 0 || x.v[o] > x.v[best])
        best = o;
    });
    c.arg[e] = best;
    y.v[e] = x.v[best];
  }
}

void backward(const Node &, TrainIns in, TrainIns, TrainIns dout, TrainOuts din,
              TrainContext &ctx) {
  if (!din[0])
    return;
  const auto &c = *std::any_cast<TrainCache>(ctx.cache);
  grad_target(*din[0], in[0]->shape);
  for (size_t e = 0; e < c.arg.size(); ++e)
    din[0]->v[c.arg[e]] += dout[0]->v[e];
}

constexpr OpDef make_reducemax() {
  OpDef d{"ReduceMax", OpDomain::Onnx, 1, 2, 1, 1, true, &ops::import_reduce, &infer, &eval};
  d.range = &range;
  d.eval_fixed = &eval_fixed;
  d.lower = &lower;
  d.export_form = &export_form;
  d.train_forward = &train_forward;
  d.backward = &backward;
  d.ebops = &ebops;
  d.addend_counts = &ops::reduce_addend_counts;
  return d;
}
} // namespace

const OpDef op_def_ReduceMax = make_reducemax();

} // namespace hgqc
