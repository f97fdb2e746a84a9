// Float32 tensors of the training engine and what the ops' training hooks (forward, backward) see.
#pragma once

#include "ir/tensor.h"

#include <any>
#include <span>
#include <vector>

namespace hgqc {

/// A float32 tensor of the training engine: contiguous, row-major; batched values have the
/// samples in dimension 0.
struct TrainTensor {
  Dims shape;
  std::vector<float> v;
  /// Sets the shape and sizes the storage (new elements are zero, kept ones keep their values).
  void resize(const Dims &d) {
    shape = d;
    v.resize(static_cast<size_t>(dims_numel(d)));
  }
  /// Sets the shape and fills with `x`.
  void assign(const Dims &d, float x) {
    shape = d;
    v.assign(static_cast<size_t>(dims_numel(d)), x);
  }
  int64_t numel() const { return static_cast<int64_t>(v.size()); }
  float *data() { return v.data(); }
  const float *data() const { return v.data(); }
};

/// The gradient tensor a backward hook adds its contribution into (micrograd's `+=`): an empty
/// tensor becomes zeros of shape `d`; a sized one must already have shape `d` (it holds the
/// contributions of other readers of the value). Returns `g`.
inline TrainTensor &grad_target(TrainTensor &g, const Dims &d) {
  if (g.v.empty() && g.shape.empty())
    g.assign(d, 0.0f);
  HGQC_ASSERT(g.shape == d, "gradient of the wrong shape given to a backward hook");
  return g;
}

/// Inputs (or outputs, or output gradients) of a training hook; null: an omitted input.
using TrainIns = std::span<const TrainTensor *const>;
/// Tensors a training hook writes; null: not wanted.
using TrainOuts = std::span<TrainTensor *const>;

/// What an op's training hooks see besides the tensors.
struct TrainContext {
  /// Constant inputs as the graph holds them (double precision), null for the others.
  std::span<const Tensor *const> consts;
  /// State the engine keeps for this node and worker across calls (window taps, index maps,
  /// the argmax positions that backward reads). Never null.
  std::any *cache = nullptr;
};

} // namespace hgqc
