// Values and reduction trees: the builder's run, hash-consed adders with exact ranges, and
// the Huffman-by-depth sums of each row (unsigned partial sums by sign).
#include "backend/cmvm/internal.h"

#include "ir/error.h"

#include <algorithm>
#include <limits>
#include <queue>

namespace hgqc::backend::cmvm {

void CmvmBuilder::reset(const IntMatrix &m, const CmvmOptions &opt) {
  m_ = &m;
  opt_ = &opt;
  if (opt.inputs.empty())
    formats_.assign(m.cols, InputFormat{});
  else
    formats_ = opt.inputs;
  values_.clear();
  coeffs_.assign(static_cast<size_t>(m.cols) * m.cols, 0);
  for (int j = 0; j < m.cols; ++j) {
    coeffs_[static_cast<size_t>(j) * m.cols + j] = 1;
    Value v;
    const InputFormat &f = formats_[j];
    v.min = f.is_signed ? -(Int128{1} << (f.width - 1)) : 0;
    v.max = f.is_signed ? (Int128{1} << (f.width - 1)) - 1 : (Int128{1} << f.width) - 1;
    v.depth = opt.input_depths.empty() ? 0 : opt.input_depths[j];
    values_.push_back(v);
  }
  value_rows_.resize(values_.size());
  for (std::vector<int> &r : value_rows_)
    r.clear();
  rows_.resize(m.rows);
  for (std::vector<Term> &r : rows_)
    r.clear();
  load_.assign(m.rows, 0);
  row_parent_.assign(m.rows, -1);
  row_order_.resize(m.rows);
  for (int i = 0; i < m.rows; ++i)
    row_order_[i] = i;
  adders_.clear();
  used_offsets_ = false;
  step_ = 1;
  epoch_ = 1;
  scored_.clear();
  counts_.clear();
  capped_.clear();
  made_.clear();
  made_reversed_.clear();
  touched_.clear();
}

AdderGraph CmvmBuilder::run(const IntMatrix &m, const CmvmOptions &opt,
                            std::optional<int> depth_limit, const Recipe &recipe) {
  reset(m, opt);
  limit_ = depth_limit;
  recipe_ = recipe;
  if (limit_) { // offsets only: each row's offset is chosen to fit the limit
    recipe_.column_levels = 0;
    recipe_.row_tree = RowTree::none;
  }
  if (!opt_->share)
    recipe_.pool = 1;
  load_terms();
  if (opt_->share)
    eliminate_common_subexpressions();
  AdderGraph g;
  g.num_inputs = m_->cols;
  g.inputs = formats_;
  g.input_depths = opt_->input_depths.empty() ? std::vector<int>(m_->cols, 0) : opt_->input_depths;
  g.outputs.resize(m_->rows);
  for (int i : row_order_) { // parents first
    const int p = row_parent_[i];
    if (p >= 0 && g.outputs[p].value >= 0) {
      const OutputRef &o = g.outputs[p];
      rows_[i].push_back(Term{o.value, o.shift, o.negate ? -1 : 1});
    }
    positive_term(rows_[i]);
    g.outputs[i] = reduce_row(i);
  }
  g.adders = std::move(adders_);
  return g;
}

int CmvmBuilder::make_value(const Pattern &p, bool reverse) {
  HGQC_ASSERT(!reverse || p.g < 0, "CMVM: a reversed adder must subtract");
  const uint64_t key = pack(p);
  FlatMap<int> &made = reverse ? made_reversed_ : made_;
  if (opt_->share) {
    if (const int *id = made.find(key))
      return *id;
  }
  HGQC_ASSERT(values_.size() < (size_t{1} << 24), "CMVM: too many values");
  const Value &a = values_[p.lo];
  const Value &b = values_[p.hi];
  const size_t n = static_cast<size_t>(m_->cols);
  const size_t base = coeffs_.size();
  coeffs_.resize(base + n);
  const int64_t *ca = &coeffs_[static_cast<size_t>(p.lo) * n];
  const int64_t *cb = &coeffs_[static_cast<size_t>(p.hi) * n];
  int64_t *cv = &coeffs_[base];
  Value v;
  for (size_t j = 0; j < n; ++j) {
    cv[j] = reverse ? (cb[j] << p.d) - ca[j] : ca[j] + p.g * (cb[j] << p.d);
    const Int128 c = cv[j];
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
  op.reverse = reverse;
  op.depth = v.depth;
  op.min = v.min;
  op.max = v.max;
  op.width = bits_for(v.min, v.max);
  op.is_signed = v.min < 0;
  adders_.push_back(op);
  const int id = static_cast<int>(values_.size());
  values_.push_back(v);
  value_rows_.emplace_back();
  if (opt_->share)
    made[key] = id;
  return id;
}

void CmvmBuilder::positive_term(std::vector<Term> &terms) {
  if (terms.empty() ||
      std::any_of(terms.begin(), terms.end(), [](const Term &t) { return t.sign > 0; }))
    return;
  for (Term &t : terms) {
    if (t.id < m_->cols || !adders_[t.id - m_->cols].subtract)
      continue;
    const AdderOp op = adders_[t.id - m_->cols]; // a copy: make_value() appends
    t = Term{make_value(Pattern{op.a, op.b, op.shift, -1}, !op.reverse), t.shift, 1};
    return;
  }
}

OutputRef CmvmBuilder::reduce_row(int i) {
  if (rows_[i].empty())
    return OutputRef{};
  const Term t = sum_terms(rows_[i], limit_ ? *limit_ : std::numeric_limits<int>::max());
  return OutputRef{t.id, t.shift, t.sign < 0, values_[t.id].depth};
}

Term CmvmBuilder::sum_terms(const std::vector<Term> &terms, int max_depth) {
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

int CmvmBuilder::tree_depth(std::vector<int> d) {
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

Term CmvmBuilder::sum_shallowest(const std::vector<Term> &terms) {
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
    // -lo + (hi << d) is built as (hi << d) - lo, a positive term, so that a row's sum, and
    // so its output, ends up negated only when all of its terms are. Where the value of the
    // other orientation exists already, its negation is used instead (no new adder).
    bool reverse = false;
    if (p.g < 0) {
      const bool want = lo.sign < 0;
      const bool have_plain = opt_->share && made_.find(pack(p)) != nullptr;
      const bool have_rev = opt_->share && made_reversed_.find(pack(p)) != nullptr;
      reverse = want ? !have_plain : (have_rev && !have_plain);
    }
    const int v = make_value(p, reverse);
    q.emplace(values_[v].depth, v, lo.shift, reverse ? -lo.sign : lo.sign);
  }
  const auto [d, id, s, g] = q.top();
  (void)d;
  return Term{id, s, g};
}

} // namespace hgqc::backend::cmvm
