// ReduceMean: the mean over `axes` (all axes by default; none with noop_with_empty_axes = 1),
// size-1 dimensions kept when keepdims = 1. Fixed point: the exact sum times the reciprocal of
// the element count (a move of the binary point for 2^s; docs/fixed-point.md#averages
// otherwise). Training: the gradient, divided by the count, goes to every element. EBOPs: each
// addend its width, and the reciprocal products.
#include "ir/ops/fixed_linear.h"
#include "ir/ops/reduce_common.h"

namespace hgqc {
namespace {
namespace lin = ops::linear;

std::vector<ValueType> infer(const Node &n, ops::Ins in, ops::Consts) {
  ops::require_float(in[0]->dtype, "input");
  return {ValueType{in[0]->dtype, ops::reduce_out_dims(n, in[0]->dims)}};
}

std::vector<Tensor> eval(const Node &n, ops::Vals in) {
  return {ops::reduce_eval(n, *in[0], [](const std::vector<double> &v) {
    double s = 0;
    for (double x : v)
      s += x;
    return s / static_cast<double>(v.size());
  })};
}

std::vector<ExportNode> export_form(const Node &n, const ExportContext &) {
  return {ops::export_reduce(n, false)};
}

// Each output: the sum of its elements times the reciprocal of its count (lin::reciprocal).
auto average_of(const ops::ReduceGeom &g, const ValueRange &x) {
  return lin::AverageGeom{
      g.size(), x, [&g](int64_t e, auto &&emit) { g.for_taps(e, [&](int64_t o) { emit(o, -1); }); },
      [&g](int64_t e) { return g.count(e); }};
}

std::vector<ValueRange> range(const Node &n, std::span<const ValueRange *const> in, ops::Consts) {
  ops::ReduceGeom g = ops::reduce_range_geom(n, in[0]->dims);
  return {ValueRange{g.out, average_of(g, *in[0]).ranges()}};
}

std::vector<FixedTensor> eval_fixed(const Node &n, std::span<const FixedTensor *const> in,
                                    const FixedContext &ctx) {
  const FixedTensor &x = *in[0];
  const ValueRange &rx = *ctx.in_ranges[0];
  int64_t samples = lin::require_samples(rx.dims, x.shape);
  ops::ReduceGeom g = ops::reduce_range_geom(n, rx.dims);
  Dims yd = g.out;
  yd[0] = x.shape[0];
  FixedTensor y{yd, std::vector<int64_t>(static_cast<size_t>(dims_numel(yd)))};
  average_of(g, rx).eval(x.q.data(), samples, y.q.data());
  return {y};
}

std::vector<std::vector<NetRef>> lower(const Node &n, LowerContext &ctx) {
  ops::ReduceGeom g = ops::reduce_range_geom(n, ctx.in_ranges[0]->dims);
  return {average_of(g, *ctx.in_ranges[0]).lower(ctx, *ctx.in[0])};
}

double ebops(const Node &n, std::span<const ValueRange *const> in) {
  if (!in[0])
    return 0;
  ops::ReduceGeom g = ops::reduce_range_geom(n, in[0]->dims);
  return ops::reduce_addend_ebops(*in[0]) + average_of(g, *in[0]).ebops();
}

void train_forward(const Node &n, TrainIns in, TrainOuts out, TrainContext &ctx) {
  ops::reduce_sum_train_forward(/*mean=*/true, n, in, out, ctx);
}

void backward(const Node &n, TrainIns in, TrainIns, TrainIns dout, TrainOuts din,
              TrainContext &ctx) {
  ops::reduce_sum_backward(/*mean=*/true, n, in, dout, din, ctx);
}

constexpr OpDef make_reducemean() {
  OpDef d{"ReduceMean", OpDomain::Onnx, 1, 2, 1, 1, true, &ops::import_reduce, &infer, &eval};
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

const OpDef op_def_ReduceMean = make_reducemean();

} // namespace hgqc
