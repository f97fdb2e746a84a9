// Softmax cross-entropy and mean squared error with their output gradients (method.md §2).
#include "qat/loss.h"

#include <cmath>

namespace hgqc {

double task_loss(TaskKind task, const float *z0, int64_t rows, int64_t C, const int32_t *labels,
                 const float *targets, float inv_rows, float *gz0, int64_t &correct) {
  double loss = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const float *z = z0 + r * C;
    float *gz = gz0 + r * C;
    if (task == TaskKind::Classify) {
      int64_t label = labels[r], best = 0;
      float mx = z[0];
      for (int64_t c = 1; c < C; ++c)
        if (z[c] > mx) {
          mx = z[c];
          best = c;
        }
      double s = 0;
      for (int64_t c = 0; c < C; ++c)
        s += std::exp(static_cast<double>(z[c] - mx));
      loss += std::log(s) + mx - z[label];
      correct += best == label;
      for (int64_t c = 0; c < C; ++c)
        gz[c] = static_cast<float>(std::exp(static_cast<double>(z[c] - mx)) / s) * inv_rows;
      gz[label] -= inv_rows;
    } else {
      const float *tg = targets + r * C;
      for (int64_t c = 0; c < C; ++c) {
        float d = z[c] - tg[c];
        loss += static_cast<double>(d) * d / static_cast<double>(C);
        gz[c] = 2.0f * d * inv_rows / static_cast<float>(C);
      }
    }
  }
  return loss;
}

} // namespace hgqc
