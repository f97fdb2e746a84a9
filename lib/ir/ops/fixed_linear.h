// Fixed-point machinery shared by the ops that sum products (MatMul, Gemm, Conv) or reduce
// windows (AveragePool, GlobalAveragePool, MaxPool): exact output intervals, EBOPs, and
// emulator plans compiled once per call (method.md §1, §2).
#pragma once

#include "ir/ops/common.h"
#include "ir/ops/fixed_common.h"

#include <climits>

namespace hgqc::ops::linear {

/// Exponent and zero flag of every element of a range, read once per hook call.
struct RangeInfo {
  std::vector<int> f;      ///< exponent (0 for the constant zero)
  std::vector<uint8_t> nz; ///< 1 unless the element is the constant zero
  RangeInfo() = default;
  /// Reads `r` (an empty RangeInfo when r is null).
  explicit RangeInfo(const ValueRange *r);
};

/// Exact interval of x * w: the extreme corners, at exponent x.f + w.f.
Interval product_interval(const Interval &x, const Interval &w);

/// Exact running sum of intervals on the common grid 2^-F.
struct IntervalSum {
  int F = 0;
  Int128 lo = 0, hi = 0;
  /// Adds the interval v (v.f <= F). Throws UserError when 128 bits do not hold the sum.
  void add(const Interval &v);
};

/// Output element e of a sum of products is bias[bias_el(e)] + the sum over the terms
/// (xe, we) of x[xe] * w[we], where xe, we and bias_el(e) are range elements; we < 0 is the
/// constant factor 1 (plain sums) and bias_el(e) < 0 is no bias. `terms(e, emit)` calls
/// emit(xe, we) for every term of e. Terms with a constant-zero factor are skipped.
struct SumOperands {
  const ValueRange *x = nullptr; ///< first factors
  const ValueRange *w = nullptr; ///< second factors (null: every term is x alone)
  const ValueRange *b = nullptr; ///< bias (null: none)
};

/// No bias: the bias_el callable for sums without one.
inline int64_t no_bias(int64_t) { return -1; }

/// Exact intervals of the sums for outputs 0..n_out-1 (see SumOperands): element e on the
/// grid 2^-F_e, F_e the largest exponent of its non-zero terms and bias (the zero interval
/// when there are none).
template <class Terms, class BiasEl>
std::vector<Interval> sum_ranges(int64_t n_out, const SumOperands &in, Terms &&terms,
                                 BiasEl &&bias_el) {
  RangeInfo xi(in.x), wi(in.w), bi(in.b);
  std::vector<Interval> r(static_cast<size_t>(n_out));
  for (int64_t e = 0; e < n_out; ++e) {
    int F = INT_MIN;
    terms(e, [&](int64_t xe, int64_t we) {
      if (xi.nz[xe] && (we < 0 || wi.nz[we]))
        F = std::max(F, xi.f[xe] + (we < 0 ? 0 : wi.f[we]));
    });
    int64_t be = bias_el(e);
    if (be >= 0 && bi.nz[be])
      F = std::max(F, bi.f[be]);
    if (F == INT_MIN)
      continue; // the zero interval
    IntervalSum s{F};
    terms(e, [&](int64_t xe, int64_t we) {
      if (!xi.nz[xe] || (we >= 0 && !wi.nz[we]))
        return;
      s.add(we < 0 ? in.x->el[xe] : product_interval(in.x->el[xe], in.w->el[we]));
    });
    if (be >= 0 && bi.nz[be])
      s.add(in.b->el[be]);
    r[e] = Interval{s.lo, s.hi, F};
  }
  return r;
}

/// Widths (Interval::width) of every element of a range.
std::vector<int> widths(const ValueRange &r);

/// EBOPs of a sum of products: the sum over all terms of width(x) * width(w).
template <class Terms> double sum_ebops(int64_t n_out, const SumOperands &in, Terms &&terms) {
  std::vector<int> wx = widths(*in.x), ww = widths(*in.w);
  int64_t total = 0;
  for (int64_t e = 0; e < n_out; ++e)
    terms(e, [&](int64_t xe, int64_t we) { total += int64_t{wx[xe]} * ww[we]; });
  return static_cast<double>(total);
}

/// Number of samples when a run-time tensor of shape `shape` is cut along dimension 0 into
/// blocks with the dims `rd` of its range: 1 when shape == rd, shape[0] when rd[0] == 1 and
/// the other dimensions agree, 0 otherwise (the range broadcasts over other dimensions).
int64_t sample_count(const Dims &rd, const Dims &shape);
/// sample_count, or UserError when it is 0: an op that needs its input's dimensions after
/// the batch known before run time (channels, spatial dimensions) found a dynamic one.
int64_t require_samples(const Dims &rd, const Dims &shape);

/// A sum of products compiled for the emulator, for the outputs e0 .. e0 + size - 1: the
/// non-zero terms as an offset into x's sample and a weight, and the bias, both already
/// shifted onto the output grid.
///
/// The emulator sums modulo 2^64 (unsigned wrap-around, no undefined behaviour): every
/// exact result lies in its interval, which the range analysis keeps within
/// kMaxFixedWidth < 64 bits, so the result modulo 2^64 is the exact result whatever the
/// sizes of the terms and partial sums.
struct SumPlan {
  int64_t e0 = 0;
  std::vector<int64_t> begin; ///< terms of output e0 + j: [begin[j], begin[j + 1])
  std::vector<int32_t> xoff;  ///< offset of the term's x element in its sample
  std::vector<uint64_t> w;    ///< weight * 2^shift modulo 2^64
  std::vector<uint64_t> bias; ///< bias of each output on the output grid, modulo 2^64
  /// Number of outputs.
  int64_t size() const { return static_cast<int64_t>(begin.size()) - 1; }
};

/// Appends outputs to a plan: each output's exponent F and bias, then its terms: x element
/// xe (its offset in x's sample; value known at run time only) and weight value wq (range
/// element we; unit weights have we < 0 and wq = 1). Zero terms are dropped.
class SumPlanBuilder {
public:
  SumPlanBuilder(SumPlan &p, const SumOperands &in);
  /// Starts output e with exponent F and bias value bq of range element be.
  void start(int F, int64_t be, int64_t bq);
  /// Adds one term.
  void term(int64_t xe, int64_t we, int64_t wq);
  /// Ends the plan (call after the last output).
  void finish();

private:
  SumPlan &p_;
  RangeInfo xi_, wi_, bi_;
  int F_ = 0;
};

/// Runs a plan on S samples: y[s * ysz + e0 + j] for every output j of the plan, reading
/// sample s of x at x + s * xsz.
void run_sum_plan(const SumPlan &p, const int64_t *x, int64_t xsz, int64_t S, int64_t *y,
                  int64_t ysz);

/// The run-time tensors of eval_sum.
struct SumData {
  const int64_t *w = nullptr; ///< weight values by range element (null: unit weights)
  const int64_t *b = nullptr; ///< bias values by range element (null: no bias)
  const int64_t *x = nullptr; ///< `samples` samples of xsz elements
  int64_t xsz = 0, samples = 0;
  int64_t *y = nullptr; ///< `samples` samples of ysz elements
  int64_t ysz = 0;
};

/// The emulator of a sum of products whose x splits into samples that each have the dims of
/// x's range (a term's x element is then an offset in its sample) and whose w and bias are
/// the same in every sample (their run-time elements are their range elements). exp_of(e)
/// is the exponent F_e of output e's sum (from sum_ranges, as recorded by the range
/// analysis). Compiles and runs the plan in chunks of at most about 2^16 terms (under 1 MB),
/// so that each chunk stays in cache while all samples run through it.
template <class Exp, class Terms, class BiasEl>
void eval_sum(int64_t n_out, const SumOperands &in, const SumData &d, Exp &&exp_of, Terms &&terms,
              BiasEl &&bias_el) {
  HGQC_ASSERT(d.xsz < INT32_MAX, "sample too large for the emulator");
  constexpr size_t kChunkTerms = size_t{1} << 16;
  SumPlan plan;
  SumPlanBuilder b(plan, in);
  for (int64_t e = 0; e < n_out; ++e) {
    int64_t be = bias_el(e);
    b.start(exp_of(e), be, be >= 0 ? d.b[be] : 0);
    terms(e, [&](int64_t xe, int64_t we) { b.term(xe, we, we >= 0 ? d.w[we] : 1); });
    if (plan.xoff.size() >= kChunkTerms || e + 1 == n_out) {
      b.finish();
      run_sum_plan(plan, d.x, d.xsz, d.samples, d.y, d.ysz);
      plan.begin.clear();
      plan.xoff.clear();
      plan.w.clear();
      plan.bias.clear();
      plan.e0 = e + 1;
    }
  }
}

/// Exact intervals of window maxima: output e is the maximum of the x elements xe that
/// `taps(e, emit)` emits (each window has at least one; a constant-zero element takes part
/// as the value 0), at the largest exponent of its non-zero elements. The same with `min` for
/// minima (the variadic Min).
struct MaxRanges {
  std::vector<Interval> el;
  bool fits64 = true; ///< every tap on its output's grid fits int64
};

/// Computes MaxRanges for outputs 0..n_out-1 (minima when `min`).
template <class Taps>
MaxRanges max_ranges(int64_t n_out, const ValueRange &x, Taps &&taps, bool min = false) {
  RangeInfo xi(&x);
  MaxRanges r;
  r.el.resize(static_cast<size_t>(n_out));
  for (int64_t e = 0; e < n_out; ++e) {
    int F = INT_MIN;
    taps(e, [&](int64_t xe) {
      if (xi.nz[xe])
        F = std::max(F, xi.f[xe]);
    });
    if (F == INT_MIN)
      continue; // every element is the constant zero
    bool first = true;
    Interval m{0, 0, F};
    taps(e, [&](int64_t xe) {
      Interval v = xi.nz[xe] ? x.el[xe].aligned(F) : Interval{0, 0, F};
      r.fits64 = r.fits64 && std::max(v.hi, -v.lo) < (Int128{1} << 63);
      m.lo = first ? v.lo : min ? std::min(m.lo, v.lo) : std::max(m.lo, v.lo);
      m.hi = first ? v.hi : min ? std::min(m.hi, v.hi) : std::max(m.hi, v.hi);
      first = false;
    });
    r.el[e] = m;
  }
  return r;
}

/// Window maxima compiled for the emulator: per output, the taps as offsets into x's
/// sample and shifts onto the output grid.
struct MaxPlan {
  bool wide = false;
  std::vector<int64_t> begin;
  std::vector<int32_t> xoff;
  std::vector<uint8_t> shift;
};

/// Compiles the maxima of outputs 0..n_out-1 (see max_ranges; x's sample has the dims of
/// its range).
template <class Taps>
MaxPlan max_plan(int64_t n_out, const ValueRange &x, const MaxRanges &mr, Taps &&taps) {
  HGQC_ASSERT(dims_numel(x.dims) < INT32_MAX, "sample too large for the emulator");
  RangeInfo xi(&x);
  MaxPlan p;
  p.wide = !mr.fits64;
  p.begin.reserve(static_cast<size_t>(n_out) + 1);
  for (int64_t e = 0; e < n_out; ++e) {
    p.begin.push_back(static_cast<int64_t>(p.xoff.size()));
    int F = mr.el[e].f;
    taps(e, [&](int64_t xe) {
      int s = xi.nz[xe] ? F - xi.f[xe] : 0;
      HGQC_ASSERT(s >= 0 && s < (p.wide ? 126 : 63), "MaxPool tap shift out of range");
      p.xoff.push_back(static_cast<int32_t>(xe));
      p.shift.push_back(static_cast<uint8_t>(s));
    });
  }
  p.begin.push_back(static_cast<int64_t>(p.xoff.size()));
  return p;
}

/// Runs a max plan on S samples (as run_sum_plan); the minima when `min`.
void run_max_plan(const MaxPlan &p, const int64_t *x, int64_t xsz, int64_t S, int64_t *y,
                  int64_t ysz, bool min = false);

/// Element (i, j) of a matrix inside a flat tensor: off + i * rs + j * cs.
struct MatView {
  int64_t off = 0, rs = 0, cs = 0;
  int64_t at(int64_t i, int64_t j) const { return off + i * rs + j * cs; }
};

/// One matrix product Y[R, C] = A[R, K] B[K, C] (+ bias[R, C]) inside run-time tensors:
/// views of the run-time elements and of their range elements.
struct ProductBlock {
  int64_t R = 0, C = 0, K = 0;
  MatView a, b, y, bias;     ///< run-time elements
  MatView ra, rb, ry, rbias; ///< range elements
};

/// The general emulator of matrix products (any broadcasting of the ranges, both factors
/// computed at run time): shifts from the element exponents on the fly, sums modulo 2^64
/// (see SumPlan). `bias` and `rbias` may be null.
void run_product_blocks(std::span<const ProductBlock> blocks, const FixedTensor &a,
                        const FixedTensor &b, const FixedTensor *bias, const ValueRange &ra,
                        const ValueRange &rb, const ValueRange *rbias, const ValueRange &ry,
                        FixedTensor &y);

/// s such that n = 2^s, or -1 when n is not a power of two.
int log2_exact(int64_t n);

// ---- Averages -----------------------------------------------------------------------------

/// The constant that an average of n elements multiplies its exact sum by
/// (docs/fixed-point.md#averages): R * 2^-f, about 1/n.
struct Reciprocal {
  Int128 R = 1; ///< integer of the constant (1: the average is a move of the binary point)
  int f = 0;    ///< its exponent
};

/// The reciprocal of an average of n >= 1 elements whose sum has the exact interval `sum`
/// (integers S on the grid 2^-F). n = 2^s: 1 at exponent s. n = m * 2^s with m > 1 odd:
/// R = round(2^k / m) at exponent k + s, k the smallest for which every S of the interval
/// has |S * R / 2^k - S / m| < 1 / (2m), so that each average is off the exact mean S 2^-F / n
/// by less than half the spacing 2^-F / n of exact means. UserError when sum * R would need
/// more than kMaxFixedWidth bits.
Reciprocal reciprocal(int64_t n, const Interval &sum);

/// Exact interval of sum * r (the sum's integers times R, at exponent sum.f + r.f).
Interval average_interval(const Interval &sum, const Reciprocal &r);

/// EBOPs of the product sum * r: width(sum) * width(R) (method.md section 2, a constant
/// factor), 0 for a power of two (a shift).
double reciprocal_ebops(const Interval &sum, const Reciprocal &r);

/// Averages over windows (AveragePool, GlobalAveragePool): output e is the sum of the x
/// elements that `taps(e, emit)` emits (emit(xe, -1)), times reciprocal(count(e), sum).
template <class Terms, class Count> struct AverageGeom {
  int64_t n_out;
  const ValueRange &x;
  Terms terms;
  Count count;

  /// The exact sums (sum_ranges) and their reciprocals.
  std::pair<std::vector<Interval>, std::vector<Reciprocal>> sums() const {
    std::vector<Interval> s = sum_ranges(n_out, {&x, nullptr, nullptr}, terms, no_bias);
    std::vector<Reciprocal> r(s.size());
    for (size_t e = 0; e < s.size(); ++e)
      r[e] = reciprocal(count(static_cast<int64_t>(e)), s[e]);
    return {std::move(s), std::move(r)};
  }
  /// The range hook's exact output intervals.
  std::vector<Interval> ranges() const {
    auto [s, r] = sums();
    for (size_t e = 0; e < s.size(); ++e)
      s[e] = average_interval(s[e], r[e]);
    return s;
  }
  /// EBOPs of the reciprocal products (the addends are charged by the caller).
  double ebops() const {
    auto [s, r] = sums();
    double total = 0;
    for (size_t e = 0; e < s.size(); ++e)
      total += reciprocal_ebops(s[e], r[e]);
    return total;
  }
  /// The emulator: `samples` samples of x (each with x's range dims) into y (n_out each).
  void eval(const int64_t *xq, int64_t samples, int64_t *y) const {
    const auto sr = sums();
    const std::vector<Interval> &s = sr.first;
    const std::vector<Reciprocal> &r = sr.second;
    SumData d{nullptr, nullptr, xq, dims_numel(x.dims), samples, y, n_out};
    eval_sum(
        n_out, {&x, nullptr, nullptr}, d, [&](int64_t e) { return s[e].f; }, terms, no_bias);
    for (int64_t e = 0; e < n_out; ++e)
      if (r[e].R != 1)
        for (int64_t k = 0; k < samples; ++k) {
          int64_t &q = y[k * n_out + e];
          q = narrow_q(static_cast<Int128>(q) * r[e].R);
        }
  }
  /// Hardware: each sum as an adder tree or shared shift-and-add logic, then its reciprocal:
  /// a move of the binary point, or a constant product (shift-and-add).
  std::vector<NetRef> lower(LowerContext &ctx, const std::vector<NetRef> &xs) const {
    const auto sr = sums();
    const std::vector<Interval> &s = sr.first;
    const std::vector<Reciprocal> &r = sr.second;
    std::vector<NetRef> y = lower_sum(
        ctx, n_out, xs, nullptr, nullptr, [&](int64_t e) { return s[e].f; }, terms, no_bias);
    for (size_t e = 0; e < y.size(); ++e) {
      if (y[e].zero())
        continue;
      if (r[e].R == 1)
        y[e].f += r[e].f;
      else
        y[e] = lower_const_mul(ctx, y[e], ctx.net.constant(r[e].R, r[e].f));
    }
    return y;
  }
};
/// Deduces AverageGeom's callables.
template <class Terms, class Count>
AverageGeom(int64_t, const ValueRange &, Terms, Count) -> AverageGeom<Terms, Count>;

// ---- Hardware lowering -------------------------------------------------------------------

/// Sums of products collected for lowering: output e has its grid F[e], its bias element
/// bias_el[e] (< 0: none) and the terms [begin[e], begin[e + 1]) of (x element, w element)
/// pairs (w element < 0: the factor 1).
struct SumTerms {
  std::vector<int> F;
  std::vector<int64_t> bias_el;
  std::vector<int64_t> begin{0};
  std::vector<int64_t> xe, we;
};

/// Lowers collected sums (method.md §3): the terms with a constant factor of outputs that read
/// the same run-time signals form one constant matrix-vector product built by ctx.cmvm (a
/// dense layer is one, a convolution one per output position); constant terms and the bias are
/// added after, and then the products of two run-time signals (multipliers, Netlist::mul)
/// summed by a balanced adder tree. Output e's signal is on the grid F[e] or a coarser one.
std::vector<NetRef> lower_sum_terms(LowerContext &ctx, const std::vector<NetRef> &x,
                                    const std::vector<NetRef> *w, const std::vector<NetRef> *b,
                                    const SumTerms &t);

/// Lowers outputs 0..n_out-1 of a sum of products (see sum_ranges and eval_sum for `exp_of`,
/// `terms` and `bias_el`); w and b may be null.
template <class Exp, class Terms, class BiasEl>
std::vector<NetRef> lower_sum(LowerContext &ctx, int64_t n_out, const std::vector<NetRef> &x,
                              const std::vector<NetRef> *w, const std::vector<NetRef> *b,
                              Exp &&exp_of, Terms &&terms, BiasEl &&bias_el) {
  SumTerms t;
  for (int64_t e = 0; e < n_out; ++e) {
    t.F.push_back(exp_of(e));
    t.bias_el.push_back(bias_el(e));
    terms(e, [&](int64_t xe, int64_t we) {
      t.xe.push_back(xe);
      t.we.push_back(we);
    });
    t.begin.push_back(static_cast<int64_t>(t.xe.size()));
  }
  return lower_sum_terms(ctx, x, w, b, t);
}

/// Lowers window maxima (see max_ranges): each output a balanced tree of comparators (of
/// minima, NetOp::Min, when `min`).
template <class Taps>
std::vector<NetRef> lower_max(Netlist &net, int64_t n_out, const std::vector<NetRef> &x,
                              Taps &&taps, bool min = false) {
  std::vector<NetRef> y(static_cast<size_t>(n_out));
  std::vector<NetRef> level;
  for (int64_t e = 0; e < n_out; ++e) {
    level.clear();
    taps(e, [&](int64_t xe) { level.push_back(x[xe]); });
    while (level.size() > 1) {
      size_t k = 0;
      for (size_t j = 0; j + 1 < level.size(); j += 2)
        level[k++] = min ? net.min(level[j], level[j + 1]) : net.max(level[j], level[j + 1]);
      if (level.size() % 2)
        level[k++] = level.back();
      level.resize(k);
    }
    y[e] = level.empty() ? NetRef{} : level[0];
  }
  return y;
}

} // namespace hgqc::ops::linear
