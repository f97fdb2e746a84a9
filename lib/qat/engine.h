// The HGQ training engine: a quantized graph run forward and backward in float32 over a batch
// split across a worker pool, with the task loss (qat/loss.h) and the cost surrogates
// (qat/cost.h) of method.md §2.
#pragma once

#include "ir/graph.h"
#include "ir/train.h"
#include "qat/cost.h"
#include "qat/hgq.h"
#include "qat/loss.h"

#include <any>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace hgqc {

/// Options of TrainEngine.
struct EngineOptions {
  int threads = 1; ///< workers over the batch (results depend on it)
  TaskKind task = TaskKind::Classify;
  /// Initial fractional bits of weights and biases; NaN: per tensor, those of an 8-bit format
  /// covering the tensor's largest magnitude (as `hgqc quantize --bits 8` would choose).
  float init_f_weight = std::numeric_limits<float>::quiet_NaN();
  float init_f_act = 8; ///< initial fractional bits of activations and inputs
  /// Initial fractional bits of the graph input's quantizer when fewer than init_f_act (the
  /// data's own grid, e.g. 0 for integer pixels); NaN: init_f_act.
  float init_f_input = std::numeric_limits<float>::quiet_NaN();
  float range_decay = 1e-3f; ///< per step, running activation ranges shrink by this factor
  /// Axes (of an activation's dims, batch 1) along which activation quantizers share f;
  /// empty: one f per element.
  std::vector<int64_t> act_share_axes;
  /// The cost whose width gradient the loss adds (times beta); both are computed every step.
  CostKind cost = CostKind::Luts;
};

/// One batch's data: `x` float32 rows [rows, per-sample size] of the model input, and either
/// integer labels (classification) or float targets [rows, output size] (regression).
struct BatchData {
  const float *x = nullptr;
  const int32_t *labels = nullptr;
  const float *targets = nullptr;
  int64_t rows = 0;
};

/// Results of one step (sums over the batch; the loss is the mean task loss).
struct StepStats {
  double loss = 0;     ///< mean task loss of the batch
  int64_t correct = 0; ///< classification: rows whose argmax is the label
  double ebops = 0;    ///< surrogate EBOPs (method.md §2) at this step's widths
  /// The table term at this step's widths: the ROMs of table functions priced in EBOPs
  /// (qat/cost.h, table_cost()); the loss adds beta * (ebops + tables).
  double tables = 0;
  double widths = 0; ///< sum of all quantizers' widths (one sample's activations)
  /// The surrogate LUTs (CostModel::add_luts, tables included) at this step's widths; with
  /// CostKind::Luts the loss adds beta * luts instead of beta * (ebops + tables).
  double luts = 0;
};

/// A trainable tensor and its gradient, for the optimiser.
struct ParamView {
  float *w;
  const float *g;
  size_t n;
  bool frac_bits; ///< fractional bits of a quantizer (clamped to [kMinFrac, kMaxFrac])
};

/// A graph with FixedQuant nodes where HGQ quantizers go (their k, i, f inputs are
/// placeholders), compiled for training. Constants read by a quantizer (weights, biases) and
/// the scale and B of unfolded BatchNormalization nodes are trained; everything else is fixed.
class TrainEngine {
public:
  /// Checks the graph (one float input with the batch in dimension 0, one output, every
  /// op trainable) and throws UserError naming the node otherwise.
  TrainEngine(Graph g, const EngineOptions &opt);
  ~TrainEngine();
  TrainEngine(const TrainEngine &) = delete;
  TrainEngine &operator=(const TrainEngine &) = delete;

  /// Per-sample input dims (batch dimension dropped) and size.
  const Dims &sample_dims() const { return sample_dims_; }
  int64_t sample_size() const { return dims_numel(sample_dims_); }
  /// Per-sample size of the loss's output (number of classes for classification).
  int64_t output_size() const { return out_size_; }

  /// Forward, loss and backward on one batch; afterwards gradients() holds d(task loss +
  /// beta * cost + gamma * widths)/d(parameter), cost the surrogate LUTs or EBOPs + tables
  /// (EngineOptions::cost). Updates running activation ranges.
  StepStats step(const BatchData &b, double beta, double gamma);
  /// Forward only (no gradients, ranges untouched): the model's outputs (the loss's input,
  /// i.e. logits for classification) for `rows` rows of x, written to `out`.
  void predict(const float *x, int64_t rows, std::vector<float> &out);

  /// Trainable tensors (weights first, then fractional bits), in a fixed order.
  std::vector<ParamView> params();
  /// Clamps every quantizer's fractional bits into [kMinFrac, kMaxFrac].
  void clamp_frac_bits();

  /// The graph with the current weights and per-element formats written into the FixedQuant
  /// nodes (activation formats from the running ranges, widened by `cover`): the quantized
  /// model file's graph.
  Graph export_graph(double cover = 1.0) const;

  /// The quantizers (in graph order).
  const std::vector<HgqQuantizer> &quantizers() const { return quants_; }
  /// Number of trainable weights (not counting fractional bits).
  int64_t weight_count() const;

  /// The surrogate LUTs (CostModel::add_luts, no gradient) of the current weights and formats:
  /// the model export_graph() writes, one optimiser update after the last step's figure.
  /// Updates lut_layers() and lut_rest() to it.
  double price_luts();
  /// The linear layers of the LUT cost with their surrogate LUTs at the last step.
  const std::vector<LutLayer> &lut_layers() const;
  /// Scales the LUT cost of the linear layer of node `node` (training graph index) by
  /// `factor` from the next step on; false when there is no such layer.
  bool set_lut_scale(int node, double factor);
  /// Scales the LUT cost of the linear layer named `name`; false when there is none.
  bool set_lut_scale(const std::string &name, double factor);
  /// The rest of the LUT cost (all but the linear layers) at the last step, and its scale.
  LutLayer lut_rest() const;
  /// Scales the rest of the LUT cost by `factor` from the next step on.
  void set_lut_rest_scale(double factor);

  /// Only for tests: the engine's graph.
  const Graph &graph() const { return g_; }

private:
  /// Refreshes the activation quantizers' tables and computes the per-model values.
  void run_static_nodes();
  struct Impl;
  std::unique_ptr<Impl> impl_;
  Graph g_;
  std::vector<HgqQuantizer> quants_;
  Dims sample_dims_;
  int64_t out_size_ = 0;
};

/// Inserts FixedQuant placeholders (formats to be trained) into a normalised float graph
/// where HGQ quantizers go: on the graph input, on the non-constant inputs of MatMul, Gemm
/// and Conv, on their constant weights and biases, and on the constant terms of Add and Sub
/// (the places quantize_uniform() uses). Throws UserError for a model that already has
/// quantizers. Returns the number inserted.
int insert_hgq_quantizers(Graph &g);

} // namespace hgqc
