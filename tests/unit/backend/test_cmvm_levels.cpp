// Tests of CMVM input levels (lib/backend/cmvm/, cmvm_lower.h): inputs arriving at later adder
// levels, the minimum depth from them, the depth slack of lowering counted from them, and the
// cheaper of the limited and unconstrained graphs that lowering keeps.
#include "backend/cmvm.h"
#include "backend/cmvm_lower.h"
#include "backend/lut_model.h"
#include "backend/passes.h"
#include "cmvm_test_util.h"
#include "ir/error.h"
#include "ir/netlist.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <vector>

using namespace hgqc;
using namespace hgqc::backend;
using namespace hgqc::backend::test;

TEST_CASE("cmvm: inputs arriving at later levels are summed last, depths count from them") {
  // Three inputs at level 0 and one at level 2: Huffman by depth reaches level 3
  // ((x0 + x1) + x2 first, x3 last); a balanced tree ignoring the levels would need 4.
  const IntMatrix row{1, 4, {1, 1, 1, 1}};
  const std::vector<int> late{0, 0, 0, 2};
  CHECK(cmvm_min_depth(row) == 2);
  CHECK(cmvm_min_depth(row, late) == 3);
  std::mt19937_64 rng(5);
  for (int mode = 0; mode < 3; ++mode) {
    CmvmOptions opt;
    opt.input_depths = late;
    opt.share = mode != 0;
    opt.min_depth = mode == 2;
    const AdderGraph g = optimise_cmvm(row, opt);
    CHECK(g.input_depths == late);
    CHECK(g.depth() == 3);
    check_graph(g, row, formats_of(opt, 4), rng, 5);
  }
  // Random matrices and levels, every depth mode: exact, depths consistent with the levels
  // (check_adder_graph), within the limit from the levels; the minimum depth is reached.
  for (int trial = 0; trial < 30; ++trial) {
    CAPTURE(trial);
    const int rows = 1 + static_cast<int>(rng() % 12);
    const int cols = 1 + static_cast<int>(rng() % 12);
    const IntMatrix m = random_matrix(rows, cols, 255, 20, rng);
    std::vector<int> levels(cols);
    for (int &l : levels)
      l = static_cast<int>(rng() % 5);
    const int need = cmvm_min_depth(m, levels);
    CHECK(need >= cmvm_min_depth(m));
    for (int extra : {-1, 0, 1, 2}) { // -1: unconstrained
      CmvmOptions opt;
      opt.input_depths = levels;
      if (extra == 0)
        opt.min_depth = true;
      else if (extra > 0)
        opt.max_depth = need + extra;
      CAPTURE(extra);
      const AdderGraph g = optimise_cmvm(m, opt);
      check_graph(g, m, formats_of(opt, cols), rng, 5);
      if (extra >= 0)
        CHECK(g.depth() <= need + extra);
      if (extra == 0)
        CHECK(g.depth() == need);
    }
    CmvmOptions plain;
    plain.share = false;
    plain.input_depths = levels;
    CHECK(optimise_cmvm(m, plain).depth() == need); // Huffman by depth reaches the minimum
    if (need > 0) {
      CmvmOptions too_low;
      too_low.input_depths = levels;
      too_low.max_depth = need - 1;
      CHECK_THROWS_AS(optimise_cmvm(m, too_low), UserError);
    }
  }
}

TEST_CASE("cmvm: input depths of the wrong count or out of range are user errors") {
  const IntMatrix m{1, 2, {3, 5}};
  for (const std::vector<int> &bad :
       {std::vector<int>{0}, std::vector<int>{0, -1}, std::vector<int>{kMaxInputDepth + 1, 0}}) {
    CmvmOptions opt;
    opt.input_depths = bad;
    CHECK_THROWS_AS(optimise_cmvm(m, opt), UserError);
  }
  CmvmOptions ok; // x0 at the latest level, x1 (one digit) added to it there
  ok.input_depths = {kMaxInputDepth, 0};
  CHECK(optimise_cmvm(IntMatrix{1, 2, {1, 2}}, ok).depth() == kMaxInputDepth + 1);
}

