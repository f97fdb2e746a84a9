// Constant matrix-vector products as adder graphs: signed-digit terms (unconstrained depth: of
// row- and column-difference decompositions, several recipes, the best kept), greedy
// common-subexpression elimination of two-term patterns, then Huffman-by-depth reduction trees.
#include "backend/cmvm.h"

#include "backend/csd.h"
#include "ir/error.h"

#include <algorithm>
#include <bit>
#include <limits>
#include <queue>
#include <string>
#include <tuple>
#include <unordered_map>

namespace hgqc::backend {

namespace {

constexpr int64_t kMaxEntry = int64_t{1} << 40;
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
uint64_t pack(const Pattern &p) {
  return (static_cast<uint64_t>(p.lo) << 40) | (static_cast<uint64_t>(p.hi) << 16) |
         (static_cast<uint64_t>(p.d) << 1) | (p.g < 0 ? 1u : 0u);
}

Pattern unpack(uint64_t k) {
  return Pattern{static_cast<int>(k >> 40), static_cast<int>((k >> 16) & 0xffffff),
                 static_cast<int>((k >> 1) & 0x7fff), (k & 1) ? -1 : 1};
}

/// The pattern of two terms of one sum, and which of them is the low one.
Pattern pattern_of(const Term &t, const Term &u, bool *t_is_lo = nullptr) {
  const bool t_lo = t.shift < u.shift || (t.shift == u.shift && t.id < u.id);
  const Term &lo = t_lo ? t : u;
  const Term &hi = t_lo ? u : t;
  if (t_is_lo)
    *t_is_lo = t_lo;
  return Pattern{lo.id, hi.id, hi.shift - lo.shift, lo.sign * hi.sign};
}

/// Bits needed to hold every integer in [lo, hi] (two's complement when lo < 0): the
/// interval rule of the fixed-point core, at least 1 (a constant zero still has a wire).
int bits_for(Int128 lo, Int128 hi) { return std::max(1, Interval{lo, hi, 0}.width()); }

/// The minimal-weight digit table of magnitude `a` over bits [0, bits): rest[i][c] is the
/// fewest non-zero signed digits for the bits from i up with carry c into bit i (rest has
/// bits + 1 rows; above `bits` the value is taken as 0).
void fewest_digits(uint64_t a, int bits, int (*rest)[2]) {
  rest[bits][0] = 0;
  rest[bits][1] = 1;
  for (int i = bits - 1; i >= 0; --i)
    for (int c = 0; c < 2; ++c) {
      const int t = static_cast<int>((a >> i) & 1) + c;
      rest[i][c] = t == 1 ? 1 + std::min(rest[i + 1][0], rest[i + 1][1]) : rest[i + 1][t / 2];
    }
}

/// A minimal-weight signed-digit representation of `v` (as many non-zero digits as CSD),
/// least significant first. Where two choices give the same weight, a hash of `seed` and
/// the position decides, so different seeds give different (equally short) digit sets;
/// the digits depend only on `v` and `seed`. Requires |v| < 2^62.
std::vector<CsdDigit> msd_digits(int64_t v, uint64_t seed) {
  const int sign = v < 0 ? -1 : 1;
  const uint64_t a = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  constexpr int kBits = 64;
  int rest[kBits + 1][2];
  fewest_digits(a, kBits, rest);
  std::vector<CsdDigit> out;
  uint64_t h = (seed + 1) * 0x9E3779B97F4A7C15ull ^ a;
  int c = 0;
  for (int i = 0; i < kBits; ++i) {
    const int t = static_cast<int>((a >> i) & 1) + c;
    if (t != 1) {
      c = t / 2;
      continue;
    }
    bool plus = rest[i + 1][0] < rest[i + 1][1];
    if (rest[i + 1][0] == rest[i + 1][1]) {
      h ^= h >> 31;
      h *= 0xBF58476D1CE4E5B9ull;
      h ^= h >> 29;
      plus = (h & 1) != 0;
    }
    out.push_back(CsdDigit{i, plus ? sign : -sign}); // +1: no carry; -1: carry 1 onwards
    c = plus ? 0 : 1;
  }
  if (c != 0)
    out.push_back(CsdDigit{kBits, sign});
  return out;
}

/// Up to `cap` minimal-weight signed-digit representations of `v` (as many non-zero digits
/// as CSD), least significant digit first, in a fixed order. Requires |v| < 2^62.
std::vector<std::vector<CsdDigit>> msd_forms(int64_t v, size_t cap) {
  const int sign = v < 0 ? -1 : 1;
  const uint64_t a = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  const int bits = std::bit_width(a) + 1;
  int rest[66][2];
  fewest_digits(a, bits, rest);
  std::vector<std::vector<CsdDigit>> out;
  std::vector<CsdDigit> cur;
  auto walk = [&](auto &&self, int i, int c) -> void {
    if (out.size() >= cap)
      return;
    for (; i < bits; ++i) {
      const int t = static_cast<int>((a >> i) & 1) + c;
      if (t == 1)
        break;
      c = t / 2;
    }
    if (i >= bits) {
      if (c != 0)
        cur.push_back(CsdDigit{bits, sign});
      out.push_back(cur);
      if (c != 0)
        cur.pop_back();
      return;
    }
    for (int carry = 0; carry < 2; ++carry) {
      if (rest[i + 1][carry] > rest[i + 1][1 - carry])
        continue;
      cur.push_back(CsdDigit{i, carry == 0 ? sign : -sign});
      self(self, i + 1, carry);
      cur.pop_back();
    }
  };
  walk(walk, 0, 0);
  return out;
}

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
  /// it breaks (damage()) when the greedy compares tied candidates: 4 was best of 1..4 on
  /// random 16 x 16 matrices (other seeds than the benchmark's).
  int64_t created_weight = 4;
  int align = 0;     ///< passes of align_forms() over alternative minimal digit forms (0: none)
  int align_pow = 1; ///< exponent of the pattern counts in align_forms()
};

/// After the recipes, the best one (when it compares tied candidates) is built again with
/// each of these created() weights; the fewest adders still wins, earlier on ties.
/// Perturbing the best recipe's greedy gained more than further recipes (N = 16, 60 other
/// seeds than the benchmark's: 348.5 -> 347.2 with 6, 8 and 346.9 with 6, 8, 5).
constexpr int64_t kRerunWeights[] = {6, 8, 5};

/// Matrices of at most this many entries align their digit forms (align_forms()) in every
/// recipe: N = 8 94.2 -> 92.5 and N = 16 347.4 -> 342.5 adders, but N = 32 1270 -> 1289
/// (20 seeds), so larger ones do not.
constexpr int64_t kAlignEntries = 600;
/// Passes of align_forms() (N = 16, 60 other seeds than the benchmark's: 2 passes 342.4,
/// 3 343.2, 4 342.4; on the benchmark's 343.1, 342.9, 342.5).
constexpr int kAlignPasses = 4;
/// The exponent of the pattern counts align_forms() maximises the sum of: 3 (N = 16,
/// 160 seeds, four reruns of the best recipe: 342.4 against 343.1 for 1 and 343.4 for 2).
constexpr int kAlignPow = 3;

/// With aligned forms, the reruns of the best recipe: exponent of align_forms() and
/// created() weight (chosen on 60 other seeds than the benchmark's among 3-rerun sets
/// of exponents 1..3 and weights 4, 5, 6, 8: 342.4; 342.5 on the benchmark's).
struct AlignedRerun {
  int align_pow;
  int64_t created_weight;
};
constexpr AlignedRerun kAlignedReruns[] = {{1, 6}, {2, 5}, {3, 6}};

/// The recipes of the unconstrained search, best first (chosen greedily on random 8x8 and
/// 16x16 matrices, other seeds than the benchmark's, by how much each lowers the minimum
/// over the ones before it).
constexpr Recipe kRecipes[] = {
    {1, RowTree::after_columns, false, 0, 64}, {2, RowTree::before_columns, false, 0, 64},
    {2, RowTree::after_columns, false, 0, 64}, {0, RowTree::none, true, 0, 64},
    {1, RowTree::after_columns, false, 1, 64}, {1, RowTree::before_columns, false, 0, 64},
    {2, RowTree::after_columns, false, 0, 1},  {0, RowTree::after_columns, false, 0, 64},
    {1, RowTree::none, false, 0, 64},          {0, RowTree::none, true, 1, 64},
    {2, RowTree::after_columns, false, 2, 64}, {1, RowTree::after_columns, false, 0, 1},
};

/// Counts per 64-bit key (open addressing, linear probing, backward-shift deletion): the
/// pattern counts, looked up far more often than anything else. Never iterated.
class CountMap {
public:
  CountMap() : slots_(kInitial) {}

