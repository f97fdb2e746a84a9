// Unit tests of requantize's folded rounding (Netlist::truncate_with_offset): a round-half-up
// after a constant add, through a ReLU or not, is one adder and a truncation, exact on every
// input, with one adder level less.
#include "backend/lut_model.h"
#include "backend/passes.h"
#include "fixed_test_util.h"

#include <doctest/doctest.h>

#include <algorithm>

using namespace hgqc;
using namespace hgqc::test;

namespace {
const std::vector<Interval> kIn = {{-40, 40, 4}, {-9, 9, 4}}; // x0, x1 on the grid 2^-4

// How the constant enters: x + c, x - c, or c - x (x = x0 + 2 x1, c on the grid 2^-4).
enum class Form { Add, Sub, Minuend };

// x with constant c, optionally a ReLU, then requantized to the grid 2^-1 (3 bits shifted out)
// with `rnd` and saturation at 3.5 (signed without a ReLU).
Netlist tail(int64_t c, Form form, bool relu, RoundMode rnd) {
  return make_net(kIn, [&](Netlist &net, const std::vector<NetRef> &x) {
    NetRef s = net.add(x[0], NetRef{x[1].node, x[1].f - 1});
    NetRef k = net.constant(c, 4);
    s = form == Form::Minuend ? net.add(k, s, true) : net.add(s, k, form == Form::Sub);
    if (relu)
      s = net.relu(s);
    return net.requantize(s, FixedFormat{relu ? 0 : 1, 2, 1}, rnd, OverflowMode::SAT);
  });
}

// The model's value for bus (x0, x1): quantize_int on the exact integer on the grid 2^-4.
Int128 expected(const std::vector<int64_t> &bus, int64_t c, Form form, bool relu, RoundMode rnd) {
  Int128 x = bus[0] + 2 * Int128{bus[1]};
  Int128 v = form == Form::Add ? x + c : form == Form::Sub ? x - c : c - x;
  if (relu)
    v = std::max<Int128>(v, 0);
  return quantize_int128(v, 4, FixedFormat{relu ? 0 : 1, 2, 1}, rnd, OverflowMode::SAT).q;
}

int round_nodes(const Netlist &net, RoundMode rnd) {
  int n = 0;
  for (const NetNode &nd : net.nodes)
    n += nd.op == NetOp::Round && nd.rnd == rnd;
  return n;
}

double estimate(const Netlist &net) {
  double s = 0;
  for (size_t k = 0; k < net.nodes.size(); ++k)
    s += backend::lut_sum(backend::node_lut_bits(net, k));
  return s;
}
} // namespace

TEST_CASE("netlist: a round-half-up after a constant add folds its half step into the constant") {
  int folded = 0;
  for (int64_t c : {int64_t{5}, int64_t{-13}, int64_t{48}, int64_t{-4}, int64_t{4}}) {
    for (Form form : {Form::Add, Form::Sub, Form::Minuend}) {
      for (bool relu : {true, false}) {
        CAPTURE(c);
        CAPTURE(static_cast<int>(form));
        CAPTURE(relu);
        const Netlist net = backend::remove_dead_nodes(tail(c, form, relu, RoundMode::RND));
        for (const auto &bus : all_inputs(kIn))
          REQUIRE(output_of(net, bus) == expected(bus, c, form, relu, RoundMode::RND));
        // The half step cancels the constant (x + 4 - 4... on 2^-4: c + 4 = 0 or c - 4 = 0):
        // then it stays a rounding.
        const bool cancels = (form == Form::Sub ? -c : c) + 4 == 0;
        CHECK(round_nodes(net, RoundMode::RND) == (cancels ? 1 : 0));
        if (cancels)
          continue;
        ++folded;
        CHECK(round_nodes(net, RoundMode::TRN) == 1);
        CHECK(count_net_ops(net, NetOp::Add) + count_net_ops(net, NetOp::Sub) == 2);
        // The ReLU reads the truncated value; two adder levels and the saturation's
        // comparator where there is one, none for the rounding.
        for (const NetNode &n : net.nodes)
          if (n.op == NetOp::Relu)
            CHECK(net.nodes[static_cast<size_t>(n.a)].op == NetOp::Round);
        CHECK(backend::schedule_pipeline(net, {}).depth ==
              2 + (count_net_ops(net, NetOp::Clamp) > 0 ? 1 : 0));
      }
    }
  }
  CHECK(folded == 24);
}

TEST_CASE("netlist: the folded rounding costs less than the rounding adder it replaces") {
  // Built by hand without the fold: x + c, ReLU, then a round-half-up node of its own.
  const Netlist plain = make_net(kIn, [](Netlist &net, const std::vector<NetRef> &x) {
    NetRef s = net.add(net.add(x[0], NetRef{x[1].node, x[1].f - 1}), net.constant(5, 4));
    NetRef r = net.relu(s);
    NetRef t = net.requantize(net.add(r, net.constant(4, 4)), FixedFormat{0, 4, 4}, RoundMode::TRN,
                              OverflowMode::SAT);
    return net.requantize(t, FixedFormat{0, 2, 1}, RoundMode::TRN, OverflowMode::SAT);
  });
  const Netlist folded = backend::remove_dead_nodes(tail(5, Form::Add, true, RoundMode::RND));
  CHECK(estimate(folded) < estimate(backend::remove_dead_nodes(plain)));
}

TEST_CASE("netlist: other roundings, and sums without one constant, are not folded") {
  for (RoundMode rnd : {RoundMode::TRN, RoundMode::RND_CONV}) {
    const Netlist net = backend::remove_dead_nodes(tail(5, Form::Add, true, rnd));
    for (const auto &bus : all_inputs(kIn))
      REQUIRE(output_of(net, bus) == expected(bus, 5, Form::Add, true, rnd));
    CHECK(count_net_ops(net, NetOp::Add) == 2);
    if (rnd == RoundMode::RND_CONV)
      CHECK(round_nodes(net, RoundMode::RND_CONV) == 1);
  }
  // x0 + 2 x1 alone: no constant to fold into, so the rounding adder stays.
  const Netlist net = make_net(kIn, [](Netlist &n, const std::vector<NetRef> &x) {
    return n.requantize(n.relu(n.add(x[0], NetRef{x[1].node, x[1].f - 1})), FixedFormat{0, 2, 1},
                        RoundMode::RND, OverflowMode::SAT);
  });
  CHECK(round_nodes(net, RoundMode::RND) == 1);
}
