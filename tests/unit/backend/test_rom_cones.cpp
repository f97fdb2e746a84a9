// Unit tests of the ROM-cone pass: which cones become ROMs, exactness on every input, and the
// Verilog of a ROM addressed by several inputs.
#include "backend/lut_model.h"
#include "backend/passes.h"
#include "backend/verilog.h"
#include "fixed_test_util.h"

#include <doctest/doctest.h>

#include <functional>

using namespace hgqc;
using hgqc::test::all_inputs;
using hgqc::test::count_net_ops;
using hgqc::test::make_net;
using hgqc::test::output_of;

namespace {
// A 2x2 average-pool window of four inputs, requantized to the grid 2^-1 with rounding to
// nearest and saturation at 1.5.
NetRef pooled(Netlist &net, const std::vector<NetRef> &x) {
  NetRef s = net.add(net.add(x[0], x[1]), net.add(x[2], x[3]));
  return net.requantize(s, FixedFormat{0, 1, 1}, RoundMode::RND, OverflowMode::SAT);
}
} // namespace

TEST_CASE("ROM cones: a pooled window of four narrow inputs and its rounding become one ROM") {
  // Inputs of 1 and 2 bits on different grids (6 address bits).
  std::vector<Interval> r = {{0, 1, 2}, {0, 3, 2}, {0, 1, 1}, {0, 3, 2}};
  Netlist net = make_net(r, pooled);
  REQUIRE(count_net_ops(net, NetOp::Add) == 3);
  Netlist rom = backend::collapse_rom_cones(net, 8);
  CHECK(count_net_ops(rom, NetOp::Table) == 1);
  CHECK(count_net_ops(rom, NetOp::Add) == 0);
  CHECK(count_net_ops(rom, NetOp::Round) == 0);
  CHECK(count_net_ops(rom, NetOp::Concat) == 3);
  REQUIRE(rom.tables.size() == 1);
  CHECK(rom.tables[0].entries.size() == 64);
  for (const auto &bus : all_inputs(r))
    REQUIRE(output_of(rom, bus) == output_of(net, bus));
  double before = 0, after = 0;
  for (size_t k = 0; k < net.nodes.size(); ++k)
    before += static_cast<double>(backend::lut_estimate(backend::node_lut_bits(net, k)));
  for (size_t k = 0; k < rom.nodes.size(); ++k)
    after += static_cast<double>(backend::lut_estimate(backend::node_lut_bits(rom, k)));
  CHECK(after < before);
}

TEST_CASE("ROM cones: signed inputs with patterns that cannot occur, read by a wider sum") {
  // Two signed inputs whose ranges do not fill their bits ([-1, 1] in 2 bits), a ReLU of their
  // sum requantized, then added to an 8-bit input: only the narrow cone becomes a ROM.
  std::vector<Interval> r = {{-1, 1, 0}, {-2, 1, 1}, {0, 200, 0}};
  Netlist net = make_net(r, [](Netlist &n, const std::vector<NetRef> &x) {
    NetRef s = n.relu(n.add(x[0], n.add(x[1], x[0])));
    NetRef q = n.requantize(s, FixedFormat{0, 2, 0}, RoundMode::RND, OverflowMode::SAT);
    return n.add(q, x[2]);
  });
  Netlist rom = backend::collapse_rom_cones(net, 8);
  CHECK(count_net_ops(rom, NetOp::Table) == 1);
  CHECK(count_net_ops(rom, NetOp::Add) == 1); // the sum with the 8-bit input
  for (const auto &bus : all_inputs(r))
    REQUIRE(output_of(rom, bus) == output_of(net, bus));
}

TEST_CASE("ROM cones: a cone over the bit limit, or cheaper as logic, is left alone") {
  std::vector<Interval> r = {{0, 1, 2}, {0, 3, 2}, {0, 1, 1}, {0, 3, 2}};
  Netlist net = make_net(r, pooled);
  Netlist narrow = backend::collapse_rom_cones(net, 5);
  CHECK(narrow.nodes.size() == net.nodes.size());
  CHECK(count_net_ops(narrow, NetOp::Table) == 0);
  CHECK(count_net_ops(backend::collapse_rom_cones(net, 0), NetOp::Table) == 0);
  // One 8-bit input plus a constant: an 8-bit adder with one run-time operand is cheaper than
  // a 256-entry ROM.
  std::vector<Interval> w = {{0, 255, 0}};
  Netlist inc = make_net(
      w, [](Netlist &n, const std::vector<NetRef> &x) { return n.add(x[0], n.constant(3, 0)); });
  Netlist same = backend::collapse_rom_cones(inc, 8);
  CHECK(count_net_ops(same, NetOp::Table) == 0);
  CHECK(same.nodes.size() == inc.nodes.size());
}

TEST_CASE("ROM cones: the Verilog addresses the ROM with the inputs' bits side by side") {
  std::vector<Interval> r = {{0, 1, 2}, {0, 3, 2}, {0, 1, 1}, {0, 3, 2}};
  Netlist rom = backend::collapse_rom_cones(make_net(r, pooled), 8);
  backend::Schedule s = backend::schedule_pipeline(rom, {});
  backend::VerilogOptions o;
  o.top = "pool";
  std::string v = backend::write_verilog(rom, s, o);
  CHECK(v.find("function") != std::string::npos);
  CHECK(v.find("= {") != std::string::npos);
  CHECK(v.find(" + ") == std::string::npos); // no adder left
  CHECK(s.depth == 1);
}
