// The activation quantizer's vectorised rounding against std::floor, bit for bit, on edge values
// and on random values of every magnitude.
#include "qat/hgq.h"

#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

using namespace hgqc;

TEST_CASE("HGQ activation quantizer: the rounding equals min(floor(x 2^f + 0.5), top) 2^-f, "
          "bit for bit") {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> xs = {0.0f,         -0.0f,         0.5f,         -0.5f,       1.5f,
                           -1.5f,        2.5f,          -2.5f,        0.49999997f, -0.49999997f,
                           -0.50000006f, 0.99999994f,   -0.99999994f, 8388607.5f,  -8388607.5f,
                           8388608.0f,   -8388608.0f,   8388609.0f,   -8388609.0f, 16777216.0f,
                           2147483648.f, -2147483648.f, 3e9f,         -3e9f,       1e30f,
                           -1e30f,       1e-40f,        -1e-40f,      inf,         -inf,
                           3.4e38f,      -3.4e38f};
  std::mt19937 rng(17);
  std::uniform_real_distribution<float> mant(-1, 1);
  std::uniform_int_distribution<int> ex(-30, 40);
  for (int k = 0; k < 20000; ++k)
    xs.push_back(std::ldexp(mant(rng), ex(rng)));
  // Element e takes f = e mod 7 - 3, a saturation top on every third element and is pruned on
  // every eleventh; n = 37 is not a multiple of the vector width, and the values fill 542 rows.
  const int64_t n = 37;
  while (xs.size() % static_cast<size_t>(n) != 0)
    xs.push_back(0.75f);
  HgqQuantizer q = make_quantizer(0, false, {1, n}, 0.0f);
  for (int64_t e = 0; e < n; ++e) {
    int f = static_cast<int>(e % 7) - 3;
    q.scale[e] = std::ldexp(1.0f, f);
    q.inv[e] = std::ldexp(1.0f, -f);
    q.live[e] = e % 11 == 5 ? 0.0f : 1.0f;
    q.top[e] = e % 3 == 0 ? 100.0f : inf;
  }
  TrainTensor x, y;
  x.shape = {static_cast<int64_t>(xs.size()) / n, n};
  x.v = xs;
  std::vector<float> lo(n, inf), hi(n, -inf);
  hgq_act_forward(q, x, y, lo.data(), hi.data());
  REQUIRE(y.v.size() == xs.size());
  int64_t bad = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const size_t e = i % static_cast<size_t>(n);
    float want = std::min(std::floor(xs[i] * q.scale[e] + 0.5f), q.top[e]) * q.inv[e] * q.live[e];
    bool same = std::isnan(want) ? std::isnan(y.v[i])
                                 : std::bit_cast<uint32_t>(want) == std::bit_cast<uint32_t>(y.v[i]);
    if (!same && ++bad <= 5) {
      CAPTURE(xs[i]);
      CAPTURE(e);
      CHECK(y.v[i] == want);
    }
  }
  CHECK(bad == 0);
  // The batch range is folded in as before.
  for (int64_t e = 0; e < n; ++e) {
    float mn = inf, mx = -inf;
    for (size_t i = static_cast<size_t>(e); i < xs.size(); i += static_cast<size_t>(n)) {
      mn = std::min(mn, xs[i]);
      mx = std::max(mx, xs[i]);
    }
    CHECK(lo[static_cast<size_t>(e)] == mn);
    CHECK(hi[static_cast<size_t>(e)] == mx);
  }
}
