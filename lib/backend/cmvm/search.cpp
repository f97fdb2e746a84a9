// The search over recipes: validation, the minimum depth, and optimise_cmvm, which builds
// the graph of each recipe of the matrix's size tier and keeps the one with the fewest adders.
#include "backend/cmvm/internal.h"

#include "ir/error.h"
#include "support/bits.h"

#include <string>

namespace hgqc::backend {

namespace {

using namespace cmvm;

/// After a matrix of more entries than this, the thread's builder gives its memory back.
constexpr int64_t kKeepBuilderEntries = 4096;

void validate(const IntMatrix &m, const CmvmOptions &opt) {
  if (m.rows < 0 || m.cols < 0 ||
      m.data.size() != static_cast<size_t>(m.rows) * static_cast<size_t>(m.cols))
    throw UserError("CMVM: matrix data has " + std::to_string(m.data.size()) +
                    " entries, expected " + std::to_string(m.rows) + " x " +
                    std::to_string(m.cols));
  if (m.cols >= (1 << 20))
    throw UserError("CMVM: too many inputs (" + std::to_string(m.cols) + ")");
  for (int i = 0; i < m.rows; ++i)
    for (int j = 0; j < m.cols; ++j)
      if (m.at(i, j) <= -kMaxEntry || m.at(i, j) >= kMaxEntry)
        throw UserError("CMVM: entry (" + std::to_string(i) + ", " + std::to_string(j) +
                        ") = " + std::to_string(m.at(i, j)) + " is outside +-2^40");
  if (!opt.inputs.empty() && opt.inputs.size() != static_cast<size_t>(m.cols))
    throw UserError("CMVM: " + std::to_string(opt.inputs.size()) + " input formats for " +
                    std::to_string(m.cols) + " inputs");
  for (size_t j = 0; j < opt.inputs.size(); ++j)
    if (opt.inputs[j].width < 1 || opt.inputs[j].width > 32)
      throw UserError("CMVM: input " + std::to_string(j) + " has width " +
                      std::to_string(opt.inputs[j].width) + ", expected 1..32");
  if (!opt.input_depths.empty() && opt.input_depths.size() != static_cast<size_t>(m.cols))
    throw UserError("CMVM: " + std::to_string(opt.input_depths.size()) + " input depths for " +
                    std::to_string(m.cols) + " inputs");
  for (size_t j = 0; j < opt.input_depths.size(); ++j)
    if (opt.input_depths[j] < 0 || opt.input_depths[j] > kMaxInputDepth)
      throw UserError("CMVM: input " + std::to_string(j) + " arrives at level " +
                      std::to_string(opt.input_depths[j]) + ", expected 0.." +
                      std::to_string(kMaxInputDepth));
}

} // namespace

int cmvm_min_depth(const IntMatrix &m, std::span<const int> input_depths) {
  HGQC_ASSERT(input_depths.empty() || input_depths.size() == static_cast<size_t>(m.cols),
              "CMVM: input depths do not match the columns");
  int d = 0;
  for (int i = 0; i < m.rows; ++i) {
    UInt128 load = 0; // sum of 2^level over the row's terms: Huffman by depth reaches its log
    for (int j = 0; j < m.cols; ++j) {
      const int level = input_depths.empty() ? 0 : input_depths[j];
      HGQC_ASSERT(level >= 0 && level <= kMaxInputDepth, "CMVM: input depth out of range");
      load += static_cast<UInt128>(csd_weight(m.at(i, j))) << level;
    }
    d = std::max(d, ceil_log2(load));
  }
  return d;
}

namespace {

/// The graph with the fewest adders among the builds for `m` (validated) and its options.
AdderGraph best_graph(CmvmBuilder &builder, const IntMatrix &m, const CmvmOptions &options) {
  std::optional<int> limit;
  const int need = cmvm_min_depth(m, options.input_depths);
  if (options.min_depth) {
    limit = need;
  } else if (options.max_depth) {
    if (*options.max_depth < need)
      throw UserError("CMVM: max adder depth " + std::to_string(*options.max_depth) +
                      " is below the " + std::to_string(need) + " levels this matrix needs");
    limit = std::min(*options.max_depth, kMaxDepth);
  }
  // Under a depth limit (the minimum included): the greedy after per-row offsets where they
  // fit the limit and, when some row took one, also the greedy alone; the fewer adders win
  // (the greedy alone on ties). Without offsets both builds are the same graph. At the
  // minimum depth, tied candidates with operands of unequal depths go last (they waste
  // the rows' depth budget): 0.5 % fewer adders on da4ml's 16 x 16 matrices. Both builds
  // align their digit forms (one pass) in the size tiers that align. Tiny
  // matrices also build the greedy alone without re-queuing dropped counts, kept when it
  // has fewer adders, or as many and a smaller sum of widths.
  if (!options.share || m.rows == 0 || m.cols == 0)
    return builder.run(m, options, limit, Recipe{});
  if (limit) {
    const int64_t entries = static_cast<int64_t>(m.rows) * m.cols;
    const Recipe offsets = depth_limited_recipe(*limit <= need, entries);
    AdderGraph d = builder.run(m, options, limit, offsets);
    Recipe alone = offsets;
    alone.offset = false;
    if (builder.used_offsets()) {
      AdderGraph g = builder.run(m, options, limit, alone);
      if (g.adders.size() <= d.adders.size())
        d = std::move(g);
    }
    if (depth_limited_without_requeue(entries)) {
      alone.requeue = false;
      AdderGraph g = builder.run(m, options, limit, alone);
      if (g.adders.size() < d.adders.size() ||
          (g.adders.size() == d.adders.size() && g.total_width() < d.total_width()))
        d = std::move(g);
    }
    return d;
  }
  // Unconstrained depth: the recipes of the matrix's size tier, then the reruns of the
  // best one; the fewest adders wins, earlier on ties.
  const SearchPlan plan = search_plan(static_cast<int64_t>(m.rows) * m.cols);
  AdderGraph g;
  size_t best = 0;
  for (size_t k = 0; k < plan.recipes.size(); ++k) {
    AdderGraph d = builder.run(m, options, limit, plan.recipes[k]);
    if (k == 0 || d.adders.size() < g.adders.size()) {
      g = std::move(d);
      best = k;
    }
  }
  for (const Recipe &r : plan.reruns(best)) {
    AdderGraph d = builder.run(m, options, limit, r);
    if (d.adders.size() < g.adders.size())
      g = std::move(d);
  }
  return g;
}

} // namespace

AdderGraph optimise_cmvm(const IntMatrix &m, const CmvmOptions &options) {
  validate(m, options);
  // One builder per thread for all builds: its tables and buffers keep their memory from
  // build to build and call to call (allocated and freed per build, they were paged in again
  // each time: 30 % of the time of an 8 x 8 matrix under a depth limit), except after a
  // large matrix, where that time does not matter and the memory would stay taken.
  thread_local CmvmBuilder builder;
  AdderGraph g = best_graph(builder, m, options);
  if (static_cast<int64_t>(m.rows) * m.cols > kKeepBuilderEntries)
    builder = CmvmBuilder();
  return g;
}

} // namespace hgqc::backend
