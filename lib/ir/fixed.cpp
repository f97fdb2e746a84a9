// Fixed-point formats, exact quantization and integer intervals.
#include "ir/fixed.h"

#include "ir/error.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace hgqc {

namespace {
using i128 = Int128;
using u128 = UInt128;

// floor(q / 2^s) rounded per `rnd`, for s > 0; |q| < 2^125.
i128 round_shift(i128 q, int s, RoundMode rnd) {
  if (s <= 0)
    return q;
  if (s >= 126) // |q| < 2^(s-1): every mode but TRN of a negative gives 0
    return (rnd == RoundMode::TRN && q < 0) ? -1 : 0;
  i128 fl = q >> s; // arithmetic shift: floor (C++20)
  i128 rem = q - (fl << s);
  i128 half = static_cast<i128>(1) << (s - 1);
  switch (rnd) {
  case RoundMode::TRN:
    return fl;
  case RoundMode::RND:
    return fl + (rem >= half ? 1 : 0);
  case RoundMode::RND_CONV:
    return fl + ((rem > half || (rem == half && (fl & 1))) ? 1 : 0);
  }
  return fl;
}

// Wraps or clamps an exact integer r on the format's grid.
QuantResult finish(i128 r, FixedFormat fmt, OverflowMode ovf) {
  i128 lo, hi;
  overflow_range(fmt, ovf, lo, hi);
  QuantResult res;
  res.overflow = r < lo || r > hi;
  if (!res.overflow) {
    res.q = static_cast<int64_t>(r);
    return res;
  }
  if (ovf == OverflowMode::WRAP) {
    int b = fmt.width();
    u128 u = static_cast<u128>(r) & ((static_cast<u128>(1) << b) - 1);
    i128 v = static_cast<i128>(u);
    if (fmt.k && u >= (static_cast<u128>(1) << (b - 1)))
      v -= static_cast<i128>(1) << b;
    res.q = static_cast<int64_t>(v);
  } else {
    res.q = static_cast<int64_t>(r < lo ? lo : hi);
  }
  return res;
}

// Overflow of a value too large to hold: wraps to its low bits (given) or clamps by sign.
QuantResult huge(bool negative, i128 low_bits, FixedFormat fmt, OverflowMode ovf) {
  if (ovf == OverflowMode::WRAP) {
    QuantResult r = finish(low_bits, fmt, ovf);
    r.overflow = true;
    return r;
  }
  i128 lo, hi;
  overflow_range(fmt, ovf, lo, hi);
  return {static_cast<int64_t>(negative ? lo : hi), true};
}
} // namespace

void overflow_range(FixedFormat fmt, OverflowMode ovf, Int128 &lo, Int128 &hi) {
  lo = fmt.qmin();
  hi = fmt.qmax();
  if (ovf == OverflowMode::SAT_SYM && fmt.k)
    lo = -hi;
}

const char *round_mode_name(RoundMode m) {
  switch (m) {
  case RoundMode::TRN:
    return "TRN";
  case RoundMode::RND:
    return "RND";
  case RoundMode::RND_CONV:
    return "RND_CONV";
  }
  return "?";
}

const char *overflow_mode_name(OverflowMode m) {
  switch (m) {
  case OverflowMode::WRAP:
    return "WRAP";
  case OverflowMode::SAT:
    return "SAT";
  case OverflowMode::SAT_SYM:
    return "SAT_SYM";
  }
  return "?";
}

std::optional<RoundMode> parse_round_mode(const std::string &s) {
  for (RoundMode m : {RoundMode::TRN, RoundMode::RND, RoundMode::RND_CONV})
    if (s == round_mode_name(m))
      return m;
  return std::nullopt;
}

std::optional<OverflowMode> parse_overflow_mode(const std::string &s) {
  for (OverflowMode m : {OverflowMode::WRAP, OverflowMode::SAT, OverflowMode::SAT_SYM})
    if (s == overflow_mode_name(m))
      return m;
  return std::nullopt;
}

int64_t FixedFormat::qmin() const {
  if (pruned() || !k)
    return 0;
  return -(static_cast<int64_t>(1) << (width() - 1));
}

int64_t FixedFormat::qmax() const {
  if (pruned())
    return 0;
  return (static_cast<int64_t>(1) << (width() - k)) - 1;
}

std::string FixedFormat::str() const {
  return "fixed<" + std::to_string(k) + "," + std::to_string(i) + "," + std::to_string(f) + ">";
}

