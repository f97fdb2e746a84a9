// Constant matrix-vector products as adder graphs: CSD terms (unconstrained depth: of a
// column-difference decomposition M x = D z), greedy common-subexpression elimination of
// two-term patterns, then depth-aware (Huffman by depth) reduction trees.
#include "backend/cmvm.h"

#include "backend/csd.h"
#include "ir/error.h"

#include <algorithm>
#include <bit>
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
    rows_.resize(m.rows);
    load_.assign(m.rows, 0);
    for (int i = 0; i < m.rows; ++i)
      for (int j = 0; j < m.cols; ++j)
        for (const CsdDigit &dg : csd_digits(m.at(i, j))) {
          rows_[i].push_back(Term{j, dg.shift, dg.sign});
          load_[i] += 1;
        }
  }

  AdderGraph run(std::optional<int> depth_limit, int levels = 0) {
    limit_ = depth_limit;
    if (levels > 0)
      decompose_columns(levels);
    if (opt_.share)
      eliminate_common_subexpressions();
    AdderGraph g;
    g.num_inputs = m_.cols;
    g.inputs = formats_;
    g.outputs.resize(m_.rows);
    for (int i = 0; i < m_.rows; ++i)
      g.outputs[i] = reduce_row(i);
    g.adders = std::move(adders_);
    return g;
  }

