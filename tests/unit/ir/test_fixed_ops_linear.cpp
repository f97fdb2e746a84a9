// Unit tests of the fixed-point hooks of the linear ops and the pools (MatMul, Gemm, Conv,
// MaxPool, AveragePool, GlobalAveragePool): exact intervals and EBOPs on hand-computed
// cases, the emulator against the float evaluator bit for bit, and the refusals.
#include "fixed_test_util.h"

#include <doctest/doctest.h>

#include <random>

using namespace hgqc;
using namespace hgqc::test;

namespace {
int64_t numel(const std::vector<int64_t> &d) {
  int64_t n = 1;
  for (int64_t x : d)
    n *= x;
  return n;
}

// Random per-element formats: k in {0, 1}, width 1..max_bits, i in [-1, 2]; with
// `prune`, about one element in five is pruned (width <= 0).
void random_quant(ModelBuilder &b, std::mt19937 &rng, const std::string &x, const std::string &y,
                  std::vector<int64_t> dims, int max_bits = 6, bool prune = true) {
  std::uniform_int_distribution<int> coin(0, 1), five(0, 4), bits(1, max_bits), ii(-1, 2),
      neg(-2, 0);
  std::vector<double> k, i, f;
  for (int64_t e = 0; e < numel(dims); ++e) {
    int kk = coin(rng), w = prune && five(rng) == 0 ? neg(rng) : bits(rng), iv = ii(rng);
    k.push_back(kk);
    i.push_back(iv);
    f.push_back(w - kk - iv);
  }
  quant(b, x, y, std::move(dims), std::move(k), std::move(i), std::move(f));
}

// A quantized random constant: initializer `name`_w of shape dims, then FixedQuant `name`.
void random_weight(ModelBuilder &b, std::mt19937 &rng, const std::string &name,
                   std::vector<int64_t> dims, bool prune = true) {
  std::uniform_real_distribution<double> u(-3, 3);
  std::vector<double> w;
  for (int64_t e = 0; e < numel(dims); ++e)
    w.push_back(u(rng));
  b.init(name + "_w", dims, w);
  random_quant(b, rng, name + "_w", name, dims, 6, prune);
}

double ebops_of(const Graph &g, const RangeAnalysis &ra, const std::string &node) {
  std::vector<double> e = node_ebops(g, ra);
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (g.nodes[i].name == node)
      return e[i];
  FAIL("no node " << node);
  return 0;
}

// x [N,3]: x0 fixed<1,2,2> ([-16, 15] * 2^-2), x1 fixed<0,1,3> ([0, 15] * 2^-3), x2 pruned
// with a large f (fixed<0,-4,4>). W [3,2] = [[0.75, -0.5], [1.5, 0], [1.25, 1]] quantized per
// element: 3 * 2^-2, -1 * 2^-1, 3 * 2^-1, 0 (at f = 5), 10 * 2^-3, 4 * 2^-2.
ModelBuilder small_dense_model() {
  ModelBuilder b;
  b.input("xin", {1, 3});
  quant(b, "xin", "x", {3}, {1, 0, 0}, {2, 1, -4}, {2, 3, 4});
  b.init("w_real", {3, 2}, {0.75, -0.5, 1.5, 0, 1.25, 1});
  quant(b, "w_real", "w", {3, 2}, {1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 1}, {2, 1, 1, 5, 3, 2});
  return b;
}
} // namespace

