// The task losses of HGQ training (softmax cross-entropy, mean squared error) and their
// gradients with respect to the model's outputs.
#pragma once

#include <cstdint>

namespace hgqc {

/// The task loss.
enum class TaskKind {
  Classify, ///< softmax cross-entropy on integer labels (an output Softmax is fused into it)
  Regress   ///< mean squared error against float targets shaped like the output
};

/// The task loss of `rows` rows of outputs z [rows, C] (logits for Classify): returns the sum
/// over the rows of each row's loss (cross-entropy against labels[r], or the mean over C of
/// the squared differences to targets[r * C ..]) and writes into gz [rows, C] its gradient
/// scaled by `inv_rows` (1 / the batch's rows: the gradient of the batch mean). Classify:
/// adds to `correct` the rows whose first largest output is the label.
double task_loss(TaskKind task, const float *z, int64_t rows, int64_t C, const int32_t *labels,
                 const float *targets, float inv_rows, float *gz, int64_t &correct);

} // namespace hgqc
