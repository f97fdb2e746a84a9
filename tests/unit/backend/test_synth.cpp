// The synthesis report's netlist analysis (cell counts, LUT levels) and the LUT model's bit
// classes, on hand-made netlists.
#include "backend/lut_model.h"
#include "backend/synth.h"
#include "ir/error.h"

#include <doctest/doctest.h>

using namespace hgqc;
using nlohmann::json;

namespace {
// A Yosys-style JSON cell: type, inputs and outputs as bit lists.
json cell(const std::string &type, std::vector<std::pair<std::string, json>> in,
          std::vector<std::pair<std::string, json>> out) {
  json c;
  c["type"] = type;
  for (auto &[p, bits] : in) {
    c["port_directions"][p] = "input";
    c["connections"][p] = bits;
  }
  for (auto &[p, bits] : out) {
    c["port_directions"][p] = "output";
    c["connections"][p] = bits;
  }
  return c;
}

json module_with(json cells) {
  json j;
  j["modules"]["top"]["ports"]["in"] = {{"direction", "input"}, {"bits", {2, 3}}};
  j["modules"]["top"]["cells"] = std::move(cells);
  return j;
}
} // namespace

TEST_CASE("synth: cell counts and LUT levels between flip-flops") {
  json cells;
  // in -> FF(10) -> LUT2(11) -> INV(12) -> CARRY4(13..16) -> LUT3(17) -> FF(18); also a LUT6
  // straight from the input port to an FF (one level).
  cells["ff_a"] =
      cell("FDRE", {{"D", {2}}, {"C", {3}}, {"CE", {"1"}}, {"R", {"0"}}}, {{"Q", {10}}});
  cells["l1"] = cell("LUT2", {{"I0", {10}}, {"I1", {2}}}, {{"O", {11}}});
  cells["i1"] = cell("INV", {{"I", {11}}}, {{"O", {12}}});
  cells["c1"] = cell("CARRY4", {{"S", {12, 2, "0", "0"}}, {"CI", {"0"}}},
                     {{"O", {13, 14, 15, 16}}, {"CO", {"x", "x", "x", "x"}}});
  cells["l2"] = cell("LUT3", {{"I0", {13}}, {"I1", {14}}, {"I2", {10}}}, {{"O", {17}}});
  cells["ff_b"] = cell("FDRE", {{"D", {17}}, {"C", {3}}}, {{"Q", {18}}});
  cells["l6"] =
      cell("LUT6", {{"I0", {2}}, {"I1", {3}}, {"I2", {2}}, {"I3", {3}}, {"I4", {2}}, {"I5", {3}}},
           {{"O", {19}}});
  cells["ff_c"] = cell("FDSE", {{"D", {19}}, {"C", {3}}}, {{"Q", {20}}});
  cells["srl"] = cell("SRL16E", {{"D", {18}}, {"CLK", {3}}}, {{"Q", {21}}});
  cells["mux"] = cell("MUXF7", {{"I0", {21}}, {"I1", {20}}, {"S", {2}}}, {{"O", {22}}});
  backend::SynthFigures f = backend::analyze_yosys_netlist(module_with(cells), "top");
  CHECK(f.luts == 4); // LUT2, INV, LUT3, LUT6
  CHECK(f.ffs == 3);
  CHECK(f.carry == 1);
  CHECK(f.srls == 1);
  CHECK(f.muxes == 1);
  CHECK(f.latches == 0);
  CHECK(f.cells.at("FDRE") == 2);
  CHECK(f.logic_levels == 3); // LUT2 -> INV -> (carry) -> LUT3
  CHECK(f.carry_on_path == 1);
}

TEST_CASE("synth: latches are counted: loops and malformed netlists are errors") {
  json cells;
  cells["ld"] = cell("LDCE", {{"D", {2}}, {"G", {3}}}, {{"Q", {10}}});
  CHECK(backend::analyze_yosys_netlist(module_with(cells), "top").latches == 1);

  json loop;
  loop["a"] = cell("LUT2", {{"I0", {2}}, {"I1", {11}}}, {{"O", {10}}});
  loop["b"] = cell("LUT2", {{"I0", {10}}, {"I1", {3}}}, {{"O", {11}}});
  CHECK_THROWS_WITH_AS(backend::analyze_yosys_netlist(module_with(loop), "top"),
                       doctest::Contains("combinational loop"), UserError);
  CHECK_THROWS_WITH_AS(backend::analyze_yosys_netlist(module_with(cells), "other"),
                       doctest::Contains("no module 'other'"), UserError);
  json bad = module_with(cells);
  bad["modules"]["top"]["cells"]["ld"].erase("type");
  CHECK_THROWS_AS(backend::analyze_yosys_netlist(bad, "top"), UserError);
}

TEST_CASE("synth: an UltraScale netlist with CARRY4 cells gets a note, a 7-series one none") {
  backend::SynthFigures f;
  f.cells["CARRY4"] = 3;
  f.cells["LUT2"] = 5;
  CHECK(backend::synth_notes("xc7", f).empty());
  for (const char *fam : {"xcup", "xcu"}) {
    auto notes = backend::synth_notes(fam, f);
    REQUIRE(notes.size() == 1);
    CHECK(notes[0].find("3 CARRY4 cells") != std::string::npos);
    CHECK(notes[0].find("CARRY8") != std::string::npos);
  }
  f.cells.erase("CARRY4");
  f.cells["CARRY8"] = 2; // a Yosys that maps to CARRY8: nothing to say
  CHECK(backend::synth_notes("xcup", f).empty());
}

TEST_CASE("lut model: adder bits where both operands are signals, shifted-in zeros excluded") {
  Netlist net;
  NetRef a = net.input(0, Interval{0, 255, 0});    // unsigned 8 bits
  NetRef b = net.input(1, Interval{-128, 127, 0}); // signed 8 bits
  // a + (b << 3): bits 0..2 come from a alone; 3..7 both; 8..10 a's zero extension against b;
  // b's sign extension above bit 10 against a's zeros.
  NetRef s = net.add(a, NetRef{b.node, b.f - 3});
  REQUIRE(!s.zero());
  const NetNode &n = net.node(s);
  backend::LutBits bits = backend::node_lut_bits(net, static_cast<size_t>(s.node));
  CHECK(n.op == NetOp::Add);
  CHECK(bits[backend::kCarry2] == 5);
  CHECK(bits[backend::kCarry1] == n.width() - 5);
  CHECK(bits[backend::kMux] == 0);
  NetRef r = net.relu(b);
  backend::LutBits rb = backend::node_lut_bits(net, static_cast<size_t>(r.node));
  CHECK(rb[backend::kMux] == net.node(r).width());
}
