// Optimisers of HGQ training (Adam, SGD with momentum) and the cosine learning-rate schedule.
#include "qat/optim.h"

#include "ir/error.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace hgqc {

Optimizer::Optimizer(OptimizerKind kind, std::vector<ParamView> params)
    : kind_(kind), p_(std::move(params)) {
  for (const ParamView &p : p_) {
    m_.emplace_back(p.n, 0.0f);
    if (kind_ == OptimizerKind::Adam)
      v_.emplace_back(p.n, 0.0f);
  }
}

void Optimizer::step(double lr) {
  ++t_;
  if (kind_ == OptimizerKind::Sgd) {
    const auto l = static_cast<float>(lr);
    for (size_t k = 0; k < p_.size(); ++k) {
      float *w = p_[k].w, *m = m_[k].data();
      const float *g = p_[k].g;
      for (size_t j = 0; j < p_[k].n; ++j) {
        m[j] = 0.9f * m[j] + g[j];
        w[j] -= l * m[j];
      }
    }
    return;
  }
  const double b1 = 0.9, b2 = 0.999;
  const auto a = static_cast<float>(lr * std::sqrt(1 - std::pow(b2, static_cast<double>(t_))) /
                                    (1 - std::pow(b1, static_cast<double>(t_))));
  const float eps = 1e-7f;
  for (size_t k = 0; k < p_.size(); ++k) {
    float *w = p_[k].w, *m = m_[k].data(), *v = v_[k].data();
    const float *g = p_[k].g;
    for (size_t j = 0; j < p_[k].n; ++j) {
      m[j] = 0.9f * m[j] + 0.1f * g[j];
      v[j] = 0.999f * v[j] + 0.001f * g[j] * g[j];
      w[j] -= a * m[j] / (std::sqrt(v[j]) + eps);
    }
  }
}

double LrSchedule::at(int64_t step) const {
  HGQC_ASSERT(cycles >= 1 && cycles <= epochs && steps_per_epoch >= 1,
              "learning-rate schedule with an empty cycle");
  // The last cycle that starts at or before this epoch: start(c) <= epoch <=> c E < (epoch+1) C.
  const int64_t epoch = step / steps_per_epoch;
  const int64_t c = std::min<int64_t>(((epoch + 1) * cycles - 1) / epochs, cycles - 1);
  const int64_t s0 = start(c) * steps_per_epoch, s1 = start(c + 1) * steps_per_epoch;
  double t = std::min(1.0, static_cast<double>(step - s0) / static_cast<double>(s1 - s0));
  return lr * 0.5 * (1 + std::cos(std::numbers::pi * t));
}

bool LrSchedule::ends_cycle(int epoch) const {
  const int64_t c = (static_cast<int64_t>(epoch) * cycles + epochs - 1) / epochs;
  return c >= 1 && c <= cycles && start(c) == epoch;
}

} // namespace hgqc
