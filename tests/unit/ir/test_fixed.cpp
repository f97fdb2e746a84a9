// Exhaustive tests of fixed-point quantization, intervals and formats (lib/ir/fixed.*)
// against slow reference implementations written here from the rules of method.md §1.
#include "ir/error.h"
#include "ir/eval.h"
#include "ir/fixed.h"
#include "ir/fixed_eval.h"
#include "onnx_builder.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <random>
#include <sstream>

using namespace hgqc;
using hgqc::test::ModelBuilder;

namespace {

const RoundMode kRounds[] = {RoundMode::TRN, RoundMode::RND, RoundMode::RND_CONV};
const OverflowMode kOverflows[] = {OverflowMode::WRAP, OverflowMode::SAT, OverflowMode::SAT_SYM};

// ---------------------------------------------------------------------------------------
// Reference 1 (fast, small values): exact rationals q / 2^s in int64 with explicit floor
// division, for |q| < 2^40 and |s| <= 20.

int64_t floor_div(int64_t n, int64_t d) { // d > 0
  int64_t q = n / d;
  if (n % d != 0 && n < 0)
    --q;
  return q;
}

int64_t floor_mod(int64_t n, int64_t d) { // d > 0, result in [0, d)
  int64_t r = n % d;
  return r < 0 ? r + d : r;
}

// Rounds the exact value q * 2^-s (scaled to the output grid) to an integer.
int64_t ref_round_small(int64_t q, int s, RoundMode rnd) {
  if (s <= 0)
    return q * (int64_t{1} << -s); // an integer already
  int64_t d = int64_t{1} << s;
  switch (rnd) {
  case RoundMode::TRN: // floor(y)
    return floor_div(q, d);
  case RoundMode::RND: // floor(y + 1/2) = floor((2q + d) / 2d)
    return floor_div(2 * q + d, 2 * d);
  case RoundMode::RND_CONV: { // nearest; ties to the even neighbour
    int64_t a = floor_div(q, d);
    int64_t e = 2 * (q - a * d) - d; // sign of (y - a) - 1/2, times 2d
    if (e < 0)
      return a;
    if (e > 0)
      return a + 1;
    return floor_mod(a, 2) == 0 ? a : a + 1;
  }
  }
  return 0;
}

// The overflow step on an exact rounded integer r (|r| < 2^62).
QuantResult ref_overflow_small(int64_t r, FixedFormat fmt, OverflowMode ovf) {
  int b = fmt.k + fmt.i + fmt.f;
  if (b <= 0)
    return {0, false}; // pruned: the constant 0
  int p = fmt.i + fmt.f;
  int64_t hi = (int64_t{1} << p) - 1, lo = fmt.k ? -(int64_t{1} << p) : 0;
  if (ovf == OverflowMode::SAT_SYM && fmt.k)
    lo = -hi;
  if (lo <= r && r <= hi)
    return {r, false};
  if (ovf == OverflowMode::WRAP) {
    int64_t m = floor_mod(r, int64_t{1} << b); // low b bits
    if (fmt.k && m >= (int64_t{1} << (b - 1)))
      m -= int64_t{1} << b; // two's complement
    return {m, true};
  }
  return {std::clamp(r, lo, hi), true};
}

QuantResult ref_small(int64_t q, int f_in, FixedFormat fmt, RoundMode rnd, OverflowMode ovf) {
  if (fmt.k + fmt.i + fmt.f <= 0)
    return {0, false};
  return ref_overflow_small(ref_round_small(q, f_in - fmt.f, rnd), fmt, ovf);
}

// ---------------------------------------------------------------------------------------
// Reference 2 (wide): 320-bit two's complement integers, for any 126-bit input and any
// exponent difference.

struct Big {
  static constexpr int N = 5;
  uint64_t w[N];
  explicit Big(Int128 v = 0) {
    w[0] = static_cast<uint64_t>(v);
    w[1] = static_cast<uint64_t>(static_cast<UInt128>(v) >> 64);
    for (int j = 2; j < N; ++j)
      w[j] = v < 0 ? ~uint64_t{0} : 0;
  }
  bool negative() const { return (w[N - 1] >> 63) != 0; }
};

Big add(const Big &a, const Big &b) {
  Big r;
  UInt128 c = 0;
  for (int j = 0; j < Big::N; ++j) {
    c += static_cast<UInt128>(a.w[j]) + b.w[j];
    r.w[j] = static_cast<uint64_t>(c);
    c >>= 64;
  }
  return r;
}

Big negate(Big a) {
  for (auto &x : a.w)
    x = ~x;
  return add(a, Big(1));
}

Big sub(const Big &a, const Big &b) { return add(a, negate(b)); }

Big shl(const Big &a, int n) {
  Big r;
  int l = n / 64, s = n % 64;
  for (int j = 0; j < Big::N; ++j) {
    int src = j - l;
    uint64_t v = 0;
    if (src >= 0) {
      v = a.w[src] << s;
      if (s && src > 0)
        v |= a.w[src - 1] >> (64 - s);
    }
    r.w[j] = v;
  }
  return r;
}

Big sar(const Big &a, int n) { // floor(a / 2^n)
  uint64_t fill = a.negative() ? ~uint64_t{0} : 0;
  Big r;
  int l = n / 64, s = n % 64;
  for (int j = 0; j < Big::N; ++j) {
    uint64_t lo = j + l < Big::N ? a.w[j + l] : fill;
    uint64_t hi = j + l + 1 < Big::N ? a.w[j + l + 1] : fill;
    r.w[j] = s ? (lo >> s) | (hi << (64 - s)) : lo;
  }
  return r;
}

int cmp(const Big &a, const Big &b) {
  if (a.negative() != b.negative())
    return a.negative() ? -1 : 1;
  for (int j = Big::N - 1; j >= 0; --j)
    if (a.w[j] != b.w[j])
      return a.w[j] < b.w[j] ? -1 : 1;
  return 0;
}

// Exact reference for q * 2^-f_in (|q| < 2^126) quantized to fmt.
QuantResult ref_wide(Int128 q, int f_in, FixedFormat fmt, RoundMode rnd, OverflowMode ovf) {
  int b = fmt.k + fmt.i + fmt.f;
  if (b <= 0)
    return {0, false};
  int p = b - fmt.k;
  // Clamping the shift changes nothing: with s >= 180, |y| < 2^-54 rounds like any other
  // |y| < 1/2; with s <= -180 the value overflows every format and its low 62 bits are 0.
  int s = std::clamp(f_in - fmt.f, -180, 180);
  Big y(q), r;
  if (s <= 0) {
    r = shl(y, -s);
  } else {
    Big fl = sar(y, s);
    Big rem = sub(y, shl(fl, s)); // in [0, 2^s)
    int c = cmp(shl(rem, 1), shl(Big(1), s));
    bool up = false;
    if (rnd == RoundMode::RND)
      up = c >= 0;
    else if (rnd == RoundMode::RND_CONV)
      up = c > 0 || (c == 0 && (fl.w[0] & 1));
    r = up ? add(fl, Big(1)) : fl;
  }
  Big hi = sub(shl(Big(1), p), Big(1)), lo = fmt.k ? negate(shl(Big(1), p)) : Big(0);
  if (ovf == OverflowMode::SAT_SYM && fmt.k)
    lo = negate(hi);
  if (cmp(r, lo) >= 0 && cmp(r, hi) <= 0)
    return {static_cast<int64_t>(r.w[0]), false};
  if (ovf == OverflowMode::WRAP) {
    uint64_t m = r.w[0] & ((uint64_t{1} << b) - 1);
    auto v = static_cast<int64_t>(m);
    if (fmt.k && (m >> (b - 1)))
      v -= int64_t{1} << b;
    return {v, true};
  }
  return {static_cast<int64_t>(cmp(r, lo) < 0 ? lo.w[0] : hi.w[0]), true};
}

// x as M * 2^-f_in with an integer M (exact: |M| < 2^53).
void decompose(double x, Int128 &m, int &f_in) {
  if (x == 0) {
    m = 0;
    f_in = 0;
    return;
  }
  int e;
  double fr = std::frexp(x, &e); // |fr| in [1/2, 1)
  m = static_cast<int64_t>(std::ldexp(fr, 53));
  f_in = 53 - e;
}

QuantResult ref_real(double x, FixedFormat fmt, RoundMode rnd, OverflowMode ovf) {
  Int128 m;
  int f_in;
  decompose(x, m, f_in);
  return ref_wide(m, f_in, fmt, rnd, ovf);
}

// ---------------------------------------------------------------------------------------
// Reporting: counts cases, reports the first few mismatches, checks that none occurred.

struct Tally {
  int64_t cases = 0, bad = 0;
  void fail(const std::string &what) {
    if (++bad <= 8)
      FAIL_CHECK(what);
  }
};

std::string mode_str(RoundMode r, OverflowMode o) {
  return std::string(round_mode_name(r)) + "/" + overflow_mode_name(o);
}

std::string res_str(QuantResult r) {
  return "q=" + std::to_string(r.q) + (r.overflow ? " (overflow)" : "");
}

bool same(QuantResult a, QuantResult b) { return a.q == b.q && a.overflow == b.overflow; }

std::string i128s(Int128 v) { return int128_str(v); }

// Largest magnitude of a format's range in output units (at least 1).
int64_t range_mag(FixedFormat fmt) {
  int p = fmt.k + fmt.i + fmt.f - fmt.k;
  return int64_t{1} << std::max(p, 0);
}

} // namespace

