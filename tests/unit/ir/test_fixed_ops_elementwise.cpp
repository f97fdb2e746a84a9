// Unit tests of the fixed-point hooks of the elementwise and copy ops (Add, Sub, Mul, Div,
// Relu, LeakyRelu, Clip, Reshape, Flatten, Transpose, Squeeze, Unsqueeze, Concat, Identity,
// Dropout): exact intervals on hand-computed cases, the emulator against the float
// evaluator bit for bit, and the refusals.
#include "fixed_test_util.h"

#include <doctest/doctest.h>

#include <random>

using namespace hgqc;
using namespace hgqc::test;

namespace {
// The elementwise tests: 20 batches of 1..3 samples with values in [-10, 10].
const MatchOptions kElementwise{
    .trials = 20, .lo = -10.0, .hi = 10.0, .max_batch = 3, .seed = 1234};

// The elementwise test input: x [N,4] with element formats fixed<1,2,2> ([-16,15] * 2^-2),
// fixed<1,3,4> ([-128,127] * 2^-4), fixed<0,1,0> ([0,1]) and a pruned one (the constant 0);
// y [N,4] with fixed<1,1,3> ([-16,15] * 2^-3) everywhere.
ModelBuilder elementwise_model(int opset = 13) {
  ModelBuilder b(opset);
  b.input("xin", {1, 4}).input("yin", {1, 4});
  quant(b, "xin", "x", {4}, {1, 1, 0, 0}, {2, 3, 1, 0}, {2, 4, 0, 0});
  quant(b, "yin", "y", {}, {1}, {1}, {3});
  return b;
}

} // namespace

TEST_CASE("fixed ops: Add and Sub align to the finer exponent and ignore pruned terms") {
  ModelBuilder b = elementwise_model();
  b.init("c", {4}, {0.5, -3, 0, 2});
  b.node("Add", {"x", "y"}, {"add"});
  b.node("Sub", {"x", "y"}, {"sub"});
  b.node("Add", {"x", "c"}, {"addc"});
  b.node("Sub", {"c", "x"}, {"subc"});
  b.output("add").output("sub").output("addc").output("subc");
  Graph g = b.import();
  RangeAnalysis ra = analyze_ranges(g);
  check_range(g, ra, "add", {1, 4},
              {iv(-48, 45, 3), iv(-160, 157, 4), iv(-16, 23, 3), iv(-16, 15, 3)});
  check_range(g, ra, "sub", {1, 4},
              {iv(-47, 46, 3), iv(-158, 159, 4), iv(-15, 24, 3), iv(-15, 16, 3)});
  // c = [1 * 2^-1, -3, 0, 1 * 2^1]: the zero term and the pruned x[3] leave the other side.
  check_range(g, ra, "addc", {1, 4}, {iv(-14, 17, 2), iv(-176, 79, 4), iv(0, 1, 0), iv(1, 1, -1)});
  check_range(g, ra, "subc", {1, 4}, {iv(-13, 18, 2), iv(-175, 80, 4), iv(-1, 0, 0), iv(1, 1, -1)});
  check_matches_float(g, kElementwise);
}

TEST_CASE("fixed ops: binary ops broadcast constants over and around the batch") {
  ModelBuilder b = elementwise_model();
  b.init("c", {2, 1, 4}, {0.25, 1.5, -2, 0.75, 3, -0.125, 1, 0});
  b.init("d", {1}, {-4});
  b.node("Add", {"x", "c"}, {"a"}); // [2,N,4]: the batch is not leading, which Add allows
  b.node("Mul", {"a", "y"}, {"m"});
  b.node("Div", {"m", "d"}, {"q"});
  b.output("q");
  Graph g = b.import();
  RangeAnalysis ra = analyze_ranges(g);
  CHECK(range_of(g, ra, "q").dims == Dims{2, 1, 4});
  // Element (1, 0, 1): x[1] + -0.125 = [-130, 125] * 2^-4, times y: [-2000, 2080] * 2^-7,
  // divided by -4 = -1 * 2^2: [-2080, 2000] * 2^-9.
  CHECK(range_of(g, ra, "q").el[5] == iv(-2080, 2000, 9));
  check_matches_float(g, kElementwise);
}

TEST_CASE("fixed ops: Mul is the exact product of its operands' corners") {
  ModelBuilder b = elementwise_model();
  b.init("c", {4}, {-0.75, 0, 5, 1});
  b.node("Mul", {"x", "y"}, {"m"});
  b.node("Mul", {"c", "x"}, {"mc"});
  b.output("m").output("mc");
  Graph g = b.import();
  RangeAnalysis ra = analyze_ranges(g);
  check_range(g, ra, "m", {1, 4},
              {iv(-240, 256, 5), iv(-2032, 2048, 7), iv(-16, 15, 3), iv(0, 0, 3)});
  // -0.75 = -3 * 2^-2, 0, 5, 1.
  check_range(g, ra, "mc", {1, 4}, {iv(-45, 48, 4), iv(0, 0, 4), iv(0, 5, 0), iv(0, 0, 0)});
  check_matches_float(g, kElementwise);
}

