// Tests of the CMVM optimiser (lib/backend/cmvm/, csd.h): CSD properties and exact agreement of
// the adder graphs with the direct matrix product.
#include "backend/cmvm.h"
#include "backend/csd.h"
#include "cmvm_test_util.h"
#include "ir/error.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

using namespace hgqc;
using namespace hgqc::backend;
using namespace hgqc::backend::test;

TEST_CASE("csd: value preserved and no adjacent non-zero digits, |v| < 2^12") {
  for (int64_t v = -(1 << 12) + 1; v < (1 << 12); ++v) {
    const std::vector<CsdDigit> d = csd_digits(v);
    int64_t sum = 0;
    for (size_t k = 0; k < d.size(); ++k) {
      REQUIRE((d[k].sign == 1 || d[k].sign == -1));
      REQUIRE(d[k].shift >= 0);
      if (k > 0)
        REQUIRE(d[k].shift >= d[k - 1].shift + 2);
      sum += d[k].sign * (int64_t{1} << d[k].shift);
    }
    REQUIRE(sum == v);
    REQUIRE(csd_weight(v) == static_cast<int>(d.size()));
  }
  CHECK(csd_digits(0).empty());
  CHECK(csd_weight(7) == 2);  // 8 - 1
  CHECK(csd_weight(-7) == 2); // -8 + 1
  CHECK(csd_weight(0b1010101) == 4);
  const int64_t big = (int64_t{1} << 61) - 1;
  CHECK(csd_weight(big) == 2);
  CHECK(csd_weight(-big) == 2);
  CHECK(csd_weight((int64_t{1} << 61) + (int64_t{1} << 40) + 5) == 4);
}

TEST_CASE("cmvm: random matrices equal the direct product, with and without sharing") {
  for (uint64_t seed : {1u, 2u, 3u, 4u, 5u}) {
    std::mt19937_64 rng(seed);
    for (int rows = 1; rows <= 16; rows += (rows < 4 ? 1 : 5)) {
      for (int cols = 1; cols <= 16; cols += (cols < 4 ? 1 : 5)) {
        const int64_t lim = (seed % 2) ? 255 : 100000;
        const IntMatrix m = random_matrix(rows, cols, lim, 25, rng);
        for (int mode = 0; mode < 4; ++mode) {
          CmvmOptions opt;
          opt.share = mode != 0;
          opt.min_depth = mode == 2;
          if (mode == 3) { // mixed input formats
            for (int j = 0; j < cols; ++j)
              opt.inputs.push_back(InputFormat{1 + static_cast<int>(rng() % 32), rng() % 2 == 0});
          }
          CAPTURE(seed);
          CAPTURE(rows);
          CAPTURE(cols);
          CAPTURE(mode);
          const AdderGraph g = optimise_cmvm(m, opt);
          check_graph(g, m, formats_of(opt, cols), rng, 20);
          if (opt.min_depth)
            CHECK(g.depth() <= cmvm_min_depth(m));
        }
      }
    }
  }
}

TEST_CASE("cmvm: sharing never costs more adders than plain CSD and is deterministic") {
  std::mt19937_64 rng(42);
  for (int n : {4, 8, 12}) {
    IntMatrix m{n, n, std::vector<int64_t>(static_cast<size_t>(n) * n)};
    for (int64_t &e : m.data)
      e = 129 + static_cast<int64_t>(rng() % 127);
    CmvmOptions plain;
    plain.share = false;
    const AdderGraph a = optimise_cmvm(m, plain);
    const AdderGraph b = optimise_cmvm(m, {});
    CHECK(b.adders.size() < a.adders.size());
    const AdderGraph c = optimise_cmvm(m, {});
    check_same_adders(b, c);
    // Plain CSD: one adder per CSD term beyond the first of each row.
    size_t terms = 0;
    for (int i = 0; i < n; ++i) {
      size_t t = 0;
      for (int j = 0; j < n; ++j)
        t += csd_digits(m.at(i, j)).size();
      terms += t - 1;
    }
    CHECK(a.adders.size() == terms);
  }
}

