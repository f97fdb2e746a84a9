// Shared import, shapes, float evaluation, fixed-point geometry and training of the reductions
// (and the hooks of ReduceSum and ReduceMean, one template):
// ReduceSum, ReduceMean and ReduceMax.
#pragma once

#include "ir/ops/common.h"
#include "ir/ops/fixed_linear.h"

#include <any>

namespace hgqc::ops {

/// Import hook of the reductions: reads `axes` (the attribute, or the constant input 1 for
/// ReduceSum from opset 13 and the others from opset 18), `keepdims` (default 1) and
/// `noop_with_empty_axes` (default 0), and writes the canonical form: `axes` the sorted,
/// normalised reduced axes (every axis when none are given, none for a no-op) and `keepdims`.
void import_reduce(Node &n, ImportContext &ctx);

/// Output dims of reduction node n over input dims x (kDynamic stays kDynamic).
Dims reduce_out_dims(const Node &n, const Dims &x);

/// The input elements of each output element of a reduction over fully known dims x: output
/// e (row-major over the output, with or without the kept size-1 dims) reads the input
/// offsets off[begin[e] .. begin[e + 1]).
struct ReduceGeom {
  Dims out;                   ///< output dims
  std::vector<int64_t> begin; ///< CSR row starts, size outputs + 1
  std::vector<int64_t> off;   ///< input offsets, row-major
  /// Number of outputs.
  int64_t size() const { return static_cast<int64_t>(begin.size()) - 1; }
  /// Number of elements output e reduces.
  int64_t count(int64_t e) const { return begin[e + 1] - begin[e]; }
  /// Calls emit(input offset) for every element output e reduces.
  template <class Emit> void for_taps(int64_t e, Emit &&emit) const {
    for (int64_t t = begin[e]; t < begin[e + 1]; ++t)
      emit(off[t]);
  }
};

/// The geometry of node n over input dims x.
ReduceGeom reduce_geom(const Node &n, const Dims &x);

/// The geometry of node n over an input range (per-sample dims, batch 1): UserError when the
/// node reduces the batch dimension, which mixes samples.
ReduceGeom reduce_range_geom(const Node &n, const Dims &x);

/// Float evaluation: output e is reduce(values of its elements).
template <class Reduce> Tensor reduce_eval(const Node &n, const Tensor &x, Reduce reduce) {
  ReduceGeom g = reduce_geom(n, x.shape());
  Tensor y(x.dtype(), g.out);
  std::vector<double> vals;
  for (int64_t e = 0; e < g.size(); ++e) {
    vals.clear();
    g.for_taps(e, [&](int64_t o) { vals.push_back(x[o]); });
    y[e] = reduce(vals);
  }
  return y;
}

/// Export form of ReduceMean and ReduceMax at opset 13 (`axes` attribute) and of ReduceSum
/// (`axes` input): a no-op reduction is written as Identity.
ExportNode export_reduce(const Node &n, bool axes_input);

/// Training forward and backward of ReduceSum (mean = false) and ReduceMean (mean = true):
/// each output's gradient (divided by its count for a mean) goes to every element it reads.
void reduce_sum_train_forward(bool mean, const Node &n, TrainIns in, TrainOuts out,
                              TrainContext &ctx);
/// See reduce_sum_train_forward.
void reduce_sum_backward(bool mean, const Node &n, TrainIns in, TrainIns dout, TrainOuts din,
                         TrainContext &ctx);

/// The reduction's geometry for training chunks, cached per node by input shape.
const ReduceGeom &reduce_train_geom(const Node &n, const Dims &x, std::any &cache);

} // namespace hgqc::ops