// =======================================================================================

TEST_CASE("fixed: qmin/qmax and width follow the format rules") {
  for (int k = 0; k <= 1; ++k)
    for (int i = -10; i <= 40; ++i)
      for (int f = -10; f <= 40; ++f) {
        FixedFormat fmt{k, i, f};
        int b = k + i + f;
        if (b > kMaxFixedWidth)
          continue;
        CAPTURE(fmt.str());
        CHECK(fmt.width() == b);
        CHECK(fmt.pruned() == (b <= 0));
        if (b <= 0) {
          CHECK(fmt.qmin() == 0);
          CHECK(fmt.qmax() == 0);
        } else {
          // -k * 2^(i+f) <= q <= 2^(i+f) - 1, computed as powers by repeated doubling
          int64_t pw = 1;
          for (int j = 0; j < i + f; ++j)
            pw *= 2;
          CHECK(fmt.qmin() == -k * pw);
          CHECK(fmt.qmax() == pw - 1);
        }
      }
  CHECK(FixedFormat{1, 3, 4}.str() == "fixed<1,3,4>");
  for (RoundMode r : kRounds)
    CHECK(parse_round_mode(round_mode_name(r)) == r);
  for (OverflowMode o : kOverflows)
    CHECK(parse_overflow_mode(overflow_mode_name(o)) == o);
  CHECK_FALSE(parse_round_mode("ROUND"));
  CHECK_FALSE(parse_overflow_mode("wrap"));
}

TEST_CASE("fixed: the two references agree with each other") {
  // Cross-check of the test's own references on small values before trusting them.
  Tally t;
  for (int b = -1; b <= 6; ++b)
    for (int k = 0; k <= 1; ++k)
      for (int s = -4; s <= 6; ++s)
        for (RoundMode r : kRounds)
          for (OverflowMode o : kOverflows)
            for (int64_t q = -300; q <= 300; ++q) {
              FixedFormat fmt{k, b - k - 2, 2};
              ++t.cases;
              QuantResult a = ref_small(q, 2 + s, fmt, r, o), w = ref_wide(q, 2 + s, fmt, r, o);
              if (!same(a, w))
                t.fail("references differ at q=" + std::to_string(q) + " s=" + std::to_string(s) +
                       " " + fmt.str() + " " + mode_str(r, o));
            }
  // Hand-worked cases of the rules.
  FixedFormat s4{1, 3, 0};                                                    // integers in [-8, 7]
  CHECK(ref_small(5, 1, s4, RoundMode::RND_CONV, OverflowMode::WRAP).q == 2); // 2.5 -> 2
  CHECK(ref_small(7, 1, s4, RoundMode::RND_CONV, OverflowMode::WRAP).q == 4); // 3.5 -> 4
  CHECK(ref_small(-5, 1, s4, RoundMode::RND_CONV, OverflowMode::WRAP).q == -2); // -2.5 -> -2
  CHECK(ref_small(-5, 1, s4, RoundMode::RND, OverflowMode::WRAP).q == -2);      // -2.5 -> -2
  CHECK(ref_small(-5, 1, s4, RoundMode::TRN, OverflowMode::WRAP).q == -3);
  CHECK(ref_small(8, 0, s4, RoundMode::TRN, OverflowMode::WRAP).q == -8);
  CHECK(ref_small(-9, 0, s4, RoundMode::TRN, OverflowMode::WRAP).q == 7);
  CHECK(ref_small(-8, 0, s4, RoundMode::TRN, OverflowMode::SAT_SYM).q == -7);
  CHECK(ref_small(-8, 0, s4, RoundMode::TRN, OverflowMode::SAT_SYM).overflow);
  CHECK_FALSE(ref_small(-8, 0, s4, RoundMode::TRN, OverflowMode::SAT).overflow);
  CHECK(ref_wide(Int128{1} << 120, -100, s4, RoundMode::TRN, OverflowMode::WRAP).q == 0);
  CHECK(t.bad == 0);
  CHECK(t.cases > 300000);
}

