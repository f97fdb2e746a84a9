// Values and reduction trees: the builder's run, hash-consed adders with exact ranges, and
// the Huffman-by-depth sums of each row (unsigned partial sums by sign).
#include "backend/cmvm/internal.h"

#include "ir/error.h"

#include <algorithm>
#include <limits>

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
  // Rows of values of earlier builds are kept (cleared) for the values of this one.
  if (value_rows_.size() < values_.size())
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
  if (value_rows_.size() < values_.size())
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
  std::vector<Term> &pos = sum_pos_;
  std::vector<Term> &neg = sum_neg_;
  std::vector<Term> &rest = sum_rest_;
  pos.clear();
  neg.clear();
  rest.clear();
  for (const Term &t : terms)
    (values_[t.id].min < 0 ? rest : t.sign > 0 ? pos : neg).push_back(t);
  if (pos.size() + neg.size() < 2)
    return sum_shallowest(terms);
  std::vector<int> &d = sum_depths_;
  auto depth_of = [&](const std::vector<Term> &ts) {
    d.clear();
    for (const Term &t : ts)
      d.push_back(values_[t.id].depth);
    return tree_depth(d);
  };
  const int pos_depth = pos.empty() ? 0 : depth_of(pos);
  const int neg_depth = neg.empty() ? 0 : depth_of(neg);
  const int one_tree = depth_of(terms);
  d.clear();
  for (const Term &t : rest)
    d.push_back(values_[t.id].depth);
  if (!pos.empty())
    d.push_back(pos_depth);
  if (!neg.empty())
    d.push_back(neg_depth);
  if (tree_depth(d) > std::max(one_tree, max_depth))
    return sum_shallowest(terms);
  for (const std::vector<Term> *g : {&pos, &neg})
    if (!g->empty())
      rest.push_back(g->size() > 1 ? sum_shallowest(*g) : g->front());
  return sum_shallowest(rest);
}

int CmvmBuilder::tree_depth(std::vector<int> &d) {
  const auto later = std::greater<>();
  std::make_heap(d.begin(), d.end(), later);
  while (d.size() > 1) {
    std::pop_heap(d.begin(), d.end(), later);
    const int a = d.back();
    d.pop_back();
    std::pop_heap(d.begin(), d.end(), later);
    d.back() = std::max(a, d.back()) + 1;
    std::push_heap(d.begin(), d.end(), later);
  }
  return d.front();
}

Term CmvmBuilder::sum_shallowest(const std::vector<Term> &terms) {
  std::vector<TreeEntry> &q = sum_heap_;
  const auto later = std::greater<>();
  q.clear();
  for (const Term &t : terms)
    q.emplace_back(values_[t.id].depth, t.id, t.shift, t.sign);
  std::make_heap(q.begin(), q.end(), later);
  auto pop = [&] {
    std::pop_heap(q.begin(), q.end(), later);
    const TreeEntry e = q.back();
    q.pop_back();
    return e;
  };
  while (q.size() > 1) {
    const auto [d1, id1, s1, g1] = pop();
    const auto [d2, id2, s2, g2] = pop();
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
    q.emplace_back(values_[v].depth, v, lo.shift, reverse ? -lo.sign : lo.sign);
    std::push_heap(q.begin(), q.end(), later);
  }
  const auto [d, id, s, g] = q.front();
  (void)d;
  return Term{id, s, g};
}

} // namespace hgqc::backend::cmvm
