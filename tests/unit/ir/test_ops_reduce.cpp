// Float semantics of ReduceSum, ReduceMean and ReduceMax through the importer and the
// evaluator: axes as an attribute or (ReduceSum-13) a constant input, negative axes, keepdims,
// noop_with_empty_axes, the default of every axis, and the refusals.
#include "ir/eval.h"
#include "onnx_builder.h"

#include <doctest/doctest.h>

using namespace hgqc;
using hgqc::test::ModelBuilder;
using hgqc::test::ramp;

namespace {
// x [2,3,4] = ramp (0, 0.1, ..., 2.3) through one reduction node built by `node`.
template <class Build> Tensor reduce1(int opset, Build node) {
  ModelBuilder b(opset);
  b.input("x", {2, 3, 4});
  node(b);
  b.output("y");
  Graph g = b.import();
  return evaluate(g, {ramp({2, 3, 4})}).at(0);
}

std::string import_error(ModelBuilder &b) {
  try {
    b.import();
  } catch (const UserError &e) {
    return e.what();
  }
  return "";
}
} // namespace

TEST_CASE("ReduceSum, ReduceMean and ReduceMax over axes from an input or an attribute") {
  // ReduceSum (opset 13): axes as an input; over axis 1 of x[i][j][k] = (12 i + 4 j + k) / 10
  // the sum is (36 i + 12 + 3 k) / 10, kept as a size-1 dimension.
  Tensor s = reduce1(13, [](ModelBuilder &b) {
    b.init("ax", {1}, {1}, true);
    b.node("ReduceSum", {"x", "ax"}, {"y"});
  });
  REQUIRE(s.shape() == Dims{2, 1, 4});
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t k = 0; k < 4; ++k)
      CHECK(s[i * 4 + k] == doctest::Approx((36.0 * i + 12 + 3 * k) / 10));
  // ReduceMean (opset 13): axes as an attribute, a negative one, keepdims = 0: the mean of
  // the 4 elements of a row is (12 i + 4 j + 1.5) / 10.
  Tensor m = reduce1(13, [](ModelBuilder &b) {
    auto &n = b.node("ReduceMean", {"x"}, {"y"});
    ModelBuilder::attr_ints(n, "axes", {-1});
    ModelBuilder::attr_int(n, "keepdims", 0);
  });
  REQUIRE(m.shape() == Dims{2, 3});
  for (int64_t e = 0; e < 6; ++e)
    CHECK(m[e] == doctest::Approx((4.0 * e + 1.5) / 10));
  // ReduceMax (opset 11): two axes, unsorted: max over j and k is (12 i + 11) / 10.
  Tensor x = reduce1(11, [](ModelBuilder &b) {
    ModelBuilder::attr_ints(b.node("ReduceMax", {"x"}, {"y"}), "axes", {2, 1});
  });
  REQUIRE(x.shape() == Dims{2, 1, 1});
  CHECK(x[0] == doctest::Approx(1.1));
  CHECK(x[1] == doctest::Approx(2.3));
}

TEST_CASE("reductions without axes reduce every axis, or none with noop_with_empty_axes") {
  Tensor all = reduce1(13, [](ModelBuilder &b) { b.node("ReduceMean", {"x"}, {"y"}); });
  REQUIRE(all.shape() == Dims{1, 1, 1});
  CHECK(all[0] == doctest::Approx(1.15));
  Tensor none = reduce1(13, [](ModelBuilder &b) {
    ModelBuilder::attr_int(b.node("ReduceSum", {"x"}, {"y"}), "noop_with_empty_axes", 1);
  });
  REQUIRE(none.shape() == Dims{2, 3, 4});
  CHECK(none[23] == doctest::Approx(2.3));
  // An empty axes input reduces every axis unless noop_with_empty_axes is set.
  Tensor empty = reduce1(13, [](ModelBuilder &b) {
    b.init("ax", {0}, {}, true);
    ModelBuilder::attr_int(b.node("ReduceSum", {"x", "ax"}, {"y"}), "keepdims", 0);
  });
  REQUIRE(empty.shape() == Dims{});
  CHECK(empty[0] == doctest::Approx(27.6));
}

TEST_CASE("reductions refuse axes computed at run time, bad axes and bad keepdims") {
  {
    ModelBuilder b; // axes from Shape of an input with a free batch: known at run time only
    b.input("x", {-1, 3});
    b.node("Shape", {"x"}, {"ax"});
    b.node("ReduceSum", {"x", "ax"}, {"y"}, "rs");
    b.output("y");
    CHECK(import_error(b).find("input 'axes' must be a constant") != std::string::npos);
  }
  {
    ModelBuilder b;
    b.input("x", {2, 3});
    ModelBuilder::attr_ints(b.node("ReduceMax", {"x"}, {"y"}, "rm"), "axes", {2});
    b.output("y");
    CHECK(import_error(b).find("axes entry") != std::string::npos);
  }
  ModelBuilder b;
  b.input("x", {2, 3});
  ModelBuilder::attr_int(b.node("ReduceMean", {"x"}, {"y"}, "rm"), "keepdims", 2);
  b.output("y");
  CHECK(import_error(b).find("keepdims must be 0 or 1, got 2") != std::string::npos);
}