TEST_CASE("fixed linear: MatMul sums aligned exact products: pruned terms cost nothing") {
  ModelBuilder b = small_dense_model();
  b.node("MatMul", {"x", "w"}, {"y"}, "mm");
  b.output("y");
  Graph g = b.import();
  RangeAnalysis ra = analyze_ranges(g);
  // Column 0: x0 * 3 * 2^-2 = [-48, 45] * 2^-4, x1 * 3 * 2^-1 = [0, 45] * 2^-4; the pruned
  // x2 (f = 4) times 10 * 2^-3 would have exponent 7 and must not widen the sum.
  // Column 1: x0 * -1 * 2^-1 = [-15, 16] * 2^-3; the zero weight (f = 5) and the pruned x2
  // are skipped.
  check_range(g, ra, "y", {1, 2}, {iv(-48, 90, 4), iv(-15, 16, 3)});
  // Widths: x = 5, 4, 0; w = 2, 1, 2, 0, 4, 3. EBOPs = 5*2 + 4*2 + 0*4 + 5*1 + 4*0 + 0*3.
  CHECK(ebops_of(g, ra, "mm") == 23.0);
  check_matches_float(g);

  // Every term pruned: the zero interval. Terms that are all zero except a bias.
  ModelBuilder z;
  z.input("xin", {1, 2});
  quant(z, "xin", "x", {2}, {1, 1}, {0, 0}, {-1, -1});
  z.init("w_real", {2, 2}, {1, 2, 3, 4});
  quant(z, "w_real", "w", {}, {1}, {3}, {0});
  z.init("c_real", {2}, {0.5, 0});
  quant(z, "c_real", "c", {}, {1}, {1}, {2});
  z.node("MatMul", {"x", "w"}, {"y"});
  ModelBuilder::attr_int(z.node("Gemm", {"x", "w", "c"}, {"yc"}), "transB", 1);
  z.output("y").output("yc");
  Graph gz = z.import();
  RangeAnalysis rz = analyze_ranges(gz);
  check_range(gz, rz, "y", {1, 2}, {iv(0, 0, 0), iv(0, 0, 0)});
  // The bias 0.5, declared on the grid 2^-2, sits on its own grid 2^-1 (weights stored on
  // their grid cost what their values need).
  check_range(gz, rz, "yc", {1, 2}, {iv(1, 1, 1), iv(0, 0, 0)});
  check_matches_float(gz);
}

TEST_CASE("fixed linear: Gemm with transB and bias: alpha and beta must be 1") {
  ModelBuilder b = small_dense_model();
  // W^T as B with transB; bias [2] = [0.375, -2] at f = 3: 3 * 2^-3, -16 * 2^-3.
  b.init("wt_real", {2, 3}, {0.75, 1.5, 1.25, -0.5, 0, 1});
  quant(b, "wt_real", "wt", {2, 3}, {1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 1}, {2, 1, 3, 1, 5, 2});
  b.init("c_real", {2}, {0.375, -2});
  quant(b, "c_real", "c", {}, {1}, {1}, {3});
  ModelBuilder::attr_int(b.node("Gemm", {"x", "wt", "c"}, {"y"}, "fc"), "transB", 1);
  b.output("y");
  Graph g = b.import();
  RangeAnalysis ra = analyze_ranges(g);
  // As for MatMul, plus the bias aligned: 3 * 2^-3 = 6 * 2^-4; -16 * 2^-3 (column 1, F = 3).
  check_range(g, ra, "y", {1, 2}, {iv(-42, 96, 4), iv(-31, 0, 3)});
  CHECK(ebops_of(g, ra, "fc") == 23.0); // the bias multiplies nothing
  check_matches_float(g);

  auto gemm_error = [](float alpha, float beta, bool bias) {
    ModelBuilder e = small_dense_model();
    e.init("c_real", {2}, {0.5, 1});
    quant(e, "c_real", "c", {}, {1}, {1}, {3});
    std::vector<std::string> in{"x", "w"};
    if (bias)
      in.push_back("c");
    auto &n = e.node("Gemm", in, {"y"}, "fc");
    attr_f(n, "alpha", alpha);
    attr_f(n, "beta", beta);
    e.output("y");
    return range_error(e.import());
  };
  std::string e = gemm_error(0.5f, 1.0f, true);
  CHECK(contains(e, "node 'fc'"));
  CHECK(contains(e, "alpha = 0.5"));
  CHECK(contains(e, "only alpha = 1 is supported"));
  CHECK(contains(gemm_error(1.0f, 2.0f, true), "only beta = 1 is supported"));
  CHECK(gemm_error(1.0f, 2.0f, false).empty()); // beta scales nothing without C
}