TEST_CASE("fixed: quantize_int exhaustively at widths <= 8, every mode") {
  Tally t;
  for (int k = 0; k <= 1; ++k)
    for (int i = -4; i <= 8; ++i)
      for (int f = -4; f <= 8; ++f) {
        if (k + i + f > 8)
          continue;
        FixedFormat fmt{k, i, f};
        int64_t span = 4 * range_mag(fmt) + 2; // 4x beyond the range, in output units
        for (int s = -3; s <= 5; ++s) {
          int f_in = f + s;
          int64_t lim = s >= 0 ? span << s : (span >> -s) + 1;
          for (RoundMode r : kRounds)
            for (OverflowMode o : kOverflows)
              for (int64_t q = -lim; q <= lim; ++q) {
                ++t.cases;
                QuantResult got = quantize_int(q, f_in, fmt, r, o);
                QuantResult want = ref_small(q, f_in, fmt, r, o);
                if (!same(got, want))
                  t.fail("quantize_int(" + std::to_string(q) + ", f_in=" + std::to_string(f_in) +
                         ", " + fmt.str() + ", " + mode_str(r, o) + "): got " + res_str(got) +
                         ", expected " + res_str(want));
              }
        }
      }
  CHECK(t.bad == 0);
  CHECK(t.cases > 10000000);
}

TEST_CASE("fixed: quantize_int and quantize_int128 at extreme values and exponents") {
  std::mt19937_64 rng(7);
  std::vector<Int128> qs = {0, 1, -1, 2, -2, 3, -3, 5, -5, 7, -7};
  for (int e : {5, 31, 52, 53, 61, 62, 63, 64, 100, 124, 125})
    for (int d : {-1, 0, 1}) {
      Int128 v = (Int128{1} << e) + d;
      if (e == 125 && d >= 0)
        continue; // inputs are limited to 125 bits
      qs.push_back(v);
      qs.push_back(-v);
    }
  qs.push_back(-(Int128{1} << 125) + 1);
  for (int j = 0; j < 12; ++j) {
    qs.push_back(static_cast<int64_t>(rng()));
    Int128 wide = (static_cast<Int128>(rng() >> 3) << 64) | rng(); // up to 125 bits
    qs.push_back(j % 2 ? wide : -wide);
  }
  std::vector<int> shifts;
  for (int s = -70; s <= 70; ++s)
    shifts.push_back(s);
  for (int s : {90, 100, 120, 124, 125, 126, 127, 128, 130, 190, 200, 250})
    shifts.push_back(s), shifts.push_back(-s);
  const int fs[] = {-96, -40, -3, 0, 5, 33, 96};
  Tally t;
  int fi = 0;
  for (int k = 0; k <= 1; ++k)
    for (int b : {-3, 0, 1, 2, 7, 31, 53, 61, 62})
      for (int s : shifts) {
        int f = fs[fi++ % 7];
        FixedFormat fmt{k, b - k - f, f};
        for (RoundMode r : kRounds)
          for (OverflowMode o : kOverflows)
            for (Int128 q : qs) {
              ++t.cases;
              QuantResult want = ref_wide(q, f + s, fmt, r, o);
              QuantResult got = quantize_int128(q, f + s, fmt, r, o);
              bool fits64 = q >= std::numeric_limits<int64_t>::min() &&
                            q <= std::numeric_limits<int64_t>::max();
              QuantResult got64 =
                  fits64 ? quantize_int(static_cast<int64_t>(q), f + s, fmt, r, o) : want;
              if (!same(got, want) || !same(got64, want))
                t.fail("quantize_int128(" + i128s(q) + ", f_in=" + std::to_string(f + s) + ", " +
                       fmt.str() + ", " + mode_str(r, o) + "): got " + res_str(got) +
                       " (int64 entry " + res_str(got64) + "), expected " + res_str(want));
            }
      }
  CHECK(t.bad == 0);
  CHECK(t.cases > 500000);
}

