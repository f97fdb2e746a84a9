// Benchmark of the CMVM optimiser against plain CSD on random N x N matrices (entries 129..255).
#include "backend/cmvm.h"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <string>
#include <vector>

using namespace hgqc::backend;

namespace {

/// Averages over the seeds of one configuration.
struct Stats {
  double adders = 0;
  double depth = 0;
  double width = 0;
  double ms = 0;     ///< wall time per matrix
  double max_ms = 0; ///< the slowest matrix, wall
  double cpu_ms = 0; ///< CPU time of this thread per matrix (not inflated by other load)
  double max_cpu_ms = 0;
  int max_depth = 0;
};

/// CPU time of the calling thread, in milliseconds.
double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) * 1e-6;
}

/// A random n x n matrix with entries uniform in [129, 255], from `seed`.
IntMatrix random_matrix(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  IntMatrix m{n, n, std::vector<int64_t>(static_cast<size_t>(n) * n)};
  for (int64_t &e : m.data)
    e = 129 + static_cast<int64_t>(rng() % 127);
  return m;
}

/// Runs one configuration on `seeds` matrices, checking every result on extreme inputs.
Stats measure(int n, int seeds, const CmvmOptions &opt) {
  Stats s;
  for (int k = 0; k < seeds; ++k) {
    const IntMatrix m = random_matrix(n, 1000 + k);
    const double c0 = thread_cpu_ms();
    const auto t0 = std::chrono::steady_clock::now();
    const AdderGraph g = optimise_cmvm(m, opt);
    const auto t1 = std::chrono::steady_clock::now();
    const double cpu = thread_cpu_ms() - c0;
    std::vector<int64_t> lo(n, -128);
    std::vector<int64_t> hi(n, 127);
    for (auto *x : {&lo, &hi}) {
      const std::string err = check_adder_graph(g, m, *x);
      if (!err.empty()) {
        std::fprintf(stderr, "check failed (n=%d seed %d): %s\n", n, k, err.c_str());
        std::exit(1);
      }
    }
    s.adders += static_cast<double>(g.adders.size());
    s.depth += g.depth();
    s.width += static_cast<double>(g.total_width());
    const double ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
    s.ms += ms;
    s.max_ms = std::max(s.max_ms, ms);
    s.cpu_ms += cpu;
    s.max_cpu_ms = std::max(s.max_cpu_ms, cpu);
    s.max_depth = std::max(s.max_depth, g.depth());
  }
  s.adders /= seeds;
  s.depth /= seeds;
  s.width /= seeds;
  s.ms /= seeds;
  s.cpu_ms /= seeds;
  return s;
}

} // namespace

int main(int argc, char **argv) {
  // Usage: hgqc_cmvm_bench [seeds] [seeds for N=64]
  const int seeds = argc > 1 ? std::atoi(argv[1]) : 100;
  const int seeds64 = argc > 2 ? std::atoi(argv[2]) : seeds;
  std::printf("CMVM, random N x N, entries uniform 129..255, 8-bit signed inputs\n");
  std::printf("averages per matrix; every graph checked exactly on all -128 / all 127 inputs\n\n");
  std::printf("| N | seeds | mode | CSD adders | CSD depth | hgqc adders | hgqc depth (max) | "
              "adder ratio to CSD | CSD LUT est | hgqc LUT est | hgqc ms (max) | hgqc CPU ms "
              "(max) |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (int n : {4, 8, 16, 32, 64}) {
    const int sd = n == 64 ? seeds64 : seeds;
    for (bool min_depth : {false, true}) {
      CmvmOptions plain;
      plain.share = false;
      CmvmOptions opt;
      opt.min_depth = min_depth;
      const Stats a = measure(n, sd, plain);
      const Stats b = measure(n, sd, opt);
      std::printf("| %d | %d | %s | %.1f | %.2f | %.1f | %.2f (%d) | %.3f | %.0f | %.0f | %.2f "
                  "(%.1f) | %.2f (%.1f) |\n",
                  n, sd, min_depth ? "min depth" : "free", a.adders, a.depth, b.adders, b.depth,
                  b.max_depth, b.adders / a.adders, a.width, b.width, b.ms, b.max_ms, b.cpu_ms,
                  b.max_cpu_ms);
      std::fflush(stdout);
    }
  }
  return 0;
}