TEST_CASE("fixed linear: MatMul and Gemm equal the float evaluator bit for bit") {
  std::mt19937 rng(7);
  ModelBuilder b;
  b.input("xin", {1, 7}).input("x3in", {1, 2, 7}).input("ain", {1, 2, 3}).input("bin", {1, 3, 4});
  b.input("cin", {1, 5});
  random_quant(b, rng, "xin", "x", {7});
  random_quant(b, rng, "x3in", "x3", {2, 7});
  random_quant(b, rng, "ain", "a", {2, 3});
  random_quant(b, rng, "bin", "bb", {3, 4});
  random_quant(b, rng, "cin", "cv", {5});
  random_weight(b, rng, "w", {7, 5});
  random_weight(b, rng, "wt", {5, 7});
  random_weight(b, rng, "v", {7});
  random_weight(b, rng, "bias", {5});
  random_weight(b, rng, "bias2", {1, 5});
  random_weight(b, rng, "wl", {4, 7});
  random_weight(b, rng, "ca", {3, 4});
  random_weight(b, rng, "cb", {3, 5});
  b.node("MatMul", {"x", "w"}, {"mm"});   // [N,7] x [7,5]: the compiled plan
  b.node("MatMul", {"x3", "w"}, {"mm3"}); // [N,2,7] x [7,5]: rows inside a sample
  b.node("MatMul", {"x", "v"}, {"mv"});   // [N,7] x [7] -> [N]
  b.node("MatMul", {"a", "bb"}, {"mab"}); // both computed at run time: the general form
  b.init("sh", {3}, {-1, 7, 1}, true);
  b.node("Reshape", {"x", "sh"}, {"xcol"});  // [N,7,1]
  b.node("MatMul", {"wl", "xcol"}, {"mlx"}); // [4,7] x [N,7,1]: constant on the left
  ModelBuilder::attr_int(b.node("Gemm", {"x", "wt", "bias"}, {"g1"}), "transB", 1);
  b.node("Gemm", {"x", "w", "bias2"}, {"g2"});
  b.node("Gemm", {"x", "w", "cv"}, {"g3"}); // bias computed at run time: the general form
  // transA on constants: A = ca^T [4,3]... ca is [3,4], A' = ca^T is [4,3], B = cb [3,5].
  ModelBuilder::attr_int(b.node("Gemm", {"ca", "cb"}, {"g4"}), "transA", 1);
  for (const char *o : {"mm", "mm3", "mv", "mab", "mlx", "g1", "g2", "g3", "g4"})
    b.output(o);
  Graph g = b.import();
  check_matches_float(g);
}

TEST_CASE("fixed linear: a MatMul larger than one compiled chunk") {
  // 260 x 256 unpruned terms: more than the 2^16 terms of one plan chunk.
  std::mt19937 rng(11);
  ModelBuilder b;
  b.input("xin", {1, 260});
  random_quant(b, rng, "xin", "x", {260}, 4, false);
  random_weight(b, rng, "w", {260, 256}, false);
  b.node("MatMul", {"x", "w"}, {"y"});
  b.output("y");
  check_matches_float(b.import(), {.trials = 5});
}

TEST_CASE("fixed linear: Conv sums every position's own products exactly") {
  // x [N,1,4]: widths 3, 4, 0 (pruned), 2; w [1,1,2] widths 2, 3; pads 1, 0.
  ModelBuilder b;
  b.input("xin", {1, 1, 4});
  quant(b, "xin", "x", {4}, {1, 0, 1, 0}, {1, 2, -3, 1}, {1, 2, 2, 1}); // f = 1, 2, (2), 1
  b.init("w_real", {1, 1, 2}, {1.5, -0.75});
  quant(b, "w_real", "w", {2}, {1, 1}, {1, 1}, {1, 2}); // 3 * 2^-1, -3 * 2^-2
  b.init("c_real", {1}, {0.5});
  quant(b, "c_real", "c", {}, {0}, {1}, {1}); // 1 * 2^-1
  auto &n = b.node("Conv", {"x", "w", "c"}, {"y"}, "conv");
  ModelBuilder::attr_ints(n, "pads", {1, 0});
  b.output("y");
  Graph g = b.import();
  RangeAnalysis ra = analyze_ranges(g);
  // x0 = [-4, 3] * 2^-1, x1 = [0, 15] * 2^-2, x2 = 0, x3 = [0, 3] * 2^-1.
  // y0 = x0 * w1 + c:  [-9, 12] * 2^-3 + 4 * 2^-3 = [-5, 16] * 2^-3.
  // y1 = x0 * w0 + x1 * w1 + c: [-12, 9] * 2^-2 aligned to 2^-4: [-48, 36] * 2^-4;
  //      [-45, 0] * 2^-4; 8 * 2^-4: [-85, 44] * 2^-4.
  // y2 = x1 * w0 + x2 * w1 + c: [0, 45] * 2^-3 + 4 * 2^-3 = [4, 49] * 2^-3.
  // y3 = x2 * w0 + x3 * w1 + c: [-9, 0] * 2^-3 + 4 * 2^-3 = [-5, 4] * 2^-3.
  check_range(g, ra, "y", {1, 1, 4}, {iv(-5, 16, 3), iv(-85, 44, 4), iv(4, 49, 3), iv(-5, 4, 3)});
  // Widths x: 3, 4, 0, 2; w: 2, 3. Positions: x0*w1; x0*w0 + x1*w1; x1*w0 + x2*w1;
  // x2*w0 + x3*w1 = 9 + (6 + 12) + (8 + 0) + (0 + 6).
  CHECK(ebops_of(g, ra, "conv") == 41.0);
  check_matches_float(g);
}