TEST_CASE(
    "cmvm: lowering bounds each product from its inputs' levels, so the slack reaches depth") {
  // Two chained products in a netlist: the second reads the first's outputs, which arrive at
  // unequal levels. Each product's outputs stay within its minimum from those levels plus the
  // slack, and a smaller slack never gives a deeper design.
  std::mt19937_64 rng(11);
  int shallower = 0;
  for (int trial = 0; trial < 12; ++trial) {
    CAPTURE(trial);
    const IntMatrix m1 = random_matrix(8, 8, 255, 10, rng);
    IntMatrix m2 = random_matrix(6, 8, 255, 10, rng);
    for (int64_t &e : m2.data)
      e = e < 0 ? -e : e;
    std::vector<int> design;
    for (std::optional<int> slack : {std::optional<int>{0}, std::optional<int>{1},
                                     std::optional<int>{2}, std::optional<int>{}}) {
      Netlist net;
      std::vector<NetId> x;
      for (int j = 0; j < 8; ++j)
        x.push_back(net.input(j, Interval{-128, 127, 0}).node);
      CmvmLowerOptions lo;
      lo.depth_slack = slack;
      CmvmBuildFn build = make_cmvm_builder(lo);
      std::vector<NetId> h;
      for (const CmvmRow &r : build(net, CmvmRequest{x, 8, m1.data, std::vector<int>(8, 0)})) {
        REQUIRE(!r.ref.zero());
        h.push_back(r.ref.node);
      }
      const std::vector<CmvmRow> out =
          build(net, CmvmRequest{h, 6, m2.data, std::vector<int>(6, 0)});
      const Schedule s = schedule_pipeline(net, {});
      if (slack) {
        int base = s.level[static_cast<size_t>(h[0])];
        for (NetId id : h)
          base = std::min(base, s.level[static_cast<size_t>(id)]);
        std::vector<int> levels;
        for (NetId id : h)
          levels.push_back(s.level[static_cast<size_t>(id)] - base);
        const int bound = base + cmvm_min_depth(m2, levels) + *slack;
        for (const CmvmRow &r : out)
          if (!r.ref.zero())
            CHECK(s.level[static_cast<size_t>(r.ref.node)] <= bound);
      }
      design.push_back(s.depth);
    }
    CHECK(design[0] <= design[1]);
    CHECK(design[1] <= design[2]);
    shallower += design[0] < design[3];
  }
  CHECK(shallower > 0);
}

TEST_CASE("cmvm: lowering under a slack keeps the unconstrained graph where the LUT model prices "
          "it lower and it is no deeper") {
  // Sparse matrices of small entries on narrow unsigned inputs (an HGQ layer's kind) and dense
  // 8-bit ones. The lowered product is the cheaper of the two graphs by the LUT model, the
  // limited one unless the other is no deeper; the LUT bits of a graph are those of its
  // adders once lowered.
  std::mt19937_64 rng(5);
  int kept_free = 0, kept_limited = 0;
  for (int trial = 0; trial < 40; ++trial) {
    CAPTURE(trial);
    const bool sparse = trial % 2 == 0;
    const int rows = sparse ? 8 : 6, cols = sparse ? 24 : 8;
    const IntMatrix m = random_matrix(rows, cols, sparse ? 7 : 127, sparse ? 70 : 5, rng);
    Netlist net;
    std::vector<NetId> x;
    CmvmOptions co;
    for (int j = 0; j < cols; ++j) {
      const int w = sparse ? 1 + j % 3 : 8;
      x.push_back(net.input(j, Interval{0, (Int128{1} << w) - 1, 0}).node);
      co.inputs.push_back(InputFormat{w, false});
    }
    co.input_depths.assign(static_cast<size_t>(cols), 0);
    co.max_depth = cmvm_min_depth(m) + 2;
    const AdderGraph limited = optimise_cmvm(m, co);
    CmvmOptions unlimited = co;
    unlimited.max_depth.reset();
    const AdderGraph free = optimise_cmvm(m, unlimited);
    const double cl = lut_sum(adder_graph_lut_bits(limited));
    const double cf = lut_sum(adder_graph_lut_bits(free));
    const bool take_free = free.depth() <= limited.depth() && cf < cl;
    (take_free ? kept_free : kept_limited)++;

    CmvmLowerOptions lo;
    lo.depth_slack = 2;
    const size_t before = net.nodes.size();
    make_cmvm_builder(lo)(net, CmvmRequest{x, rows, m.data, std::vector<int>(rows, 0)});
    LutBits lowered{};
    int adders = 0;
    for (size_t k = before; k < net.nodes.size(); ++k) {
      const LutBits b = node_lut_bits(net, k);
      for (int c = 0; c < kLutClasses; ++c)
        lowered[static_cast<size_t>(c)] += b[static_cast<size_t>(c)];
      adders += net.nodes[k].op == NetOp::Add || net.nodes[k].op == NetOp::Sub;
    }
    const AdderGraph &chosen = take_free ? free : limited;
    CHECK(adders == static_cast<int>(chosen.adders.size()));
    const LutBits expect = adder_graph_lut_bits(chosen);
    CHECK(lowered[kCarry2] == expect[kCarry2]);
    CHECK(lowered[kCarry1] == expect[kCarry1]);
    CHECK(lowered == expect);
  }
  CHECK(kept_free > 0);
  CHECK(kept_limited > 0);
}
