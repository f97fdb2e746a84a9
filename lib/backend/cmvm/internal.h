// The CMVM optimiser's private interface: terms, patterns, recipes and the builder whose
// phases live in digits.cpp, recipes.cpp, cse.cpp, trees.cpp, search.cpp and check.cpp.
#pragma once

#include "backend/cmvm.h"
#include "backend/cmvm/tables.h"
#include "backend/csd.h"
#include "support/bits.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

namespace hgqc::backend::cmvm {

/// Matrix entries must lie strictly inside +-kMaxEntry.
constexpr int64_t kMaxEntry = int64_t{1} << 40;
/// Depth limits above this are clamped to it.
constexpr int kMaxDepth = 60;

/// One term of an output sum: sign * (value id << shift).
struct Term {
  int id = 0;
  int shift = 0;
  int sign = 1;
};

/// A position-independent two-term pattern: value lo + g * (value hi << d), where the
/// term of `lo` has the smaller shift (or the smaller id at equal shifts).
struct Pattern {
  int lo = 0;
  int hi = 0;
  int d = 0;
  int g = 1;
};

/// Packs a pattern into a 64-bit key: ids below 2^24, d below 2^15.
inline uint64_t pack(const Pattern &p) {
  return (static_cast<uint64_t>(p.lo) << 40) | (static_cast<uint64_t>(p.hi) << 16) |
         (static_cast<uint64_t>(p.d) << 1) | (p.g < 0 ? 1u : 0u);
}

inline Pattern unpack(uint64_t k) {
  return Pattern{static_cast<int>(k >> 40), static_cast<int>((k >> 16) & 0xffffff),
                 static_cast<int>((k >> 1) & 0x7fff), (k & 1) ? -1 : 1};
}

/// The pattern of two terms of one sum, and which of them is the low one.
inline Pattern pattern_of(const Term &t, const Term &u, bool *t_is_lo = nullptr) {
  // (shift, id) compared as one integer: both are non-negative.
  const bool t_lo = ((static_cast<uint64_t>(t.shift) << 32) | static_cast<uint32_t>(t.id)) <
                    ((static_cast<uint64_t>(u.shift) << 32) | static_cast<uint32_t>(u.id));
  const Term &lo = t_lo ? t : u;
  const Term &hi = t_lo ? u : t;
  if (t_is_lo)
    *t_is_lo = t_lo;
  return Pattern{lo.id, hi.id, hi.shift - lo.shift, lo.sign * hi.sign};
}

/// Bits needed to hold every integer in [lo, hi] (two's complement when lo < 0): the
/// interval rule of the fixed-point core, at least 1 (a constant zero still has a wire).
inline int bits_for(Int128 lo, Int128 hi) { return std::max(1, Interval{lo, hi, 0}.width()); }

/// A minimal-weight signed-digit representation of `v` (as many non-zero digits as CSD),
/// least significant first; equal-weight choices decided by a hash of `seed` and the
/// position. Requires |v| < 2^62.
std::vector<CsdDigit> msd_digits(int64_t v, uint64_t seed);

/// Up to `cap` minimal-weight signed-digit representations of `v`, least significant digit
/// first, in a fixed order. Requires |v| < 2^62.
std::vector<std::vector<CsdDigit>> msd_forms(int64_t v, size_t cap);

/// Most alternative digit forms considered per entry by align_forms().
constexpr size_t kMaxForms = 8;

/// Where the row-difference tree is built relative to the column decompositions.
enum class RowTree { none, after_columns, before_columns };

/// How one candidate graph is built; unconstrained, the optimiser builds several and keeps
/// the one with the fewest adders.
struct Recipe {
  int column_levels = 0;            ///< column-difference decompositions (0..2)
  RowTree row_tree = RowTree::none; ///< output-difference tree
  bool offset = false;              ///< subtract a per-row multiple of the input sum
  uint64_t digit_seed = 0;          ///< 0: CSD digits; otherwise msd_digits with this seed
  int pool = 1; ///< tied candidates of the greedy compared by the pairs they destroy
  /// Weight of the pairs a candidate's new value would form (created()) against the pairs
  /// it breaks (damage()) when the greedy compares tied candidates.
  int64_t created_weight = 4;
  int align = 0;     ///< passes of align_forms() over alternative minimal digit forms (0: none)
  int align_pow = 1; ///< exponent of the pattern counts in align_forms()
  /// Under a depth limit, candidates of equal count are ordered by their depth plus this
  /// times the depth difference of their operands (0: the depth alone).
  int depth_gap_weight = 0;
  /// Whether the greedy queues a pattern again at its current count when its count has
  /// dropped (its terms taken by other patterns); without, such a pattern waits until its
  /// count grows again.
  bool requeue = true;
};

/// The unconstrained search over recipes for one matrix (recipes.cpp: the table of size
/// tiers).
struct SearchPlan {
  std::vector<Recipe> recipes; ///< built in this order; the fewest adders wins, earlier on ties
  bool rerun = false;          ///< whether the best recipe is built again with other weights
  /// The reruns of recipe `best` (none unless it compares tied candidates); a rerun is kept
  /// when it needs strictly fewer adders.
  std::vector<Recipe> reruns(size_t best) const;
};

/// The search plan for a matrix of `entries` entries.
SearchPlan search_plan(int64_t entries);

/// The recipe built first under a depth limit for a matrix of `entries` entries: per-row
/// offsets (each chosen so that its row still fits the limit), no difference trees, one
/// pass of aligned digit forms in the size tiers that align; at the minimum depth
/// (`at_min`), tied candidates with operands of unequal depths go last.
Recipe depth_limited_recipe(bool at_min, int64_t entries);

/// Whether a matrix of `entries` entries, under a depth limit, also builds the greedy without
/// re-queuing (Recipe::requeue false), kept when it needs fewer adders or as many with a
/// smaller sum of adder widths.
bool depth_limited_without_requeue(int64_t entries);

/// A value of the graph during optimisation: its range and depth (its exact linear form
/// over the inputs is in CmvmBuilder::coeffs_).
struct Value {
  Int128 min = 0;
  Int128 max = 0;
  int depth = 0;
};

/// Priority of a pattern in the greedy selection: most occurrences first, then the
/// shallower resulting adder (Recipe::depth_gap_weight), then the narrower one (operand widths),
/// then the key.
struct Candidate {
  int count = 0;
  int depth = 0;
  int width = 0;
  uint64_t key = 0;
  /// True when `*this` is picked after `o`.
  bool operator<(const Candidate &o) const {
    if (count != o.count)
      return count < o.count;
    if (depth != o.depth)
      return depth > o.depth;
    if (width != o.width)
      return width > o.width;
    return key > o.key;
  }
};

/// Bits of Candidate::depth and Candidate::width in a Rank.
constexpr int kRankDepthBits = 25;
constexpr int kRankWidthBits = 8;

/// A candidate as one number that orders as Candidate::operator< does (the larger is picked
/// first), so that the greedy's heap compares without branches: the count, then the
/// complements of the depth and the width, then of the key. Requires count >= 0, depth below
/// 2^kRankDepthBits and width below 2^kRankWidthBits.
inline UInt128 rank_of(const Candidate &c) {
  constexpr uint64_t kDepthMax = (uint64_t{1} << kRankDepthBits) - 1;
  constexpr uint64_t kWidthMax = (uint64_t{1} << kRankWidthBits) - 1;
  const uint64_t hi = (static_cast<uint64_t>(c.count) << (kRankDepthBits + kRankWidthBits)) |
                      ((kDepthMax - static_cast<uint64_t>(c.depth)) << kRankWidthBits) |
                      (kWidthMax - static_cast<uint64_t>(c.width));
  return (static_cast<UInt128>(hi) << 64) | ~c.key;
}

/// The candidate of a rank_of().
inline Candidate candidate_of(UInt128 r) {
  constexpr uint64_t kDepthMax = (uint64_t{1} << kRankDepthBits) - 1;
  constexpr uint64_t kWidthMax = (uint64_t{1} << kRankWidthBits) - 1;
  const uint64_t hi = static_cast<uint64_t>(r >> 64);
  return Candidate{static_cast<int>(hi >> (kRankDepthBits + kRankWidthBits)),
                   static_cast<int>(kDepthMax - ((hi >> kRankWidthBits) & kDepthMax)),
                   static_cast<int>(kWidthMax - (hi & kWidthMax)), ~static_cast<uint64_t>(r)};
}

/// The optimiser state: values, the sums still to build, pattern counts. Its members are
/// defined by phase: recipes.cpp (decompositions, loading the terms), digits.cpp (aligning
/// digit forms), cse.cpp (the greedy sharing), trees.cpp (values, reduction trees, run).
/// One builder serves any number of builds, one after the other: each run() starts from a
/// clean state but keeps the memory of its tables and buffers.
class CmvmBuilder {
public:
  /// Builds the graph of `m`: `recipe` (its decompositions only without a depth limit),
  /// then the greedy sharing (when enabled) and the reduction trees. `m` and `opt` are
  /// used during the call only.
  AdderGraph run(const IntMatrix &m, const CmvmOptions &opt, std::optional<int> depth_limit,
                 const Recipe &recipe);

