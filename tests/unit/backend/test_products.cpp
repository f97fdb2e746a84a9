// Products of two run-time values in hardware: Mul and MatMul lower to multipliers (NetOp::Mul)
// that equal the emulator on random vectors, written as shift-and-add logic, counted in the
// report, and a product with a constant stays shift-and-add without a multiplier.
#include "backend/emit.h"
#include "fixed_test_util.h"

#include <doctest/doctest.h>

#include <cstdlib>

using namespace hgqc;
using hgqc::test::ModelBuilder;

namespace {
// Emits g with 4000 check vectors (the netlist against the emulator: CheckFailed on any
// difference) and returns the design.
// `rom_bits`: the ROM-cone limit (rom_cones.cpp; 0: no ROM cones).
backend::EmittedDesign emit_checked(const Graph &g, const char *depth = nullptr,
                                    int rom_bits = backend::CmvmLowerOptions{}.rom_cone_bits) {
  RangeAnalysis ra = analyze_ranges(g);
  backend::EmitOptions eo;
  eo.check_vectors = 4000;
  eo.cmvm.rom_cone_bits = rom_bits;
  if (depth)
    eo.pipeline.max_adder_depth = std::atoi(depth);
  return backend::emit_design(g, ra, eo);
}

int mul_nodes(const Netlist &net) { return hgqc::test::count_net_ops(net, NetOp::Mul); }
} // namespace

TEST_CASE("products: Mul of two run-time values of every sign is a multiplier per element") {
  ModelBuilder b;
  b.input("a_in", {-1, 5}).input("b_in", {-1, 5});
  // a: s4 (f 1), u3, s3 (f 2), u1, s1; b: u1, s1, s5 (f 1), s4 (f 2), u6.
  hgqc::test::quant(b, "a_in", "a", {5}, {1, 0, 1, 0, 1}, {2, 3, 0, 1, 0}, {1, 0, 2, 0, 0});
  hgqc::test::quant(b, "b_in", "b", {5}, {0, 1, 1, 1, 0}, {1, 0, 3, 2, 6}, {0, 0, 1, 2, 0});
  b.node("Mul", {"a", "b"}, {"y"}, "mul");
  b.output("y");
  Graph g = b.import();
  for (const char *depth : {static_cast<const char *>(nullptr), "1"}) {
    backend::EmittedDesign d = emit_checked(g, depth);
    CHECK(mul_nodes(d.net) == 5);
    CHECK(d.total.multipliers == 5);
    CHECK(d.verilog.find(" * ") == std::string::npos); // shift-and-add, no `*`
    CHECK(d.verilog.find("_pp0 = ") != std::string::npos);
    CHECK(d.total.bits[backend::kMulBits] > 0);
    if (depth)
      CHECK(d.sched.stages > 1);
  }
}

TEST_CASE("products: MatMul of two run-time values sums multipliers per output") {
  ModelBuilder b;
  b.input("a_in", {-1, 2, 3}).input("b_in", {-1, 3, 2});
  hgqc::test::quant(b, "a_in", "a", {}, {1}, {2}, {1});
  hgqc::test::quant(b, "b_in", "b", {}, {0}, {3}, {0});
  b.node("MatMul", {"a", "b"}, {"y"}, "mm");
  b.output("y");
  Graph g = b.import();
  backend::EmittedDesign d = emit_checked(g, "2", 0);
  CHECK(mul_nodes(d.net) == 12); // 2 x 2 outputs, 3 products each
  CHECK(d.total.multipliers == 12);
  // Each product reads 7 input bits: with ROM cones, the LUT model prices a 128-entry ROM
  // below the 4 x 3-bit multiplier, and the products become ROMs (still exact: checked).
  backend::EmittedDesign r = emit_checked(g, "2");
  CHECK(mul_nodes(r.net) == 0);
  CHECK(hgqc::test::count_net_ops(r.net, NetOp::Table) == 12);
  CHECK(r.total.luts < d.total.luts);
}

TEST_CASE("products: a Mul by a constant stays shift-and-add, without a multiplier") {
  ModelBuilder b;
  b.input("a_in", {-1, 3});
  hgqc::test::quant(b, "a_in", "a", {}, {1}, {3}, {2});
  b.init("c", {3}, {0.75, -3, 5});
  b.node("Mul", {"a", "c"}, {"y"}, "mul");
  b.output("y");
  backend::EmittedDesign d = emit_checked(b.import());
  CHECK(mul_nodes(d.net) == 0);
  CHECK(d.total.multipliers == 0);
}
