// Fixed-point formats (k, i, f), exact quantization with every rounding and overflow
// mode, integer intervals and the interval rule for minimal formats (method.md §1).
#pragma once

#include "ir/tensor.h"
#include "support/bits.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hgqc {

/// Rounding of the dropped low bits: TRN floor, RND half up, RND_CONV half to even.
enum class RoundMode { TRN, RND, RND_CONV };
/// What happens to a value outside the format: WRAP keeps the low bits (two's
/// complement when signed), SAT clamps to the range, SAT_SYM clamps to +-(2^(i+f) - 1).
enum class OverflowMode { WRAP, SAT, SAT_SYM };

/// "TRN", "RND", "RND_CONV".
const char *round_mode_name(RoundMode m);
/// "WRAP", "SAT", "SAT_SYM".
const char *overflow_mode_name(OverflowMode m);
/// Parses a rounding mode name; nullopt when unknown.
std::optional<RoundMode> parse_round_mode(const std::string &s);
/// Parses an overflow mode name; nullopt when unknown.
std::optional<OverflowMode> parse_overflow_mode(const std::string &s);

/// Widest format a quantizer may have, and widest exact intermediate the emulator holds
/// (values are int64; intermediates in products and sums use 128-bit arithmetic).
inline constexpr int kMaxFixedWidth = 62;
/// Limits on i and f of a format (either may be negative).
inline constexpr int kMaxFixedExp = 96;
/// Most elements per sample of a value in fixed point (2^20): every element is its own signal
/// of the fully unrolled circuit, and the range analysis holds an exact interval for each.
inline constexpr int64_t kMaxFixedElements = int64_t{1} << 20;

/// A fixed-point format: k sign bits (0 or 1), i integer bits, f fractional bits.
/// A value is q * 2^-f with -k*2^(i+f) <= q <= 2^(i+f) - 1. Width <= 0: pruned (0).
struct FixedFormat {
  int k = 1, i = 0, f = 0;
  /// k + i + f.
  int width() const { return k + i + f; }
  /// True when the element is the constant 0 (width <= 0).
  bool pruned() const { return width() <= 0; }
  /// Smallest representable integer q (0 when pruned).
  int64_t qmin() const;
  /// Largest representable integer q (0 when pruned).
  int64_t qmax() const;
  /// "fixed<k,i,f>" text.
  std::string str() const;
  bool operator==(const FixedFormat &) const = default;
};

/// Result of one quantization: the integer q on the format's grid (value q * 2^-f)
/// and whether the rounded value lay outside the format's range (it was wrapped or
/// clamped; for SAT_SYM also when it was -2^(i+f)).
struct QuantResult {
  int64_t q = 0;
  bool overflow = false;
};

/// Requantizes the exact value q_in * 2^-f_in to `fmt`: round the dropped bits, then
/// wrap or saturate. Exact integer arithmetic only. Asserts fmt.width() <= kMaxFixedWidth.
QuantResult quantize_int(int64_t q_in, int f_in, FixedFormat fmt, RoundMode rnd, OverflowMode ovf);
/// Same for a 128-bit input integer.
QuantResult quantize_int128(Int128 q_in, int f_in, FixedFormat fmt, RoundMode rnd,
                            OverflowMode ovf);
/// Quantizes a finite real x (exactly: x * 2^f is exact in double) to `fmt`.
QuantResult quantize_real(double x, FixedFormat fmt, RoundMode rnd, OverflowMode ovf);

/// q * 2^-f as a double (exact when |q| < 2^53).
double fixed_to_double(int64_t q, int f);

/// If x is exactly q * 2^-f for an int64 q with |f| <= kMaxFixedExp, the smallest such f
/// (f may be negative for multiples of powers of two; 0 gives f = 0).
std::optional<int> exact_exponent(double x);