TEST_CASE("cmvm: unconstrained column-difference decomposition is exact and cheap") {
  // Random 8x8 matrices with entries 129..255: the decompositions and recipes bring the
  // average to about 95 adders (plain greedy: about 120).
  std::mt19937_64 rng(2024);
  size_t total = 0;
  const int count = 20;
  for (int k = 0; k < count; ++k) {
    IntMatrix m = bench_matrix(8, rng);
    const AdderGraph g = optimise_cmvm(m, {});
    check_graph(g, m, formats_of({}, 8), rng, 20);
    total += g.adders.size();
  }
  CHECK(static_cast<double>(total) / count < 97.5);
  // Above 1024 entries (the plain greedy is not tried), signed entries and mixed formats.
  for (uint64_t seed : {11u, 12u}) {
    std::mt19937_64 r(seed);
    const IntMatrix m = random_matrix(36, 40, seed == 11u ? 255 : 100000, 20, r);
    CmvmOptions opt;
    if (seed == 12u)
      for (int j = 0; j < 40; ++j)
        opt.inputs.push_back(InputFormat{1 + static_cast<int>(r() % 32), r() % 2 == 0});
    const AdderGraph g = optimise_cmvm(m, opt);
    check_graph(g, m, formats_of(opt, 40), r, 20);
    const AdderGraph again = optimise_cmvm(m, opt);
    check_same_adders(again, g);
  }
}

TEST_CASE("cmvm: unconstrained recipes are exact and deterministic on awkward matrices") {
  // Single rows and columns, zero rows and columns, negative entries, powers of two, entries
  // near the 2^40 limit, mixed signed / unsigned formats of 1..32 bits.
  std::mt19937_64 rng(99);
  const std::vector<std::pair<int, int>> shapes = {{1, 1}, {1, 9},  {9, 1},  {2, 2},
                                                   {5, 3}, {3, 12}, {12, 7}, {16, 16}};
  for (int trial = 0; trial < 6; ++trial) {
    for (const auto &[rows, cols] : shapes) {
      IntMatrix m = random_matrix(rows, cols, trial % 3 == 2 ? (int64_t{1} << 39) : 255,
                                  trial % 2 ? 30 : 0, rng);
      if (trial == 1 && rows > 2) // a zero row and a zero column
        for (int j = 0; j < cols; ++j)
          m.data[static_cast<size_t>(1) * cols + j] = 0;
      if (trial == 1)
        for (int i = 0; i < rows; ++i)
          m.data[static_cast<size_t>(i) * cols] = 0;
      if (trial == 3) // powers of two, both signs
        for (int64_t &e : m.data)
          e = (rng() % 2 ? 1 : -1) * (int64_t{1} << (rng() % 12));
      CmvmOptions opt;
      if (trial >= 2)
        for (int j = 0; j < cols; ++j)
          opt.inputs.push_back(InputFormat{1 + static_cast<int>(rng() % 32), rng() % 2 == 0});
      CAPTURE(trial);
      CAPTURE(rows);
      CAPTURE(cols);
      const AdderGraph g = optimise_cmvm(m, opt);
      check_graph(g, m, formats_of(opt, cols), rng, 10);
      CmvmOptions plain = opt;
      plain.share = false;
      CHECK(g.adders.size() <= optimise_cmvm(m, plain).adders.size());
      const AdderGraph again = optimise_cmvm(m, opt);
      check_same_adders(again, g);
      for (size_t i = 0; i < g.outputs.size(); ++i) {
        CHECK(g.outputs[i].value == again.outputs[i].value);
        CHECK(g.outputs[i].shift == again.outputs[i].shift);
        CHECK(g.outputs[i].negate == again.outputs[i].negate);
      }
    }
  }
}

