// Unit tests of Softmax inside a network: the decompose_softmax pass (node structure, float
// values unchanged) and the Reciprocal table (entries against exact integer rounding, the
// emulator against the float evaluator, the input-width refusal).
#include "fixed_test_util.h"
#include "ir/eval.h"
#include "ir/passes/passes.h"

#include <doctest/doctest.h>

#include <cmath>
#include <random>

using namespace hgqc;
using namespace hgqc::test;

namespace {
// x[N, dims...] -> Softmax(axis) -> Neg -> y (a Softmax that is not a graph output), and
// optionally a second output that is a Softmax.
Graph softmax_model(int opset, const Dims &dims, int64_t axis, NormalizeOptions opt) {
  ModelBuilder b(opset);
  Dims d{-1};
  d.insert(d.end(), dims.begin(), dims.end());
  b.input("x", d).output("y").output("z");
  ModelBuilder::attr_int(b.node("Softmax", {"x"}, {"s"}, "sm"), "axis", axis);
  b.node("Neg", {"s"}, {"y"});
  ModelBuilder::attr_int(b.node("Softmax", {"x"}, {"z"}, "out_sm"), "axis", axis);
  Graph g = b.import();
  normalize(g, opt);
  return g;
}

std::vector<OpKind> ops_of(const Graph &g) {
  std::vector<OpKind> r;
  for (const Node &n : g.nodes)
    r.push_back(n.op);
  return r;
}

// x_in[N, n] -> FixedQuant(in) -> Reciprocal -> FixedQuant(out, rnd, SAT) -> y, fixed form.
Graph reciprocal_model(int n, FixedFormat in, FixedFormat out, const std::string &rnd) {
  ModelBuilder b(13);
  b.input("x_in", {-1, n});
  quant(b, "x_in", "x", {}, {double(in.k)}, {double(in.i)}, {double(in.f)});
  b.node("Reciprocal", {"x"}, {"t"}, "recip");
  b.init("t_k", {}, {double(out.k)}, true)
      .init("t_i", {}, {double(out.i)}, true)
      .init("t_f", {}, {double(out.f)}, true);
  auto &q = b.node("FixedQuant", {"t", "t_k", "t_i", "t_f"}, {"y"}, "q_y");
  q.set_domain("hgqc");
  attr_s(q, "round_mode", rnd);
  attr_s(q, "overflow_mode", "SAT");
  b.output("y");
  Graph g = b.import();
  normalize(g);
  to_fixed(g);
  return g;
}
} // namespace

TEST_CASE("drop_output_softmax: an output LogSoftmax is removed as an output Softmax is, and "
          "the note names it") {
  ModelBuilder b(13);
  b.input("x", {-1, 4}).output("y");
  b.init("w", {4, 3}, {0.5, -0.25, 1.0, 0.75, 0.125, -1.0, 0.25, 0.5, -0.5, 1.5, 0.0, 0.25});
  b.node("MatMul", {"x", "w"}, {"z"});
  b.node("LogSoftmax", {"z"}, {"y"}, "out_ls");
  Graph g = b.import();
  normalize(g);
  std::vector<std::string> notes;
  CHECK(drop_output_softmax(g, &notes) == 1);
  CHECK(ops_of(g) == std::vector<OpKind>{OpKind::MatMul});
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].find("LogSoftmax 'out_ls' removed") != std::string::npos);
}

TEST_CASE("decompose_softmax: an inner Softmax becomes max, Sub, Exp, sum, Reciprocal, Mul") {
  Graph g = softmax_model(13, {6}, 1, {});
  using K = OpKind;
  CHECK(ops_of(g) == std::vector<K>{K::ReduceMax, K::Sub, K::Exp, K::ReduceSum, K::Reciprocal,
                                    K::Mul, K::Neg, K::Softmax}); // the output one stays
  for (const Node &n : g.nodes)
    if (n.op == K::ReduceMax || n.op == K::ReduceSum) {
      CHECK(attr_ints(n, "axes", {}) == std::vector<int64_t>{1});
      CHECK(attr_int(n, "keepdims", 0) == 1);
    }
  // Opset 11 normalises over every axis from `axis` on.
  Graph g11 = softmax_model(11, {3, 4}, 1, {});
  for (const Node &n : g11.nodes)
    if (n.op == K::ReduceMax || n.op == K::ReduceSum)
      CHECK(attr_ints(n, "axes", {}) == std::vector<int64_t>{1, 2});
}