TEST_CASE("fixed: quantize_real on every grid point, beside every tie, random and extreme") {
  std::mt19937_64 rng(11);
  Tally t;
  auto check = [&](double x, FixedFormat fmt, RoundMode r, OverflowMode o, QuantResult want) {
    ++t.cases;
    QuantResult got = quantize_real(x, fmt, r, o);
    if (!same(got, want)) {
      std::ostringstream os;
      os.precision(17);
      os << "quantize_real(" << x << " = " << std::hexfloat << x << std::defaultfloat << ", "
         << fmt.str() << ", " << mode_str(r, o) << "): got " << res_str(got) << ", expected "
         << res_str(want);
      t.fail(os.str());
    }
  };
  const double specials[] = {1e-300,   -1e-300,     DBL_TRUE_MIN, -DBL_TRUE_MIN, DBL_MIN,
                             -DBL_MIN, DBL_MIN / 3, -DBL_MIN / 7, 1e300,         -1e300,
                             DBL_MAX,  -DBL_MAX,    0.0,          -0.0,          0x1p-60,
                             -0x1p-60, 0x1p60,      -0x1p60,      0x1p120,       -0x1p121};
  for (int k = 0; k <= 1; ++k)
    for (int i = -4; i <= 8; ++i)
      for (int f = -4; f <= 8; ++f) {
        if (k + i + f > 8)
          continue;
        FixedFormat fmt{k, i, f};
        int64_t span = 4 * range_mag(fmt) + 2;
        for (RoundMode r : kRounds)
          for (OverflowMode o : kOverflows) {
            // Every multiple of 2^-(f+4): exactly j at exponent f + 4.
            for (int64_t j = -(span << 4); j <= (span << 4); ++j)
              check(std::ldexp(static_cast<double>(j), -(f + 4)), fmt, r, o,
                    ref_small(j, f + 4, fmt, r, o));
            // The doubles next to every integer and every tie of the output grid.
            for (int64_t j = -(span << 1); j <= (span << 1); ++j) {
              double v = std::ldexp(static_cast<double>(j), -(f + 1));
              for (double x : {std::nextafter(v, -INFINITY), std::nextafter(v, INFINITY)})
                check(x, fmt, r, o, ref_real(x, fmt, r, o));
            }
            // Random doubles around the format's scale, and anywhere.
            for (int j = 0; j < 40; ++j) {
              double m = std::ldexp(static_cast<double>(rng() >> 11), -53); // [0, 1)
              int e = j < 30 ? static_cast<int>(rng() % 30) - f - 12
                             : static_cast<int>(rng() % 2046) - 1022;
              double x = std::ldexp(rng() & 1 ? -m : m, e);
              check(x, fmt, r, o, ref_real(x, fmt, r, o));
            }
            for (double x : specials)
              check(x, fmt, r, o, ref_real(x, fmt, r, o));
          }
      }
  // Wide formats (the double path near 2^52 and 2^53, and far exponents).
  for (int k = 0; k <= 1; ++k)
    for (int b : {1, 9, 31, 52, 53, 54, 61, 62})
      for (int f : {-96, -50, -1, 0, 3, 20, 60, 96})
        for (RoundMode r : kRounds)
          for (OverflowMode o : kOverflows) {
            FixedFormat fmt{k, b - k - f, f};
            for (int j = 0; j < 200; ++j) {
              // |x * 2^f| spread over [2^-3, 2^(b+3)), with random low bits
              int e = static_cast<int>(rng() % static_cast<uint64_t>(b + 7)) - 3 - f;
              double m = std::ldexp(static_cast<double>(rng() >> 11), -53);
              double x = std::ldexp(rng() & 1 ? -m : m, e);
              check(x, fmt, r, o, ref_real(x, fmt, r, o));
              double ties = std::ldexp(std::round(std::ldexp(x, f + 1)) + 1, -(f + 1));
              for (double y : {ties, std::nextafter(ties, 0.0), std::nextafter(ties, 2 * ties)})
                check(y, fmt, r, o, ref_real(y, fmt, r, o));
            }
            for (double x : specials)
              check(x, fmt, r, o, ref_real(x, fmt, r, o));
          }
  // Hand-worked: just below one half rounds to 0 with every mode.
  for (RoundMode r : kRounds)
    CHECK(quantize_real(std::nextafter(0.5, 0.0), FixedFormat{1, 3, 0}, r, OverflowMode::WRAP).q ==
          0);
  CHECK(t.bad == 0);
  CHECK(t.cases > 5000000);
}

TEST_CASE("fixed: quantized_interval and may_overflow against brute force") {
  Tally t;
  auto report = [&](const Interval &in, FixedFormat fmt, RoundMode r, OverflowMode o,
                    const std::string &what) {
    t.fail(what + " for " + in.str() + " -> " + fmt.str() + " " + mode_str(r, o) + ": got " +
           quantized_interval(in, fmt, r, o).str() +
           " may_overflow=" + std::to_string(may_overflow(in, fmt, r, o)));
  };
  // Exhaustive: every interval of a small input domain.
  std::vector<QuantResult> ref;
  for (int k = 0; k <= 1; ++k)
    for (int f : {-3, 0, 2, 5})
      for (int b = -1; b <= 4; ++b)
        for (int s = -2; s <= 2; ++s) {
          FixedFormat fmt{k, b - k - f, f};
          int f_in = f + s;
          int64_t span = 2 * range_mag(fmt) + 2;
          int64_t lim = s >= 0 ? span << s : (span >> -s) + 1;
          for (RoundMode r : kRounds)
            for (OverflowMode o : kOverflows) {
              ref.clear();
              for (int64_t q = -lim; q <= lim; ++q) {
                ref.push_back(ref_small(q, f_in, fmt, r, o));
                if (!same(ref.back(), quantize_int(q, f_in, fmt, r, o)))
                  t.fail("quantize_int differs from the reference at " + std::to_string(q));
              }
              for (int64_t lo = -lim; lo <= lim; ++lo) {
                int64_t mn = INT64_MAX, mx = INT64_MIN;
                bool over = false;
                for (int64_t hi = lo; hi <= lim; ++hi) {
                  QuantResult q = ref[static_cast<size_t>(hi + lim)];
                  mn = std::min(mn, q.q);
                  mx = std::max(mx, q.q);
                  over = over || q.overflow;
                  Interval in{lo, hi, f_in};
                  Interval got = quantized_interval(in, fmt, r, o);
                  bool mo = may_overflow(in, fmt, r, o);
                  ++t.cases;
                  if (got.f != f || got.lo > mn || got.hi < mx)
                    report(in, fmt, r, o, "interval misses a value");
                  else if ((!over || o != OverflowMode::WRAP) && (got.lo != mn || got.hi != mx))
                    report(in, fmt, r, o, "interval not tight");
                  else if (mo != over)
                    report(in, fmt, r, o, "may_overflow wrong");
                  else if (o == OverflowMode::WRAP && over &&
                           (got.lo < fmt.qmin() || got.hi > fmt.qmax()))
                    report(in, fmt, r, o, "wrapped interval beyond the format");
                }
              }
            }
        }
  // Random wide intervals: endpoints are attained by monotonicity; members sampled.
  std::mt19937_64 rng(3);
  auto rnd_int = [&](int bits) -> Int128 {
    Int128 v = static_cast<Int128>(rng() >> 1) << 64 | rng();
    v >>= (127 - bits);
    return rng() & 1 ? -v : v;
  };
  for (int j = 0; j < 20000; ++j) {
    int k = static_cast<int>(rng() % 2);
    int b = static_cast<int>(rng() % 65) - 2;
    int f = static_cast<int>(rng() % 61) - 20;
    int s = static_cast<int>(rng() % 51) - 20;
    FixedFormat fmt{k, b - k - f, f};
    Int128 a = rnd_int(static_cast<int>(rng() % 60)), c = rnd_int(static_cast<int>(rng() % 60));
    Interval in{std::min(a, c), std::max(a, c), f + s};
    for (RoundMode r : kRounds)
      for (OverflowMode o : kOverflows) {
        ++t.cases;
        QuantResult ql = ref_wide(in.lo, in.f, fmt, r, o), qh = ref_wide(in.hi, in.f, fmt, r, o);
        bool over = ql.overflow || qh.overflow;
        Interval got = quantized_interval(in, fmt, r, o);
        bool bad = got.f != f || may_overflow(in, fmt, r, o) != over;
        if (!over || o != OverflowMode::WRAP)
          bad = bad || got.lo != ql.q || got.hi != qh.q;
        for (int m = 0; m < 4 && !bad; ++m) {
          Int128 x = in.lo +
                     static_cast<Int128>(rng() % static_cast<uint64_t>(
                                                     std::min<Int128>(in.hi - in.lo, 1000000) + 1));
          QuantResult qx = ref_wide(x, in.f, fmt, r, o);
          bad = qx.q < got.lo || qx.q > got.hi;
        }
        if (bad)
          report(in, fmt, r, o, "random interval mismatch");
      }
  }
  // Exponents far apart: the exact answer (overflow of any format), not an error.
  for (RoundMode r : kRounds)
    for (OverflowMode o : kOverflows) {
      FixedFormat fmt{1, -40, 96};
      Interval in{1, 3, -96};
      QuantResult ql = ref_wide(1, -96, fmt, r, o), qh = ref_wide(3, -96, fmt, r, o);
      Interval got;
      CHECK_NOTHROW(got = quantized_interval(in, fmt, r, o));
      CHECK(may_overflow(in, fmt, r, o));
      CHECK(quantize_int(1, -96, fmt, r, o).overflow);
      CHECK(got.lo <= std::min(ql.q, qh.q));
      CHECK(got.hi >= std::max(ql.q, qh.q));
      if (o != OverflowMode::WRAP)
        CHECK((got.lo == ql.q && got.hi == qh.q));
      Interval neg{-(Int128{1} << 100), -5, -30};
      CHECK_NOTHROW(got = quantized_interval(neg, fmt, r, o));
      CHECK(may_overflow(neg, fmt, r, o));
      if (o != OverflowMode::WRAP)
        CHECK((got.lo == ref_wide(neg.lo, -30, fmt, r, o).q &&
               got.hi == ref_wide(neg.hi, -30, fmt, r, o).q));
    }
  // Pruned formats give the constant zero.
  CHECK(quantized_interval(Interval{-100, 100, 0}, FixedFormat{1, -3, 2}, RoundMode::TRN,
                           OverflowMode::WRAP)
            .zero());
  CHECK_FALSE(may_overflow(Interval{-100, 100, 0}, FixedFormat{1, -3, 2}, RoundMode::TRN,
                           OverflowMode::WRAP));
  CHECK(t.bad == 0);
  CHECK(t.cases > 3000000);
}