TEST_CASE("cmvm: 16 x 16 greedy with created-pair tie-breaking is exact, deterministic, small") {
  // Tied candidates of the greedy are compared by the pairs they break minus 4 x the repeated
  // pairs their new value forms; on these four matrices that gave 1392 adders (1405 before),
  // 1386 with more recipes and reruns, 1373 with aligned digit forms.
  std::mt19937_64 rng(7);
  size_t total = 0;
  for (uint64_t seed = 7000; seed < 7004; ++seed) {
    std::mt19937_64 gen(seed);
    IntMatrix m = bench_matrix(16, gen);
    const AdderGraph g = optimise_cmvm(m, {});
    check_graph(g, m, formats_of({}, 16), rng, 20);
    const AdderGraph h = optimise_cmvm(m, {});
    check_same_adders(g, h);
    total += g.adders.size();
  }
  CHECK(total <= 1380);
}

TEST_CASE("cmvm: depth limit respected") {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 20; ++trial) {
    const int n = 2 + static_cast<int>(rng() % 12);
    const IntMatrix m = random_matrix(n, n, 255, 10, rng);
    const int need = cmvm_min_depth(m);
    for (int extra : {0, 1, 2}) {
      CmvmOptions opt;
      opt.max_depth = need + extra;
      const AdderGraph g = optimise_cmvm(m, opt);
      CHECK(g.depth() <= need + extra);
      for (const AdderOp &a : g.adders)
        CHECK(a.depth <= need + extra);
      check_graph(g, m, formats_of(opt, n), rng, 5);
    }
    CmvmOptions plain;
    plain.share = false;
    CHECK(optimise_cmvm(m, plain).depth() == need); // balanced trees reach the minimum
    if (need > 0) {
      CmvmOptions too_low;
      too_low.max_depth = need - 1;
      CHECK_THROWS_AS(optimise_cmvm(m, too_low), UserError);
    }
  }
}

TEST_CASE("cmvm: zero rows and columns produce no adders") {
  IntMatrix zero{3, 4, std::vector<int64_t>(12, 0)};
  const AdderGraph z = optimise_cmvm(zero, {});
  CHECK(z.adders.empty());
  for (const OutputRef &o : z.outputs)
    CHECK(o.value == -1);
  std::mt19937_64 rng(3);
  check_graph(z, zero, formats_of({}, 4), rng, 3);

  // Single-digit entries (powers of two, +-) in one row: shifts only, no adders.
  IntMatrix pow2{2, 3, {0, -8, 0, 4, 0, 0}};
  const AdderGraph p = optimise_cmvm(pow2, {});
  CHECK(p.adders.empty());
  CHECK(p.outputs[0].negate);
  CHECK(p.outputs[0].shift == 3);
  check_graph(p, pow2, formats_of({}, 3), rng, 10);

  // Zero rows and columns inside a matrix (order kept) change nothing but the indices.
  const IntMatrix core = random_matrix(5, 5, 255, 0, rng);
  IntMatrix padded{7, 8, std::vector<int64_t>(56, 0)};
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 5; ++j)
      padded.data[static_cast<size_t>(i + 1) * 8 + (1 + j + (j >= 2))] = core.at(i, j);
  const AdderGraph gc = optimise_cmvm(core, {});
  const AdderGraph gp = optimise_cmvm(padded, {});
  CHECK(gp.adders.size() == gc.adders.size());
  CHECK(gp.outputs[0].value == -1);
  CHECK(gp.outputs[6].value == -1);
  check_graph(gp, padded, formats_of({}, 8), rng, 10);
}

