// Bit counting on integers up to 128 bits: bit lengths, ceil(log2) and integer range widths.
#pragma once

#include "ir/error.h"

#include <algorithm>
#include <bit>
#include <cstdint>

namespace hgqc {

/// Signed 128-bit integer: the exact values of the fixed-point emulator and the netlist.
__extension__ typedef __int128 Int128;
/// Unsigned 128-bit integer.
__extension__ typedef unsigned __int128 UInt128;

/// Number of significant bits of v: 0 for 0, 128 for values of 2^127 and above.
constexpr int bit_length(UInt128 v) {
  auto hi = static_cast<uint64_t>(v >> 64), lo = static_cast<uint64_t>(v);
  return hi ? 128 - std::countl_zero(hi) : 64 - std::countl_zero(lo);
}
/// Deleted: a signed value must say whether it means |v| (magnitude_bits) or its bits.
int bit_length(Int128 v) = delete;

/// Number of significant bits of |v| (0 for 0; 128 for the most negative Int128).
constexpr int magnitude_bits(Int128 v) {
  return bit_length(v < 0 ? static_cast<UInt128>(-(v + 1)) + 1 : static_cast<UInt128>(v));
}

/// ceil(log2(v)) for v >= 1, i.e. the bit length of v - 1; 0 for v <= 1.
constexpr int ceil_log2(UInt128 v) { return v <= 1 ? 0 : bit_length(v - 1); }

/// Bits of the smallest two's-complement (lo < 0) or unsigned (lo >= 0) integer type that holds
/// every integer in [lo, hi]: 0 for [0, 0]. The width rule of intervals (Interval::width), the
/// netlist and the HGQ cost model.
inline int int_width(Int128 lo, Int128 hi) {
  HGQC_ASSERT(lo <= hi, "width of an empty integer range");
  if (lo >= 0)
    return bit_length(static_cast<UInt128>(hi));
  int pos = hi > 0 ? bit_length(static_cast<UInt128>(hi)) : 0;
  int neg = bit_length(static_cast<UInt128>(-(lo + 1)));
  return 1 + std::max(pos, neg);
}

} // namespace hgqc