TEST_CASE("fixed linear: Conv 1-D and 2-D equal the float evaluator bit for bit") {
  std::mt19937 rng(21);
  ModelBuilder b;
  b.input("x1in", {1, 4, 9}).input("x2in", {1, 3, 6, 5}).input("x4in", {1, 4, 5, 5});
  random_quant(b, rng, "x1in", "x1", {4, 9});
  random_quant(b, rng, "x2in", "x2", {3, 1, 1});
  random_quant(b, rng, "x4in", "x4", {4, 5, 5});
  // 1-D: two groups, pads, stride 2, dilation 2, bias.
  random_weight(b, rng, "w1", {6, 2, 3});
  random_weight(b, rng, "b1", {6});
  auto &c1 = b.node("Conv", {"x1", "w1", "b1"}, {"y1"});
  ModelBuilder::attr_int(c1, "group", 2);
  ModelBuilder::attr_ints(c1, "pads", {1, 2});
  ModelBuilder::attr_ints(c1, "strides", {2});
  ModelBuilder::attr_ints(c1, "dilations", {2});
  // 2-D: pads, strides (2, 1), bias.
  random_weight(b, rng, "w2", {4, 3, 3, 3});
  random_weight(b, rng, "b2", {4});
  auto &c2 = b.node("Conv", {"x2", "w2", "b2"}, {"y2"});
  ModelBuilder::attr_ints(c2, "pads", {1, 1, 1, 0});
  ModelBuilder::attr_ints(c2, "strides", {2, 1});
  // Depthwise 2-D with dilation and SAME_UPPER padding, no bias.
  random_weight(b, rng, "w3", {4, 1, 2, 3});
  auto &c3 = b.node("Conv", {"x4", "w3"}, {"y3"});
  ModelBuilder::attr_int(c3, "group", 4);
  ModelBuilder::attr_ints(c3, "dilations", {2, 1});
  attr_s(c3, "auto_pad", "SAME_UPPER");
  b.output("y1").output("y2").output("y3");
  check_matches_float(b.import());
}

TEST_CASE("fixed linear: MaxPool takes the exact maximum: padding never wins") {
  ModelBuilder h;
  h.input("xin", {1, 1, 3});
  // x0 fixed<1,2,1> = [-8, 7] * 2^-1, x1 pruned, x2 fixed<1,0,3> = [-8, 7] * 2^-3.
  quant(h, "xin", "x", {3}, {1, 1, 1}, {2, -1, 0}, {1, 0, 3});
  auto &m = h.node("MaxPool", {"x"}, {"y"}, "pool");
  ModelBuilder::attr_ints(m, "kernel_shape", {2});
  ModelBuilder::attr_ints(m, "pads", {1, 1});
  h.output("y");
  Graph hg = h.import();
  RangeAnalysis hr = analyze_ranges(hg);
  // Windows: {x0} (pad), {x0, x1 = 0}, {x1 = 0, x2}, {x2} (pad).
  check_range(hg, hr, "y", {1, 1, 4}, {iv(-8, 7, 1), iv(0, 7, 1), iv(0, 7, 3), iv(-8, 7, 3)});
  check_matches_float(hg);

  std::mt19937 rng(31);
  ModelBuilder b;
  b.input("xin", {1, 2, 7, 6}).input("x1in", {1, 3, 8});
  random_quant(b, rng, "xin", "x", {2, 7, 6});
  random_quant(b, rng, "x1in", "x1", {3, 8});
  auto &p1 = b.node("MaxPool", {"x"}, {"y1"});
  ModelBuilder::attr_ints(p1, "kernel_shape", {3, 3});
  ModelBuilder::attr_ints(p1, "strides", {2, 2});
  ModelBuilder::attr_ints(p1, "pads", {1, 1, 1, 1});
  auto &p2 = b.node("MaxPool", {"x"}, {"y2"});
  ModelBuilder::attr_ints(p2, "kernel_shape", {2, 3});
  ModelBuilder::attr_int(p2, "ceil_mode", 1);
  ModelBuilder::attr_ints(p2, "strides", {2, 2});
  ModelBuilder::attr_ints(p2, "dilations", {2, 1});
  auto &p3 = b.node("MaxPool", {"x1"}, {"y3"});
  ModelBuilder::attr_ints(p3, "kernel_shape", {3});
  ModelBuilder::attr_ints(p3, "pads", {2, 1});
  b.output("y1").output("y2").output("y3");
  Graph g = b.import();
  check_matches_float(g);
  // All inputs negative: a padded position taken as 0 would win at the borders.
  check_matches_float(g, {.trials = 6, .lo = -6.0, .hi = -0.5});
}