TEST_CASE("cmvm: unsigned terms of each sign are summed apart, one signed adder per row") {
  // Rows of +-1 weights on unsigned 3-bit inputs (the shape of an HGQ layer with 1-bit weights):
  // the added and the subtracted inputs each stay an unsigned sum, so only the final
  // subtraction of each row is signed, and no adder carries sign-extension bits before it.
  std::mt19937_64 rng(11);
  IntMatrix m{4, 12, std::vector<int64_t>(48, 0)};
  for (int64_t &e : m.data)
    e = static_cast<int64_t>(rng() % 3) - 1;
  m.data[0] = 1, m.data[1] = -1; // every row has both signs
  for (int i = 1; i < 4; ++i)
    m.data[static_cast<size_t>(i) * 12] = 1, m.data[static_cast<size_t>(i) * 12 + 1] = -1;
  CmvmOptions opt;
  opt.inputs.assign(12, InputFormat{3, false});
  opt.share = false; // plain per-row trees: the grouping alone decides the signs
  const AdderGraph g = optimise_cmvm(m, opt);
  int signed_adders = 0;
  for (const AdderOp &a : g.adders)
    signed_adders += a.is_signed ? 1 : 0;
  CHECK(signed_adders == 4);
  check_graph(g, m, opt.inputs, rng, 20);
  opt.share = true;
  const AdderGraph s = optimise_cmvm(m, opt);
  check_graph(s, m, opt.inputs, rng, 20);
  CHECK(s.total_width() <= g.total_width());
  // At the minimum depth the split is taken only where it adds no level.
  for (bool share : {false, true}) {
    opt.share = share;
    opt.min_depth = true;
    const AdderGraph d = optimise_cmvm(m, opt);
    CHECK(d.depth() <= cmvm_min_depth(m));
    check_graph(d, m, opt.inputs, rng, 20);
  }
}

TEST_CASE("cmvm: adder widths are the exact ranges") {
  // y = 3 x0 - 5 x1 with 4-bit unsigned x0 and 3-bit signed x1.
  IntMatrix m{1, 2, {3, -5}};
  CmvmOptions opt;
  opt.inputs = {InputFormat{4, false}, InputFormat{3, true}};
  const AdderGraph g = optimise_cmvm(m, opt);
  REQUIRE(!g.adders.empty());
  const int last = g.outputs[0].value - g.num_inputs;
  REQUIRE(last >= 0);
  const AdderOp &a = g.adders[last];
  const Int128 scale = Int128{1} << g.outputs[0].shift;
  Int128 lo = a.min * scale, hi = a.max * scale;
  if (g.outputs[0].negate) {
    const Int128 t = -hi;
    hi = -lo;
    lo = t;
  }
  CHECK(lo == -15);     // 3*0 - 5*3
  CHECK(hi == 45 + 20); // 3*15 + 5*4
  CHECK(a.is_signed);
}

TEST_CASE("cmvm: malformed input is a user error") {
  CHECK_THROWS_AS(optimise_cmvm(IntMatrix{2, 2, {1, 2, 3}}, {}), UserError);
  CHECK_THROWS_AS(optimise_cmvm(IntMatrix{1, 1, {int64_t{1} << 50}}, {}), UserError);
  CmvmOptions opt;
  opt.inputs = {InputFormat{8, true}};
  CHECK_THROWS_AS(optimise_cmvm(IntMatrix{1, 2, {1, 2}}, opt), UserError);
  opt.inputs = {InputFormat{0, true}, InputFormat{8, true}};
  CHECK_THROWS_AS(optimise_cmvm(IntMatrix{1, 2, {1, 2}}, opt), UserError);
}

TEST_CASE("cmvm: the checker catches a wrong graph") {
  IntMatrix m{2, 3, {129, 200, -77, 0, 255, 131}};
  AdderGraph g = optimise_cmvm(m, {});
  const std::vector<int64_t> x{-128, 127, 5};
  REQUIRE(check_adder_graph(g, m, x).empty());
  REQUIRE(!g.adders.empty());
  AdderGraph bad = g;
  bad.adders.back().shift += 1;
  CHECK(!check_adder_graph(bad, m, x).empty());
  bad = g;
  bad.adders.front().subtract = !bad.adders.front().subtract;
  CHECK(!check_adder_graph(bad, m, x).empty());
  bad = g;
  bad.adders.front().subtract = false;
  bad.adders.front().reverse = true; // reversed without subtracting: malformed
  const std::string err = check_adder_graph(bad, m, x);
  CHECK(err.find("reversed but not a subtraction") != std::string::npos);
  bad = g;
  bad.outputs[1].negate = !bad.outputs[1].negate;
  CHECK(!check_adder_graph(bad, m, x).empty());
  bad = g;
  bad.adders.front().max = bad.adders.front().min; // range no longer holds the value
  CHECK(!check_adder_graph(bad, m, std::vector<int64_t>{127, 127, 127}).empty());
}