  /// The count of `key` (0 when absent).
  int get(uint64_t key) const {
    for (size_t i = index(key);; i = (i + 1) & (slots_.size() - 1)) {
      if (slots_[i].key == kEmpty)
        return 0;
      if (slots_[i].key == key)
        return slots_[i].count;
    }
  }

  /// Adds `delta` to the count of `key` (dropping it at 0); returns the new count. With
  /// `mark` != 0, `*fresh` tells whether the key's mark differed from `mark` (it is then
  /// set): a key is reported once per mark while it stays in the map.
  int add(uint64_t key, int delta, uint32_t mark = 0, bool *fresh = nullptr) {
    size_t i = index(key);
    for (; slots_[i].key != kEmpty; i = (i + 1) & (slots_.size() - 1))
      if (slots_[i].key == key)
        break;
    if (slots_[i].key == kEmpty) {
      if (delta == 0)
        return 0;
      if (2 * (size_ + 1) > slots_.size()) {
        grow();
        return add(key, delta, mark, fresh);
      }
      slots_[i] = Slot{key, 0, 0};
      ++size_;
    }
    if (mark != 0) {
      *fresh = slots_[i].mark != mark;
      slots_[i].mark = mark;
    }
    const int c = slots_[i].count += delta;
    if (c == 0)
      erase_at(i);
    return c;
  }

private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  static constexpr size_t kInitial = 1024;
  struct Slot {
    uint64_t key = kEmpty;
    int count = 0;
    uint32_t mark = 0;
  };

  size_t index(uint64_t key) const {
    uint64_t h = key * 0x9E3779B97F4A7C15ull;
    h ^= h >> 32;
    return static_cast<size_t>(h) & (slots_.size() - 1);
  }

  void erase_at(size_t i) {
    const size_t mask = slots_.size() - 1;
    size_t j = i;
    for (;;) {
      j = (j + 1) & mask;
      if (slots_[j].key == kEmpty)
        break;
      const size_t home = index(slots_[j].key);
      // Move j back into the hole at i unless its home lies cyclically in (i, j].
      if (((j - home) & mask) >= ((j - i) & mask)) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = Slot{};
    --size_;
  }

  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    size_ = 0;
    for (const Slot &s : old)
      if (s.key != kEmpty) {
        bool fresh = false;
        add(s.key, s.count, s.mark, &fresh);
      }
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
};

/// A map from 64-bit keys (not all ones) to `V` (open addressing, linear probing, no
/// deletion), for the greedy's per-pattern records. Never iterated.
template <class V> class FlatMap {
public:
  FlatMap() : slots_(kInitial) {}

  /// The value of `key`, or nullptr.
  V *find(uint64_t key) {
    for (size_t i = index(key);; i = (i + 1) & (slots_.size() - 1)) {
      if (slots_[i].key == kEmpty)
        return nullptr;
      if (slots_[i].key == key)
        return &slots_[i].value;
    }
  }
  const V *find(uint64_t key) const { return const_cast<FlatMap *>(this)->find(key); }

  /// The value of `key`, inserted (value-initialised) when absent.
  V &operator[](uint64_t key) {
    if (V *v = find(key))
      return *v;
    if (2 * (size_ + 1) > slots_.size())
      grow();
    size_t i = index(key);
    while (slots_[i].key != kEmpty)
      i = (i + 1) & (slots_.size() - 1);
    slots_[i].key = key;
    ++size_;
    return slots_[i].value;
  }

private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  static constexpr size_t kInitial = 256;
  struct Slot {
    uint64_t key = kEmpty;
    V value{};
  };

  size_t index(uint64_t key) const {
    uint64_t h = key * 0x9E3779B97F4A7C15ull;
    h ^= h >> 32;
    return static_cast<size_t>(h) & (slots_.size() - 1);
  }

  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    size_ = 0;
    for (Slot &s : old)
      if (s.key != kEmpty)
        (*this)[s.key] = std::move(s.value);
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
};

/// The recipes tried on matrices of more than 1200 entries, where the damage
/// comparison of the greedy costs too much time.
constexpr Recipe kLargeRecipes[] = {
    {1, RowTree::none, false, 0, 1},
    {2, RowTree::none, false, 0, 1},
    {1, RowTree::after_columns, false, 0, 1},
    {2, RowTree::before_columns, false, 0, 1},
};

/// A value of the graph during optimisation: its exact linear form over the inputs.
struct Value {
  std::vector<int64_t> coeffs;
  Int128 min = 0;
  Int128 max = 0;
  int depth = 0;
};

/// Priority of a pattern in the greedy selection: most occurrences first, then the
/// shallower resulting adder, then the narrower one (operand widths), then the key.
struct Candidate {
  int count = 0;
  int depth = 0;
  int width = 0;
  uint64_t key = 0;
  /// True when `*this` is picked after `o`.
  bool operator<(const Candidate &o) const {
    return std::tie(count, o.depth, o.width, o.key) < std::tie(o.count, depth, width, key);
  }
};

/// Prim's minimum spanning tree over `n` nodes from a virtual root: `root_cost(j)` is the
/// cost of node j alone, `edge_cost(j, u)` that of j hanging below u. Returns the parent
/// of each node (-1: below the root) and the order the nodes were added (parents first).
/// Ties go to the lower index.
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

/// The optimiser state: values, the sums still to build, pattern counts.
class CmvmBuilder {
public:
  CmvmBuilder(const IntMatrix &m, const CmvmOptions &opt) : m_(m), opt_(opt) {
    formats_ = opt.inputs.empty() ? std::vector<InputFormat>(m.cols, InputFormat{}) : opt.inputs;
    for (int j = 0; j < m.cols; ++j) {
      Value v;
      v.coeffs.assign(m.cols, 0);
      v.coeffs[j] = 1;
      const InputFormat &f = formats_[j];
      v.min = f.is_signed ? -(Int128{1} << (f.width - 1)) : 0;
      v.max = f.is_signed ? (Int128{1} << (f.width - 1)) - 1 : (Int128{1} << f.width) - 1;
      values_.push_back(std::move(v));
    }
    value_rows_.resize(values_.size());
    rows_.resize(m.rows);
    load_.assign(m.rows, 0);
    row_parent_.assign(m.rows, -1);
    for (int i = 0; i < m.rows; ++i)
      row_order_.push_back(i);
  }

