// Optimisers of HGQ training (Adam, SGD with momentum) and the cosine learning-rate schedule.
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

/// The learning rate over a run: a cosine decay from `lr` to 0, restarted `cycles` times (warm
/// restarts). Cycles end on epoch boundaries: cycle c (from 0) spans epochs
/// [c * epochs / cycles, (c + 1) * epochs / cycles), integer division, so each of `cycles` <=
/// `epochs` holds at least one epoch. One cycle is a plain cosine decay over the run.
struct LrSchedule {
  double lr = 0;
  int64_t steps_per_epoch = 1;
  int epochs = 1;
  int cycles = 1;
  /// The learning rate of step `step`, counted from 0 over the whole run.
  double at(int64_t step) const;
  /// Whether epoch `epoch` (from 1) is the last of a cycle: there the rate has decayed to 0.
  bool ends_cycle(int epoch) const;

private:
  /// First epoch (from 0) of cycle c; c == cycles gives `epochs`.
  int64_t start(int64_t c) const { return c * epochs / cycles; }
};

} // namespace hgqc