TEST_CASE("fixed linear: AveragePool moves the exact window sum's exponent") {
  ModelBuilder h;
  h.input("xin", {1, 1, 4});
  // f = 1, 2, 2 (pruned), 3: [-4, 3] * 2^-1, [0, 7] * 2^-2, 0, [-8, 7] * 2^-3.
  quant(h, "xin", "x", {4}, {1, 0, 1, 1}, {1, 1, -3, 0}, {1, 2, 2, 3});
  auto &a = h.node("AveragePool", {"x"}, {"y"}, "pool");
  ModelBuilder::attr_ints(a, "kernel_shape", {2});
  ModelBuilder::attr_ints(a, "strides", {2});
  h.output("y");
  Graph hg = h.import();
  RangeAnalysis hr = analyze_ranges(hg);
  // (x0 + x1) / 2 = [-8, 13] * 2^-2 / 2 = [-8, 13] * 2^-3; (0 + x3) / 2 = [-8, 7] * 2^-4.
  check_range(hg, hr, "y", {1, 1, 2}, {iv(-8, 13, 3), iv(-8, 7, 4)});
  // EBOPs: each addend its width, 3 + 3 + 0 (pruned) + 4.
  CHECK(ebops_of(hg, hr, "pool") == 10.0);
  check_matches_float(hg);

  std::mt19937 rng(41);
  ModelBuilder b;
  b.input("xin", {1, 2, 6, 5}).input("x1in", {1, 3, 8});
  random_quant(b, rng, "xin", "x", {2, 6, 5});
  random_quant(b, rng, "x1in", "x1", {3, 8});
  auto &p1 = b.node("AveragePool", {"x"}, {"y1"}); // windows of 4; the last column dropped
  ModelBuilder::attr_ints(p1, "kernel_shape", {2, 2});
  ModelBuilder::attr_ints(p1, "strides", {2, 2});
  // Padding not counted: windows of 1, 2 and 4 elements.
  auto &p2 = b.node("AveragePool", {"x"}, {"y2"});
  ModelBuilder::attr_ints(p2, "kernel_shape", {2, 2});
  ModelBuilder::attr_ints(p2, "pads", {1, 1, 1, 1});
  // Padding counted: always 4.
  auto &p3 = b.node("AveragePool", {"x"}, {"y3"});
  ModelBuilder::attr_ints(p3, "kernel_shape", {2, 2});
  ModelBuilder::attr_ints(p3, "strides", {1, 2});
  ModelBuilder::attr_ints(p3, "pads", {1, 0, 0, 1});
  ModelBuilder::attr_int(p3, "count_include_pad", 1);
  auto &p4 = b.node("AveragePool", {"x1"}, {"y4"});
  ModelBuilder::attr_ints(p4, "kernel_shape", {4});
  ModelBuilder::attr_ints(p4, "strides", {3});
  b.output("y1").output("y2").output("y3").output("y4");
  check_matches_float(b.import());
}

TEST_CASE("fixed linear: GlobalAveragePool over a power-of-two plane") {
  std::mt19937 rng(51);
  ModelBuilder b;
  b.input("xin", {1, 3, 4, 2}).input("x1in", {1, 2, 8});
  random_quant(b, rng, "xin", "x", {3, 4, 2});
  random_quant(b, rng, "x1in", "x1", {2, 1});
  b.node("GlobalAveragePool", {"x"}, {"y"}, "gap");
  b.node("GlobalAveragePool", {"x1"}, {"y1"});
  b.output("y").output("y1");
  Graph g = b.import();
  RangeAnalysis ra = analyze_ranges(g);
  CHECK(range_of(g, ra, "y").dims == Dims{1, 3, 1, 1});
  CHECK(ebops_of(g, ra, "gap") == 0.0);
  check_matches_float(g);
}
