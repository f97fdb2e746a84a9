// Private header of the training engine (lib/qat/engine/): the compiled graph's state shared by
// its phases, compile.cpp (checks and value kinds), run.cpp (forward, backward, step) and
// graph.cpp (the quantizers inserted before training and the formats exported after).
#pragma once

#include "qat/cost.h"
#include "qat/engine.h"
#include "qat/pool.h"

#include <any>
#include <cstdint>
#include <memory>
#include <vector>

namespace hgqc {

/// How a value is computed: the model input, a constant, a trained parameter, once per model
/// (Static: from constants and parameters only), once per sample (Dynamic), or not at all.
enum class Kind : uint8_t { Input, Const, Param, Static, Dynamic, Unused };

/// Per-thread state: the values and gradients of its rows of the batch.
struct Worker {
  std::vector<TrainTensor> val, grad, sgrad;
  std::vector<char> has; // by value: a gradient reached it in this step's sweep
  std::vector<std::any> cache;
  std::vector<std::vector<float>> egrad, bmin, bmax; // by quantizer (activations)
  double loss = 0;
  int64_t correct = 0;
};

/// The compiled graph: value kinds, node lists, per-model values and gradients, the cost model
/// and the workers.
struct TrainEngine::Impl {
  EngineOptions opt;
  std::vector<Kind> kind;
  std::vector<char> needs_grad;
  std::vector<TrainTensor> sval, sgrad; // constants, parameters and per-model (static) values
  std::vector<int> quant_of;            // by node: quantizer index or -1
  std::vector<int> static_nodes, dyn_nodes;
  std::vector<std::any> static_cache;
  std::vector<ValueId> param_values, static_grad_values;
  std::vector<ValueId> dyn_grad_values; // per-sample values whose gradients a step zeroes
  std::vector<char> static_has;         // by value: the static sweep's `has`
  std::vector<TrainTensor> pgrad;
  std::vector<std::vector<float>> fgrad, egrad;
  std::unique_ptr<CostModel> cost;
  std::vector<std::vector<const Tensor *>> consts;
  std::vector<Worker> workers;
  std::unique_ptr<Pool> pool;
  ValueId input = kNoValue, loss_value = kNoValue;
  int skip_node = -1;

  // The backward sweep: `nodes` in reverse, each whose outputs a gradient reached adding its
  // inputs' gradients (every hook adds, so a value read twice sums its readers'
  // contributions). With a worker: its per-sample nodes on its rows, the activation
  // quantizers' f gradients into its egrad; without: the per-model nodes, weight quantizers.
  void backward_sweep(const Graph &g, std::vector<HgqQuantizer> &quants,
                      const std::vector<int> &nodes, Worker *w);
  // Forward of the dynamic nodes on `rows` rows of x into worker w.
  void forward_rows(const Graph &g, std::vector<HgqQuantizer> &quants, Worker &w, const float *x,
                    int64_t rows, const Dims &sample);
};

} // namespace hgqc