/// Exact bounds of a signal: its values are q * 2^-f for integers lo <= q <= hi.
/// lo = hi = 0 is the constant zero (a pruned element; f is then irrelevant).
struct Interval {
  Int128 lo = 0, hi = 0;
  int f = 0;
  /// True for the constant zero.
  bool zero() const { return lo == 0 && hi == 0; }
  /// The minimal format holding the interval (method.md interval rule); width 0 for zero.
  FixedFormat min_format() const;
  /// Width of min_format() (int_width of [lo, hi]).
  int width() const { return int_width(lo, hi); }
  /// True for one positive power of two: a product with it is a shift (wiring, no logic).
  bool power_of_two() const { return lo == hi && lo > 0 && (lo & (lo - 1)) == 0; }
  /// The width an elementwise product charges for this factor (EBOPs): 0 for a power of
  /// two, else width().
  int product_width() const { return power_of_two() ? 0 : width(); }
  /// The same interval on the finer grid f2 >= f (asserts f2 >= f and no 128-bit overflow).
  Interval aligned(int f2) const;
  /// "[lo, hi] * 2^-f" text.
  std::string str() const;
  bool operator==(const Interval &) const = default;
};

/// The interval a quantizer's output can take for inputs in `in` (exact: monotone
/// rounding, then the format's range when `in` may overflow it).
Interval quantized_interval(const Interval &in, FixedFormat fmt, RoundMode rnd, OverflowMode ovf);
/// The integers [lo, hi] that `ovf` keeps a value of `fmt` in (SAT_SYM: symmetric).
void overflow_range(FixedFormat fmt, OverflowMode ovf, Int128 &lo, Int128 &hi);
/// Whether some value of `in` lies outside the range `ovf` keeps after rounding to `fmt`.
bool may_overflow(const Interval &in, FixedFormat fmt, RoundMode rnd, OverflowMode ovf);
/// The interval of one real constant (exactly representable; see exact_exponent).
std::optional<Interval> constant_interval(double x);

/// Decimal text of a 128-bit integer.
std::string int128_str(Int128 v);

/// Per-element exact ranges of a value for one sample: `dims` is the value's static
/// shape with the batch dimension (kDynamic) set to 1, `el` is row-major over it.
/// A run-time tensor of the value broadcasts from these dims.
struct ValueRange {
  Dims dims;
  std::vector<Interval> el;
};

/// A value in the integer emulator: element j is q[j] * 2^-f, with f the exponent of
/// the value's range at the element (see range_index).
struct FixedTensor {
  Dims shape;
  std::vector<int64_t> q;
};

/// For each element of a run-time tensor of shape `shape`, the index of its element in
/// a range of dims `range_dims` (which broadcast to `shape`).
std::vector<int64_t> range_index(const Dims &range_dims, const Dims &shape);
/// range_index without the vector in the common case: a tensor whose shape differs from
/// its range's only in the leading (batch) dimension maps element j to j % (range size).
class RangeMap {
public:
  RangeMap(const Dims &range_dims, const Dims &shape);
  /// The range element of run-time element j.
  int64_t operator[](int64_t j) const { return idx_.empty() ? (per_ ? j % per_ : 0) : idx_[j]; }

private:
  int64_t per_ = 0;
  std::vector<int64_t> idx_; ///< empty on the fast path
};

/// Static dims of a range: `dims` with kDynamic replaced by 1.
Dims range_dims(const Dims &dims);

/// Throws UserError when a value (`what`, e.g. "value 'x'") with per-sample dims `per_sample`
/// has more than kMaxFixedElements elements (checked before anything per element is built).
void check_fixed_elements(const std::string &what, const Dims &per_sample);

/// Per-element formats from integer tensors k, i, f broadcast to `to` (numpy rules;
/// the caller has checked that they broadcast).
std::vector<FixedFormat> broadcast_formats(const Tensor &k, const Tensor &i, const Tensor &f,
                                           const Dims &to);

} // namespace hgqc