  /// Whether the last run() subtracted a per-row offset from some row; without one, a run
  /// with `offset` builds the same graph as the same recipe without it.
  bool used_offsets() const { return used_offsets_; }

private:
  /// One non-zero entry of the decomposed matrix and its alternative digit forms.
  struct DigitEntry {
    int row = 0;        ///< its row
    int id = 0;         ///< the value id its terms multiply
    uint32_t base = 0;  ///< first term of its forms in the store
    uint32_t forms = 0; ///< number of forms, each `len` terms, one after the other
    uint32_t len = 0;   ///< terms per form (minimal weight: the same for all)
    uint32_t pick = 0;  ///< the chosen form
    uint32_t pos = 0;   ///< where its terms start in its row (align_with)
  };

  /// One occurrence of a pattern: the low and high terms in a row.
  struct Occurrence {
    int row;
    Term lo;
    Term hi;
  };

  /// A pattern's occurrences and tie-break score as last computed, at step `stamp`.
  struct Scored {
    uint32_t stamp = 0;
    std::vector<Occurrence> occ;
    int score_count = 0; ///< the count the score was computed for (0: none yet)
    int64_t score = 0;
  };

  /// Clears the state for a build of `m` (the inputs as values, no terms, empty tables).
  void reset(const IntMatrix &m, const CmvmOptions &opt);