namespace hgqc::ops {

/// OpDef::addend_counts of the reductions: every input element enters one output.
void reduce_addend_counts(const Node &n, const Dims &x, std::vector<float> &counts);
/// The addends' EBOPs of a reduction: each input element its width (as pooling windows).
double reduce_addend_ebops(const ValueRange &x);

/// The hooks of ReduceSum (Mean = false) and ReduceMean (Mean = true), which differ only in
/// the reciprocal of the element count (docs/fixed-point.md#averages).
template <bool Mean> struct SumReduce {
  static std::vector<ValueType> infer(const Node &n, Ins in, Consts) {
    require_float(in[0]->dtype, "input");
    return {ValueType{in[0]->dtype, reduce_out_dims(n, in[0]->dims)}};
  }
  static std::vector<Tensor> eval(const Node &n, Vals in) {
    return {reduce_eval(n, *in[0], [](const std::vector<double> &v) {
      double s = 0;
      for (double x : v)
        s += x;
      return Mean ? s / static_cast<double>(v.size()) : s;
    })};
  }
  static std::vector<ExportNode> export_form(const Node &n, const ExportContext &) {
    return {export_reduce(n, /*axes_input=*/!Mean)};
  }
  // Each output: the sum of its elements times the reciprocal of its count (1 for a sum).
  static auto average_of(const ReduceGeom &g, const ValueRange &x) {
    return linear::AverageGeom{
        g.size(), x,
        [&g](int64_t e, auto &&emit) { g.for_taps(e, [&](int64_t o) { emit(o, -1); }); },
        [&g](int64_t e) { return Mean ? g.count(e) : int64_t{1}; }};
  }
  static std::vector<ValueRange> range(const Node &n, std::span<const ValueRange *const> in,
                                       Consts) {
    ReduceGeom g = reduce_range_geom(n, in[0]->dims);
    return {ValueRange{g.out, average_of(g, *in[0]).ranges()}};
  }
  static std::vector<FixedTensor> eval_fixed(const Node &n, std::span<const FixedTensor *const> in,
                                             const FixedContext &ctx) {
    const FixedTensor &x = *in[0];
    const ValueRange &rx = *ctx.in_ranges[0];
    int64_t samples = linear::require_samples(rx.dims, x.shape);
    ReduceGeom g = reduce_range_geom(n, rx.dims);
    Dims yd = g.out;
    yd[0] = x.shape[0];
    FixedTensor y{yd, std::vector<int64_t>(static_cast<size_t>(dims_numel(yd)))};
    average_of(g, rx).eval(x.q.data(), samples, y.q.data());
    return {y};
  }
  static std::vector<std::vector<NetRef>> lower(const Node &n, LowerContext &ctx) {
    ReduceGeom g = reduce_range_geom(n, ctx.in_ranges[0]->dims);
    return {average_of(g, *ctx.in_ranges[0]).lower(ctx, *ctx.in[0])};
  }
  static double ebops(const Node &n, std::span<const ValueRange *const> in) {
    if (!in[0])
      return 0;
    ReduceGeom g = reduce_range_geom(n, in[0]->dims);
    return reduce_addend_ebops(*in[0]) + average_of(g, *in[0]).ebops();
  }
  static void train_forward(const Node &n, TrainIns in, TrainOuts out, TrainContext &ctx) {
    reduce_sum_train_forward(Mean, n, in, out, ctx);
  }
  static void backward(const Node &n, TrainIns in, TrainIns, TrainIns dout, TrainOuts din,
                       TrainContext &ctx) {
    reduce_sum_backward(Mean, n, in, dout, din, ctx);
  }
};

/// The OpDef of ReduceSum (Mean = false) or ReduceMean (Mean = true).
template <bool Mean> constexpr OpDef sum_reduce_op(std::string_view name) {
  using R = SumReduce<Mean>;
  OpDef d{name, OpDomain::Onnx, 1, 2, 1, 1, true, &import_reduce, &R::infer, &R::eval};
  d.range = &R::range;
  d.eval_fixed = &R::eval_fixed;
  d.lower = &R::lower;
  d.export_form = &R::export_form;
  d.train_forward = &R::train_forward;
  d.backward = &R::backward;
  d.ebops = &R::ebops;
  d.addend_counts = &reduce_addend_counts;
  return d;
}

} // namespace hgqc::ops
