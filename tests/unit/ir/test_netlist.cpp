// Netlist builders against the fixed-point reference, exhaustively at small widths:
// requantization (every rounding and overflow mode), sums, max, ReLU, clamp and products.
#include "ir/netlist.h"

#include "ir/error.h"

#include <doctest/doctest.h>

#include <algorithm>

using namespace hgqc;

namespace {
// Every integer of [lo, hi] through the netlist built by `build` from one input at exponent
// f_in; `want` gives the exact result (an integer on the grid f_out).
template <class Build, class Want>
int64_t check_unary(Int128 lo, Int128 hi, int f_in, int f_out, Build build, Want want) {
  Netlist net;
  NetRef x = net.input(0, Interval{lo, hi, f_in});
  NetRef y = build(net, x);
  if (!y.zero())
    REQUIRE(y.f <= f_out);
  int64_t n = 0;
  for (Int128 q = lo; q <= hi; ++q) {
    int64_t bus[1] = {static_cast<int64_t>(q)};
    std::vector<Int128> vals = evaluate_netlist(net, bus); // asserts every node's bounds
    Int128 got = net_value_at(y, vals, f_out);
    Int128 exp = want(q);
    if (got != exp) {
      FAIL_CHECK("input " << static_cast<int64_t>(q) << " gives " << static_cast<int64_t>(got)
                          << ", want " << static_cast<int64_t>(exp));
      return n;
    }
    ++n;
  }
  return n;
}
} // namespace

TEST_CASE("netlist: requantize equals quantize_int for every format, mode and input") {
  int64_t checks = 0;
  const RoundMode rnds[] = {RoundMode::TRN, RoundMode::RND, RoundMode::RND_CONV};
  const OverflowMode ovfs[] = {OverflowMode::WRAP, OverflowMode::SAT, OverflowMode::SAT_SYM};
  const std::pair<int, int> ranges[] = {{-40, 37}, {0, 63}, {-8, -1}, {5, 9}, {-1, 0}, {-64, 63}};
  for (auto [lo, hi] : ranges)
    for (int f_in = -2; f_in <= 4; ++f_in)
      for (int k = 0; k <= 1; ++k)
        for (int i = -2; i <= 4; ++i)
          for (int f = -2; f <= 4; ++f)
            for (RoundMode r : rnds)
              for (OverflowMode o : ovfs) {
                FixedFormat fmt{k, i, f};
                CAPTURE(lo);
                CAPTURE(hi);
                CAPTURE(f_in);
                CAPTURE(fmt.str());
                CAPTURE(static_cast<int>(r));
                CAPTURE(static_cast<int>(o));
                checks += check_unary(
                    lo, hi, f_in, f,
                    [&](Netlist &net, NetRef x) { return net.requantize(x, fmt, r, o); },
                    [&](Int128 q) {
                      return Int128{quantize_int(static_cast<int64_t>(q), f_in, fmt, r, o).q};
                    });
              }
  CHECK(checks > 1000000);
}

TEST_CASE("netlist: sums, differences, negation, max, relu and clamp are exact") {
  // Two inputs at different exponents, every pair of values.
  for (int fa = -1; fa <= 2; ++fa)
    for (int fb = -1; fb <= 2; ++fb)
      for (int op = 0; op < 4; ++op) {
        Netlist net;
        NetRef a = net.input(0, Interval{-9, 12, fa}), b = net.input(1, Interval{-5, 7, fb});
        NetRef y = op == 0   ? net.add(a, b)
                   : op == 1 ? net.add(a, b, true)
                   : op == 2 ? net.max(a, b)
                             : net.neg(net.add(net.relu(a), b));
        int F = std::max(fa, fb);
        for (int64_t qa = -9; qa <= 12; ++qa)
          for (int64_t qb = -5; qb <= 7; ++qb) {
            int64_t bus[2] = {qa, qb};
            auto vals = evaluate_netlist(net, bus);
            Int128 A = Int128{qa} << (F - fa), B = Int128{qb} << (F - fb);
            Int128 want = op == 0   ? A + B
                          : op == 1 ? A - B
                          : op == 2 ? std::max(A, B)
                                    : -(std::max<Int128>(A, 0) + B);
            REQUIRE(net_value_at(y, vals, F) == want);
          }
      }
  // Clamp with bounds on a finer and a coarser grid than the input.
  for (int f = -1; f <= 2; ++f)
    check_unary(
        -30, 30, 1, std::max(1, f), [&](Netlist &net, NetRef x) { return net.clamp(x, -7, 11, f); },
        [&](Int128 q) {
          int F = std::max(1, f);
          Int128 v = q << (F - 1), L = Int128{-7} << (F - f), H = Int128{11} << (F - f);
          return std::min(std::max(v, L), H);
        });
  // Constants fold: nothing but a Const node is built.
  Netlist net;
  NetRef c = net.add(net.constant(5, 1), net.constant(3, 0), true);
  REQUIRE(net.node(c).op == NetOp::Const);
  CHECK(net_value_at(c, evaluate_netlist(net, {}), 1) == 5 - 6);
}