TEST_CASE("cmvm: aligned digit forms are exact and deterministic, dense and hashed counts") {
  // Up to 600 entries the recipes choose among the minimal signed-digit forms of each entry;
  // wide entries over many inputs (1 x 100) count the patterns in a hash map instead of the
  // dense table.
  std::mt19937_64 rng(11);
  const std::vector<std::tuple<int, int, int64_t>> cases = {
      {1, 100, int64_t{1} << 16}, {20, 30, 255}, {7, 9, 255}, {7, 9, int64_t{1} << 39}};
  for (const auto &[rows, cols, lim] : cases) {
    const IntMatrix m = random_matrix(rows, cols, lim, 10, rng);
    CAPTURE(rows);
    CAPTURE(cols);
    CAPTURE(lim);
    const AdderGraph g = optimise_cmvm(m, {});
    check_graph(g, m, formats_of({}, cols), rng, 10);
    CmvmOptions plain;
    plain.share = false;
    CHECK(g.adders.size() <= optimise_cmvm(m, plain).adders.size());
    const AdderGraph h = optimise_cmvm(m, {});
    check_same_adders(g, h);
  }
}

TEST_CASE("cmvm: outputs are negated only when every term of the row is negative") {
  // Positive matrices (da4ml's benchmark kind): every output positive, with subtractions
  // (b << s) - a where a negative term comes first, in every depth mode; exact throughout.
  std::mt19937_64 rng(41);
  const std::vector<InputFormat> u8(8, InputFormat{8, false});
  int reversed = 0;
  for (int k = 0; k < 6; ++k) {
    IntMatrix m = bench_matrix(8, rng);
    for (DepthMode mode : {DepthMode::Free, DepthMode::Min, DepthMode::MinPlus2}) {
      const CmvmOptions opt = depth_mode_options(m, u8, mode);
      const AdderGraph g = optimise_cmvm(m, opt);
      check_graph(g, m, u8, rng, 20);
      for (const OutputRef &o : g.outputs)
        CHECK_FALSE(o.negate);
      for (const AdderOp &a : g.adders) {
        CHECK((!a.reverse || a.subtract));
        reversed += a.reverse;
      }
    }
  }
  CHECK(reversed > 0);
  // A row of negative digits only: in plain CSD its output stays negated (one Neg
  // downstream); sharing here finds 9 (x0 + x1) and builds row 0 as (x0 << 2) - that.
  const IntMatrix neg{2, 2, {-5, -9, 7, -9}}; // CSD: -4 - 1, -8 - 1 | 8 - 1, -8 - 1
  for (bool share : {true, false}) {
    CmvmOptions opt;
    opt.share = share;
    const AdderGraph g = optimise_cmvm(neg, opt);
    check_graph(g, neg, formats_of(opt, 2), rng, 20);
    CHECK(g.outputs[0].negate == !share);
    CHECK_FALSE(g.outputs[1].negate);
  }
}

