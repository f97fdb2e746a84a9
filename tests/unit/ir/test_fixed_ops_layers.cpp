// Fixed point of the layer ops (Neg, Abs, PRelu, Pad, Resize, Slice): exact intervals by hand, the
// emulator against the float evaluator bit for bit, the netlist against the emulator
// (emit_design's check vectors), and the refusals.
#include "backend/emit.h"
#include "fixed_test_util.h"

#include <doctest/doctest.h>

using namespace hgqc;
using namespace hgqc::test;

namespace {
const MatchOptions kRandom{.trials = 20, .lo = -10.0, .hi = 10.0, .max_batch = 3, .seed = 99};

// x [N,4] with element formats fixed<1,2,2> ([-16,15] * 2^-2), fixed<1,3,4> ([-128,127] *
// 2^-4), fixed<0,1,0> ([0,1]) and a pruned one (the constant 0).
ModelBuilder vector_model(int opset = 13) {
  ModelBuilder b(opset);
  b.input("xin", {1, 4});
  quant(b, "xin", "x", {4}, {1, 1, 0, 0}, {2, 3, 1, 0}, {2, 4, 0, 0});
  return b;
}

// x [N,1,2,3] in fixed<1,2,1> ([-8,7] * 2^-1), per element.
ModelBuilder image_model(int opset = 13) {
  ModelBuilder b(opset);
  b.input("xin", {1, 1, 2, 3});
  quant(b, "xin", "x", {}, {1}, {2}, {1});
  return b;
}

// The emulator against the float evaluator, then the netlist against the emulator.
void check_exact(const Graph &g) {
  check_matches_float(g, kRandom);
  backend::EmitOptions eo;
  eo.check_vectors = 300;
  RangeAnalysis ra = analyze_ranges(g);
  CHECK_NOTHROW(backend::emit_design(g, ra, eo));
}
} // namespace

TEST_CASE("fixed ops: Neg mirrors the interval, Abs folds it: both exact in hardware") {
  ModelBuilder b = vector_model();
  b.node("Neg", {"x"}, {"n"});
  b.node("Abs", {"x"}, {"a"});
  b.node("Abs", {"n"}, {"an"});
  b.output("n").output("a").output("an");
  Graph g = b.import();
  RangeAnalysis ra = analyze_ranges(g);
  check_range(g, ra, "n", {1, 4}, {iv(-15, 16, 2), iv(-127, 128, 4), iv(-1, 0, 0), iv(0, 0, 0)});
  check_range(g, ra, "a", {1, 4}, {iv(0, 16, 2), iv(0, 128, 4), iv(0, 1, 0), iv(0, 0, 0)});
  check_range(g, ra, "an", {1, 4}, {iv(0, 16, 2), iv(0, 128, 4), iv(0, 1, 0), iv(0, 0, 0)});
  check_exact(g);
}

TEST_CASE("fixed ops: PRelu is the leaky ramp of each element's constant slope") {
  ModelBuilder b = vector_model();
  // 0.25 = 1 * 2^-2 (max(x, x/4) in hardware), -2 (relu(x) + 2 relu(-x)), 0.75, 3.
  b.init("s", {4}, {0.25, -2, 0.75, 3});
  b.node("PRelu", {"x", "s"}, {"y"});
  b.output("y");
  Graph g = b.import();
  RangeAnalysis ra = analyze_ranges(g);
  // x0 in [-16, 15] * 2^-2: negative side [-16, -1] * 1 on 2^-4, positive [0, 15 * 4].
  // x1 in [-128, 127] * 2^-4 times -2: [2, 256] * 2^-4 below 0, [0, 127] above.
  // x2 in [0, 1] never negative: itself. x3 pruned: zero.
  check_range(g, ra, "y", {1, 4}, {iv(-16, 60, 4), iv(0, 256, 4), iv(0, 1, 0), iv(0, 0, 0)});
  check_exact(g);
  // LeakyRelu with the same slope gives the same ranges element by element.
  ModelBuilder l = vector_model();
  auto &n = l.node("LeakyRelu", {"x"}, {"y"});
  attr_f(n, "alpha", 0.25f);
  l.output("y");
  Graph gl = l.import();
  CHECK(range_of(gl, analyze_ranges(gl), "y").el[0] == iv(-16, 60, 4));
}