TEST_CASE("fixed ops: Div by +-2^e moves the exponent, run-time divisors are refused") {
  {
    ModelBuilder b = elementwise_model();
    b.init("c", {4}, {2, -0.25, 1, 8});
    b.node("Div", {"x", "c"}, {"d"});
    b.output("d");
    Graph g = b.import();
    RangeAnalysis ra = analyze_ranges(g);
    check_range(g, ra, "d", {1, 4}, {iv(-16, 15, 3), iv(-127, 128, 2), iv(0, 1, 0), iv(0, 0, 3)});
    check_matches_float(g, kElementwise);
  }
  auto div_error = [](std::vector<double> c, bool by_value) {
    ModelBuilder b = elementwise_model();
    b.init("c", {4}, std::move(c));
    b.node("Div", {by_value ? "y" : "x", by_value ? "x" : "c"}, {"d"}, "div");
    b.output("d");
    return range_error(b.import());
  };
  // Other constants multiply by a quantized reciprocal (test_fixed_ops_average.cpp).
  CHECK(div_error({2, 3, 0.75, 1}, false).empty());
  std::string e = div_error({1, 1, 0, 1}, false);
  CHECK(contains(e, "node 'div'"));
  CHECK(contains(e, "division by zero (divisor element 2)"));
  CHECK(contains(div_error({1, 1, 1, 1}, true),
                 "division of two values computed at run time has no exact fixed-point form"));
  ModelBuilder b = elementwise_model();
  b.init("c", {4}, {1, 2, 4, 8});
  b.node("Div", {"c", "x"}, {"d"});
  b.output("d");
  CHECK(contains(range_error(b.import()), "division by a value computed at run time"));
}

TEST_CASE("fixed ops: Relu and LeakyRelu") {
  ModelBuilder b = elementwise_model();
  b.node("Relu", {"x"}, {"r"});
  attr_f(b.node("LeakyRelu", {"x"}, {"l8"}), "alpha", 0.125f);
  attr_f(b.node("LeakyRelu", {"x"}, {"l3"}), "alpha", 3.0f);
  attr_f(b.node("LeakyRelu", {"x"}, {"ln"}), "alpha", -0.5f);
  attr_f(b.node("LeakyRelu", {"x"}, {"lz"}), "alpha", 0.0f);
  attr_f(b.node("LeakyRelu", {"x"}, {"l3f"}), "alpha", 0.3f); // 5033165 * 2^-24
  b.node("LeakyRelu", {"x"}, {"ld"});                         // ONNX default: float32 0.01
  b.output("r").output("l8").output("l3").output("ln").output("lz").output("l3f").output("ld");
  Graph g = b.import();
  RangeAnalysis ra = analyze_ranges(g);
  check_range(g, ra, "r", {1, 4}, {iv(0, 15, 2), iv(0, 127, 4), iv(0, 1, 0), iv(0, 0, 0)});
  // alpha = 1 * 2^-3: the positive side moves to exponent f + 3, x >= 0 elements stay.
  check_range(g, ra, "l8", {1, 4}, {iv(-16, 120, 5), iv(-128, 1016, 7), iv(0, 1, 0), iv(0, 0, 0)});
  check_range(g, ra, "l3", {1, 4}, {iv(-48, 15, 2), iv(-384, 127, 4), iv(0, 1, 0), iv(0, 0, 0)});
  // alpha = -1 * 2^-1: negative inputs give positive outputs.
  check_range(g, ra, "ln", {1, 4}, {iv(0, 30, 3), iv(0, 254, 5), iv(0, 1, 0), iv(0, 0, 0)});
  check_range(g, ra, "lz", {1, 4}, {iv(0, 15, 2), iv(0, 127, 4), iv(0, 1, 0), iv(0, 0, 0)});
  check_range(g, ra, "l3f", {1, 4},
              {iv(-16 * 5033165LL, 15LL << 24, 26), iv(-128 * 5033165LL, 127LL << 24, 28),
               iv(0, 1, 0), iv(0, 0, 0)});
  CHECK(range_of(g, ra, "ld").el[0].f == 2 + *exact_exponent(0.01f));
  check_matches_float(g, kElementwise);

  // A long alpha on a wide input needs more than 62 bits.
  ModelBuilder w;
  w.input("xin", {1, 2});
  quant(w, "xin", "x", {}, {1}, {30}, {10});
  attr_f(w.node("LeakyRelu", {"x"}, {"l"}, "leaky"), "alpha", 0.01f);
  w.output("l");
  std::string e = range_error(w.import());
  CHECK(contains(e, "node 'leaky'"));
  CHECK(contains(e, "the output needs more than 62 bits"));
  CHECK(contains(e, "with alpha = 0.01 (exactly 5368709 * 2^-29)"));
}