  /// Where digit_forms() keeps the forms of an entry in forms_store_: `forms` forms of
  /// `len` digits each, one after the other, from `base`.
  struct FormsRef {
    uint32_t base = 0;
    uint32_t forms = 0;
    uint32_t len = 0;
  };

  // recipes.cpp: decompositions
  /// The signed-digit forms of entry `e` under the recipe: its own form (CSD, or
  /// msd_digits() with its seed) first, then, when aligning, the other minimal forms of
  /// msd_forms() that differ from it. Computed once per entry, seed and alignment, then
  /// kept (also between builds): they depend on nothing else.
  FormsRef digit_forms(int64_t e);

  /// Fills the rows with the signed digits of the matrix after the recipe's decompositions.
  void load_terms();

  /// Rewrites M x as D z: a spanning tree over the columns (cost of an edge: CSD weight
  /// of the column difference plus the adder it needs; a root column costs its own CSD
  /// weight) gives c_j = c_parent + d_j, so M x = sum_k d_k z_k with z_k the sum of the
  /// values in the subtree of k, built here (Huffman by depth). False (and nothing
  /// changed) when the tree uses no edge between columns.
  bool decompose_columns(std::vector<int64_t> &mat, std::vector<int> &ids);

  /// Output differences: a spanning tree over the rows (same costs as for the columns)
  /// gives r_i = r_parent + e_i, so y_i = y_parent + e_i z: the rows keep the sparser
  /// e_i and the parent's output is added when the row is summed (parents first).
  void decompose_rows(std::vector<int64_t> &mat);

