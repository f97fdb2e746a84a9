// Optimisers of HGQ training (Adam, SGD with momentum) and the cosine learning-rate decay.
#pragma once

#include "qat/engine.h"

#include <string>
#include <vector>

namespace hgqc {

/// Which update rule.
enum class OptimizerKind { Adam, Sgd };

/// Adam (beta1 0.9, beta2 0.999, eps 1e-7) or SGD with momentum 0.9 over a fixed list of
/// tensors; fractional bits are clamped by the caller (TrainEngine::clamp_frac_bits).
class Optimizer {
public:
  Optimizer(OptimizerKind kind, std::vector<ParamView> params);
  /// One update with learning rate `lr` from the gradients the views point at.
  void step(double lr);

private:
  OptimizerKind kind_;
  std::vector<ParamView> p_;
  std::vector<std::vector<float>> m_, v_;
  int64_t t_ = 0;
};

/// Cosine decay from `lr` at step 0 to 0 at step `total`.
double cosine_lr(double lr, int64_t step, int64_t total);

} // namespace hgqc