QuantResult quantize_int128(i128 q, int f_in, FixedFormat fmt, RoundMode rnd, OverflowMode ovf) {
  HGQC_ASSERT(fmt.width() <= kMaxFixedWidth, "format too wide: " + fmt.str());
  HGQC_ASSERT(magnitude_bits(q) <= 125, "quantizer input too wide");
  if (fmt.pruned())
    return {};
  int s = f_in - fmt.f;
  if (s >= 0)
    return finish(round_shift(q, s, rnd), fmt, ovf);
  int l = -s;
  if (q != 0 && magnitude_bits(q) + l > 125) {
    int b = fmt.width();
    i128 low = l >= b ? 0 : (q & ((static_cast<i128>(1) << (b - l)) - 1)) << l;
    return huge(q < 0, low, fmt, ovf);
  }
  return finish(q == 0 ? 0 : q << l, fmt, ovf); // 0 << l is undefined for l >= 128
}

QuantResult quantize_int(int64_t q, int f_in, FixedFormat fmt, RoundMode rnd, OverflowMode ovf) {
  return quantize_int128(q, f_in, fmt, rnd, ovf);
}

QuantResult quantize_real(double x, FixedFormat fmt, RoundMode rnd, OverflowMode ovf) {
  HGQC_ASSERT(std::isfinite(x), "quantize_real of a non-finite value");
  HGQC_ASSERT(fmt.width() <= kMaxFixedWidth, "format too wide: " + fmt.str());
  if (fmt.pruned() || x == 0)
    return {};
  int e;
  std::frexp(x, &e);  // |x| in [2^(e-1), 2^e)
  if (e + fmt.f < -1) // |x * 2^f| < 1/4: rounds to 0 (or -1 when truncating a negative)
    return finish((rnd == RoundMode::TRN && x < 0) ? -1 : 0, fmt, ovf);
  if (e + fmt.f > 120) // an integer of more than 67 bits above the format: low bits are 0
    return huge(x < 0, 0, fmt, ovf);
  double y = std::ldexp(x, fmt.f); // exact: only the exponent changes
  double r;
  if (std::fabs(y) >= 0x1p52)
    r = y; // already an integer
  else if (rnd == RoundMode::TRN)
    r = std::floor(y);
  else if (rnd == RoundMode::RND)
    r = std::floor(y) + (y - std::floor(y) >= 0.5 ? 1 : 0); // y + 0.5 may round up to 1
  else
    r = std::nearbyint(y); // default environment: half to even
  return finish(static_cast<i128>(r), fmt, ovf);
}

double fixed_to_double(int64_t q, int f) { return std::ldexp(static_cast<double>(q), -f); }

std::optional<int> exact_exponent(double x) {
  if (!std::isfinite(x))
    return std::nullopt;
  if (x == 0)
    return 0;
  int e;
  double m = std::frexp(std::fabs(x), &e);
  auto mant = static_cast<uint64_t>(std::ldexp(m, 53));
  int tz = std::countr_zero(mant);
  int f = 53 - e - tz;
  if (f > kMaxFixedExp)
    return std::nullopt;
  if (f < -kMaxFixedExp) { // a multiple of 2^96: q = x * 2^-96 when that fits int64
    f = -kMaxFixedExp;
    double q = std::ldexp(x, f);
    if (q < -0x1p63 || q >= 0x1p63)
      return std::nullopt;
  }
  return f;
}

FixedFormat Interval::min_format() const {
  int k = lo < 0 ? 1 : 0;
  int m = 0;
  if (hi >= 0)
    m = ceil_log2(static_cast<u128>(hi) + 1);
  if (lo < 0)
    m = std::max(m, ceil_log2(static_cast<u128>(-lo)));
  return FixedFormat{k, m - f, f};
}

Interval Interval::aligned(int f2) const {
  HGQC_ASSERT(f2 >= f, "aligning an interval to a coarser grid");
  if (zero())
    return Interval{0, 0, f2};
  int s = f2 - f;
  if (std::max(magnitude_bits(lo), magnitude_bits(hi)) + s > 120)
    throw UserError("an intermediate value needs more than 120 bits (grids 2^" +
                    std::to_string(-f) + " and 2^" + std::to_string(-f2) + " are too far apart)");
  return Interval{lo << s, hi << s, f2};
}

std::string int128_str(i128 v) {
  if (v == 0)
    return "0";
  bool neg = v < 0;
  u128 a = neg ? static_cast<u128>(-(v + 1)) + 1 : static_cast<u128>(v);
  char buf[48];
  int n = 0;
  while (a) {
    buf[n++] = static_cast<char>('0' + static_cast<int>(a % 10));
    a /= 10;
  }
  if (neg)
    buf[n++] = '-';
  std::reverse(buf, buf + n);
  return std::string(buf, static_cast<size_t>(n));
}

std::string Interval::str() const {
  std::string s = "[";
  s += int128_str(lo);
  s += ", ";
  s += int128_str(hi);
  s += "] * 2^";
  s += std::to_string(-f);
  return s;
}

