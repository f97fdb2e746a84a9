// Shared import, shapes, float evaluation, fixed-point geometry and training of the reductions
// ReduceSum, ReduceMean and ReduceMax.
#pragma once

#include "ir/ops/common.h"

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

} // namespace hgqc::ops