  /// Per row, subtracts the multiple c_i of s = (sum of the non-zero columns' values) that
  /// makes the row's digits fewest (c_i = 0 when nothing is gained or the row's range is
  /// wider than 2^12), records c_i in `offsets` and returns the value id of s (built here
  /// when some c_i != 0), or -1.
  int subtract_offsets(std::vector<int64_t> &mat, const std::vector<int> &ids,
                       std::vector<int64_t> &offsets);

  // digits.cpp: digit forms
  /// Picks one signed-digit form per entry so that the two-term patterns concentrate:
  /// passes over the entries, each taking the form whose terms pair with the rest of its
  /// row into the most frequent patterns (sum of count^align_pow over the pairs, at the
  /// current counts; ties keep the current form), until nothing changes or
  /// recipe_.align passes are done.
  void align_forms(std::vector<DigitEntry> &entries, std::vector<Term> &store);

  /// align_forms() over a pattern counter: `key(t, u)` the key of two terms' pattern,
  /// `get(key)` its count, `add(key, delta)` changes it. Terms carry compact ids.
  template <class Key, class Get, class Add>
  void align_with(std::vector<DigitEntry> &entries, const std::vector<Term> &store, Key key,
                  Get get, Add add);

  // trees.cpp: values and reduction trees
  /// The value lo + g * (hi << d), made once (hash-consed when sharing).
  /// With `reverse` (a subtraction pattern only), the value (hi << d) - lo instead.
  int make_value(const Pattern &p, bool reverse = false);
  /// When every term of `terms` is negative (the output would be negated), replaces one
  /// term -v, v = a - (b << d) a subtraction adder, by +((b << d) - a): the other
  /// orientation of the same adder, at the same depth, so the output comes out positive.
  void positive_term(std::vector<Term> &terms);
  /// Sums the remaining terms of row `i`, always combining the two shallowest.
  OutputRef reduce_row(int i);
  /// Sums non-empty `terms`: the non-negative values added and those subtracted apart (so
  /// their partial sums stay unsigned, without sign-extension bits), then those sums and the
  /// signed values; each sum always combines the two shallowest. Where the split would make
  /// the result deeper than both one tree over all terms and `max_depth`, one tree it is (an
  /// output row passes the depth limit; parts of a decomposition may not get deeper).
  Term sum_terms(const std::vector<Term> &terms, int max_depth = 0);
  /// Depth of the sum of terms of depths `d` (non-empty; left in any order) when the two
  /// shallowest always go first.
  static int tree_depth(std::vector<int> &d);
  /// Sums non-empty `terms`, always combining the two shallowest; the sum as one term.
  Term sum_shallowest(const std::vector<Term> &terms);

  // cse.cpp: greedy common-subexpression elimination
  void bump(uint64_t key, int delta);

  int raw_count(uint64_t key) const;

  /// The count used for selection: the raw pair count, or the real number of disjoint,
  /// depth-feasible occurrences when it was measured at this raw count.
  int effective_count(uint64_t key) const;

  /// 1 when the value of pattern `key` already exists (a single occurrence then saves an
  /// adder), else 0.
  int made_bonus(uint64_t key) const;

  Candidate candidate(uint64_t key, int count) const;

  void add_term(int row, const Term &t);

  void remove_term(int row, int id, int shift);

  /// Disjoint occurrences of `p`, keeping every row within the depth limit, into `out`.
  void occurrences(const Pattern &p, std::vector<Occurrence> &out);

  /// Checks a popped heap entry: false when stale (an entry above the pattern's current
  /// count is re-queued at that count: counts that drop are not queued when they drop), or
  /// when fewer disjoint (depth-feasible) occurrences exist than its count (the real count is
  /// then recorded and re-queued); otherwise true with the occurrences in `occ`.
  bool take(const Candidate &c, std::vector<Occurrence> &occ);

  /// Queues `c` in heap_.
  void push(const Candidate &c);

  /// Takes the first candidate out of heap_ (non-empty).
  Candidate pop();

  /// Whether `e` was computed after the last change of every row it occurs in. Terms of
  /// existing values are only ever removed, so its occurrences are then still exact.
  bool fresh(const Scored &e) const;

  /// occurrences() of the pattern `key`, reused while none of its rows has changed.
  /// The reference is valid until the next call.
  const std::vector<Occurrence> &cached_occurrences(uint64_t key);

