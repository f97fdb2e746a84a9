// Unit tests of lib/support: bit lengths, ceil_log2, integer range widths, atomic writes.
#include "ir/fixed.h"
#include "support/bits.h"
#include "support/file_io.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace hgqc;

namespace {
// Bit length by counting: the smallest n with v < 2^n.
int ref_bits(UInt128 v) {
  int n = 0;
  while (n < 128 && (static_cast<UInt128>(1) << n) <= v)
    ++n;
  return n;
}

// Width by search: the smallest w such that a w-bit integer (two's complement when lo < 0,
// else unsigned) holds lo and hi.
int ref_width(int64_t lo, int64_t hi) {
  for (int w = 0; w < 64; ++w) {
    Int128 min = lo < 0 ? -(static_cast<Int128>(1) << (w > 0 ? w - 1 : 0)) : 0;
    Int128 max = lo < 0 ? (w > 0 ? (static_cast<Int128>(1) << (w - 1)) - 1 : -1)
                        : (static_cast<Int128>(1) << w) - 1;
    if (lo < 0 && w == 0)
      continue;
    if (lo >= min && hi <= max)
      return w;
  }
  return 64;
}

UInt128 random_u128(std::mt19937_64 &rng) {
  return (static_cast<UInt128>(rng()) << 64 | rng()) >> (rng() % 128);
}

std::string bytes_of(const std::string &p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}
} // namespace

TEST_CASE("support: bit_length and magnitude_bits over the 128-bit range") {
  for (UInt128 v = 0; v <= 5000; ++v)
    REQUIRE(bit_length(v) == ref_bits(v));
  for (int e = 0; e < 128; ++e)
    for (int d : {-1, 0, 1}) {
      UInt128 v = (static_cast<UInt128>(1) << e) + static_cast<UInt128>(static_cast<Int128>(d));
      CAPTURE(e);
      CHECK(bit_length(v) == ref_bits(v));
    }
  CHECK(bit_length(~static_cast<UInt128>(0)) == 128);
  std::mt19937_64 rng(5);
  for (int j = 0; j < 5000; ++j) {
    UInt128 v = random_u128(rng);
    CHECK(bit_length(v) == ref_bits(v));
    auto s = static_cast<Int128>(v >> 1);
    CHECK(magnitude_bits(s) == ref_bits(static_cast<UInt128>(s)));
    CHECK(magnitude_bits(-s) == ref_bits(static_cast<UInt128>(s)));
  }
  const Int128 min = static_cast<Int128>(static_cast<UInt128>(1) << 127);
  CHECK(magnitude_bits(min) == 128);
  CHECK(magnitude_bits(min + 1) == 127);
  CHECK(magnitude_bits(0) == 0);
  CHECK(magnitude_bits(-1) == 1);
  CHECK(magnitude_bits(-8) == 4);
}

TEST_CASE("support: ceil_log2 is 0 for 0 and 1, else the bit length of v - 1") {
  CHECK(ceil_log2(0) == 0);
  CHECK(ceil_log2(1) == 0);
  CHECK(ceil_log2(2) == 1);
  CHECK(ceil_log2(3) == 2);
  CHECK(ceil_log2(4) == 2);
  CHECK(ceil_log2(5) == 3);
  CHECK(ceil_log2(static_cast<UInt128>(1) << 127) == 127);
  CHECK(ceil_log2((static_cast<UInt128>(1) << 127) + 1) == 128);
  CHECK(ceil_log2(~static_cast<UInt128>(0)) == 128);
}

TEST_CASE("support: int_width is the interval rule's width") {
  for (int64_t lo = -70; lo <= 70; ++lo)
    for (int64_t hi = lo; hi <= 70; hi += 3) {
      INFO(lo << ".." << hi);
      CHECK(int_width(lo, hi) == ref_width(lo, hi));
      CHECK(int_width(lo, hi) == Interval{lo, hi, 3}.min_format().width());
    }
  CHECK(int_width(0, 0) == 0);
  CHECK(int_width(-1, -1) == 1);
  CHECK(int_width(-128, 127) == 8);
  CHECK(int_width(-129, 127) == 9);
  CHECK(int_width(0, 255) == 8);
  const Int128 max = static_cast<Int128>(~static_cast<UInt128>(0) >> 1);
  CHECK(int_width(0, max) == 127);
  CHECK(int_width(-max - 1, max) == 128);
  CHECK_THROWS_AS(int_width(1, 0), InternalError);
}

TEST_CASE("support: write_file_atomic writes, replaces, and names the path on failure") {
  fs::path dir = fs::temp_directory_path() / ("hgqc_support_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string p = (dir / "out.bin").string();
  write_file_atomic(p, "first");
  write_file_atomic(p, std::string("a\0b", 3));
  CHECK(bytes_of(p) == std::string("a\0b", 3));
  std::string missing = (dir / "no" / "out.bin").string();
  try {
    write_file_atomic(missing, "x");
    FAIL("no error");
  } catch (const UserError &e) {
    CHECK(e.location().file == missing);
    CHECK(std::string(e.what()).find("cannot write file (creating") != std::string::npos);
  }
  CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 1);
  fs::remove_all(dir);
}