TEST_CASE("netlist: widths of integer ranges") {
  CHECK(int_width(0, 0) == 0);
  CHECK(int_width(0, 1) == 1);
  CHECK(int_width(0, 255) == 8);
  CHECK(int_width(-1, 0) == 1);
  CHECK(int_width(-128, 127) == 8);
  CHECK(int_width(-129, 0) == 9);
  CHECK(int_width(-3, 255) == 9);
  for (Int128 lo = -70; lo <= 0; ++lo)
    for (Int128 hi = std::max<Int128>(lo, 0); hi <= 70; ++hi) {
      int w = int_width(lo, hi);
      if (lo == 0 && hi == 0)
        continue;
      Int128 min = lo < 0 ? -(Int128{1} << (w - 1)) : 0;
      Int128 max = lo < 0 ? (Int128{1} << (w - 1)) - 1 : (Int128{1} << w) - 1;
      REQUIRE(lo >= min);
      REQUIRE(hi <= max);
      // minimal: one bit fewer does not hold it
      if (w == 1)
        continue;
      Int128 min1 = lo < 0 ? -(Int128{1} << (w - 2)) : 0;
      Int128 max1 = lo < 0 ? (Int128{1} << (w - 2)) - 1 : (Int128{1} << (w - 1)) - 1;
      REQUIRE((lo < min1 || hi > max1));
    }
}

TEST_CASE("netlist: a product of two signals is exact, with the corner bounds, and folds") {
  // Signed, unsigned and one-bit factors at different exponents, every pair of values.
  const std::pair<int, int> ranges[] = {{-9, 12}, {0, 13}, {-6, -2}, {0, 1}, {-1, 0}, {3, 7}};
  int64_t checks = 0;
  for (auto [la, ha] : ranges)
    for (auto [lb, hb] : ranges)
      for (int fa = -1; fa <= 1; ++fa) {
        const int fb = 2 - fa;
        Netlist net;
        NetRef a = net.input(0, Interval{la, ha, fa}), b = net.input(1, Interval{lb, hb, fb});
        NetRef y = net.mul(a, b);
        REQUIRE(y.f == fa + fb);
        REQUIRE(net.node(y).op == NetOp::Mul);
        Int128 c[] = {Int128{la} * lb, Int128{la} * hb, Int128{ha} * lb, Int128{ha} * hb};
        CHECK(net.node(y).lo == *std::min_element(c, c + 4));
        CHECK(net.node(y).hi == *std::max_element(c, c + 4));
        for (int64_t qa = la; qa <= ha; ++qa)
          for (int64_t qb = lb; qb <= hb; ++qb) {
            int64_t bus[2] = {qa, qb};
            auto vals = evaluate_netlist(net, bus); // asserts the bounds
            REQUIRE(net_value_at(y, vals, fa + fb) == Int128{qa} * qb);
            ++checks;
          }
      }
  CHECK(checks > 1000);
  // A zero factor gives the zero ref; two constants fold into a constant.
  Netlist net;
  NetRef x = net.input(0, Interval{-3, 3, 0});
  CHECK(net.mul(x, NetRef{}).zero());
  NetRef c = net.mul(net.constant(-5, 1), net.constant(3, 2));
  REQUIRE(net.node(c).op == NetOp::Const);
  CHECK(net_value_at(c, evaluate_netlist(net, std::vector<int64_t>{0}), 3) == -15);
}

TEST_CASE("netlist: a product wider than kMaxProductBits is refused with its width") {
  Netlist net;
  // 31-bit signed times 32-bit signed: the product needs 62 bits (the limit); times 34 bits: 63.
  NetRef a = net.input(0, Interval{-(Int128{1} << 30) + 1, (Int128{1} << 30) - 1, 0});
  NetRef b = net.input(1, Interval{-(Int128{1} << 31) + 1, (Int128{1} << 31) - 1, 0});
  NetRef ok = net.mul(a, b);
  CHECK(net.node(ok).width() == kMaxProductBits);
  NetRef c = net.input(2, Interval{-(Int128{1} << 32), Int128{1} << 32, 0});
  CHECK_THROWS_WITH_AS(net.mul(a, c),
                       "the product of a 31-bit and a 34-bit signal needs 63 bits; a multiplier "
                       "takes at most 62",
                       UserError);
  // Operands near the netlist's own limit are refused before their corners overflow.
  NetRef w = net.input(3, Interval{-(Int128{1} << 100), Int128{1} << 100, 0});
  CHECK_THROWS_AS(net.mul(w, w), UserError);
}
