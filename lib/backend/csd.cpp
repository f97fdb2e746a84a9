// Canonical signed digit (CSD) decomposition of integers.
#include "backend/csd.h"

#include "ir/error.h"

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
  // The non-adjacent form of a >= 0 has as many non-zero digits as 3a XOR a has ones bits.
  const uint64_t a = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  return std::popcount((3 * a) ^ a);
}

} // namespace hgqc::backend