namespace {
// Whether (k, i, f) holds every q in [lo, hi] (both on the grid 2^-f), by the rules.
bool holds(int k, int i, int f, Int128 lo, Int128 hi) {
  int b = k + i + f;
  if (b <= 0)
    return lo == 0 && hi == 0;
  int p = b - k;
  UInt128 pw = static_cast<UInt128>(1) << p; // p <= 127
  bool hi_ok = hi < 0 || static_cast<UInt128>(hi) <= pw - 1;
  bool lo_ok = lo >= 0 || (k == 1 && static_cast<UInt128>(-lo) <= pw);
  return hi_ok && lo_ok;
}
} // namespace

TEST_CASE("fixed: min_format holds the interval and is minimal") {
  Tally t;
  auto check = [&](Int128 lo, Int128 hi, int f) {
    ++t.cases;
    Interval in{lo, hi, f};
    FixedFormat m = in.min_format();
    bool ok = m.f == f && in.width() == m.width() && holds(m.k, m.i, m.f, lo, hi);
    if (in.zero())
      ok = ok && m.width() == 0 && m.k == 0;
    else
      ok = ok && m.k == (lo < 0 ? 1 : 0) && m.width() >= 1 &&
           !holds(0, m.width() - 1 - f, f, lo, hi) && !holds(1, m.width() - 2 - f, f, lo, hi);
    if (!ok)
      t.fail("min_format of " + in.str() + " = " + m.str());
  };
  for (int f : {-6, -1, 0, 3, 9})
    for (int64_t lo = -300; lo <= 300; ++lo)
      for (int64_t hi = lo; hi <= 300; ++hi)
        check(lo, hi, f);
  std::mt19937_64 rng(5);
  for (int e = 0; e <= 126; ++e)
    for (int d : {-1, 0, 1}) {
      Int128 v = (Int128{1} << e) + d;
      check(0, v, 2);
      check(-v, 0, -2);
      check(-v, v, 0);
      check(-v, -v, 7);
      check(v, v, -7);
      if (v > 0)
        check(-v, v - 1, 1);
    }
  for (int j = 0; j < 100000; ++j) {
    auto r = [&] {
      Int128 v = static_cast<Int128>(rng() >> 2) << 64 | rng();
      return v >> (rng() % 126);
    };
    Int128 a = rng() & 1 ? -r() : r(), c = rng() & 1 ? -r() : r();
    check(std::min(a, c), std::max(a, c), static_cast<int>(rng() % 200) - 100);
  }
  CHECK(Interval{0, 0, 5}.min_format().width() == 0);
  CHECK(Interval{0, 0, -5}.width() == 0);
  CHECK(Interval{-1, 0, 3}.min_format() == FixedFormat{1, -3, 3});
  CHECK(Interval{0, 1, 3}.min_format() == FixedFormat{0, -2, 3});
  CHECK(t.bad == 0);
  CHECK(t.cases > 200000);
}

TEST_CASE("fixed: Interval::aligned keeps the values and refuses over 120 bits") {
  for (int f = -5; f <= 5; ++f)
    for (int d = 0; d <= 40; ++d)
      for (Int128 lo : {Int128{-37}, Int128{0}, Int128{5}}) {
        Interval in{lo, lo + 100, f};
        Interval a = in.aligned(f + d);
        CHECK(a.f == f + d);
        CHECK(a.lo == lo * (Int128{1} << d));
        CHECK(a.hi == (lo + 100) * (Int128{1} << d));
      }
  CHECK(Interval{0, 0, 3}.aligned(200) == Interval{0, 0, 200});
  CHECK_THROWS_AS((Interval{-1, 1 << 20, 0}.aligned(120)), UserError);
  CHECK_THROWS_AS((Interval{-1, 0, 0}.aligned(200)), UserError);
  CHECK(Interval{-1, 0, 0}.aligned(100).lo == -(Int128{1} << 100));
  CHECK(Interval{-3, 4, 2}.str() == "[-3, 4] * 2^-2");
  CHECK(int128_str(-(Int128{1} << 126)) == "-85070591730234615865843651857942052864");
  CHECK(int128_str(0) == "0");
}

