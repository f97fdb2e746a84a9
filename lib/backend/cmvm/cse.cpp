// The greedy common-subexpression elimination: two-term pattern counts, candidate
// selection (count, depth, width; tied candidates by damage and created pairs), substitution.
#include "backend/cmvm/internal.h"

#include "ir/error.h"

#include <algorithm>
#include <cstdlib>

namespace hgqc::backend::cmvm {

void CmvmBuilder::bump(uint64_t key, int delta) {
  bool fresh = false;
  const int c = counts_.add(key, delta, delta > 0 ? epoch_ : 0, &fresh);
  HGQC_ASSERT(c >= 0, "CMVM: negative pattern count");
  if (fresh)
    touched_.push_back(key);
}

int CmvmBuilder::raw_count(uint64_t key) const { return counts_.get(key); }

int CmvmBuilder::effective_count(uint64_t key) const {
  const int c = raw_count(key);
  const std::pair<int, int> *cap = capped_.find(key);
  if (cap != nullptr && cap->first == c)
    return cap->second;
  return c;
}

int CmvmBuilder::made_bonus(uint64_t key) const { return made_.find(key) != nullptr ? 1 : 0; }

Candidate CmvmBuilder::candidate(uint64_t key, int count) const {
  const Pattern p = unpack(key);
  const Value &a = values_[p.lo];
  const Value &b = values_[p.hi];
  const Int128 bmin = p.g > 0 ? (b.min << p.d) : -(b.max << p.d);
  const Int128 bmax = p.g > 0 ? (b.max << p.d) : -(b.min << p.d);
  // Operands of unequal depths use up more of a row's depth budget (load_) than their sum's
  // depth alone says.
  const int gap = limit_ ? recipe_.depth_gap_weight * std::abs(a.depth - b.depth) : 0;
  const Candidate c{count, std::max(a.depth, b.depth) + 1 + gap,
                    bits_for(a.min + bmin, a.max + bmax), key};
  HGQC_ASSERT(c.count >= 0 && c.depth < (1 << kRankDepthBits) && c.width < (1 << kRankWidthBits),
              "CMVM: candidate out of the range of its rank");
  return c;
}

void CmvmBuilder::add_term(int row, const Term &t) {
  for (const Term &u : rows_[row])
    bump(pack(pattern_of(t, u)), +1);
  rows_[row].push_back(t);
  value_rows_[t.id].push_back(row);
}

void CmvmBuilder::remove_term(int row, int id, int shift) {
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

void CmvmBuilder::occurrences(const Pattern &p, std::vector<Occurrence> &out) {
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

void CmvmBuilder::push(const Candidate &c) {
  heap_.push_back(rank_of(c));
  std::push_heap(heap_.begin(), heap_.end());
}

Candidate CmvmBuilder::pop() {
  std::pop_heap(heap_.begin(), heap_.end());
  const Candidate c = candidate_of(heap_.back());
  heap_.pop_back();
  return c;
}

bool CmvmBuilder::take(const Candidate &c, std::vector<Occurrence> &occ) {
  const int eff = effective_count(c.key);
  const int bonus = eff > 0 ? made_bonus(c.key) : 0;
  if (eff + bonus != c.count || eff + bonus < 2) {
    // A count that grew was queued again when it grew; one that dropped (its terms taken by
    // other patterns) is queued again here, at its current count, when it comes up.
    if (recipe_.requeue && eff + bonus < c.count && eff + bonus >= 2)
      push(candidate(c.key, eff + bonus));
    return false;
  }
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
      push(candidate(c.key, real + bonus));
    return false;
  }
  return true;
}

bool CmvmBuilder::fresh(const Scored &e) const {
  for (const Occurrence &o : e.occ)
    if (row_stamp_[o.row] >= e.stamp)
      return false;
  return true;
}

const std::vector<CmvmBuilder::Occurrence> &CmvmBuilder::cached_occurrences(uint64_t key) {
  Scored *it = scored_.find(key);
  if (it != nullptr && fresh(*it))
    return it->occ;
  Scored &e = scored_[key];
  e.stamp = step_;
  occurrences(unpack(key), e.occ);
  e.score_count = 0;
  return e.occ;
}

int64_t CmvmBuilder::pool_score(uint64_t key, const std::vector<Occurrence> &occ, int count) {
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

int64_t CmvmBuilder::damage(const std::vector<Occurrence> &occ, int count) const {
  int64_t d = 0;
  for (const Occurrence &o : occ)
    for (const Term &u : rows_[o.row]) {
      if ((u.id == o.lo.id && u.shift == o.lo.shift) || (u.id == o.hi.id && u.shift == o.hi.shift))
        continue;
      d += raw_count(pack(pattern_of(o.lo, u))) >= count;
      d += raw_count(pack(pattern_of(o.hi, u))) >= count;
    }
  return d;
}

int64_t CmvmBuilder::created(const std::vector<Occurrence> &occ) {
  std::vector<uint64_t> &keys = scratch_keys_;
  keys.clear();
  const int v = static_cast<int>(values_.size()); // a stand-in id for the new value
  for (const Occurrence &o : occ)
    for (const Term &u : rows_[o.row]) {
      if ((u.id == o.lo.id && u.shift == o.lo.shift) || (u.id == o.hi.id && u.shift == o.hi.shift))
        continue;
      keys.push_back(pack(pattern_of(Term{v, o.lo.shift, o.lo.sign}, u)));
    }
  std::sort(keys.begin(), keys.end());
  int64_t c = 0;
  for (size_t k = 1; k < keys.size(); ++k)
    c += keys[k] == keys[k - 1];
  return c;
}

void CmvmBuilder::eliminate_common_subexpressions() {
  for (int i = 0; i < m_->rows; ++i) {
    const std::vector<Term> &terms = rows_[i];
    for (size_t a = 0; a < terms.size(); ++a)
      for (size_t b = a + 1; b < terms.size(); ++b)
        bump(pack(pattern_of(terms[a], terms[b])), +1);
  }
  row_stamp_.assign(m_->rows, 0);
  heap_.clear();
  auto push_touched = [&] {
    // Each key is listed once per epoch (or again after its count dropped to 0): the
    // heap orders candidates totally, so the order of the pushes does not matter.
    for (uint64_t key : touched_) {
      const int c = effective_count(key);
      const int score = c > 0 ? c + made_bonus(key) : 0;
      if (score >= 2)
        push(candidate(key, score));
    }
    touched_.clear();
    ++epoch_;
  };
  push_touched();
  while (!heap_.empty()) {
    const Candidate top = pop();
    // The pool's candidates and occurrences (buffers reused from step to step).
    std::vector<Candidate> &cands = pool_cands_;
    std::vector<std::vector<Occurrence>> &occs = pool_occs_;
    cands.clear();
    if (occs.empty())
      occs.resize(1);
    if (!take(top, occs[0]))
      continue;
    cands.push_back(top);
    // Among up to `pool` candidates with the same count (in priority order), take the
    // one with the lowest damage - created_weight * created: its occurrences break few
    // pairs of patterns at least that frequent, and its new value forms repeated pairs.
    while (static_cast<int>(cands.size()) < recipe_.pool && !heap_.empty() &&
           candidate_of(heap_.front()).count == top.count) {
      const Candidate c = pop();
      if (occs.size() <= cands.size())
        occs.resize(cands.size() + 1);
      if (take(c, occs[cands.size()]))
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
        push(cands[k]);
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

} // namespace hgqc::backend::cmvm