TEST_CASE("fixed ops: Clip clamps exactly to constant bounds") {
  // Opset 13: bounds as constant inputs (turned into attributes at import).
  ModelBuilder b = elementwise_model();
  b.init("lo", {}, {-1.5}).init("hi", {}, {2.25}).init("zero", {}, {0}).init("six", {}, {6});
  b.node("Clip", {"x", "lo", "hi"}, {"c"});
  b.node("Clip", {"x", "zero", "six"}, {"relu6"});
  b.node("Clip", {"x", "", "hi"}, {"upper"});
  b.output("c").output("relu6").output("upper");
  Graph g = b.import();
  RangeAnalysis ra = analyze_ranges(g);
  // -1.5 = -3 * 2^-1, 2.25 = 9 * 2^-2.
  check_range(g, ra, "c", {1, 4}, {iv(-6, 9, 2), iv(-24, 36, 4), iv(0, 1, 0), iv(0, 0, 0)});
  check_range(g, ra, "relu6", {1, 4}, {iv(0, 15, 2), iv(0, 96, 4), iv(0, 1, 0), iv(0, 0, 0)});
  check_range(g, ra, "upper", {1, 4}, {iv(-16, 9, 2), iv(-128, 36, 4), iv(0, 1, 0), iv(0, 0, 0)});
  check_matches_float(g, kElementwise);

  // Opset 6: bounds as attributes; bounds finer than x, and x entirely below the bound.
  ModelBuilder a = elementwise_model(6);
  attr_f(a.node("Clip", {"x"}, {"half"}), "min", 0.5f);
  auto &n = a.node("Clip", {"x"}, {"two"});
  attr_f(n, "min", 2.0f);
  attr_f(n, "max", 3.0f);
  auto &m = a.node("Clip", {"y"}, {"fine"}); // bounds on a finer grid than y's 2^-3
  attr_f(m, "min", -0.6875f);                // -11 * 2^-4
  attr_f(m, "max", 0.59375f);                // 19 * 2^-5
  a.output("half").output("two").output("fine");
  Graph ga = a.import();
  RangeAnalysis rb = analyze_ranges(ga);
  // 0.5 = 1 * 2^-1: on x[2] (0 or 1) the output is 0.5 or 1.
  check_range(ga, rb, "half", {1, 4}, {iv(2, 15, 2), iv(8, 127, 4), iv(1, 2, 1), iv(1, 1, 1)});
  // 2 = 1 * 2^1, 3 = 3 * 2^0: x[2] and the pruned x[3] always give 2.
  check_range(ga, rb, "two", {1, 4}, {iv(8, 12, 2), iv(32, 48, 4), iv(1, 1, -1), iv(1, 1, -1)});
  check_range(ga, rb, "fine", {1, 4},
              {iv(-22, 19, 5), iv(-22, 19, 5), iv(-22, 19, 5), iv(-22, 19, 5)});
  check_matches_float(ga, kElementwise);

  // A bound computed at run time has no fixed-point form.
  ModelBuilder d;
  d.input("xin", {1, 4}).input("min_in", {1});
  quant(d, "xin", "x", {}, {1}, {2}, {2});
  quant(d, "min_in", "m", {}, {1}, {2}, {2});
  d.node("Clip", {"x", "m"}, {"c"}, "clip");
  d.output("c");
  std::string e = range_error(d.import());
  CHECK(contains(e, "node 'clip'"));
  CHECK(contains(e, "bound 'min' is computed at run time"));
}

namespace {
// x [N,2,3] with element (r, c) in fixed<1, r + c + 1, r + 2c> (every element a different
// interval), and x2 [N,2,1] in fixed<0,2,1>.
ModelBuilder copy_model(int64_t declared_batch = 1) {
  ModelBuilder b;
  b.input("xin", {declared_batch, 2, 3}).input("x2in", {declared_batch, 2, 1});
  quant(b, "xin", "x", {2, 3}, {1, 1, 1, 1, 1, 1}, {1, 2, 3, 2, 3, 4}, {0, 2, 4, 1, 3, 5});
  quant(b, "x2in", "x2", {}, {0}, {2}, {1});
  return b;
}
} // namespace