TEST_CASE("cmvm: per-row offsets under a depth limit stay within it and save adders") {
  // Entries 129..255 share a large common part: with two levels of slack, subtracting a
  // multiple of the input sum per row (only where the row still fits the limit) beats the
  // greedy alone (about 120 adders per matrix here) by far.
  std::mt19937_64 rng(43);
  const std::vector<InputFormat> u8(8, InputFormat{8, false});
  size_t adders = 0;
  for (int k = 0; k < 10; ++k) {
    IntMatrix m = bench_matrix(8, rng);
    CmvmOptions opt;
    opt.inputs = u8;
    opt.max_depth = cmvm_min_depth(m) + 2;
    const AdderGraph g = optimise_cmvm(m, opt);
    check_graph(g, m, u8, rng, 20);
    CHECK(g.depth() <= *opt.max_depth);
    for (const OutputRef &o : g.outputs)
      CHECK(o.depth <= *opt.max_depth);
    adders += g.adders.size();
    CHECK(optimise_cmvm(m, opt).adders.size() == g.adders.size()); // deterministic
  }
  CHECK(adders < 10 * 110);
}

TEST_CASE("cmvm: at the minimum depth, per-row offsets are tried and kept when they save adders") {
  // The same kind of matrices at the minimum depth: some rows still fit an offset; the
  // greedy after the offsets and the greedy alone are both built and the fewer adders kept,
  // and tied candidates with operands of unequal depths go last.
  std::mt19937_64 rng(44);
  const std::vector<InputFormat> u8(8, InputFormat{8, false});
  size_t adders = 0;
  for (int k = 0; k < 20; ++k) {
    IntMatrix m = bench_matrix(8, rng);
    CmvmOptions opt;
    opt.inputs = u8;
    opt.min_depth = true;
    const AdderGraph g = optimise_cmvm(m, opt);
    check_graph(g, m, u8, rng, 20);
    CHECK(g.depth() == cmvm_min_depth(m));
    adders += g.adders.size();
    CHECK(optimise_cmvm(m, opt).adders.size() == g.adders.size()); // deterministic
  }
  CHECK(adders < 2470); // 2482 with the greedy alone
}

TEST_CASE("cmvm: patterns whose count dropped are queued again at their current count") {
  // A pattern whose terms are partly taken by another one keeps its remaining occurrences;
  // the greedy must still consider it at the lower count (it used to wait until its count
  // grew again, which left shared terms unshared). Random 8 x 8 matrices of the benchmark's
  // kind, every depth mode; without re-queuing the totals were 1113, 1207 and 1456 adders.
  std::mt19937_64 rng(45);
  const std::vector<InputFormat> u8(8, InputFormat{8, false});
  size_t free_adders = 0, slack_adders = 0, min_adders = 0;
  for (int k = 0; k < 12; ++k) {
    IntMatrix m = bench_matrix(8, rng);
    for (DepthMode mode : {DepthMode::Free, DepthMode::MinPlus2, DepthMode::Min}) {
      const CmvmOptions opt = depth_mode_options(m, u8, mode);
      const AdderGraph g = optimise_cmvm(m, opt);
      check_graph(g, m, u8, rng, 10);
      CHECK(optimise_cmvm(m, opt).adders.size() == g.adders.size()); // deterministic
      (mode == DepthMode::Free       ? free_adders
       : mode == DepthMode::MinPlus2 ? slack_adders
                                     : min_adders) += g.adders.size();
    }
  }
  CHECK(free_adders <= 1090);  // 1083 with
  CHECK(slack_adders <= 1175); // 1165 with
  CHECK(min_adders <= 1400);   // 1388 with
}

TEST_CASE("cmvm: under a depth limit, digit forms are aligned once and the limit holds") {
  // One pass of align_forms() in the depth-limited builds (matrices of up to 1200 entries):
  // each entry takes the minimal digit form that pairs best with its row, so the greedy finds
  // more shared patterns at the same depth. 16 x 16 matrices of the benchmark's kind.
  std::mt19937_64 rng(46);
  const std::vector<InputFormat> u8(16, InputFormat{8, false});
  size_t slack_adders = 0, min_adders = 0;
  for (int k = 0; k < 6; ++k) {
    IntMatrix m = bench_matrix(16, rng);
    for (DepthMode mode : {DepthMode::MinPlus2, DepthMode::Min}) {
      const CmvmOptions opt = depth_mode_options(m, u8, mode);
      const int need = cmvm_min_depth(m);
      const AdderGraph g = optimise_cmvm(m, opt);
      check_graph(g, m, u8, rng, 5);
      CHECK(g.depth() <= need + (mode == DepthMode::MinPlus2 ? 2 : 0));
      CHECK(optimise_cmvm(m, opt).adders.size() == g.adders.size()); // deterministic
      (mode == DepthMode::MinPlus2 ? slack_adders : min_adders) += g.adders.size();
    }
  }
  CHECK(slack_adders <= 2050); // 2038; 2063 without the alignment
  CHECK(min_adders <= 2600);   // 2582; 2580 without (on these six it gains nothing at the minimum)
}