TEST_CASE("fixed ops: PRelu's slope must be a short constant") {
  {
    ModelBuilder b = vector_model();
    b.input("sin", {1, 4});
    quant(b, "sin", "s", {}, {1}, {1}, {3});
    b.node("PRelu", {"x", "s"}, {"y"}, "pr");
    b.output("y");
    CHECK(contains(range_error(b.import()), "node 'pr' (PRelu): input 'slope' is computed at run "
                                            "time; in fixed point it must be a constant"));
  }
  {
    ModelBuilder b = vector_model();
    b.init("s", {4}, {0x1p-62, 0.5, 0.5, 0.5});
    b.node("PRelu", {"x", "s"}, {"y"}, "pr");
    b.output("y");
    CHECK(contains(range_error(b.import()), "node 'pr' (PRelu): slope element"));
    CHECK(contains(range_error(b.import()), "makes the output wider than"));
  }
}

TEST_CASE("fixed ops: Pad copies, the pad value keeps its own exact interval") {
  for (const char *mode : {"constant", "edge", "reflect"}) {
    CAPTURE(mode);
    ModelBuilder b = image_model();
    b.init("p", {8}, {0, 0, 1, 0, 0, 0, 0, 1}, true).init("v", {}, {0.75});
    attr_s(b.node("Pad", {"x", "p", "v"}, {"y"}), "mode", mode);
    b.output("y");
    Graph g = b.import();
    RangeAnalysis ra = analyze_ranges(g);
    const ValueRange &y = range_of(g, ra, "y");
    REQUIRE(y.dims == Dims{1, 1, 3, 4});
    // Element (0, 0, 1, 0) copies x (0, 0, 0, 0); (0, 0, 0, 0) is the value 3 * 2^-2 or a copy.
    CHECK(y.el[4] == iv(-8, 7, 1));
    CHECK(y.el[0] == (std::string(mode) == "constant" ? iv(3, 3, 2) : iv(-8, 7, 1)));
    check_exact(g);
  }
  // ZeroPad2d: the pad elements are the constant zero (no bits in hardware).
  ModelBuilder b = image_model();
  b.init("p", {8}, {0, 0, 1, 1, 0, 0, 1, 1}, true);
  b.node("Pad", {"x", "p"}, {"y"});
  b.output("y");
  Graph g = b.import();
  RangeAnalysis ra = analyze_ranges(g);
  CHECK(range_of(g, ra, "y").el[0].zero());
  check_exact(g);
}

TEST_CASE("fixed ops: Resize nearest copies the nearest element") {
  ModelBuilder b = image_model();
  b.init("roi", {0}, {}).init("s", {4}, {1, 1, 2, 1.5});
  auto &n = b.node("Resize", {"x", "roi", "s"}, {"y"});
  attr_s(n, "coordinate_transformation_mode", "half_pixel");
  attr_s(n, "nearest_mode", "round_prefer_ceil");
  b.output("y");
  Graph g = b.import();
  RangeAnalysis ra = analyze_ranges(g);
  CHECK(range_of(g, ra, "y").dims == Dims{1, 1, 4, 4});
  check_exact(g);
}

TEST_CASE("fixed ops: padding or resizing the batch dimension is refused") {
  {
    ModelBuilder b = image_model();
    b.init("p", {8}, {1, 0, 0, 0, 0, 0, 0, 0}, true);
    b.node("Pad", {"x", "p"}, {"y"}, "pad0");
    b.output("y");
    CHECK(contains(range_error(b.import()),
                   "node 'pad0' (Pad): the op moves or merges the batch dimension"));
  }
  {
    ModelBuilder b = image_model();
    b.init("roi", {0}, {}).init("s", {4}, {2, 1, 1, 1});
    b.node("Resize", {"x", "roi", "s"}, {"y"}, "rs");
    b.output("y");
    CHECK(contains(range_error(b.import()),
                   "node 'rs' (Resize): the op moves or merges the batch dimension"));
  }
}

TEST_CASE("fixed ops: Slice copies the selected elements, slicing the batch is refused") {
  {
    ModelBuilder b = image_model();
    b.init("st", {2}, {1, -1}, true).init("en", {2}, {100, -100}, true);
    b.init("ax", {2}, {3, 2}, true).init("sp", {2}, {1, -1}, true);
    b.node("Slice", {"x", "st", "en", "ax", "sp"}, {"y"});
    b.output("y");
    Graph g = b.import();
    RangeAnalysis ra = analyze_ranges(g);
    CHECK(range_of(g, ra, "y").dims == Dims{1, 1, 2, 2});
    check_exact(g);
  }
  ModelBuilder b = image_model();
  b.init("st", {1}, {0}, true).init("en", {1}, {1}, true);
  b.node("Slice", {"x", "st", "en"}, {"y"}, "sl");
  b.output("y");
  CHECK(contains(range_error(b.import()),
                 "node 'sl' (Slice): the op moves or merges the batch dimension"));
}