  /// The tie-break score damage(occ, count) - created_weight * created(occ) of the
  /// pattern `key` with occurrences `occ` (from cached_occurrences()). It is reused while
  /// the pattern's rows are unchanged and `count` is the same: created() is then exact,
  /// damage() may lag changes of other rows' pattern counts (an approximation that costs
  /// nothing measurable and saves most of the greedy's time).
  int64_t pool_score(uint64_t key, const std::vector<Occurrence> &occ, int count);

  /// How many pairs of terms that form a pattern occurring at least `count` times the
  /// substitution of `occ` would break.
  int64_t damage(const std::vector<Occurrence> &occ, int count) const;

  /// Pairs the value of `occ`'s pattern would form with the other terms of its rows that
  /// repeat (sum over patterns of multiplicity - 1): sharing the new value creates.
  int64_t created(const std::vector<Occurrence> &occ);

  void eliminate_common_subexpressions();

  const IntMatrix *m_ = nullptr;     ///< the matrix of the build in progress
  const CmvmOptions *opt_ = nullptr; ///< its options
  std::optional<int> limit_;
  std::vector<InputFormat> formats_;
  std::vector<Value> values_;
  std::vector<int64_t> coeffs_;   ///< per value, m_->cols coefficients: its linear form
  std::vector<UInt128> heap_;     ///< the greedy's candidates (rank_of()), a max-heap
  std::vector<int> align_counts_; ///< align_forms()' dense pattern counts
  std::vector<int> align_first_;  ///< buffer of align_with()
  std::vector<AdderOp> adders_;
  std::vector<std::vector<Term>> rows_;
  Recipe recipe_;
  bool used_offsets_ = false;   ///< see used_offsets()
  std::vector<int> row_parent_; ///< per row: the row whose output it adds, or -1
  std::vector<int> row_order_;  ///< rows in the order they are summed (parents first)
  std::vector<uint64_t> load_;  ///< per row: sum of 2^depth over its terms
  /// per value (the first values_.size()): the row of each of its terms
  std::vector<std::vector<int>> value_rows_;
  std::vector<int> scratch_rows_; ///< buffers of occurrences()
  std::vector<int> scratch_lo_;
  std::vector<int> scratch_hi_;
  std::vector<char> scratch_used_;
  std::vector<uint64_t> scratch_keys_; ///< buffer of created()
  std::vector<Term> sum_pos_;          ///< buffers of sum_terms()
  std::vector<Term> sum_neg_;
  std::vector<Term> sum_rest_;
  std::vector<int> sum_depths_;
  using TreeEntry = std::tuple<int, int, int, int>; ///< depth, id, shift, sign
  std::vector<TreeEntry> sum_heap_;                 ///< buffer of sum_shallowest()
  std::vector<DigitEntry> digit_entries_;           ///< buffers of load_terms()
  std::vector<Term> digit_terms_;
  FlatMap<FormsRef> forms_cache_;     ///< digit_forms() per entry, seed and alignment
  std::vector<CsdDigit> forms_store_; ///< the digits of forms_cache_
  std::vector<std::vector<CsdDigit>> forms_scratch_; ///< buffer of digit_forms()
  std::vector<uint32_t> row_stamp_; ///< per row: the greedy step that last changed it
  uint32_t step_ = 1;               ///< greedy steps taken + 1
  FlatMap<Scored> scored_;          ///< per pattern key
  CountMap counts_;
  FlatMap<std::pair<int, int>> capped_; ///< per pattern: raw count, real count at that raw count
  FlatMap<int> made_;                   ///< per pattern: the value made of it
  FlatMap<int> made_reversed_;          ///< per pattern: the reversed value made of it
  std::vector<uint64_t> touched_;       ///< keys whose count grew in this epoch
  std::vector<Candidate> pool_cands_;   ///< buffers of the greedy's tie pool
  std::vector<std::vector<Occurrence>> pool_occs_;
  uint32_t epoch_ = 1; ///< marks touched keys in counts_
};

} // namespace hgqc::backend::cmvm