  /// Builds the graph: `recipe` (its decompositions only without a depth limit), then the
  /// greedy sharing (when enabled) and the reduction trees.
  AdderGraph run(std::optional<int> depth_limit, const Recipe &recipe) {
    limit_ = depth_limit;
    recipe_ = recipe;
    if (limit_) {
      recipe_.column_levels = 0;
      recipe_.row_tree = RowTree::none;
      recipe_.offset = false;
    }
    if (!opt_.share)
      recipe_.pool = 1;
    load_terms();
    if (opt_.share)
      eliminate_common_subexpressions();
    AdderGraph g;
    g.num_inputs = m_.cols;
    g.inputs = formats_;
    g.outputs.resize(m_.rows);
    for (int i : row_order_) { // parents first
      const int p = row_parent_[i];
      if (p >= 0 && g.outputs[p].value >= 0) {
        const OutputRef &o = g.outputs[p];
        rows_[i].push_back(Term{o.value, o.shift, o.negate ? -1 : 1});
      }
      g.outputs[i] = reduce_row(i);
    }
    g.adders = std::move(adders_);
    return g;
  }

private:
  // ---- decompositions -----------------------------------------------------------------

  /// Fills the rows with the signed digits of the matrix after the recipe's decompositions.
  void load_terms() {
    const int n = m_.cols;
    std::vector<int64_t> mat = m_.data;
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
    std::vector<int64_t> offsets(m_.rows, 0);
    const int sum_id = recipe_.offset ? subtract_offsets(mat, ids, offsets) : -1;
    // Every non-zero entry in row order with its signed-digit forms (the recipe's own
    // first, then, when aligning, the other minimal ones), all of the same length.
    std::vector<DigitEntry> entries;
    std::vector<Term> store; // the forms' terms, ids to be set per entry
    std::unordered_map<int64_t, std::pair<uint32_t, uint32_t>> seen; // entry: forms, length
    std::vector<std::vector<CsdDigit>> forms;
    for (int i = 0; i < m_.rows; ++i) {
      auto add = [&](int id, int64_t e) {
        if (e == 0)
          return;
        auto it = seen.find(e);
        DigitEntry en{i, id, static_cast<uint32_t>(store.size()), 0, 0, 0, 0};
        if (it != seen.end()) {
          // The same entry again: reuse its forms (copied, so a row's forms are contiguous).
          const DigitEntry &first = entries[it->second.first];
          en.forms = first.forms;
          en.len = first.len;
          for (uint32_t k = 0; k < en.forms * en.len; ++k)
            store.push_back(store[first.base + k]);
        } else {
          forms.clear();
          forms.push_back(recipe_.digit_seed == 0 ? csd_digits(e)
                                                  : msd_digits(e, recipe_.digit_seed));
          if (recipe_.align > 0)
            for (std::vector<CsdDigit> &f : msd_forms(e, kMaxForms))
              if (std::none_of(forms.begin(), forms.end(), [&](const std::vector<CsdDigit> &o) {
                    return std::equal(o.begin(), o.end(), f.begin(), f.end(),
                                      [](const CsdDigit &x, const CsdDigit &y) {
                                        return x.shift == y.shift && x.sign == y.sign;
                                      });
                  }))
                forms.push_back(std::move(f));
          en.forms = static_cast<uint32_t>(forms.size());
          en.len = static_cast<uint32_t>(forms[0].size());
          for (const std::vector<CsdDigit> &f : forms) {
            HGQC_ASSERT(f.size() == en.len, "CMVM: minimal digit forms of unequal length");
            for (const CsdDigit &dg : f)
              store.push_back(Term{0, dg.shift, dg.sign});
          }
          seen.emplace(e, std::make_pair(static_cast<uint32_t>(entries.size()), 0u));
        }
        entries.push_back(en);
      };
      if (sum_id >= 0)
        add(sum_id, offsets[i]);
      for (int k = 0; k < n; ++k)
        add(ids[k], mat[static_cast<size_t>(i) * n + k]);
    }
    if (recipe_.align > 0)
      align_forms(entries, store);
    for (int i = 0; i < m_.rows; ++i) {
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

  /// Picks one signed-digit form per entry so that the two-term patterns concentrate:
  /// passes over the entries, each taking the form whose terms pair with the rest of its
  /// row into the most frequent patterns (sum of count^align_pow over the pairs, at the
  /// current counts; ties keep the current form), until nothing changes or
  /// recipe_.align passes are done.
  void align_forms(std::vector<DigitEntry> &entries, std::vector<Term> &store) {
    // Compact ids (ordered as the value ids, so patterns are normalised alike) for a
    // dense count table when it is small enough.
    std::vector<int> cid(values_.size(), -1);
    int max_shift = 0;
    for (const DigitEntry &en : entries) {
      cid[en.id] = 0;
      for (uint32_t k = 0; k < en.forms * en.len; ++k)
        max_shift = std::max(max_shift, store[en.base + k].shift);
    }
    size_t u = 0;
    for (int &c : cid)
      if (c == 0)
        c = static_cast<int>(u++);
    for (const DigitEntry &en : entries)
      for (uint32_t k = 0; k < en.forms * en.len; ++k)
        store[en.base + k].id = cid[en.id];
    const size_t s = static_cast<size_t>(max_shift) + 1;
    if (u * u * s * 2 <= (size_t{1} << 18)) {
      std::vector<int> dense(u * u * s * 2, 0);
      auto key = [&](const Term &t, const Term &w) {
        const Pattern p = pattern_of(t, w);
        return ((static_cast<size_t>(p.lo) * u + static_cast<size_t>(p.hi)) * s +
                static_cast<size_t>(p.d)) *
                   2 +
               (p.g < 0 ? 1 : 0);
      };
      align_with(
          entries, store, key, [&](size_t k) { return dense[k]; },
          [&](size_t k, int d) { dense[k] += d; });
    } else {
      CountMap counts;
      align_with(
          entries, store, [](const Term &t, const Term &w) { return pack(pattern_of(t, w)); },
          [&](uint64_t k) { return counts.get(k); }, [&](uint64_t k, int d) { counts.add(k, d); });
    }
  }

  /// align_forms() over a pattern counter: `key(t, u)` the key of two terms' pattern,
  /// `get(key)` its count, `add(key, delta)` changes it. Terms carry compact ids.
  template <class Key, class Get, class Add>
  void align_with(std::vector<DigitEntry> &entries, const std::vector<Term> &store, Key key,
                  Get get, Add add) {
    std::vector<std::vector<Term>> cur(m_.rows); // per row: the chosen forms' terms
    for (DigitEntry &en : entries) {
      std::vector<Term> &row = cur[en.row];
      en.pos = static_cast<uint32_t>(row.size());
      const Term *f = &store[en.base + en.pick * en.len];
      row.insert(row.end(), f, f + en.len);
    }
    // Calls visit(key) for each pair the terms `f` of entry `en` form (among themselves
    // and with the rest of its row).
    auto pairs = [&](const DigitEntry &en, const Term *f, auto &&visit) {
      for (uint32_t a = 0; a < en.len; ++a)
        for (uint32_t b = a + 1; b < en.len; ++b)
          visit(key(f[a], f[b]));
      const std::vector<Term> &row = cur[en.row];
      for (uint32_t k = 0; k < row.size(); ++k) {
        if (k == en.pos) {
          k += en.len - 1;
          continue;
        }
        for (uint32_t a = 0; a < en.len; ++a)
          visit(key(f[a], row[k]));
      }
    };
    for (const std::vector<Term> &row : cur)
      for (size_t a = 0; a < row.size(); ++a)
        for (size_t b = a + 1; b < row.size(); ++b)
          add(key(row[a], row[b]), 1);
    const int pw = recipe_.align_pow;
    auto weigh = [pw](int64_t c) { return pw == 1 ? c : pw == 2 ? c * c : c * c * c; };
    std::vector<int64_t> term_gain;
    for (int pass = 0; pass < recipe_.align; ++pass) {
      bool changed = false;
      for (DigitEntry &en : entries) {
        if (en.forms < 2)
          continue;
        Term *now = &cur[en.row][en.pos];
        pairs(en, now, [&](auto k) { add(k, -1); });
        // The gain of a form: its terms' pairs with the rest of the row (computed once
        // per distinct term; forms share terms) and among themselves.
        const Term *all = &store[en.base];
        const std::vector<Term> &row = cur[en.row];
        term_gain.resize(static_cast<size_t>(en.forms) * en.len);
        for (uint32_t k = 0; k < en.forms * en.len; ++k) {
          uint32_t same = 0;
          while (same < k && (all[same].shift != all[k].shift || all[same].sign != all[k].sign))
            ++same;
          if (same < k) {
            term_gain[k] = term_gain[same];
            continue;
          }
          int64_t g = 0;
          for (uint32_t r = 0; r < row.size(); ++r) {
            if (r == en.pos) {
              r += en.len - 1;
              continue;
            }
            g += weigh(get(key(all[k], row[r])));
          }
          term_gain[k] = g;
        }
        uint32_t best = en.pick;
        int64_t best_gain = -1;
        for (uint32_t f = 0; f < en.forms; ++f) {
          const Term *t = all + f * en.len;
          int64_t gain = 0;
          for (uint32_t a = 0; a < en.len; ++a) {
            gain += term_gain[f * en.len + a];
            for (uint32_t b = a + 1; b < en.len; ++b)
              gain += weigh(get(key(t[a], t[b])));
          }
          if (gain > best_gain || (gain == best_gain && f == en.pick)) {
            best_gain = gain;
            best = f;
          }
        }
        if (best != en.pick) {
          changed = true;
          en.pick = best;
          std::copy_n(&store[en.base + best * en.len], en.len, now);
        }
        pairs(en, now, [&](auto k) { add(k, 1); });
      }
      if (!changed)
        break;
    }
  }

  /// Rewrites M x as D z: a spanning tree over the columns (cost of an edge: CSD weight
  /// of the column difference plus the adder it needs; a root column costs its own CSD
  /// weight) gives c_j = c_parent + d_j, so M x = sum_k d_k z_k with z_k the sum of the
  /// values in the subtree of k, built here (Huffman by depth). False (and nothing
  /// changed) when the tree uses no edge between columns.
  bool decompose_columns(std::vector<int64_t> &mat, std::vector<int> &ids) {
    const int n = m_.cols;
    auto at = [&](int i, int j) { return mat[static_cast<size_t>(i) * n + j]; };
    auto diff = [&](int j, int k) {
      int64_t w = 0;
      for (int i = 0; i < m_.rows; ++i)
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
    for (int i = 0; i < m_.rows; ++i)
      for (int k = 0; k < n; ++k)
        out[static_cast<size_t>(i) * n + k] = at(i, k) - (parent[k] < 0 ? 0 : at(i, parent[k]));
    mat = std::move(out);
    ids = std::move(z);
    return true;
  }

  /// Output differences: a spanning tree over the rows (same costs as for the columns)
  /// gives r_i = r_parent + e_i, so y_i = y_parent + e_i z: the rows keep the sparser
  /// e_i and the parent's output is added when the row is summed (parents first).
  void decompose_rows(std::vector<int64_t> &mat) {
    const int n = m_.cols;
    auto at = [&](int i, int j) { return mat[static_cast<size_t>(i) * n + j]; };
    auto diff = [&](int i, int k) {
      int64_t w = 0;
      for (int j = 0; j < n; ++j)
        w += csd_weight(at(i, j) - (k < 0 ? 0 : at(k, j)));
      return w;
    };
    auto [parent, order] = spanning_tree(
        m_.rows, [&](int i) { return diff(i, -1); }, [&](int i, int u) { return diff(i, u) + 1; });
    std::vector<int64_t> out(mat.size());
    for (int i = 0; i < m_.rows; ++i)
      for (int k = 0; k < n; ++k)
        out[static_cast<size_t>(i) * n + k] = at(i, k) - (parent[i] < 0 ? 0 : at(parent[i], k));
    mat = std::move(out);
    row_parent_ = std::move(parent);
    row_order_ = std::move(order);
  }

  /// Per row, subtracts the multiple c_i of s = (sum of the non-zero columns' values) that
  /// makes the row's digits fewest (c_i = 0 when nothing is gained or the row's range is
  /// wider than 2^12), records c_i in `offsets` and returns the value id of s (built here
  /// when some c_i != 0), or -1.
  int subtract_offsets(std::vector<int64_t> &mat, const std::vector<int> &ids,
                       std::vector<int64_t> &offsets) {
    const int n = m_.cols;
    std::vector<int> live;
    for (int k = 0; k < n; ++k)
      for (int i = 0; i < m_.rows; ++i)
        if (mat[static_cast<size_t>(i) * n + k] != 0) {
          live.push_back(k);
          break;
        }
    bool any = false;
    for (int i = 0; i < m_.rows && !live.empty(); ++i) {
      int64_t *row = mat.data() + static_cast<size_t>(i) * n;
      int64_t lo = row[live[0]];
      int64_t hi = lo;
      int64_t best = 0;
      for (int k : live) {
        lo = std::min(lo, row[k]);
        hi = std::max(hi, row[k]);
        best += csd_weight(row[k]);
      }
      if (hi - lo > 4096)
        continue;
      for (int64_t c = lo; c <= hi; ++c) {
        int64_t w = csd_weight(c);
        for (int k : live)
          w += csd_weight(row[k] - c);
        if (w < best) {
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

  // ---- values -------------------------------------------------------------------------

  /// The value lo + g * (hi << d), made once (hash-consed when sharing).
  int make_value(const Pattern &p) {
    const uint64_t key = pack(p);
    if (opt_.share) {
      if (const int *id = made_.find(key))
        return *id;
    }
    HGQC_ASSERT(values_.size() < (size_t{1} << 24), "CMVM: too many values");
    const Value &a = values_[p.lo];
    const Value &b = values_[p.hi];
    Value v;
    v.coeffs.resize(m_.cols);
    for (int j = 0; j < m_.cols; ++j)
      v.coeffs[j] = a.coeffs[j] + p.g * (b.coeffs[j] << p.d);
    for (int j = 0; j < m_.cols; ++j) {
      const Int128 c = v.coeffs[j];
      const Value &in = values_[j];
      v.min += c >= 0 ? c * in.min : c * in.max;
      v.max += c >= 0 ? c * in.max : c * in.min;
    }
    v.depth = std::max(a.depth, b.depth) + 1;
    AdderOp op;
    op.a = p.lo;
    op.b = p.hi;
    op.shift = p.d;
    op.subtract = p.g < 0;
    op.depth = v.depth;
    op.min = v.min;
    op.max = v.max;
    op.width = bits_for(v.min, v.max);
    op.is_signed = v.min < 0;
    adders_.push_back(op);
    const int id = static_cast<int>(values_.size());
    values_.push_back(std::move(v));
    value_rows_.emplace_back();
    if (opt_.share)
      made_[key] = id;
    return id;
  }

  // ---- common-subexpression elimination ---------------------------------------------

  void bump(uint64_t key, int delta) {
    bool fresh = false;
    const int c = counts_.add(key, delta, delta > 0 ? epoch_ : 0, &fresh);
    HGQC_ASSERT(c >= 0, "CMVM: negative pattern count");
    if (fresh)
      touched_.push_back(key);
  }

  int raw_count(uint64_t key) const { return counts_.get(key); }

  /// The count used for selection: the raw pair count, or the real number of disjoint,
  /// depth-feasible occurrences when it was measured at this raw count.
  int effective_count(uint64_t key) const {
    const int c = raw_count(key);
    const std::pair<int, int> *cap = capped_.find(key);
    if (cap != nullptr && cap->first == c)
      return cap->second;
    return c;
  }

  /// 1 when the value of pattern `key` already exists (a single occurrence then saves an
  /// adder), else 0.
  int made_bonus(uint64_t key) const { return made_.find(key) != nullptr ? 1 : 0; }

  Candidate candidate(uint64_t key, int count) const {
    const Pattern p = unpack(key);
    const Value &a = values_[p.lo];
    const Value &b = values_[p.hi];
    const Int128 bmin = p.g > 0 ? (b.min << p.d) : -(b.max << p.d);
    const Int128 bmax = p.g > 0 ? (b.max << p.d) : -(b.min << p.d);
    return Candidate{count, std::max(a.depth, b.depth) + 1, bits_for(a.min + bmin, a.max + bmax),
                     key};
  }

  void add_term(int row, const Term &t) {
    for (const Term &u : rows_[row])
      bump(pack(pattern_of(t, u)), +1);
    rows_[row].push_back(t);
    value_rows_[t.id].push_back(row);
  }

  void remove_term(int row, int id, int shift) {
    std::vector<Term> &terms = rows_[row];
    auto it = std::find_if(terms.begin(), terms.end(),
                           [&](const Term &u) { return u.id == id && u.shift == shift; });
    HGQC_ASSERT(it != terms.end(), "CMVM: term to remove not found");
    const Term t = *it;
    terms.erase(it);
    std::vector<int> &vr = value_rows_[id];
    vr.erase(std::find(vr.begin(), vr.end(), row));
    for (const Term &u : terms)
      bump(pack(pattern_of(t, u)), -1);
  }

  /// One occurrence of a pattern: the low and high terms in a row.
  struct Occurrence {
    int row;
    Term lo;
    Term hi;
  };

  /// Disjoint occurrences of `p`, keeping every row within the depth limit, into `out`.
  void occurrences(const Pattern &p, std::vector<Occurrence> &out) {
    out.clear();
    const int dlo = values_[p.lo].depth;
    const int dhi = values_[p.hi].depth;
    const uint64_t grow =
        (uint64_t{1} << (std::max(dlo, dhi) + 1)) - (uint64_t{1} << dlo) - (uint64_t{1} << dhi);
    std::vector<int> &rows = scratch_rows_;
    rows = value_rows_[p.lo];
    std::sort(rows.begin(), rows.end());
    rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
    std::vector<int> &los = scratch_lo_;
    std::vector<int> &his = scratch_hi_;
    for (int i : rows) {
      const std::vector<Term> &terms = rows_[i];
      los.clear();
      his.clear();
      for (int k = 0; k < static_cast<int>(terms.size()); ++k) {
        if (terms[k].id == p.lo)
          los.push_back(k);
        if (terms[k].id == p.hi)
          his.push_back(k);
      }
      if (his.empty())
        continue;
      std::sort(los.begin(), los.end(),
                [&](int x, int y) { return terms[x].shift < terms[y].shift; });
      scratch_used_.assign(terms.size(), 0);
      std::vector<char> &used = scratch_used_;
      uint64_t load = load_[i];
      for (int k : los) {
        if (used[k])
          continue;
        const Term &t = terms[k];
        for (int h : his) {
          const Term &u = terms[h];
          if (used[h] || h == k || u.shift != t.shift + p.d || u.sign * t.sign != p.g)
            continue;
          if (p.d == 0 && !(t.id < u.id))
            continue;
          if (limit_ && load + grow > (uint64_t{1} << *limit_))
            break;
          used[k] = used[h] = 1;
          load += grow;
          out.push_back(Occurrence{i, t, u});
          break;
        }
      }
    }
  }

  /// Checks a popped heap entry: false when stale, or when fewer disjoint (depth-feasible)
  /// occurrences exist than its count (the real count is then recorded and re-queued);
  /// otherwise true with the occurrences in `occ`.
  bool take(const Candidate &c, std::priority_queue<Candidate> &heap,
            std::vector<Occurrence> &occ) {
    const int eff = effective_count(c.key);
    const int bonus = eff > 0 ? made_bonus(c.key) : 0;
    if (eff + bonus != c.count || eff + bonus < 2)
      return false;
    if (recipe_.pool > 1) {
      const std::vector<Occurrence> &cached = cached_occurrences(c.key);
      occ.assign(cached.begin(), cached.end());
    } else {
      occurrences(unpack(c.key), occ);
    }
    const int real = static_cast<int>(occ.size());
    if (real < eff) {
      capped_[c.key] = {raw_count(c.key), real};
      if (real > 0 && real + bonus >= 2)
        heap.push(candidate(c.key, real + bonus));
      return false;
    }
    return true;
  }

  /// A pattern's occurrences and tie-break score as last computed, at step `stamp`.
  struct Scored {
    uint32_t stamp = 0;
    std::vector<Occurrence> occ;
    int score_count = 0; ///< the count the score was computed for (0: none yet)
    int64_t score = 0;
  };

  /// Whether `e` was computed after the last change of every row it occurs in. Terms of
  /// existing values are only ever removed, so its occurrences are then still exact.
  bool fresh(const Scored &e) const {
    for (const Occurrence &o : e.occ)
      if (row_stamp_[o.row] >= e.stamp)
        return false;
    return true;
  }

  /// occurrences() of the pattern `key`, reused while none of its rows has changed.
  /// The reference is valid until the next call.
  const std::vector<Occurrence> &cached_occurrences(uint64_t key) {
    Scored *it = scored_.find(key);
    if (it != nullptr && fresh(*it))
      return it->occ;
    Scored &e = scored_[key];
    e.stamp = step_;
    occurrences(unpack(key), e.occ);
    e.score_count = 0;
    return e.occ;
  }

  /// The tie-break score damage(occ, count) - created_weight * created(occ) of the
  /// pattern `key` with occurrences `occ` (from cached_occurrences()). It is reused while
  /// the pattern's rows are unchanged and `count` is the same: created() is then exact,
  /// damage() may lag changes of other rows' pattern counts (an approximation that costs
  /// nothing measurable and saves most of the greedy's time).
  int64_t pool_score(uint64_t key, const std::vector<Occurrence> &occ, int count) {
    Scored *it = scored_.find(key);
    if (it != nullptr && it->score_count == count && fresh(*it))
      return it->score;
    const int64_t score = damage(occ, count) - recipe_.created_weight * created(occ);
    if (it != nullptr && fresh(*it)) {
      it->score_count = count;
      it->score = score;
    }
    return score;
  }

  /// How many pairs of terms that form a pattern occurring at least `count` times the
  /// substitution of `occ` would break.
  int64_t damage(const std::vector<Occurrence> &occ, int count) const {
    int64_t d = 0;
    for (const Occurrence &o : occ)
      for (const Term &u : rows_[o.row]) {
        if ((u.id == o.lo.id && u.shift == o.lo.shift) ||
            (u.id == o.hi.id && u.shift == o.hi.shift))
          continue;
        d += raw_count(pack(pattern_of(o.lo, u))) >= count;
        d += raw_count(pack(pattern_of(o.hi, u))) >= count;
      }
    return d;
  }

  /// Pairs the value of `occ`'s pattern would form with the other terms of its rows that
  /// repeat (sum over patterns of multiplicity - 1): sharing the new value creates.
  int64_t created(const std::vector<Occurrence> &occ) {
    std::vector<uint64_t> &keys = scratch_keys_;
    keys.clear();
    const int v = static_cast<int>(values_.size()); // a stand-in id for the new value
    for (const Occurrence &o : occ)
      for (const Term &u : rows_[o.row]) {
        if ((u.id == o.lo.id && u.shift == o.lo.shift) ||
            (u.id == o.hi.id && u.shift == o.hi.shift))
          continue;
        keys.push_back(pack(pattern_of(Term{v, o.lo.shift, o.lo.sign}, u)));
      }
    std::sort(keys.begin(), keys.end());
    int64_t c = 0;
    for (size_t k = 1; k < keys.size(); ++k)
      c += keys[k] == keys[k - 1];
    return c;
  }

  void eliminate_common_subexpressions() {
    for (int i = 0; i < m_.rows; ++i) {
      const std::vector<Term> &terms = rows_[i];
      for (size_t a = 0; a < terms.size(); ++a)
        for (size_t b = a + 1; b < terms.size(); ++b)
          bump(pack(pattern_of(terms[a], terms[b])), +1);
    }
    row_stamp_.assign(m_.rows, 0);
    std::priority_queue<Candidate> heap;
    auto push_touched = [&] {
      // Each key is listed once per epoch (or again after its count dropped to 0): the
      // heap orders candidates totally, so the order of the pushes does not matter.
      for (uint64_t key : touched_) {
        const int c = effective_count(key);
        const int score = c > 0 ? c + made_bonus(key) : 0;
        if (score >= 2)
          heap.push(candidate(key, score));
      }
      touched_.clear();
      ++epoch_;
    };
    push_touched();
    while (!heap.empty()) {
      const Candidate top = heap.top();
      heap.pop();
      // The pool's candidates and occurrences (buffers reused from step to step).
      std::vector<Candidate> &cands = pool_cands_;
      std::vector<std::vector<Occurrence>> &occs = pool_occs_;
      cands.clear();
      if (occs.empty())
        occs.resize(1);
      if (!take(top, heap, occs[0]))
        continue;
      cands.push_back(top);
      // Among up to `pool` candidates with the same count (in priority order), take the
      // one with the lowest damage - created_weight * created: its occurrences break few
      // pairs of patterns at least that frequent, and its new value forms repeated pairs.
      while (static_cast<int>(cands.size()) < recipe_.pool && !heap.empty() &&
             heap.top().count == top.count) {
        const Candidate c = heap.top();
        heap.pop();
        if (occs.size() <= cands.size())
          occs.resize(cands.size() + 1);
        if (take(c, heap, occs[cands.size()]))
          cands.push_back(c);
      }
      size_t best = 0;
      int64_t best_damage = 0;
      for (size_t k = 0; k < cands.size() && cands.size() > 1; ++k) {
        const int64_t d = pool_score(cands[k].key, occs[k], top.count);
        if (k == 0 || d < best_damage) {
          best_damage = d;
          best = k;
        }
      }
      for (size_t k = 0; k < cands.size(); ++k)
        if (k != best)
          heap.push(cands[k]);
      const Pattern p = unpack(cands[best].key);
      const std::vector<Occurrence> &occ = occs[best];
      const int v = make_value(p);
      const int dv = values_[v].depth;
      for (const Occurrence &o : occ) {
        remove_term(o.row, o.lo.id, o.lo.shift);
        remove_term(o.row, o.hi.id, o.hi.shift);
        add_term(o.row, Term{v, o.lo.shift, o.lo.sign});
        load_[o.row] += (uint64_t{1} << dv) - (uint64_t{1} << values_[o.lo.id].depth) -
                        (uint64_t{1} << values_[o.hi.id].depth);
        row_stamp_[o.row] = step_;
      }
      ++step_;
      push_touched();
    }
  }

  // ---- reduction trees ----------------------------------------------------------------

  /// Sums the remaining terms of row `i`, always combining the two shallowest.
  OutputRef reduce_row(int i) {
    if (rows_[i].empty())
      return OutputRef{};
    const Term t = sum_terms(rows_[i], limit_ ? *limit_ : std::numeric_limits<int>::max());
    return OutputRef{t.id, t.shift, t.sign < 0, values_[t.id].depth};
  }

  /// Sums non-empty `terms`: the non-negative values added and those subtracted apart (so
  /// their partial sums stay unsigned, without sign-extension bits), then those sums and the
  /// signed values; each sum always combines the two shallowest. Where the split would make
  /// the result deeper than both one tree over all terms and `max_depth`, one tree it is (an
  /// output row passes the depth limit; parts of a decomposition may not get deeper).
  Term sum_terms(const std::vector<Term> &terms, int max_depth = 0) {
    std::vector<Term> pos, neg, rest;
    for (const Term &t : terms)
      (values_[t.id].min < 0 ? rest : t.sign > 0 ? pos : neg).push_back(t);
    if (pos.size() + neg.size() < 2)
      return sum_shallowest(terms);
    auto depths = [&](const std::vector<Term> &ts) {
      std::vector<int> d;
      for (const Term &t : ts)
        d.push_back(values_[t.id].depth);
      return d;
    };
    std::vector<int> split = depths(rest);
    for (const std::vector<Term> *g : {&pos, &neg})
      if (!g->empty())
        split.push_back(tree_depth(depths(*g)));
    if (tree_depth(split) > std::max(tree_depth(depths(terms)), max_depth))
      return sum_shallowest(terms);
    for (const std::vector<Term> *g : {&pos, &neg})
      if (!g->empty())
        rest.push_back(g->size() > 1 ? sum_shallowest(*g) : g->front());
    return sum_shallowest(rest);
  }

  /// Depth of the sum of terms of depths `d` (non-empty) when the two shallowest always go first.
  static int tree_depth(std::vector<int> d) {
    std::priority_queue<int, std::vector<int>, std::greater<>> q(d.begin(), d.end());
    while (q.size() > 1) {
      const int a = q.top();
      q.pop();
      const int b = q.top();
      q.pop();
      q.push(std::max(a, b) + 1);
    }
    return q.top();
  }

  /// Sums non-empty `terms`, always combining the two shallowest; the sum as one term.
  Term sum_shallowest(const std::vector<Term> &terms) {
    using Entry = std::tuple<int, int, int, int>; // depth, id, shift, sign
    std::priority_queue<Entry, std::vector<Entry>, std::greater<>> q;
    for (const Term &t : terms)
      q.emplace(values_[t.id].depth, t.id, t.shift, t.sign);
    while (q.size() > 1) {
      const auto [d1, id1, s1, g1] = q.top();
      q.pop();
      const auto [d2, id2, s2, g2] = q.top();
      q.pop();
      (void)d1;
      (void)d2;
      const Term t{id1, s1, g1};
      const Term u{id2, s2, g2};
      bool t_lo = false;
      const Pattern p = pattern_of(t, u, &t_lo);
      const Term &lo = t_lo ? t : u;
      const int v = make_value(p);
      q.emplace(values_[v].depth, v, lo.shift, lo.sign);
    }
    const auto [d, id, s, g] = q.top();
    (void)d;
    return Term{id, s, g};
  }

  const IntMatrix &m_;
  const CmvmOptions &opt_;
  std::optional<int> limit_;
  std::vector<InputFormat> formats_;
  std::vector<Value> values_;
  std::vector<AdderOp> adders_;
  std::vector<std::vector<Term>> rows_;
  Recipe recipe_;
  std::vector<int> row_parent_;              ///< per row: the row whose output it adds, or -1
  std::vector<int> row_order_;               ///< rows in the order they are summed (parents first)
  std::vector<uint64_t> load_;               ///< per row: sum of 2^depth over its terms
  std::vector<std::vector<int>> value_rows_; ///< per value: the row of each of its terms
  std::vector<int> scratch_rows_;            ///< buffers of occurrences()
  std::vector<int> scratch_lo_;
  std::vector<int> scratch_hi_;
  std::vector<char> scratch_used_;
  std::vector<uint64_t> scratch_keys_; ///< buffer of created()
  std::vector<uint32_t> row_stamp_;    ///< per row: the greedy step that last changed it
  uint32_t step_ = 1;                  ///< greedy steps taken + 1
  FlatMap<Scored> scored_;             ///< per pattern key
  CountMap counts_;
  FlatMap<std::pair<int, int>> capped_; ///< per pattern: raw count, real count at that raw count
  FlatMap<int> made_;                   ///< per pattern: the value made of it
  std::vector<uint64_t> touched_;       ///< keys whose count grew in this epoch
  std::vector<Candidate> pool_cands_;   ///< buffers of the greedy's tie pool
  std::vector<std::vector<Occurrence>> pool_occs_;
  uint32_t epoch_ = 1; ///< marks touched keys in counts_
};

int ceil_log2(uint64_t n) { return n <= 1 ? 0 : static_cast<int>(std::bit_width(n - 1)); }

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
}

} // namespace

int AdderGraph::depth() const {
  int d = 0;
  for (const OutputRef &o : outputs)
    d = std::max(d, o.depth);
  return d;
}

int64_t AdderGraph::total_width() const {
  int64_t w = 0;
  for (const AdderOp &a : adders)
    w += a.width;
  return w;
}

int cmvm_min_depth(const IntMatrix &m) {
  int d = 0;
  for (int i = 0; i < m.rows; ++i) {
    uint64_t n = 0;
    for (int j = 0; j < m.cols; ++j)
      n += static_cast<uint64_t>(csd_weight(m.at(i, j)));
    d = std::max(d, ceil_log2(n));
  }
  return d;
}

AdderGraph optimise_cmvm(const IntMatrix &m, const CmvmOptions &options) {
  validate(m, options);
  std::optional<int> limit;
  const int need = cmvm_min_depth(m);
  if (options.min_depth) {
    limit = need;
  } else if (options.max_depth) {
    if (*options.max_depth < need)
      throw UserError("CMVM: max adder depth " + std::to_string(*options.max_depth) +
                      " is below the " + std::to_string(need) + " levels this matrix needs");
    limit = std::min(*options.max_depth, kMaxDepth);
  }
  if (!options.share || limit || m.rows == 0 || m.cols == 0)
    return CmvmBuilder(m, options).run(limit, Recipe{});
  // Unconstrained depth: the first recipes of kRecipes (kLargeRecipes above 1200 entries),
  // fewer the larger the matrix to bound the time; the fewest adders wins, earlier on ties.
  const int64_t entries = static_cast<int64_t>(m.rows) * m.cols;
  const size_t tries = entries <= 100 ? 12 : entries <= 300 ? 6 : entries <= 1200 ? 4 : 3;
  const bool align = entries <= kAlignEntries;
  AdderGraph g;
  size_t best = 0;
  for (size_t k = 0; k < tries; ++k) {
    Recipe r = entries > 1200 ? kLargeRecipes[k] : kRecipes[k];
    if (align) {
      r.align = kAlignPasses;
      r.align_pow = kAlignPow;
    }
    AdderGraph d = CmvmBuilder(m, options).run(limit, r);
    if (k == 0 || d.adders.size() < g.adders.size()) {
      g = std::move(d);
      best = k;
    }
  }
  if (entries <= 1200 && kRecipes[best].pool > 1) {
    auto rerun = [&](Recipe r) {
      AdderGraph d = CmvmBuilder(m, options).run(limit, r);
      if (d.adders.size() < g.adders.size())
        g = std::move(d);
    };
    Recipe r = kRecipes[best];
    if (align) {
      r.align = kAlignPasses;
      for (const AlignedRerun &a : kAlignedReruns) {
        r.align_pow = a.align_pow;
        r.created_weight = a.created_weight;
        rerun(r);
      }
    } else {
      for (int64_t w : kRerunWeights) {
        r.created_weight = w;
        rerun(r);
      }
    }
  }
  return g;
}

std::vector<Int128> evaluate_adder_graph(const AdderGraph &g, std::span<const int64_t> x) {
  HGQC_ASSERT(x.size() == static_cast<size_t>(g.num_inputs), "evaluate: wrong input count");
  std::vector<Int128> v(x.begin(), x.end());
  v.reserve(v.size() + g.adders.size());
  for (const AdderOp &a : g.adders) {
    const Int128 b = v[a.b] * (Int128{1} << a.shift);
    v.push_back(a.subtract ? v[a.a] - b : v[a.a] + b);
  }
  std::vector<Int128> out;
  out.reserve(g.outputs.size());
  for (const OutputRef &o : g.outputs) {
    if (o.value < 0) {
      out.push_back(0);
      continue;
    }
    const Int128 y = v[o.value] * (Int128{1} << o.shift);
    out.push_back(o.negate ? -y : y);
  }
  return out;
}

std::string check_adder_graph(const AdderGraph &g, const IntMatrix &m, std::span<const int64_t> x) {
  if (g.num_inputs != m.cols || g.outputs.size() != static_cast<size_t>(m.rows) ||
      x.size() != static_cast<size_t>(m.cols))
    return "shape mismatch";
  const int n = g.num_inputs;
  std::vector<Int128> v(x.begin(), x.end());
  std::vector<int> depth(n, 0);
  for (size_t k = 0; k < g.adders.size(); ++k) {
    const AdderOp &a = g.adders[k];
    const int id = n + static_cast<int>(k);
    if (a.a < 0 || a.a >= id || a.b < 0 || a.b >= id || a.shift < 0)
      return "adder " + std::to_string(k) + " has a bad operand or shift";
    const Int128 b = v[a.b] * (Int128{1} << a.shift);
    const Int128 r = a.subtract ? v[a.a] - b : v[a.a] + b;
    if (r < a.min || r > a.max)
      return "adder " + std::to_string(k) + " value " + int128_str(r) + " outside [" +
             int128_str(a.min) + ", " + int128_str(a.max) + "]";
    if (bits_for(a.min, a.max) != a.width)
      return "adder " + std::to_string(k) + " width does not match its range";
    const int d = std::max(depth[a.a], depth[a.b]) + 1;
    if (d != a.depth)
      return "adder " + std::to_string(k) + " depth mismatch";
    depth.push_back(d);
    v.push_back(r);
  }
  for (int i = 0; i < m.rows; ++i) {
    Int128 want = 0;
    for (int j = 0; j < m.cols; ++j)
      want += static_cast<Int128>(m.at(i, j)) * x[j];
    const OutputRef &o = g.outputs[i];
    Int128 got = 0;
    if (o.value >= 0) {
      if (o.value >= static_cast<int>(v.size()) || o.shift < 0)
        return "output " + std::to_string(i) + " refers to a missing value";
      got = v[o.value] * (Int128{1} << o.shift);
      if (o.negate)
        got = -got;
      if (depth[o.value] != o.depth)
        return "output " + std::to_string(i) + " depth mismatch";
    }
    if (got != want)
      return "output " + std::to_string(i) + ": graph gives " + int128_str(got) +
             ", direct product " + int128_str(want);
  }
  return {};
}

} // namespace hgqc::backend
