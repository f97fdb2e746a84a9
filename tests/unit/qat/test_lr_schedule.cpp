// The learning-rate schedule of hgqc train: one cosine decay, and warm restarts on epoch bounds.
#include "qat/optim.h"

#include <doctest/doctest.h>

#include <cmath>
#include <numbers>

using namespace hgqc;

namespace {
/// The plain cosine decay over `total` steps, written out.
double cosine(double lr, double step, double total) {
  return lr * 0.5 * (1 + std::cos(std::numbers::pi * step / total));
}
} // namespace

TEST_CASE("lr schedule: one cycle is the cosine decay from lr to 0 over the whole run") {
  const LrSchedule s{2e-3, 7, 5, 1};
  for (int64_t step = 0; step < 35; ++step)
    CHECK(s.at(step) ==
          doctest::Approx(cosine(2e-3, static_cast<double>(step), 35)).epsilon(1e-12));
  CHECK(s.at(0) == 2e-3);
  for (int e = 1; e <= 5; ++e)
    CHECK(s.ends_cycle(e) == (e == 5));
}

TEST_CASE(
    "lr schedule: warm restarts decay to near 0 at each cycle's last step and restart at lr") {
  // 10 epochs of 4 steps in 5 cycles: each cycle is 2 epochs, 8 steps.
  const LrSchedule s{1e-2, 4, 10, 5};
  for (int c = 0; c < 5; ++c) {
    const int64_t s0 = c * 8;
    CHECK(s.at(s0) == 1e-2);
    for (int64_t k = 0; k < 8; ++k)
      CHECK(s.at(s0 + k) ==
            doctest::Approx(cosine(1e-2, static_cast<double>(k), 8)).epsilon(1e-12));
    CHECK(s.at(s0 + 7) < 1e-2 * 0.04);
  }
  for (int e = 1; e <= 10; ++e)
    CHECK(s.ends_cycle(e) == (e % 2 == 0));
}

TEST_CASE("lr schedule: cycles that do not divide the epochs end on epoch bounds, at least one "
          "epoch each") {
  // 7 epochs in 3 cycles: epochs [0, 2), [2, 4), [4, 7) (starts 0, 7/3 = 2, 14/3 = 4).
  const LrSchedule s{1.0, 3, 7, 3};
  const int ends[] = {2, 4, 7};
  for (int e = 1; e <= 7; ++e)
    CHECK(s.ends_cycle(e) == (e == 2 || e == 4 || e == 7));
  int64_t start = 0;
  for (int end : ends) {
    const int64_t len = (end - start) * 3;
    CHECK(s.at(start * 3) == 1.0);
    CHECK(s.at(start * 3 + len - 1) ==
          doctest::Approx(cosine(1.0, static_cast<double>(len - 1), static_cast<double>(len)))
              .epsilon(1e-12));
    start = end;
  }
  // As many cycles as epochs: every epoch is a cycle of its own.
  const LrSchedule each{1.0, 5, 4, 4};
  for (int e = 1; e <= 4; ++e) {
    CHECK(each.ends_cycle(e));
    CHECK(each.at((e - 1) * 5) == 1.0);
  }
}