TEST_CASE("fixed: exact_exponent and constant_interval") {
  // Reference: the smallest F in [-96, 96] such that x * 2^F is an int64 integer (0 for 0).
  auto ref = [](double x) -> std::optional<int> {
    if (!std::isfinite(x))
      return std::nullopt;
    if (x == 0)
      return 0;
    for (int F = -kMaxFixedExp; F <= kMaxFixedExp; ++F) {
      double y = std::ldexp(x, F);
      if ((y != 0 || x == 0) && std::floor(y) == y && y >= -0x1p63 && y < 0x1p63 &&
          std::ldexp(y, -F) == x)
        return F;
    }
    return std::nullopt;
  };
  std::mt19937_64 rng(9);
  std::vector<double> xs = {0.0,
                            -0.0,
                            1.0,
                            -1.0,
                            0.5,
                            0.75,
                            3.0,
                            0.1,
                            1.0 / 3,
                            1e-30,
                            1e30,
                            0x1p96,
                            0x1p97,
                            0x1p100,
                            3 * 0x1p100,
                            0x1p158,
                            0x1p159,
                            -0x1p159,
                            -0x1p160,
                            0x1p-96,
                            0x1p-97,
                            3 * 0x1p-97,
                            5 * 0x1p-96,
                            DBL_MAX,
                            DBL_TRUE_MIN,
                            DBL_MIN,
                            INFINITY,
                            -INFINITY,
                            NAN,
                            0x1.fffffffffffffp52,
                            0x1.fffffffffffffp62,
                            0x1.fffffffffffffp-40};
  for (int e = -160; e <= 230; ++e)
    for (uint64_t m :
         {uint64_t{1}, uint64_t{3}, uint64_t{5}, (uint64_t{1} << 53) - 1, (rng() >> 11) | 1})
      for (double sgn : {1.0, -1.0})
        xs.push_back(sgn * std::ldexp(static_cast<double>(m), e));
  int n = 0;
  for (double x : xs) {
    CAPTURE(x);
    auto want = ref(x);
    auto got = exact_exponent(x);
    CHECK(got == want);
    auto iv = constant_interval(x);
    REQUIRE(iv.has_value() == want.has_value());
    if (iv) {
      ++n;
      CHECK(iv->f == *want);
      CHECK(iv->lo == iv->hi);
      CHECK(std::ldexp(static_cast<double>(iv->lo), -iv->f) == x);
    }
  }
  CHECK(n > 1000);
  CHECK(exact_exponent(0.0) == 0);
  CHECK(exact_exponent(0.75) == 2);
  CHECK(exact_exponent(12.0) == -2);
  CHECK(exact_exponent(3 * 0x1p100) == -96); // q = 48 at f = -96
  CHECK_FALSE(exact_exponent(0x1p-97));
  CHECK_FALSE(exact_exponent(0x1p159));
  CHECK(exact_exponent(-0x1p159) == -96); // q = -2^63 is an int64
  CHECK_FALSE(exact_exponent(NAN));
  CHECK_FALSE(constant_interval(INFINITY));
  CHECK(*constant_interval(-2.5) == Interval{-5, -5, 1});
  CHECK(fixed_to_double(-5, 1) == -2.5);
  CHECK(fixed_to_double(3, -4) == 48.0);
}

TEST_CASE("fixed: ceil_log2 over the whole 128-bit range") {
  auto ref = [](UInt128 v) {
    int n = 0;
    while (n < 128 && (static_cast<UInt128>(1) << n) < v)
      ++n;
    return n;
  };
  for (UInt128 v = 1; v <= 70000; ++v)
    REQUIRE(ceil_log2(v) == ref(v));
  for (int e = 0; e < 128; ++e)
    for (int d : {-1, 0, 1}) {
      UInt128 v = (static_cast<UInt128>(1) << e) + static_cast<UInt128>(static_cast<Int128>(d));
      if (v == 0)
        continue;
      CAPTURE(e);
      CAPTURE(d);
      CHECK(ceil_log2(v) == ref(v));
    }
  UInt128 top = ~static_cast<UInt128>(0);
  CHECK(ceil_log2(top) == 128);
  CHECK(ceil_log2(top - 12345) == 128);
  std::mt19937_64 rng(2);
  for (int j = 0; j < 5000; ++j) {
    UInt128 v = (static_cast<UInt128>(rng()) << 64 | rng()) >> (rng() % 128);
    if (v)
      CHECK(ceil_log2(v) == ref(v));
  }
}

namespace {
// Naive broadcast: the index in a row-major tensor of dims `rd` read at each element of
// `shape` (dims aligned to the right, size-1 dims repeated).
std::vector<int64_t> naive_index(const Dims &rd, const Dims &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  std::vector<int64_t> out;
  size_t off = shape.size() - rd.size();
  for (int64_t j = 0; j < n; ++j) {
    std::vector<int64_t> pos(shape.size());
    int64_t rest = j;
    for (size_t a = shape.size(); a-- > 0;) {
      pos[a] = rest % shape[a];
      rest /= shape[a];
    }
    int64_t idx = 0;
    for (size_t a = 0; a < rd.size(); ++a)
      idx = idx * rd[a] + (rd[a] == 1 ? 0 : pos[a + off]);
    out.push_back(idx);
  }
  return out;
}
} // namespace

TEST_CASE("fixed: range_index and broadcast_formats against a naive broadcast") {
  std::mt19937 rng(4);
  int cases = 0;
  for (int j = 0; j < 3000; ++j) {
    int rank = static_cast<int>(rng() % 5);
    Dims shape;
    for (int a = 0; a < rank; ++a)
      shape.push_back(1 + static_cast<int64_t>(rng() % 4));
    if (j % 100 == 99 && rank > 0)
      shape[rng() % rank] = 0; // an empty tensor
    int rrank = rank == 0 ? 0 : static_cast<int>(rng() % (rank + 1));
    Dims rd;
    for (int a = rank - rrank; a < rank; ++a)
      rd.push_back(rng() % 3 == 0 ? 1 : shape[a]);
    if (j % 7 == 0 && rank > 0) { // a range of the same rank with batch 1
      rd = shape;
      rd[0] = 1;
    }
    if (std::find(rd.begin(), rd.end(), 0) != rd.end())
      continue;
    CAPTURE(dims_str(rd));
    CAPTURE(dims_str(shape));
    CHECK(range_index(rd, shape) == naive_index(rd, shape));
    ++cases;
    // broadcast_formats: three tensors of different broadcastable dims.
    if (dims_numel(shape) == 0)
      continue;
    Dims dk = rd, di, df = shape;
    for (int a = 0; a < rank; ++a)
      di.push_back(rng() % 2 ? 1 : shape[a]);
    auto make = [&](const Dims &d, int lo, int hi) {
      Tensor t(DType::Int64, d);
      for (int64_t e = 0; e < t.numel(); ++e)
        t[e] = lo + static_cast<int>(rng() % static_cast<unsigned>(hi - lo + 1));
      return t;
    };
    Tensor tk = make(dk, 0, 1), ti = make(di, -5, 9), tf = make(df, -7, 12);
    auto fm = broadcast_formats(tk, ti, tf, shape);
    auto ik = naive_index(dk, shape), ii = naive_index(di, shape), jf = naive_index(df, shape);
    REQUIRE(fm.size() == ik.size());
    for (size_t e = 0; e < fm.size(); ++e)
      CHECK(fm[e] == FixedFormat{static_cast<int>(tk[ik[e]]), static_cast<int>(ti[ii[e]]),
                                 static_cast<int>(tf[jf[e]])});
  }
  CHECK(cases > 2500);
  CHECK(range_dims(Dims{kDynamic, 3, kDynamic}) == Dims{1, 3, 1});
}

