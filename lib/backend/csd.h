// Canonical signed digit (CSD) decomposition of integers, for constant multiplications.
#pragma once

#include <bit>
#include <cstdint>
#include <vector>

namespace hgqc::backend {

/// One non-zero CSD digit: the value contributes sign * 2^shift.
struct CsdDigit {
  int shift = 0; ///< bit position, >= 0
  int sign = 1;  ///< +1 or -1
};

/// The non-zero CSD digits of `v`, least significant first. No two digits are adjacent
/// (shifts differ by at least 2), the number of digits is minimal, and
/// sum sign * 2^shift == v. Requires |v| < 2^62 (asserted).
std::vector<CsdDigit> csd_digits(int64_t v);

/// The number of non-zero CSD digits of `v` (same precondition as csd_digits).
int csd_weight(int64_t v);

/// csd_weight() of a value of magnitude `a` (< 2^62), usable in constant expressions: the
/// non-adjacent form of a has as many non-zero digits as 3a XOR a has one bits.
constexpr int csd_weight_of_magnitude(uint64_t a) { return std::popcount((3 * a) ^ a); }

} // namespace hgqc::backend