private:
  // ---- column-difference decomposition ----------------------------------------------

  /// Rewrites M x as D z: a spanning tree over the columns (cost of an edge: CSD weight
  /// of the column difference plus the adder it needs; a root column costs its own CSD
  /// weight) gives c_j = c_parent + d_j, so M x = sum_k d_k z_k with z_k the sum of the
  /// inputs in the subtree of k. The z_k are built first, then the rows hold the CSD
  /// terms of D over the z_k.
  void decompose_columns(int levels) {
    const int n = m_.cols;
    std::vector<int64_t> mat = m_.data;
    std::vector<int> ids(n);
    for (int j = 0; j < n; ++j)
      ids[j] = j;
    for (int level = 0; level < levels; ++level)
      if (!decompose_once(mat, ids))
        break;
    for (int i = 0; i < m_.rows; ++i) {
      rows_[i].clear();
      load_[i] = 0;
      for (int k = 0; k < n; ++k)
        for (const CsdDigit &dg : csd_digits(mat[static_cast<size_t>(i) * n + k])) {
          rows_[i].push_back(Term{ids[k], dg.shift, dg.sign});
          load_[i] += uint64_t{1} << values_[ids[k]].depth;
        }
    }
  }

  /// One level of the decomposition on `mat` (rows x cols over the values `ids`); false
  /// (and nothing changed) when the spanning tree uses no edge between columns.
  bool decompose_once(std::vector<int64_t> &mat, std::vector<int> &ids) {
    const int n = m_.cols;
    auto at = [&](int i, int j) { return mat[static_cast<size_t>(i) * n + j]; };
    auto col_diff = [&](int j, int k) {
      int64_t w = 0;
      for (int i = 0; i < m_.rows; ++i)
        w += csd_weight(at(i, j) - (k < 0 ? 0 : at(i, k)));
      return w;
    };
    // Prim from a virtual zero column; deterministic ties by index.
    std::vector<int> parent(n, -1);
    std::vector<int64_t> best(n);
    std::vector<char> done(n, 0);
    for (int j = 0; j < n; ++j)
      best[j] = col_diff(j, -1);
    bool any = false;
    for (int step = 0; step < n; ++step) {
      int u = -1;
      for (int j = 0; j < n; ++j)
        if (!done[j] && (u < 0 || best[j] < best[u]))
          u = j;
      done[u] = 1;
      any = any || parent[u] >= 0;
      for (int j = 0; j < n; ++j) {
        if (done[j])
          continue;
        const int64_t w = col_diff(j, u) + 1;
        if (w < best[j]) {
          best[j] = w;
          parent[j] = u;
        }
      }
    }
    if (!any)
      return false;
    // z_k = x_k + sum of z over the children of k, children first (post-order).
    std::vector<std::vector<int>> children(n);
    for (int j = 0; j < n; ++j)
      if (parent[j] >= 0)
        children[parent[j]].push_back(j);
    std::vector<int> order;
    std::vector<int> stack;
    for (int j = n - 1; j >= 0; --j)
      if (parent[j] < 0)
        stack.push_back(j);
    while (!stack.empty()) {
      const int u = stack.back();
      stack.pop_back();
      order.push_back(u);
      for (int c : children[u])
        stack.push_back(c);
    }
    std::reverse(order.begin(), order.end());
    std::vector<int> z(n, -1);
    for (int k : order) {
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

  // ---- values -------------------------------------------------------------------------

  /// The value lo + g * (hi << d), made once (hash-consed when sharing).
  int make_value(const Pattern &p) {
    const uint64_t key = pack(p);
    if (opt_.share) {
      auto it = made_.find(key);
      if (it != made_.end())
        return it->second;
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
    if (opt_.share)
      made_.emplace(key, id);
    return id;
  }

  // ---- common-subexpression elimination ---------------------------------------------

  void bump(uint64_t key, int delta) {
    auto [it, fresh] = counts_.try_emplace(key, 0);
    (void)fresh;
    it->second += delta;
    HGQC_ASSERT(it->second >= 0, "CMVM: negative pattern count");
    if (it->second == 0)
      counts_.erase(it);
    if (delta > 0)
      touched_.push_back(key);
  }

  int raw_count(uint64_t key) const {
    auto it = counts_.find(key);
    return it == counts_.end() ? 0 : it->second;
  }

  /// The count used for selection: the raw pair count, or the real number of disjoint,
  /// depth-feasible occurrences when it was measured at this raw count.
  int effective_count(uint64_t key) const {
    const int c = raw_count(key);
    auto it = capped_.find(key);
    if (it != capped_.end() && it->second.first == c)
      return it->second.second;
    return c;
  }

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
  }

  void remove_term(int row, int id, int shift) {
    std::vector<Term> &terms = rows_[row];
    auto it = std::find_if(terms.begin(), terms.end(),
                           [&](const Term &u) { return u.id == id && u.shift == shift; });
    HGQC_ASSERT(it != terms.end(), "CMVM: term to remove not found");
    const Term t = *it;
    terms.erase(it);
    for (const Term &u : terms)
      bump(pack(pattern_of(t, u)), -1);
  }

  /// One occurrence of a pattern: the low and high terms in a row.
  struct Occurrence {
    int row;
    Term lo;
    Term hi;
  };

  /// Disjoint occurrences of `p`, keeping every row within the depth limit.
  std::vector<Occurrence> occurrences(const Pattern &p) const {
    std::vector<Occurrence> out;
    const int dlo = values_[p.lo].depth;
    const int dhi = values_[p.hi].depth;
    const uint64_t grow =
        (uint64_t{1} << (std::max(dlo, dhi) + 1)) - (uint64_t{1} << dlo) - (uint64_t{1} << dhi);
    for (int i = 0; i < m_.rows; ++i) {
      const std::vector<Term> &terms = rows_[i];
      std::vector<int> los;
      std::vector<int> his;
      for (int k = 0; k < static_cast<int>(terms.size()); ++k) {
        if (terms[k].id == p.lo)
          los.push_back(k);
        if (terms[k].id == p.hi)
          his.push_back(k);
      }
      if (los.empty() || his.empty())
        continue;
      std::sort(los.begin(), los.end(),
                [&](int x, int y) { return terms[x].shift < terms[y].shift; });
      std::vector<char> used(terms.size(), 0);
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
    return out;
  }

  void eliminate_common_subexpressions() {
    for (int i = 0; i < m_.rows; ++i) {
      const std::vector<Term> &terms = rows_[i];
      for (size_t a = 0; a < terms.size(); ++a)
        for (size_t b = a + 1; b < terms.size(); ++b)
          bump(pack(pattern_of(terms[a], terms[b])), +1);
    }
    std::priority_queue<Candidate> heap;
    auto push_touched = [&] {
      std::sort(touched_.begin(), touched_.end());
      touched_.erase(std::unique(touched_.begin(), touched_.end()), touched_.end());
      for (uint64_t key : touched_) {
        const int c = effective_count(key);
        if (c >= 2)
          heap.push(candidate(key, c));
      }
      touched_.clear();
    };
    push_touched();
    while (!heap.empty()) {
      const Candidate top = heap.top();
      heap.pop();
      const int eff = effective_count(top.key);
      if (eff != top.count || eff < 2)
        continue; // stale entry
      const Pattern p = unpack(top.key);
      std::vector<Occurrence> occ = occurrences(p);
      const int real = static_cast<int>(occ.size());
      if (real < eff) {
        capped_[top.key] = {raw_count(top.key), real};
        if (real >= 2)
          heap.push(candidate(top.key, real));
        continue;
      }
      const int v = make_value(p);
      const int dv = values_[v].depth;
      for (const Occurrence &o : occ) {
        remove_term(o.row, o.lo.id, o.lo.shift);
        remove_term(o.row, o.hi.id, o.hi.shift);
        add_term(o.row, Term{v, o.lo.shift, o.lo.sign});
        load_[o.row] += (uint64_t{1} << dv) - (uint64_t{1} << values_[o.lo.id].depth) -
                        (uint64_t{1} << values_[o.hi.id].depth);
      }
      push_touched();
    }
  }

  // ---- reduction trees ----------------------------------------------------------------

  /// Sums the remaining terms of row `i`, always combining the two shallowest.
  OutputRef reduce_row(int i) {
    if (rows_[i].empty())
      return OutputRef{};
    const Term t = sum_terms(rows_[i]);
    return OutputRef{t.id, t.shift, t.sign < 0, values_[t.id].depth};
  }

  /// Sums non-empty `terms`, always combining the two shallowest; the sum as one term.
  Term sum_terms(const std::vector<Term> &terms) {
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
  std::vector<uint64_t> load_; ///< per row: sum of 2^depth over its terms
  std::unordered_map<uint64_t, int> counts_;
  std::unordered_map<uint64_t, std::pair<int, int>> capped_;
  std::unordered_map<uint64_t, int> made_;
  std::vector<uint64_t> touched_;
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
  if (!options.share || limit || m.cols < 2)
    return CmvmBuilder(m, options).run(limit);
  // Unconstrained depth: column-difference decompositions of one and two levels, and
  // (for matrices up to 1024 entries, where it is cheap) the plain greedy; the fewest
  // adders wins, earlier on ties.
  AdderGraph g = CmvmBuilder(m, options).run(limit, 1);
  AdderGraph d = CmvmBuilder(m, options).run(limit, 2);
  if (d.adders.size() < g.adders.size())
    g = std::move(d);
  if (static_cast<int64_t>(m.rows) * m.cols <= 1024) {
    AdderGraph p = CmvmBuilder(m, options).run(limit);
    if (p.adders.size() < g.adders.size())
      g = std::move(p);
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