// ---------------------------------------------------------------------------------------
// The FixedQuant op end to end: float evaluator and integer emulator against the reference.

namespace {
void attr_str(onnx::NodeProto &n, const std::string &k, const std::string &v) {
  auto *a = n.add_attribute();
  a->set_name(k);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(v);
}

struct QuantSpec {
  Dims kd, id, fd;
  std::vector<double> k, i, f;
};

onnx::NodeProto &fixed_quant(ModelBuilder &b, const std::string &x, const std::string &y,
                             const QuantSpec &s, RoundMode r, OverflowMode o) {
  b.init(y + "_k", s.kd, s.k, true).init(y + "_i", s.id, s.i, true).init(y + "_f", s.fd, s.f, true);
  auto &n = b.node("FixedQuant", {x, y + "_k", y + "_i", y + "_f"}, {y}, y + "_node");
  n.set_domain("hgqc");
  attr_str(n, "round_mode", round_mode_name(r));
  attr_str(n, "overflow_mode", overflow_mode_name(o));
  return n;
}

int node_index(const Graph &g, const std::string &name) {
  for (size_t n = 0; n < g.nodes.size(); ++n)
    if (g.nodes[n].name == name)
      return static_cast<int>(n);
  return -1;
}

ValueId value_id(const Graph &g, const std::string &name) {
  for (size_t v = 0; v < g.values.size(); ++v)
    if (g.values[v].name == name)
      return static_cast<ValueId>(v);
  return kNoValue;
}
} // namespace

TEST_CASE("fixed: FixedQuant end to end, float evaluator == emulator == reference") {
  constexpr int C = 16;
  // Per-column formats: signed and unsigned, negative i and f, pruned, widths up to 8.
  const FixedFormat cols[C] = {{1, 3, 2}, {0, 4, 4}, {1, -2, 6}, {0, -3, 7}, {1, 5, -2}, {0, 8, -3},
                               {1, 0, 0}, {0, 1, 0}, {1, 2, -4}, {0, -1, 3}, {1, -3, 2}, {0, 2, -2},
                               {1, 7, 0}, {0, 0, 8}, {1, 1, 1},  {1, 4, -1}};
  // The second quantizer (requantizes the first one's output: quantize_int in the emulator).
  const FixedFormat cols2[C] = {
      {1, 2, 1},  {0, 3, 2}, {1, -1, 4}, {1, -3, 8}, {0, 5, -3}, {1, 6, -1}, {1, 0, 1}, {0, 0, 0},
      {1, 3, -3}, {0, 0, 1}, {0, 2, 2},  {1, 2, 0},  {1, 5, -1}, {0, -2, 9}, {1, 1, 0}, {0, 3, 0}};
  std::mt19937 rng(8);
  // Inputs: a grid per column from 4x below to 4x above the range, in quarters of the
  // output step where the range is small, plus random ties and random floats.
  constexpr int64_t N = 600;
  Tensor x(DType::Float32, {N, C});
  for (int c = 0; c < C; ++c) {
    const FixedFormat &fm = cols[c];
    int p = std::max(fm.i + fm.f, 0);
    for (int64_t n = 0; n < N; ++n) {
      double v;
      if (n < 513)
        v = std::ldexp(static_cast<double>(n - 256), -(fm.f + 2) + std::max(0, p - 4));
      else if (n < 570)
        v = std::ldexp(static_cast<double>(static_cast<int>(rng() % (16u << p)) - (8 << p)) + 0.5,
                       -fm.f);
      else
        v = std::ldexp(std::normal_distribution<double>(0, 1)(rng), p - fm.f);
      x[n * C + c] = round_to_dtype(v, DType::Float32);
    }
  }
  QuantSpec s1, s2;
  s1.kd = {C};
  s1.id = {1, C};
  s1.fd = {C};
  s2.kd = {1, C};
  s2.id = {C};
  s2.fd = {1, C};
  for (int c = 0; c < C; ++c) {
    s1.k.push_back(cols[c].k), s1.i.push_back(cols[c].i), s1.f.push_back(cols[c].f);
    s2.k.push_back(cols2[c].k), s2.i.push_back(cols2[c].i), s2.f.push_back(cols2[c].f);
  }
  int64_t total_over = 0;
  for (RoundMode r : kRounds)
    for (OverflowMode o : kOverflows) {
      CAPTURE(mode_str(r, o));
      ModelBuilder b;
      b.input("x", {-1, C});
      fixed_quant(b, "x", "y1", s1, r, o);
      fixed_quant(b, "y1", "y2", s2, kRounds[(static_cast<int>(r) + 1) % 3],
                  kOverflows[(static_cast<int>(o) + 2) % 3]);
      RoundMode r2 = kRounds[(static_cast<int>(r) + 1) % 3];
      OverflowMode o2 = kOverflows[(static_cast<int>(o) + 2) % 3];
      b.output("y1").output("y2");
      Graph g = b.import();
      std::vector<Tensor> ref_out = evaluate(g, {x});
      RangeAnalysis ra = analyze_ranges(g);
      FixedRun run = evaluate_fixed(g, ra, {x});
      REQUIRE(ref_out.size() == 2);
      REQUIRE(run.outputs.size() == 2);
      int n1 = node_index(g, "y1_node"), n2 = node_index(g, "y2_node");
      REQUIRE(n1 >= 0);
      REQUIRE(n2 >= 0);
      const ValueRange &rg1 = *ra.ranges[value_id(g, "y1")];
      const ValueRange &rg2 = *ra.ranges[value_id(g, "y2")];
      Tensor e1 = fixed_to_tensor(run.outputs[0], rg1), e2 = fixed_to_tensor(run.outputs[1], rg2);
      REQUIRE(e1.shape() == Dims{N, C});
      REQUIRE(e2.shape() == Dims{N, C});
      int64_t over1 = 0, over2 = 0, bad = 0;
      for (int64_t n = 0; n < N; ++n)
        for (int c = 0; c < C; ++c) {
          int64_t j = n * C + c;
          QuantResult q1 = ref_real(x[j], cols[c], r, o);
          QuantResult q2 = ref_small(q1.q, cols[c].f, cols2[c], r2, o2);
          over1 += q1.overflow;
          over2 += q2.overflow;
          double v1 = std::ldexp(static_cast<double>(q1.q), -cols[c].f);
          double v2 = std::ldexp(static_cast<double>(q2.q), -cols2[c].f);
          bool ok = ref_out[0][j] == v1 && e1[j] == v1 && ref_out[1][j] == v2 && e2[j] == v2;
          // The emulator's integers sit on the ranges' grids and inside the ranges.
          const Interval &iv1 = rg1.el[static_cast<size_t>(c)];
          const Interval &iv2 = rg2.el[static_cast<size_t>(c)];
          ok = ok && run.outputs[0].q[j] >= iv1.lo && run.outputs[0].q[j] <= iv1.hi &&
               run.outputs[1].q[j] >= iv2.lo && run.outputs[1].q[j] <= iv2.hi;
          if (!ok && ++bad <= 5)
            FAIL_CHECK("x=" << x[j] << " column " << c << " " << cols[c].str() << " -> "
                            << cols2[c].str() << ": float " << ref_out[0][j] << ", "
                            << ref_out[1][j] << "; emulator " << e1[j] << ", " << e2[j]
                            << "; reference " << v1 << ", " << v2);
        }
      CHECK(bad == 0);
      CHECK(run.overflows.at(static_cast<size_t>(n1)) == over1);
      CHECK(run.overflows.at(static_cast<size_t>(n2)) == over2);
      CHECK(run.quantized.at(static_cast<size_t>(n1)) == N * C);
      CHECK(run.quantized.at(static_cast<size_t>(n2)) == N * C);
      total_over += over1 + over2;
      // The first quantizer reads a float input: its range is its format's whole range.
      for (int c = 0; c < C; ++c)
        CHECK(rg1.el[static_cast<size_t>(c)] ==
              Interval{cols[c].qmin(), cols[c].qmax(), cols[c].f});
      // A non-finite input is a user error in both evaluators.
      Tensor bad_x = x;
      bad_x[5] = NAN;
      CHECK_THROWS_AS(evaluate(g, {bad_x}), UserError);
      CHECK_THROWS_AS(evaluate_fixed(g, ra, {bad_x}), UserError);
    }
  CHECK(total_over > 1000);
}