TEST_CASE("fixed ops: copy ops move intervals with their elements") {
  ModelBuilder b = copy_model();
  b.init("s6", {2}, {-1, 6}, true).init("s32", {3}, {0, 3, 2}, true);
  b.node("Reshape", {"x", "s6"}, {"flat"});
  b.node("Reshape", {"x", "s32"}, {"r32"});
  b.node("Flatten", {"x"}, {"fl"});
  ModelBuilder::attr_ints(b.node("Transpose", {"x"}, {"t"}), "perm", {0, 2, 1});
  b.init("ax1", {1}, {1}, true).init("ax1b", {1}, {1}, true);
  b.node("Unsqueeze", {"x", "ax1"}, {"u"});
  b.node("Squeeze", {"u", "ax1b"}, {"sq"});
  ModelBuilder::attr_int(b.node("Concat", {"x", "x2", "t2"}, {"cat"}), "axis", 2);
  ModelBuilder::attr_ints(b.node("Transpose", {"x2"}, {"t2"}), "perm", {0, 1, 2});
  b.node("Identity", {"x"}, {"id"});
  b.node("Dropout", {"x"}, {"dr"});
  for (const char *o : {"flat", "r32", "fl", "t", "sq", "cat", "id", "dr"})
    b.output(o);
  Graph g = b.import();
  RangeAnalysis ra = analyze_ranges(g);
  const ValueRange &x = range_of(g, ra, "x"), &x2 = range_of(g, ra, "x2");
  REQUIRE(x.dims == Dims{1, 2, 3});
  CHECK(x.el[4] == iv(-(1 << 6), (1 << 6) - 1, 3)); // fixed<1,3,3>
  for (const char *o : {"flat", "r32", "fl", "sq", "id", "dr"})
    check_range(g, ra, o, range_of(g, ra, o).dims, x.el);
  CHECK(range_of(g, ra, "flat").dims == Dims{1, 6});
  CHECK(range_of(g, ra, "r32").dims == Dims{1, 3, 2});
  CHECK(range_of(g, ra, "sq").dims == Dims{1, 2, 3});
  std::vector<Interval> t, cat;
  for (int c = 0; c < 3; ++c)
    for (int r = 0; r < 2; ++r)
      t.push_back(x.el[r * 3 + c]);
  check_range(g, ra, "t", {1, 3, 2}, t);
  for (int r = 0; r < 2; ++r) {
    for (int c = 0; c < 3; ++c)
      cat.push_back(x.el[r * 3 + c]);
    cat.push_back(x2.el[r]);
    cat.push_back(x2.el[r]);
  }
  check_range(g, ra, "cat", {1, 2, 5}, cat);
  check_matches_float(g, kElementwise);
}

TEST_CASE("fixed ops: copy ops that move or merge the batch are refused") {
  auto error_of = [](const std::function<void(ModelBuilder &)> &add) {
    ModelBuilder b = copy_model(2); // declared batch 2: no rewrite of batch-1 idioms
    add(b);
    b.output("y");
    return range_error(b.import());
  };
  std::vector<std::pair<std::string, std::function<void(ModelBuilder &)>>> cases = {
      {"Transpose",
       [](ModelBuilder &b) {
         ModelBuilder::attr_ints(b.node("Transpose", {"x"}, {"y"}, "op"), "perm", {1, 0, 2});
       }},
      {"Flatten",
       [](ModelBuilder &b) {
         ModelBuilder::attr_int(b.node("Flatten", {"x"}, {"y"}, "op"), "axis", 0);
       }},
      {"Concat",
       [](ModelBuilder &b) {
         ModelBuilder::attr_int(b.node("Concat", {"x", "x"}, {"y"}, "op"), "axis", 0);
       }},
      {"Unsqueeze",
       [](ModelBuilder &b) {
         b.init("ax", {1}, {0}, true);
         b.node("Unsqueeze", {"x", "ax"}, {"y"}, "op");
       }},
      {"Reshape",
       [](ModelBuilder &b) {
         b.init("s", {2}, {1, -1}, true);
         b.node("Reshape", {"x", "s"}, {"y"}, "op");
       }},
      {"Squeeze",
       [](ModelBuilder &b) {
         b.init("ax", {1}, {0}, true);
         b.node("Squeeze", {"x", "ax"}, {"y"}, "op");
       }},
  };
  for (auto &[name, add] : cases) {
    INFO(name);
    std::string e = error_of(add);
    CHECK(contains(e, "node 'op'"));
    CHECK(contains(e, "the batch must stay the leading dimension"));
  }
  std::string e = error_of([](ModelBuilder &b) { b.node("Dropout", {"x"}, {"y", "mask"}, "op"); });
  CHECK(contains(e, "the mask output has no fixed-point form"));
}
