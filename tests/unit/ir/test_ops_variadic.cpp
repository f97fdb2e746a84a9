// Float semantics of the variadic ops Sum, Mean, Max and Min through the importer and the
// evaluator: one to three inputs, numpy broadcasting, ties and NaN, and the refusals.
#include "ir/eval.h"
#include "onnx_builder.h"

#include <doctest/doctest.h>

#include <cmath>

using namespace hgqc;
using hgqc::test::ModelBuilder;
using hgqc::test::ramp;

namespace {
std::string import_error(ModelBuilder &b) {
  try {
    b.import();
  } catch (const UserError &e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string &s, const std::string &part) {
  return s.find(part) != std::string::npos;
}

// One node `op` over the input a [N,1,3] and the constants b [4,1] and c [3] (all three
// broadcast to [N,4,3]).
Tensor three(const std::string &op, const Tensor &a, const Tensor &b, const Tensor &c) {
  ModelBuilder m;
  m.input("a", {-1, 1, 3}).output("y");
  m.init("b", {4, 1}, std::vector<double>(b.data().begin(), b.data().end()));
  m.init("c", {3}, std::vector<double>(c.data().begin(), c.data().end()));
  m.node(op, {"a", "b", "c"}, {"y"});
  Graph g = m.import();
  CHECK(g.values[g.outputs[0]].type.dims == Dims{kDynamic, 4, 3});
  return evaluate(g, {a}).at(0);
}
} // namespace

TEST_CASE("Sum, Mean, Max and Min broadcast three inputs") {
  Tensor a = ramp({2, 1, 3}, -0.3, 0.1), b = ramp({4, 1}, -0.2, 0.15), c = ramp({3}, 0.05, -0.1);
  Tensor s = three("Sum", a, b, c), m = three("Mean", a, b, c), x = three("Max", a, b, c),
         n = three("Min", a, b, c);
  REQUIRE(s.shape() == Dims{2, 4, 3});
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 4; ++j)
      for (int64_t k = 0; k < 3; ++k) {
        int64_t e = (i * 4 + j) * 3 + k;
        double va = a[i * 3 + k], vb = b[j], vc = c[k];
        CAPTURE(e);
        CHECK(s[e] == doctest::Approx(va + vb + vc));
        CHECK(m[e] == doctest::Approx((va + vb + vc) / 3));
        CHECK(x[e] == doctest::Approx(std::max({va, vb, vc})));
        CHECK(n[e] == doctest::Approx(std::min({va, vb, vc})));
      }
}

TEST_CASE("Sum, Mean, Max and Min of one input are the identity") {
  for (const char *op : {"Sum", "Mean", "Max", "Min"}) {
    CAPTURE(op);
    ModelBuilder m;
    m.input("a", {-1, 5}).output("y");
    m.node(op, {"a"}, {"y"});
    Graph g = m.import();
    Tensor x = ramp({3, 5}, -0.7, 0.1);
    Tensor y = evaluate(g, {x}).at(0);
    REQUIRE(y.shape() == x.shape());
    for (int64_t e = 0; e < x.numel(); ++e)
      CHECK(y[e] == x[e]);
  }
}

TEST_CASE("Max and Min of two inputs and a constant, and NaN") {
  ModelBuilder m;
  m.input("a", {-1, 4})
      .input("b", {-1, 4})
      .init("c", {4}, {0.5, -0.5, 0, 2})
      .output("y")
      .output("z");
  m.node("Max", {"a", "b", "c"}, {"y"});
  m.node("Min", {"a", "b", "c"}, {"z"});
  Graph g = m.import();
  Tensor a(DType::Float32, {1, 4}, {1, -1, NAN, 3}), b(DType::Float32, {1, 4}, {2, -2, 1, NAN});
  auto r = evaluate(g, {a, b});
  CHECK(r[0][0] == 2);
  CHECK(r[0][1] == -0.5);
  CHECK(std::isnan(r[0][2])); // NaN wins, as numpy.maximum
  CHECK(std::isnan(r[0][3]));
  CHECK(r[1][0] == 0.5);
  CHECK(r[1][1] == -2);
  CHECK(std::isnan(r[1][2]));
}

TEST_CASE("Sum, Mean, Max and Min refusals name the node and the reason") {
  { // no input
    ModelBuilder m;
    m.input("a", {-1, 4}).output("y");
    m.node("Sum", {}, {"y"}, "s0");
    std::string e = import_error(m);
    CHECK(contains(e, "s0"));
    CHECK(contains(e, "input"));
  }
  { // an integer input
    ModelBuilder m;
    m.input("a", {-1, 4}).init("c", {4}, {1, 2, 3, 4}, true).output("y");
    m.node("Max", {"a", "c"}, {"y"}, "mx");
    std::string e = import_error(m);
    CHECK(contains(e, "mx"));
    CHECK(contains(e, "input 1 has element type int64; this op supports float32 and float64"));
  }
  { // shapes that do not broadcast
    ModelBuilder m;
    m.input("a", {-1, 4}).input("b", {-1, 4}).input("c", {3}).output("y");
    m.node("Mean", {"a", "b", "c"}, {"y"}, "mn");
    std::string e = import_error(m);
    CHECK(contains(e, "mn"));
    CHECK(contains(e, "input 2 of shape [3] does not broadcast"));
  }
  { // an omitted input (a trailing one is dropped by the importer: Min(a, "") is Min(a))
    ModelBuilder m;
    m.input("a", {-1, 4}).output("y");
    m.node("Min", {"a", "", "a"}, {"y"}, "mi");
    std::string e = import_error(m);
    CHECK(contains(e, "mi"));
    CHECK(contains(e, "input 1 is omitted"));
  }
}