TEST_CASE("fixed: FixedQuant rejects bad formats with a UserError") {
  // Builds x -> FixedQuant and runs both evaluators; returns the UserError's message.
  auto build = [](QuantSpec s, Dims xd = {-1, 4}, bool k_from_shape = false) -> std::string {
    try {
      ModelBuilder b;
      b.input("x", xd);
      if (k_from_shape) {
        b.node("Shape", {"x"}, {"y_k"});
        b.init("y_i", s.id, s.i, true).init("y_f", s.fd, s.f, true);
        b.node("FixedQuant", {"x", "y_k", "y_i", "y_f"}, {"y"}, "q").set_domain("hgqc");
      } else {
        fixed_quant(b, "x", "y", s, RoundMode::RND, OverflowMode::SAT);
      }
      b.output("y");
      Graph g = b.import();
      RangeAnalysis ra = analyze_ranges(g);
      Tensor x(DType::Float32, {2, xd.back()});
      evaluate(g, {x});
      evaluate_fixed(g, ra, {x});
    } catch (const UserError &e) {
      return e.what();
    }
    return "";
  };
  auto has = [](const std::string &msg, const std::string &part) {
    INFO(msg);
    CHECK(msg.find(part) != std::string::npos);
  };
  QuantSpec ok{{4}, {4}, {4}, {1, 0, 1, 1}, {2, 3, -2, 0}, {3, 1, 4, -8}};
  CHECK(build(ok).empty());
  QuantSpec k2 = ok;
  k2.k[2] = 2;
  has(build(k2), "k must be 0 or 1");
  QuantSpec kneg = ok;
  kneg.k[0] = -1;
  has(build(kneg), "k must be 0 or 1");
  QuantSpec wide = ok;
  wide.i[1] = 40;
  wide.f[1] = 30; // width 70
  has(build(wide), "width 70");
  QuantSpec w62 = ok;
  w62.i[1] = 31;
  w62.f[1] = 31; // width 62 is the limit
  CHECK(build(w62).empty());
  QuantSpec far = ok;
  far.f[3] = 97;
  far.i[3] = -97;
  has(build(far), "must lie in");
  QuantSpec shape = ok;
  shape.kd = {3};
  shape.k = {1, 1, 1};
  has(build(shape), "does not broadcast");
  QuantSpec batch = ok; // formats may not depend on the batch
  batch.fd = {2, 4};
  batch.f = {1, 1, 1, 1, 2, 2, 2, 2};
  has(build(batch), "does not broadcast");
  QuantSpec rank = ok; // more dims than x
  rank.id = {1, 1, 4};
  has(build(rank), "does not broadcast");
  QuantSpec nk{{}, {2}, {2}, {}, {2, 3}, {3, 1}};
  has(build(nk, {-1, 2}, true), "must be a constant"); // k computed at run time
}

TEST_CASE("Interval: a positive power of two is a shift and charges no product width") {
  for (int e = -9; e <= 9; ++e) {
    std::optional<Interval> iv = constant_interval(std::ldexp(1.0, e));
    REQUIRE(iv);
    CHECK(iv->power_of_two());
    CHECK(iv->product_width() == 0);
    CHECK(iv->width() > 0);
  }
  for (double x : {0.0, -0.25, 0.375, 3.0, -1.0, 0.75}) {
    std::optional<Interval> iv = constant_interval(x);
    REQUIRE(iv);
    CHECK_FALSE(iv->power_of_two());
    CHECK(iv->product_width() == iv->width());
  }
  CHECK_FALSE((Interval{1, 2, 0}).power_of_two());
}
