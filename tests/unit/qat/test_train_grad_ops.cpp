// Finite-difference checks of the backward hooks of GlobalAveragePool, Div, Clip, Dropout,
// Identity, Squeeze, Unsqueeze, ReduceSum, ReduceMean, ReduceMax, Reciprocal, Log, Celu, Gelu, Silu
// and Mish (grad_check.h); the op
// registry test requires one per op with a fixed-point form.
#include "fixed_test_util.h"
#include "grad_check.h"

#include <doctest/doctest.h>

using namespace hgqc;
using hgqc::test::check_node;
using hgqc::test::ModelBuilder;
using hgqc::test::one_node;

TEST_CASE("GlobalAveragePool backward matches finite differences (3x3, 2x4 and 1-D planes)") {
  for (std::vector<int64_t> dims :
       std::vector<std::vector<int64_t>>{{-1, 2, 3, 3}, {-1, 3, 2, 4}, {-1, 2, 5}}) {
    ModelBuilder b;
    b.input("x", dims).output("y");
    b.node("GlobalAveragePool", {"x"}, {"y"});
    check_node(one_node(b), 0);
  }
}

TEST_CASE("Div backward matches finite differences (constant and run-time divisors)") {
  {
    ModelBuilder b;
    b.input("a", {-1, 3, 4}).output("y").init("c", {4}, {3, -0.5, 1.5, 7});
    b.node("Div", {"a", "c"}, {"y"});
    check_node(one_node(b), 0);
  }
  ModelBuilder b;
  b.input("a", {-1, 3, 4}).input("c", {-1, 3, 1}).output("y");
  b.node("Div", {"a", "c"}, {"y"});
  check_node(one_node(b), 0);
}

TEST_CASE("Clip backward matches finite differences (constant and run-time bounds)") {
  {
    ModelBuilder b;
    b.input("x", {-1, 9}).output("y").init("lo", {}, {-0.4}).init("hi", {}, {0.7});
    b.node("Clip", {"x", "lo", "hi"}, {"y"});
    check_node(one_node(b), 0);
  }
  {
    ModelBuilder b; // only an upper bound
    b.input("x", {-1, 9}).output("y").init("hi", {}, {0.3});
    b.node("Clip", {"x", "", "hi"}, {"y"});
    check_node(one_node(b), 0);
  }
  ModelBuilder b;
  b.input("x", {-1, 9}).input("lo", {1}).input("hi", {1}).output("y");
  b.node("Clip", {"x", "lo", "hi"}, {"y"});
  check_node(one_node(b), 0);
}

TEST_CASE("Dropout, Identity, Squeeze and Unsqueeze backward pass the gradient through") {
  {
    ModelBuilder b;
    b.input("x", {-1, 2, 3}).output("y");
    b.node("Dropout", {"x"}, {"y"});
    check_node(one_node(b), 0);
  }
  {
    ModelBuilder b;
    b.input("x", {-1, 2, 3}).output("y");
    b.node("Identity", {"x"}, {"y"});
    check_node(one_node(b), 0);
  }
  {
    ModelBuilder b;
    b.input("x", {-1, 1, 3}).output("y").init("ax", {1}, {1}, true);
    b.node("Squeeze", {"x", "ax"}, {"y"});
    check_node(one_node(b), 0);
  }
  ModelBuilder b;
  b.input("x", {-1, 3}).output("y").init("ax", {1}, {1}, true);
  b.node("Unsqueeze", {"x", "ax"}, {"y"});
  check_node(one_node(b), 0);
}

TEST_CASE("ReduceSum, ReduceMean and ReduceMax backward match finite differences") {
  for (const char *op : {"ReduceSum", "ReduceMean", "ReduceMax"})
    for (int keep = 0; keep <= 1; ++keep) {
      ModelBuilder b;
      b.input("x", {-1, 3, 2, 5}).output("y");
      auto &n = b.node(op, {"x"}, {"y"});
      ModelBuilder::attr_ints(n, "axes", {1, -1});
      ModelBuilder::attr_int(n, "keepdims", keep);
      check_node(one_node(b), 0);
    }
}

TEST_CASE("Reciprocal backward matches finite differences") {
  ModelBuilder b;
  b.input("x", {-1, 7}).output("y");
  b.node("Reciprocal", {"x"}, {"y"});
  check_node(one_node(b), 0); // inputs kept in [1.05, 2] and [-2, -1.05] (grad_check.cpp)
}

TEST_CASE("Log backward matches finite differences") {
  ModelBuilder b;
  b.input("x", {-1, 7}).output("y");
  b.node("Log", {"x"}, {"y"});
  check_node(one_node(b), 0); // inputs kept in [0.5, 1.5] (grad_check.cpp)
}

TEST_CASE("Celu, Gelu (both forms), Silu and Mish backward match finite differences") {
  struct Case {
    const char *op, *domain, *attr, *value;
  };
  for (Case c : {Case{"Celu", "", "", ""}, Case{"Celu", "", "alpha", "0.5"},
                 Case{"Gelu", "hgqc", "", ""}, Case{"Gelu", "hgqc", "approximate", "tanh"},
                 Case{"Silu", "hgqc", "", ""}, Case{"Mish", "hgqc", "", ""}}) {
    CAPTURE(c.op);
    CAPTURE(c.value);
    ModelBuilder b(13);
    b.input("x", {-1, 7}).output("y");
    auto &n = b.node(c.op, {"x"}, {"y"});
    n.set_domain(c.domain);
    if (std::string(c.attr) == "alpha")
      hgqc::test::attr_f(n, c.attr, std::stof(c.value));
    else if (*c.attr)
      hgqc::test::attr_s(n, c.attr, c.value);
    check_node(one_node(b), 0);
  }
}
