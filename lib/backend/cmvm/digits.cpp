// Digit forms: canonical signed digits (csd.h), other minimal signed-digit forms, and the
// alignment of the forms so that the two-term patterns of a matrix concentrate.
#include "backend/cmvm/internal.h"

#include "ir/error.h"

#include <algorithm>
#include <bit>

namespace hgqc::backend {

std::vector<CsdDigit> csd_digits(int64_t v) {
  constexpr int64_t kLimit = int64_t{1} << 62;
  HGQC_ASSERT(v > -kLimit && v < kLimit, "csd_digits: |v| must be below 2^62");
  std::vector<CsdDigit> digits;
  // Standard non-adjacent form: at an odd value pick the digit d in {-1, +1} that makes
  // (v - d) divisible by 4, so the next digit is zero.
  int shift = 0;
  while (v != 0) {
    if (v & 1) {
      const int d = ((v & 3) == 1) ? 1 : -1;
      digits.push_back(CsdDigit{shift, d});
      v -= d;
    }
    v /= 2; // exact: v is even here
    ++shift;
  }
  return digits;
}

int csd_weight(int64_t v) {
  constexpr int64_t kLimit = int64_t{1} << 62;
  HGQC_ASSERT(v > -kLimit && v < kLimit, "csd_weight: |v| must be below 2^62");
  return csd_weight_of_magnitude(v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v));
}

} // namespace hgqc::backend

namespace hgqc::backend::cmvm {

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

void CmvmBuilder::align_forms(std::vector<DigitEntry> &entries, std::vector<Term> &store) {
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
    std::vector<int> &dense = align_counts_;
    dense.assign(u * u * s * 2, 0);
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

template <class Key, class Get, class Add>
void CmvmBuilder::align_with(std::vector<DigitEntry> &entries, const std::vector<Term> &store,
                             Key key, Get get, Add add) {
  std::vector<std::vector<Term>> cur(m_->rows); // per row: the chosen forms' terms
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
  // Per signed shift (2 * shift + negative): the first term of the entry's forms with it, or
  // -1 (forms share terms; each distinct one is weighed once).
  std::vector<int> &first = align_first_;
  int max_shift = 0;
  for (const DigitEntry &en : entries)
    for (uint32_t k = 0; k < en.forms * en.len; ++k)
      max_shift = std::max(max_shift, store[en.base + k].shift);
  first.assign(2 * static_cast<size_t>(max_shift) + 2, -1);
  auto slot = [](const Term &t) { return 2 * static_cast<size_t>(t.shift) + (t.sign < 0); };
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
        int &same = first[slot(all[k])];
        if (same >= 0) {
          term_gain[k] = term_gain[same];
          continue;
        }
        same = static_cast<int>(k);
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
      for (uint32_t k = 0; k < en.forms * en.len; ++k)
        first[slot(all[k])] = -1;
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

} // namespace hgqc::backend::cmvm