namespace {
// q * 2^l for l > 0, or +-2^120 (beyond every format) when that would not fit.
i128 shift_left_sat(i128 q, int l) {
  if (q != 0 && magnitude_bits(q) + l > 120)
    return q < 0 ? -(static_cast<i128>(1) << 120) : static_cast<i128>(1) << 120;
  return q << l;
}
} // namespace

bool may_overflow(const Interval &in, FixedFormat fmt, RoundMode rnd, OverflowMode ovf) {
  if (fmt.pruned())
    return false;
  auto rq = [&](i128 q) {
    int s = in.f - fmt.f;
    if (s >= 0)
      return round_shift(q, s, rnd);
    return shift_left_sat(q, -s);
  };
  i128 lo, hi;
  overflow_range(fmt, ovf, lo, hi);
  return rq(in.lo) < lo || rq(in.hi) > hi;
}

Interval quantized_interval(const Interval &in, FixedFormat fmt, RoundMode rnd, OverflowMode ovf) {
  if (fmt.pruned())
    return Interval{0, 0, fmt.f};
  int s = in.f - fmt.f;
  Interval r{0, 0, fmt.f};
  if (s >= 0) {
    r.lo = round_shift(in.lo, s, rnd);
    r.hi = round_shift(in.hi, s, rnd);
  } else {
    r.lo = shift_left_sat(in.lo, -s);
    r.hi = shift_left_sat(in.hi, -s);
  }
  i128 lo, hi;
  overflow_range(fmt, ovf, lo, hi);
  if (r.lo >= lo && r.hi <= hi)
    return r;
  if (ovf == OverflowMode::WRAP)
    return Interval{fmt.qmin(), fmt.qmax(), fmt.f};
  return Interval{std::max(std::min(r.lo, hi), lo), std::min(std::max(r.hi, lo), hi), fmt.f};
}

std::optional<Interval> constant_interval(double x) {
  auto f = exact_exponent(x);
  if (!f)
    return std::nullopt;
  double q = std::ldexp(x, *f);
  return Interval{static_cast<i128>(q), static_cast<i128>(q), *f};
}

std::vector<int64_t> range_index(const Dims &rd, const Dims &shape) {
  int64_t n = dims_numel(shape);
  std::vector<int64_t> idx(static_cast<size_t>(n));
  int64_t per = dims_numel(rd);
  if (rd.size() == shape.size() &&
      (rd.empty() || std::equal(rd.begin() + 1, rd.end(), shape.begin() + 1))) {
    // Same dims, or dims differing only in the leading (batch) dimension.
    HGQC_ASSERT(rd.empty() || rd[0] == shape[0] || rd[0] == 1, "range does not broadcast");
    for (int64_t j = 0; j < n; ++j)
      idx[j] = per == 0 ? 0 : j % per;
    return idx;
  }
  HGQC_ASSERT(rd.size() <= shape.size(), "range of higher rank than the tensor");
  auto st = broadcast_strides(rd, shape);
  std::vector<int64_t> pos(shape.size(), 0);
  int64_t off = 0;
  for (int64_t j = 0; j < n; ++j) {
    idx[j] = off;
    for (int64_t ax = static_cast<int64_t>(shape.size()) - 1; ax >= 0; --ax) {
      if (++pos[ax] < shape[ax]) {
        off += st[ax];
        break;
      }
      off -= st[ax] * (shape[ax] - 1);
      pos[ax] = 0;
    }
  }
  return idx;
}

void check_fixed_elements(const std::string &what, const Dims &per_sample) {
  int64_t n = dims_numel(per_sample);
  if (n > kMaxFixedElements)
    throw UserError(what + " has " + std::to_string(n) +
                    " elements per sample; a fixed-point design takes at most " +
                    std::to_string(kMaxFixedElements) +
                    " (each element is a signal of the unrolled circuit)");
}

std::vector<FixedFormat> broadcast_formats(const Tensor &k, const Tensor &i, const Tensor &f,
                                           const Dims &to) {
  auto ik = range_index(k.shape(), to), ii = range_index(i.shape(), to),
       jf = range_index(f.shape(), to);
  std::vector<FixedFormat> r(ik.size());
  for (size_t j = 0; j < r.size(); ++j)
    r[j] = FixedFormat{static_cast<int>(k[ik[j]]), static_cast<int>(i[ii[j]]),
                       static_cast<int>(f[jf[j]])};
  return r;
}

RangeMap::RangeMap(const Dims &rd, const Dims &shape) : per_(dims_numel(rd)) {
  bool fast = rd.size() == shape.size() &&
              (rd.empty() || ((rd[0] == shape[0] || rd[0] == 1) &&
                              std::equal(rd.begin() + 1, rd.end(), shape.begin() + 1)));
  if (!fast)
    idx_ = range_index(rd, shape);
}

Dims range_dims(const Dims &dims) {
  Dims r = dims;
  for (auto &d : r)
    if (d == kDynamic)
      d = 1;
  return r;
}

} // namespace hgqc
