// Helpers of the CMVM unit tests: random matrices, exact checks of an adder graph on extreme
// and random inputs, input formats, adder-by-adder comparison.
#pragma once

#include "backend/cmvm.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace hgqc::backend::test {

/// A random rows x cols matrix with entries in [-lim, lim], about `zero_pct`% of them zero.
inline IntMatrix random_matrix(int rows, int cols, int64_t lim, int zero_pct,
                               std::mt19937_64 &rng) {
  IntMatrix m{rows, cols, std::vector<int64_t>(static_cast<size_t>(rows) * cols)};
  for (int64_t &e : m.data)
    e = static_cast<int>(rng() % 100) < zero_pct
            ? 0
            : static_cast<int64_t>(rng() % static_cast<uint64_t>(2 * lim + 1)) - lim;
  return m;
}

/// A random n x n matrix of da4ml's benchmark kind (../shared/bench/da4ml-cmvm): entries
/// uniform in 129..255.
inline IntMatrix bench_matrix(int n, std::mt19937_64 &rng) {
  IntMatrix m{n, n, std::vector<int64_t>(static_cast<size_t>(n) * n)};
  for (int64_t &e : m.data)
    e = 129 + static_cast<int64_t>(rng() % 127);
  return m;
}

/// The depth modes of bench/cmvm: unconstrained, minimum + 2 levels, minimum.
enum class DepthMode { Free, MinPlus2, Min };

/// Options for matrix m in depth mode `mode`, with input formats `inputs`.
inline CmvmOptions depth_mode_options(const IntMatrix &m, std::vector<InputFormat> inputs,
                                      DepthMode mode) {
  CmvmOptions opt;
  opt.inputs = std::move(inputs);
  if (mode == DepthMode::MinPlus2)
    opt.max_depth = cmvm_min_depth(m) + 2;
  if (mode == DepthMode::Min)
    opt.min_depth = true;
  return opt;
}

/// The smallest value of an input of format `f`.
inline int64_t in_min(const InputFormat &f) {
  return f.is_signed ? -(int64_t{1} << (f.width - 1)) : 0;
}
/// The largest value of an input of format `f`.
inline int64_t in_max(const InputFormat &f) {
  return f.is_signed ? (int64_t{1} << (f.width - 1)) - 1 : (int64_t{1} << f.width) - 1;
}

/// Checks `g` on extreme inputs (all min, all max, alternating, the sign pattern of each row)
/// and on `random_count` random inputs.
inline void check_graph(const AdderGraph &g, const IntMatrix &m,
                        const std::vector<InputFormat> &fmt, std::mt19937_64 &rng,
                        int random_count) {
  std::vector<std::vector<int64_t>> xs;
  const int n = m.cols;
  std::vector<int64_t> lo(n), hi(n), alt(n), alt2(n);
  for (int j = 0; j < n; ++j) {
    lo[j] = in_min(fmt[j]);
    hi[j] = in_max(fmt[j]);
    alt[j] = j % 2 ? lo[j] : hi[j];
    alt2[j] = j % 2 ? hi[j] : lo[j];
  }
  xs = {lo, hi, alt, alt2, std::vector<int64_t>(n, 0)};
  for (int i = 0; i < m.rows; ++i) { // inputs reaching each output's max and min
    std::vector<int64_t> up(n), down(n);
    for (int j = 0; j < n; ++j) {
      up[j] = m.at(i, j) >= 0 ? hi[j] : lo[j];
      down[j] = m.at(i, j) >= 0 ? lo[j] : hi[j];
    }
    xs.push_back(up);
    xs.push_back(down);
  }
  for (int k = 0; k < random_count; ++k) {
    std::vector<int64_t> x(n);
    for (int j = 0; j < n; ++j)
      x[j] = lo[j] + static_cast<int64_t>(rng() % static_cast<uint64_t>(hi[j] - lo[j] + 1));
    xs.push_back(x);
  }
  for (const auto &x : xs) {
    const std::string err = check_adder_graph(g, m, x);
    REQUIRE_MESSAGE(err.empty(), err);
  }
}

/// The input formats `opt` gives a matrix of `cols` columns (8-bit signed when none).
inline std::vector<InputFormat> formats_of(const CmvmOptions &opt, int cols) {
  return opt.inputs.empty() ? std::vector<InputFormat>(cols, InputFormat{}) : opt.inputs;
}

/// Two adder graphs are the same, adder by adder (a deterministic optimiser run twice).
inline void check_same_adders(const AdderGraph &g, const AdderGraph &h) {
  REQUIRE(g.adders.size() == h.adders.size());
  for (size_t k = 0; k < g.adders.size(); ++k) {
    CHECK(g.adders[k].a == h.adders[k].a);
    CHECK(g.adders[k].b == h.adders[k].b);
    CHECK(g.adders[k].shift == h.adders[k].shift);
    CHECK(g.adders[k].subtract == h.adders[k].subtract);
    CHECK(g.adders[k].reverse == h.adders[k].reverse);
    CHECK(g.adders[k].min == h.adders[k].min);
    CHECK(g.adders[k].max == h.adders[k].max);
  }
}

} // namespace hgqc::backend::test
