// Decomposition recipes: column and row difference trees, per-row offsets, and loading
// the signed-digit terms of the decomposed matrix into the rows.
#include "backend/cmvm/internal.h"

#include "ir/error.h"

#include <algorithm>
#include <array>
#include <limits>

namespace hgqc::backend::cmvm {

namespace {

/// The unconstrained search by the matrix's number of entries: the first tier whose bound
/// holds applies. All the size thresholds of the search are here; how they were chosen is
/// in bench/cmvm/README.md.
struct SizeTier {
  int64_t max_entries; ///< the tier holds matrices of at most this many entries
  size_t tries;        ///< recipes built, from the front of the tier's list
  bool large;          ///< kLargeRecipes (no tie pool) instead of kRecipes
  bool align;          ///< every recipe aligns its digit forms (align_forms())
  bool rerun;          ///< the best recipe, when it has a tie pool, is built again (reruns)
};
constexpr SizeTier kSizeTiers[] = {
    {100, 12, false, true, true},
    {300, 6, false, true, true},
    {1200, 4, false, true, true},
    {std::numeric_limits<int64_t>::max(), 3, true, false, false},
};

/// The recipes of the unconstrained search, best first (each chosen by how much it lowers
/// the minimum over the ones before it).
constexpr Recipe kRecipes[] = {
    {1, RowTree::after_columns, false, 0, 64}, {2, RowTree::before_columns, false, 0, 64},
    {2, RowTree::after_columns, false, 0, 64}, {0, RowTree::none, true, 0, 64},
    {1, RowTree::after_columns, false, 1, 64}, {1, RowTree::before_columns, false, 0, 64},
    {2, RowTree::after_columns, false, 0, 1},  {0, RowTree::after_columns, false, 0, 64},
    {1, RowTree::none, false, 0, 64},          {0, RowTree::none, true, 1, 64},
    {2, RowTree::after_columns, false, 2, 64}, {1, RowTree::after_columns, false, 0, 1},
};

/// The recipes of the largest tier, where the tie pool of the greedy costs too much time.
constexpr Recipe kLargeRecipes[] = {
    {1, RowTree::none, false, 0, 1},
    {2, RowTree::none, false, 0, 1},
    {1, RowTree::after_columns, false, 0, 1},
    {2, RowTree::before_columns, false, 0, 1},
};

/// Passes of align_forms() and the exponent of the pattern counts it maximises the sum of.
constexpr int kAlignPasses = 4;
constexpr int kAlignPow = 3;
/// Passes of align_forms() under a depth limit (in the tiers that align).
constexpr int kLimitedAlignPasses = 1;

/// Reruns of the best recipe without aligned digits: these created() weights.
constexpr int64_t kRerunWeights[] = {6, 8, 5};

/// Reruns of the best recipe with aligned digits: align_forms() exponent, created() weight.
struct AlignedRerun {
  int align_pow;
  int64_t created_weight;
};
constexpr AlignedRerun kAlignedReruns[] = {{1, 6}, {2, 5}, {3, 6}};

/// Under a depth limit, matrices of at most this many entries also build the greedy without
/// re-queuing dropped counts (a build there costs microseconds; the first convolution of
/// the cnn_relu test design, 4 x 9, needs it not to grow: bench/cmvm/README.md).
constexpr int64_t kNoRequeueEntries = 48;

/// subtract_offsets() searches a row's offsets only when the row's entries span at most this.
constexpr int64_t kOffsetSpan = 4096;

/// CSD weights of -kOffsetSpan..kOffsetSpan (the differences subtract_offsets() weighs).
constexpr auto kSpanWeights = [] {
  std::array<uint8_t, 2 * kOffsetSpan + 1> w{};
  for (int64_t v = -kOffsetSpan; v <= kOffsetSpan; ++v)
    w[static_cast<size_t>(v + kOffsetSpan)] =
        static_cast<uint8_t>(csd_weight_of_magnitude(static_cast<uint64_t>(v < 0 ? -v : v)));
  return w;
}();

/// Digits kept in the builder's cache of digit forms (beyond, it starts again empty).
constexpr size_t kFormsCacheDigits = size_t{1} << 20;

template <class RootCost, class EdgeCost>
std::pair<std::vector<int>, std::vector<int>> spanning_tree(int n, RootCost root_cost,
                                                            EdgeCost edge_cost) {
  std::vector<int> parent(n, -1);
  std::vector<int> order;
  std::vector<int64_t> best(n);
  std::vector<char> done(n, 0);
  for (int j = 0; j < n; ++j)
    best[j] = root_cost(j);
  for (int step = 0; step < n; ++step) {
    int u = -1;
    for (int j = 0; j < n; ++j)
      if (!done[j] && (u < 0 || best[j] < best[u]))
        u = j;
    done[u] = 1;
    order.push_back(u);
    for (int j = 0; j < n; ++j) {
      if (done[j])
        continue;
      const int64_t w = edge_cost(j, u);
      if (w < best[j]) {
        best[j] = w;
        parent[j] = u;
      }
    }
  }
  return {std::move(parent), std::move(order)};
}

/// The size tier of a matrix of `entries` entries.
const SizeTier &tier_of(int64_t entries) {
  const SizeTier *t = kSizeTiers;
  while (entries > t->max_entries)
    ++t;
  return *t;
}

} // namespace

Recipe depth_limited_recipe(bool at_min, int64_t entries) {
  Recipe r{0, RowTree::none, true, 0, 1};
  r.depth_gap_weight = at_min ? 1 : 0;
  if (tier_of(entries).align) {
    r.align = kLimitedAlignPasses;
    r.align_pow = kAlignPow;
  }
  return r;
}

bool depth_limited_without_requeue(int64_t entries) { return entries <= kNoRequeueEntries; }

SearchPlan search_plan(int64_t entries) {
  const SizeTier *t = &tier_of(entries);
  SearchPlan plan;
  plan.rerun = t->rerun;
  for (size_t k = 0; k < t->tries; ++k) {
    Recipe r = t->large ? kLargeRecipes[k] : kRecipes[k];
    if (t->align) {
      r.align = kAlignPasses;
      r.align_pow = kAlignPow;
    }
    plan.recipes.push_back(r);
  }
  return plan;
}

std::vector<Recipe> SearchPlan::reruns(size_t best) const {
  std::vector<Recipe> out;
  if (!rerun || recipes[best].pool <= 1)
    return out;
  Recipe r = recipes[best];
  if (r.align > 0) {
    for (const AlignedRerun &a : kAlignedReruns) {
      r.align_pow = a.align_pow;
      r.created_weight = a.created_weight;
      out.push_back(r);
    }
  } else {
    for (int64_t w : kRerunWeights) {
      r.created_weight = w;
      out.push_back(r);
    }
  }
  return out;
}

void CmvmBuilder::load_terms() {
  const int n = m_->cols;
  std::vector<int64_t> mat = m_->data;
  std::vector<int> ids(n);
  for (int j = 0; j < n; ++j)
    ids[j] = j;
  if (recipe_.row_tree == RowTree::before_columns)
    decompose_rows(mat);
  for (int level = 0; level < recipe_.column_levels; ++level)
    if (!decompose_columns(mat, ids))
      break;
  if (recipe_.row_tree == RowTree::after_columns)
    decompose_rows(mat);
  std::vector<int64_t> offsets(m_->rows, 0);
  const int sum_id = recipe_.offset ? subtract_offsets(mat, ids, offsets) : -1;
  used_offsets_ = sum_id >= 0;
  // Every non-zero entry in row order with its signed-digit forms (the recipe's own
  // first, then, when aligning, the other minimal ones), all of the same length.
  std::vector<DigitEntry> &entries = digit_entries_;
  std::vector<Term> &store = digit_terms_; // the forms' terms, ids to be set per entry
  entries.clear();
  store.clear();
  for (int i = 0; i < m_->rows; ++i) {
    auto add = [&](int id, int64_t e) {
      if (e == 0)
        return;
      const FormsRef f = digit_forms(e);
      entries.push_back(
          DigitEntry{i, id, static_cast<uint32_t>(store.size()), f.forms, f.len, 0, 0});
      for (uint32_t k = 0; k < f.forms * f.len; ++k) {
        const CsdDigit &dg = forms_store_[f.base + k];
        store.push_back(Term{0, dg.shift, dg.sign});
      }
    };
    if (sum_id >= 0)
      add(sum_id, offsets[i]);
    for (int k = 0; k < n; ++k)
      add(ids[k], mat[static_cast<size_t>(i) * n + k]);
  }
  if (recipe_.align > 0)
    align_forms(entries, store);
  for (int i = 0; i < m_->rows; ++i) {
    rows_[i].clear();
    load_[i] = 0;
  }
  for (const DigitEntry &en : entries)
    for (uint32_t k = 0; k < en.len; ++k) {
      const Term &t = store[en.base + en.pick * en.len + k];
      rows_[en.row].push_back(Term{en.id, t.shift, t.sign});
      value_rows_[en.id].push_back(en.row);
      load_[en.row] += uint64_t{1} << values_[en.id].depth;
    }
}

CmvmBuilder::FormsRef CmvmBuilder::digit_forms(int64_t e) {
  // The key: the entry (below 2^43: the decompositions at most multiply by 8) offset by 2^47 in
  // bits 0..47, the seed in bits 48..61, whether aligning in bit 62.
  constexpr int64_t kBias = int64_t{1} << 47;
  HGQC_ASSERT(e > -kBias && e < kBias && recipe_.digit_seed < (uint64_t{1} << 14),
              "CMVM: entry or digit seed out of the range of the forms cache");
  const uint64_t key = static_cast<uint64_t>(e + kBias) | (recipe_.digit_seed << 48) |
                       (recipe_.align > 0 ? uint64_t{1} << 62 : 0);
  if (const FormsRef *f = forms_cache_.find(key))
    return *f;
  if (forms_store_.size() > kFormsCacheDigits) {
    forms_cache_.clear();
    forms_store_.clear();
  }
  std::vector<std::vector<CsdDigit>> &forms = forms_scratch_;
  forms.clear();
  forms.push_back(recipe_.digit_seed == 0 ? csd_digits(e) : msd_digits(e, recipe_.digit_seed));
  if (recipe_.align > 0)
    for (std::vector<CsdDigit> &f : msd_forms(e, kMaxForms))
      if (std::none_of(forms.begin(), forms.end(), [&](const std::vector<CsdDigit> &o) {
            return std::equal(o.begin(), o.end(), f.begin(), f.end(),
                              [](const CsdDigit &x, const CsdDigit &y) {
                                return x.shift == y.shift && x.sign == y.sign;
                              });
          }))
        forms.push_back(std::move(f));
  const FormsRef ref{static_cast<uint32_t>(forms_store_.size()),
                     static_cast<uint32_t>(forms.size()), static_cast<uint32_t>(forms[0].size())};
  for (const std::vector<CsdDigit> &f : forms) {
    HGQC_ASSERT(f.size() == ref.len, "CMVM: minimal digit forms of unequal length");
    forms_store_.insert(forms_store_.end(), f.begin(), f.end());
  }
  forms_cache_[key] = ref;
  return ref;
}

bool CmvmBuilder::decompose_columns(std::vector<int64_t> &mat, std::vector<int> &ids) {
  const int n = m_->cols;
  auto at = [&](int i, int j) { return mat[static_cast<size_t>(i) * n + j]; };
  auto diff = [&](int j, int k) {
    int64_t w = 0;
    for (int i = 0; i < m_->rows; ++i)
      w += csd_weight(at(i, j) - (k < 0 ? 0 : at(i, k)));
    return w;
  };
  const auto [parent, order] = spanning_tree(
      n, [&](int j) { return diff(j, -1); }, [&](int j, int u) { return diff(j, u) + 1; });
  if (std::all_of(parent.begin(), parent.end(), [](int p) { return p < 0; }))
    return false;
  std::vector<std::vector<int>> children(n);
  for (int j : order)
    if (parent[j] >= 0)
      children[parent[j]].push_back(j);
  std::vector<int> z(n, -1);
  for (auto it = order.rbegin(); it != order.rend(); ++it) { // children first
    const int k = *it;
    std::vector<Term> terms{Term{ids[k], 0, 1}};
    for (int c : children[k])
      terms.push_back(Term{z[c], 0, 1});
    z[k] = sum_terms(terms).id;
  }
  std::vector<int64_t> out(mat.size());
  for (int i = 0; i < m_->rows; ++i)
    for (int k = 0; k < n; ++k)
      out[static_cast<size_t>(i) * n + k] = at(i, k) - (parent[k] < 0 ? 0 : at(i, parent[k]));
  mat = std::move(out);
  ids = std::move(z);
  return true;
}

void CmvmBuilder::decompose_rows(std::vector<int64_t> &mat) {
  const int n = m_->cols;
  auto at = [&](int i, int j) { return mat[static_cast<size_t>(i) * n + j]; };
  auto diff = [&](int i, int k) {
    int64_t w = 0;
    for (int j = 0; j < n; ++j)
      w += csd_weight(at(i, j) - (k < 0 ? 0 : at(k, j)));
    return w;
  };
  auto [parent, order] = spanning_tree(
      m_->rows, [&](int i) { return diff(i, -1); }, [&](int i, int u) { return diff(i, u) + 1; });
  std::vector<int64_t> out(mat.size());
  for (int i = 0; i < m_->rows; ++i)
    for (int k = 0; k < n; ++k)
      out[static_cast<size_t>(i) * n + k] = at(i, k) - (parent[i] < 0 ? 0 : at(parent[i], k));
  mat = std::move(out);
  row_parent_ = std::move(parent);
  row_order_ = std::move(order);
}

int CmvmBuilder::subtract_offsets(std::vector<int64_t> &mat, const std::vector<int> &ids,
                                  std::vector<int64_t> &offsets) {
  const int n = m_->cols;
  std::vector<int> live;
  for (int k = 0; k < n; ++k)
    for (int i = 0; i < m_->rows; ++i)
      if (mat[static_cast<size_t>(i) * n + k] != 0) {
        live.push_back(k);
        break;
      }
  // Under a depth limit, an offset is only taken where the row can still be summed within
  // the limit: sum over its terms of 2^depth, s at the depth of its own sum tree.
  std::vector<int> live_depths;
  for (int k : live)
    live_depths.push_back(values_[ids[k]].depth);
  const int s_depth = live.empty() ? 0 : tree_depth(live_depths);
  auto fits = [&](const int64_t *row, int64_t c) {
    if (!limit_)
      return true;
    uint64_t load = static_cast<uint64_t>(csd_weight(c)) << s_depth;
    for (int k : live)
      load += static_cast<uint64_t>(csd_weight(row[k] - c)) << values_[ids[k]].depth;
    return load <= (uint64_t{1} << *limit_);
  };
  bool any = false;
  for (int i = 0; i < m_->rows && !live.empty(); ++i) {
    int64_t *row = mat.data() + static_cast<size_t>(i) * n;
    int64_t lo = row[live[0]];
    int64_t hi = lo;
    int64_t best = 0;
    for (int k : live) {
      lo = std::min(lo, row[k]);
      hi = std::max(hi, row[k]);
      best += csd_weight(row[k]);
    }
    if (hi - lo > kOffsetSpan)
      continue;
    for (int64_t c = lo; c <= hi; ++c) {
      int64_t w = csd_weight(c);
      for (int k : live) // row[k] - c lies in [lo - hi, hi - lo]
        w += kSpanWeights[static_cast<size_t>(row[k] - c + kOffsetSpan)];
      if (w < best && fits(row, c)) {
        best = w;
        offsets[i] = c;
      }
    }
    for (int k : live)
      row[k] -= offsets[i];
    any = any || offsets[i] != 0;
  }
  if (!any)
    return -1;
  std::vector<Term> terms;
  for (int k : live)
    terms.push_back(Term{ids[k], 0, 1});
  return sum_terms(terms).id;
}

} // namespace hgqc::backend::cmvm
