// Fixed-point machinery shared by the sums of products and the window reductions.
#include "ir/ops/fixed_linear.h"

#include "ir/ops/fixed_common.h"

#include <algorithm>
#include <bit>
#include <limits>
#include <map>

namespace hgqc::ops::linear {

namespace {
Int128 magnitude(const Interval &v) { return std::max(v.hi < 0 ? -v.hi : v.hi, -v.lo); }

// v * 2^s modulo 2^64 (0 for s >= 64: a multiple of 2^64).
uint64_t shl64(int64_t v, int s) { return s < 64 ? static_cast<uint64_t>(v) << s : 0; }

int64_t narrow(Int128 v) {
  HGQC_ASSERT(v >= std::numeric_limits<int64_t>::min() && v <= std::numeric_limits<int64_t>::max(),
              "fixed-point result " + int128_str(v) + " does not fit int64");
  return static_cast<int64_t>(v);
}
} // namespace

RangeInfo::RangeInfo(const ValueRange *r) {
  if (!r)
    return;
  size_t n = r->el.size();
  f.resize(n);
  nz.resize(n);
  for (size_t e = 0; e < n; ++e) {
    nz[e] = !r->el[e].zero();
    f[e] = nz[e] ? r->el[e].f : 0;
  }
}

Interval product_interval(const Interval &x, const Interval &w) {
  Int128 c[4] = {x.lo * w.lo, x.lo * w.hi, x.hi * w.lo, x.hi * w.hi};
  return Interval{*std::min_element(c, c + 4), *std::max_element(c, c + 4), x.f + w.f};
}

void IntervalSum::add(const Interval &v) {
  int s = F - v.f;
  HGQC_ASSERT(s >= 0, "term on a finer grid than its sum");
  if (magnitude_bits(magnitude(v)) + s > 125)
    throw UserError("an intermediate sum needs more than 125 bits (term " + v.str() +
                    " on the grid 2^-" + std::to_string(F) +
                    "): the exponents of its terms are too far apart");
  Int128 m = Int128{1} << s;
  if (__builtin_add_overflow(lo, v.lo * m, &lo) || __builtin_add_overflow(hi, v.hi * m, &hi))
    throw UserError("an intermediate sum needs more than 127 bits");
}

std::vector<int> widths(const ValueRange &r) {
  std::vector<int> w(r.el.size());
  for (size_t e = 0; e < w.size(); ++e)
    w[e] = r.el[e].zero() ? 0 : r.el[e].width();
  return w;
}

int64_t sample_count(const Dims &rd, const Dims &shape) {
  if (rd == shape)
    return 1;
  if (rd.size() != shape.size() || rd.empty() || rd[0] != 1 ||
      !std::equal(rd.begin() + 1, rd.end(), shape.begin() + 1))
    return 0;
  return shape[0];
}

int64_t require_samples(const Dims &rd, const Dims &shape) {
  int64_t s = sample_count(rd, shape);
  if (s == 0)
    throw UserError("in fixed point the dimensions after the batch must be known before run "
                    "time (input of shape " +
                    dims_str(shape) + ", known per sample as " + dims_str(rd) + ")");
  return s;
}

SumPlanBuilder::SumPlanBuilder(SumPlan &p, const SumOperands &in)
    : p_(p), xi_(in.x), wi_(in.w), bi_(in.b) {}

void SumPlanBuilder::start(int F, int64_t be, int64_t bq) {
  F_ = F;
  p_.begin.push_back(static_cast<int64_t>(p_.xoff.size()));
  uint64_t b = 0;
  if (be >= 0 && bi_.nz[be]) {
    int s = F - bi_.f[be];
    HGQC_ASSERT(s >= 0, "bias on a finer grid than its sum");
    b = shl64(bq, s);
  }
  p_.bias.push_back(b);
}

void SumPlanBuilder::term(int64_t xe, int64_t we, int64_t wq) {
  if (!xi_.nz[xe] || (we >= 0 && !wi_.nz[we]))
    return;
  int s = F_ - xi_.f[xe] - (we >= 0 ? wi_.f[we] : 0);
  HGQC_ASSERT(s >= 0, "term on a finer grid than its sum");
  p_.xoff.push_back(static_cast<int32_t>(xe));
  p_.w.push_back(shl64(wq, s));
}

void SumPlanBuilder::finish() { p_.begin.push_back(static_cast<int64_t>(p_.xoff.size())); }

void run_sum_plan(const SumPlan &p, const int64_t *x, int64_t xsz, int64_t S, int64_t *y,
                  int64_t ysz) {
  const int64_t n = p.size();
  const int64_t *begin = p.begin.data();
  const int32_t *xo = p.xoff.data();
  const uint64_t *w = p.w.data();
  int64_t s = 0;
  // Four samples at a time: each term's offset and weight are loaded once for four sums.
  for (; s + 4 <= S; s += 4) {
    auto *x0 = reinterpret_cast<const uint64_t *>(x + s * xsz);
    const uint64_t *x1 = x0 + xsz, *x2 = x1 + xsz, *x3 = x2 + xsz;
    int64_t *y0 = y + s * ysz + p.e0;
    for (int64_t j = 0; j < n; ++j) {
      uint64_t a0 = p.bias[j], a1 = a0, a2 = a0, a3 = a0;
      for (int64_t t = begin[j]; t < begin[j + 1]; ++t) {
        int64_t o = xo[t];
        uint64_t wt = w[t];
        a0 += x0[o] * wt;
        a1 += x1[o] * wt;
        a2 += x2[o] * wt;
        a3 += x3[o] * wt;
      }
      y0[j] = static_cast<int64_t>(a0);
      y0[ysz + j] = static_cast<int64_t>(a1);
      y0[2 * ysz + j] = static_cast<int64_t>(a2);
      y0[3 * ysz + j] = static_cast<int64_t>(a3);
    }
  }
  for (; s < S; ++s) {
    auto *x0 = reinterpret_cast<const uint64_t *>(x + s * xsz);
    int64_t *y0 = y + s * ysz + p.e0;
    for (int64_t j = 0; j < n; ++j) {
      uint64_t a0 = p.bias[j];
      for (int64_t t = begin[j]; t < begin[j + 1]; ++t)
        a0 += x0[xo[t]] * w[t];
      y0[j] = static_cast<int64_t>(a0);
    }
  }
}

namespace {
template <class Acc, bool Min>
void run_max(const MaxPlan &p, const int64_t *x, int64_t xsz, int64_t S, int64_t *y, int64_t ysz) {
  int64_t n = static_cast<int64_t>(p.begin.size()) - 1;
  for (int64_t s = 0; s < S; ++s) {
    const int64_t *xs = x + s * xsz;
    for (int64_t j = 0; j < n; ++j) {
      int64_t t = p.begin[j];
      HGQC_ASSERT(t < p.begin[j + 1], "empty window");
      Acc m = static_cast<Acc>(xs[p.xoff[t]]) * (Acc{1} << p.shift[t]);
      for (++t; t < p.begin[j + 1]; ++t) {
        Acc v = static_cast<Acc>(xs[p.xoff[t]]) * (Acc{1} << p.shift[t]);
        m = Min ? std::min(m, v) : std::max(m, v);
      }
      y[s * ysz + j] = narrow(m);
    }
  }
}
} // namespace

void run_max_plan(const MaxPlan &p, const int64_t *x, int64_t xsz, int64_t S, int64_t *y,
                  int64_t ysz, bool min) {
  if (p.wide && min)
    run_max<Int128, true>(p, x, xsz, S, y, ysz);
  else if (p.wide)
    run_max<Int128, false>(p, x, xsz, S, y, ysz);
  else if (min)
    run_max<int64_t, true>(p, x, xsz, S, y, ysz);
  else
    run_max<int64_t, false>(p, x, xsz, S, y, ysz);
}

void run_product_blocks(std::span<const ProductBlock> blocks, const FixedTensor &a,
                        const FixedTensor &b, const FixedTensor *bias, const ValueRange &ra,
                        const ValueRange &rb, const ValueRange *rbias, const ValueRange &ry,
                        FixedTensor &y) {
  // A constant-zero element holds the value 0, so its term is 0 whatever the shift: its
  // exponent only has to keep the shift defined.
  RangeInfo ia(&ra), ib(&rb), ic(rbias);
  std::vector<int> fy(ry.el.size());
  for (size_t e = 0; e < fy.size(); ++e)
    fy[e] = ry.el[e].f;
  auto term = [](int64_t p, int64_t q, int s) {
    return (s >= 0 && s < 64) ? (static_cast<uint64_t>(p) * static_cast<uint64_t>(q)) << s : 0;
  };
  for (const ProductBlock &k : blocks)
    for (int64_t i = 0; i < k.R; ++i)
      for (int64_t j = 0; j < k.C; ++j) {
        int F = fy[k.ry.at(i, j)];
        uint64_t acc = 0;
        if (bias)
          acc = term(bias->q[k.bias.at(i, j)], 1, F - ic.f[k.rbias.at(i, j)]);
        for (int64_t l = 0; l < k.K; ++l)
          acc += term(a.q[k.a.at(i, l)], b.q[k.b.at(l, j)],
                      F - ia.f[k.ra.at(i, l)] - ib.f[k.rb.at(l, j)]);
        y.q[k.y.at(i, j)] = static_cast<int64_t>(acc);
      }
}

int log2_exact(int64_t n) {
  return n > 0 && std::has_single_bit(static_cast<uint64_t>(n))
             ? std::countr_zero(static_cast<uint64_t>(n))
             : -1;
}

Reciprocal reciprocal(int64_t n, const Interval &sum) {
  HGQC_ASSERT(n >= 1, "an average of no elements");
  int s = std::countr_zero(static_cast<uint64_t>(n));
  Int128 m = n >> s;
  Int128 M = std::max(sum.hi, -sum.lo);
  if (m == 1 || M == 0)
    return {1, s};
  auto too_wide = [&](Int128 R) {
    return UserError("the average of " + std::to_string(n) + " elements multiplies its " +
                     std::to_string(sum.width()) + "-bit sum by a " +
                     std::to_string(bit_length(static_cast<UInt128>(R))) + "-bit reciprocal of " +
                     std::to_string(n >> s) + ": the product exceeds " +
                     std::to_string(kMaxFixedWidth) + " bits; quantize the input narrower");
  };
  if (sum.width() > kMaxFixedWidth)
    throw too_wide(1);
  // k grows until 2 M |m R - 2^k| < 2^k; 2^k > 2 M (m - 1) always suffices, since
  // |m R - 2^k| <= (m - 1) / 2 for the nearest R (m odd: never a tie).
  for (int k = 1;; ++k) {
    if (k + bit_length(static_cast<UInt128>(M)) > 2 * kMaxFixedWidth)
      throw too_wide(Int128{1} << k);
    Int128 p = Int128{1} << k;
    Int128 R = ((p << 1) / m + 1) / 2;
    Int128 err = m * R - p;
    if (err < 0)
      err = -err;
    if (M * err < (p >> 1)) { // 2 M err < 2^k (M < 2^62 and err < m < 2^63: no overflow)
      if (average_interval(sum, {R, k + s}).width() > kMaxFixedWidth)
        throw too_wide(R);
      return {R, k + s};
    }
  }
}

Interval average_interval(const Interval &sum, const Reciprocal &r) {
  HGQC_ASSERT(r.R > 0, "a non-positive reciprocal");
  return Interval{sum.lo * r.R, sum.hi * r.R, sum.f + r.f};
}

double reciprocal_ebops(const Interval &sum, const Reciprocal &r) {
  int tz = std::countr_zero(static_cast<uint64_t>(r.R)); // R < 2^62: the odd part's width
  Interval c{r.R >> tz, r.R >> tz, r.f - tz};
  return static_cast<double>(sum.width()) * c.product_width();
}

namespace {
// q * 2^s for a coefficient; UserError when it leaves the 62 bits shift-and-add logic takes.
Int128 coef_shift(Int128 q, int s) {
  if (q == 0)
    return 0;
  HGQC_ASSERT(s >= 0, "a product term on a finer grid than its output");
  Int128 m = q < 0 ? -q : q;
  if (s > 62 || (m >> (62 - s)) != 0)
    throw UserError("a constant coefficient " + int128_str(q) + " * 2^" + std::to_string(s) +
                    " exceeds the 62 bits the hardware backend takes: the operand exponents are "
                    "too far apart");
  return q << s;
}

// -v without a level of its own where v's node subtracts: -(a - b) is b - a, on the same
// level as v (v itself goes when nothing else reads it). Otherwise a negation.
NetRef negated(Netlist &net, NetRef v) {
  if (v.zero() || net.node(v).op != NetOp::Sub)
    return net.neg(v);
  const NetNode &n = net.node(v);
  return net.add(NetRef{n.b, v.f - n.sb}, NetRef{n.a, v.f - n.sa}, true);
}

struct LoweredRow {
  std::vector<std::pair<NetId, Int128>> coef; // by node, merged
  std::vector<NetId> reads;                   // run-time nodes the output reads (its block key)
  Int128 cst = 0;                             // constant part on the row's grid
  NetRef var_bias;                            // a bias computed at run time
  std::vector<NetRef> products;               // products of two run-time signals
};

// The sum of `terms` as a balanced tree of adders (the constant zero for none).
NetRef sum_tree(Netlist &net, std::vector<NetRef> terms) {
  while (terms.size() > 1) {
    size_t k = 0;
    for (size_t j = 0; j + 1 < terms.size(); j += 2)
      terms[k++] = net.add(terms[j], terms[j + 1]);
    if (terms.size() % 2)
      terms[k++] = terms.back();
    terms.resize(k);
  }
  return terms.empty() ? NetRef{} : terms[0];
}
} // namespace

std::vector<NetRef> lower_sum_terms(LowerContext &ctx, const std::vector<NetRef> &x,
                                    const std::vector<NetRef> *w, const std::vector<NetRef> *b,
                                    const SumTerms &t) {
  Netlist &net = ctx.net;
  const size_t n_out = t.F.size();
  std::vector<LoweredRow> rows(n_out);
  auto cval = [&](NetRef r) { return const_value(net, r); };
  for (size_t e = 0; e < n_out; ++e) {
    LoweredRow &row = rows[e];
    const int F = t.F[e];
    for (int64_t k = t.begin[e]; k < t.begin[e + 1]; ++k) {
      NetRef rx = x[t.xe[k]];
      NetRef rw = t.we[k] < 0 ? NetRef{} : (*w)[t.we[k]];
      bool unit = t.we[k] < 0;
      auto cx = cval(rx);
      auto cw = unit ? std::optional<Int128>(1) : cval(rw);
      int fw = unit ? 0 : rw.f;
      if (!cx && !cw) {
        row.products.push_back(net.mul(rx, rw)); // both computed at run time: a multiplier
        continue;
      }
      if (cx && cw) {
        row.cst += coef_shift(*cx * *cw, F - rx.f - fw);
        continue;
      }
      NetRef var = cx ? rw : rx;
      Int128 c = cx ? *cx : *cw;
      row.reads.push_back(var.node);
      if (c != 0)
        row.coef.emplace_back(var.node, coef_shift(c, F - rx.f - fw));
    }
    if (t.bias_el[e] >= 0) {
      NetRef rb = (*b)[t.bias_el[e]];
      if (auto cb = cval(rb))
        row.cst += coef_shift(*cb, F - rb.f);
      else
        row.var_bias = rb;
    }
    std::sort(row.coef.begin(), row.coef.end());
    size_t m = 0;
    for (size_t j = 0; j < row.coef.size(); ++j) {
      if (m > 0 && row.coef[m - 1].first == row.coef[j].first)
        row.coef[m - 1].second += row.coef[j].second;
      else
        row.coef[m++] = row.coef[j];
    }
    row.coef.resize(m);
    std::erase_if(row.coef, [](const auto &p) { return p.second == 0; });
    std::sort(row.reads.begin(), row.reads.end());
    row.reads.erase(std::unique(row.reads.begin(), row.reads.end()), row.reads.end());
  }

  // Blocks: outputs that read the same run-time signals share one CMVM.
  std::map<std::vector<NetId>, std::vector<size_t>> blocks;
  for (size_t e = 0; e < n_out; ++e)
    if (!rows[e].coef.empty())
      blocks[rows[e].reads].push_back(e);
  std::vector<CmvmRow> built(n_out);
  for (const auto &[reads, outs] : blocks) {
    CmvmRequest rq;
    for (size_t e : outs)
      for (const auto &p : rows[e].coef)
        rq.x.push_back(p.first);
    std::sort(rq.x.begin(), rq.x.end());
    rq.x.erase(std::unique(rq.x.begin(), rq.x.end()), rq.x.end());
    rq.rows = static_cast<int64_t>(outs.size());
    rq.m.assign(outs.size() * rq.x.size(), 0);
    for (size_t r = 0; r < outs.size(); ++r) {
      rq.row_f.push_back(t.F[outs[r]]);
      for (const auto &p : rows[outs[r]].coef) {
        size_t c =
            static_cast<size_t>(std::lower_bound(rq.x.begin(), rq.x.end(), p.first) - rq.x.begin());
        rq.m[r * rq.x.size() + c] = static_cast<int64_t>(p.second);
      }
    }
    std::vector<CmvmRow> got = ctx.cmvm(net, rq);
    HGQC_ASSERT(got.size() == outs.size(), "CMVM builder returned the wrong number of rows");
    for (size_t r = 0; r < outs.size(); ++r)
      built[outs[r]] = got[r];
  }

  std::vector<NetRef> y(n_out);
  for (size_t e = 0; e < n_out; ++e) {
    const LoweredRow &row = rows[e];
    NetRef c = row.cst == 0 ? NetRef{} : net.constant(row.cst, t.F[e]);
    const CmvmRow &v = built[e];
    if (!v.negate)
      y[e] = net.add(net.add(v.ref, c), row.var_bias);
    else if (!c.zero())
      y[e] = net.add(net.add(c, v.ref, true), row.var_bias);
    else if (!row.var_bias.zero())
      y[e] = net.add(row.var_bias, v.ref, true);
    else
      y[e] = negated(net, v.ref);
    if (!row.products.empty())
      y[e] = net.add(y[e], sum_tree(net, row.products));
  }
  return y;
}

} // namespace hgqc::ops::linear