TEST_CASE("cmvm: tiny matrices under a depth limit also try the greedy without the re-queue") {
  // Matrices of at most 48 entries also build the greedy without re-queuing dropped counts
  // and keep it with fewer adders, or as many and a smaller sum of widths. Two random 4 x 9
  // matrices where that build wins: with the re-queue alone 55 adders of total width 738
  // (seed 12) and 64 adders (seed 18).
  for (uint64_t seed : {12u, 18u}) {
    std::mt19937_64 rng(seed);
    const IntMatrix m = random_matrix(4, 9, 127, 10, rng);
    CmvmOptions opt;
    opt.max_depth = cmvm_min_depth(m) + 2;
    const AdderGraph g = optimise_cmvm(m, opt);
    check_graph(g, m, formats_of(opt, 9), rng, 20);
    CHECK(g.depth() <= *opt.max_depth);
    if (seed == 12) {
      CHECK(g.adders.size() == 55);
      CHECK(g.total_width() <= 722);
    } else {
      CHECK(g.adders.size() <= 62);
    }
  }
}

TEST_CASE("cmvm: a graph does not depend on the matrices optimised before it on the thread") {
  // optimise_cmvm keeps one builder per thread: a fresh thread's builder against this one
  // after other matrices, other formats, input levels, and a matrix large enough that the
  // builder is released.
  std::mt19937_64 rng(2604);
  const IntMatrix m = bench_matrix(8, rng);
  const std::vector<InputFormat> u8(8, InputFormat{8, false});
  IntMatrix other = random_matrix(12, 9, 200, 20, rng);
  CmvmOptions other_opt;
  other_opt.input_depths = {0, 1, 0, 2, 0, 0, 1, 0, 3};
  other_opt.max_depth = cmvm_min_depth(other, other_opt.input_depths) + 1;
  const IntMatrix m16 = bench_matrix(16, rng);
  const IntMatrix large = random_matrix(70, 70, 3, 80, rng);
  CmvmOptions large_opt;
  large_opt.min_depth = true;
  for (DepthMode mode : {DepthMode::Free, DepthMode::MinPlus2, DepthMode::Min}) {
    const CmvmOptions opt = depth_mode_options(m, u8, mode);
    AdderGraph fresh;
    std::thread([&] { fresh = optimise_cmvm(m, opt); }).join();
    optimise_cmvm(other, other_opt);
    optimise_cmvm(m16, depth_mode_options(m16, {}, DepthMode::Min));
    for (DepthMode before : {DepthMode::Min, DepthMode::MinPlus2}) // the same keys, other counts
      optimise_cmvm(m, depth_mode_options(m, u8, before));
    const AdderGraph after = optimise_cmvm(m, opt);
    check_same_adders(fresh, after);
    REQUIRE(fresh.outputs.size() == after.outputs.size());
    for (size_t i = 0; i < fresh.outputs.size(); ++i) {
      CHECK(fresh.outputs[i].value == after.outputs[i].value);
      CHECK(fresh.outputs[i].shift == after.outputs[i].shift);
      CHECK(fresh.outputs[i].negate == after.outputs[i].negate);
    }
    optimise_cmvm(large, large_opt);
    check_same_adders(fresh, optimise_cmvm(m, opt));
  }
}