TEST_CASE("decompose_softmax: float values unchanged on random inputs") {
  struct Case {
    int opset;
    Dims dims;
    int64_t axis;
  };
  std::mt19937 rng(99);
  std::uniform_real_distribution<double> u(-8, 8);
  for (const Case &c : {Case{13, {6}, 1}, Case{13, {3, 4}, 1}, Case{13, {3, 4}, -1},
                        Case{11, {3, 4}, 1}, Case{11, {2, 3, 2}, 2}}) {
    Graph dec = softmax_model(c.opset, c.dims, c.axis, {});
    Graph ref = softmax_model(c.opset, c.dims, c.axis, {.decompose_softmax = false});
    REQUIRE(dec.nodes.size() > ref.nodes.size());
    Dims d{5};
    d.insert(d.end(), c.dims.begin(), c.dims.end());
    Tensor x(DType::Float32, d);
    for (int64_t j = 0; j < x.numel(); ++j)
      x[j] = static_cast<float>(u(rng));
    Tensor a = evaluate(dec, {x}).at(0), b = evaluate(ref, {x}).at(0);
    REQUIRE(a.shape() == b.shape());
    for (int64_t j = 0; j < a.numel(); ++j)
      CHECK(a[j] == doctest::Approx(b[j]).epsilon(1e-6));
  }
}

TEST_CASE("Reciprocal: every table entry is 1/x rounded exactly, 1/0 saturates") {
  // Unsigned input codes q = 0..63 at f_in = 3; out f = 4, 10 bits unsigned, max 1023.
  const int fi = 3, fo = 4;
  const FixedFormat out{0, 6, fo};
  std::vector<int64_t> codes;
  for (int64_t q = 0; q < 64; ++q)
    codes.push_back(q);
  for (const char *rnd : {"TRN", "RND"}) {
    Graph g = reciprocal_model(static_cast<int>(codes.size()), {0, 3, fi}, out, rnd);
    RangeAnalysis ra = analyze_ranges(g);
    Tensor x(DType::Float32, {1, static_cast<int64_t>(codes.size())});
    for (size_t j = 0; j < codes.size(); ++j)
      x[static_cast<int64_t>(j)] = std::ldexp(double(codes[j]), -fi);
    std::vector<int64_t> got = evaluate_fixed(g, ra, {x}).outputs.at(0).q;
    for (int64_t q : codes) {
      CAPTURE(rnd);
      CAPTURE(q);
      // 1 / (q 2^-fi) in units 2^-fo is 2^(fi+fo) / q: floor, or floor(. + 1/2).
      int64_t want = 1023;
      if (q > 0)
        want = std::string(rnd) == "TRN" ? (int64_t{1} << (fi + fo)) / q
                                         : ((int64_t{1} << (fi + fo + 1)) + q) / (2 * q);
      CHECK(got[static_cast<size_t>(q)] == std::min<int64_t>(want, 1023));
    }
  }
}

TEST_CASE("Reciprocal: the emulator equals the float evaluator bit for bit") {
  for (const char *rnd : {"TRN", "RND", "RND_CONV"}) {
    CAPTURE(rnd);
    Graph g = reciprocal_model(3, {1, 3, 3}, {1, 4, 6}, rnd);
    check_matches_float(g, MatchOptions{.trials = 6, .lo = -5, .hi = 5, .seed = 11});
  }
}

TEST_CASE("Reciprocal: an input wider than the table limit is refused, naming the node") {
  Graph g = reciprocal_model(2, {0, 9, 8}, {0, 2, 8}, "RND"); // 17 input bits
  std::string e = range_error(g);
  CAPTURE(e);
  CHECK(contains(e, "recip"));
  CHECK(contains(e, "at most 16 input bits"));
}
