// Finite-difference checks of the backward hooks of the variadic ops Sum, Mean, Max and Min
// (grad_check.h): three inputs broadcast to one shape, two inputs and a constant, and one input.
#include "grad_check.h"

#include <doctest/doctest.h>

using namespace hgqc;
using hgqc::test::check_node;
using hgqc::test::ModelBuilder;
using hgqc::test::one_node;

namespace {
void check_variadic(const std::string &op) {
  CAPTURE(op);
  {
    ModelBuilder b; // broadcast gradients are summed over the stretched dimensions
    b.input("a", {-1, 2, 3}).input("b", {-1, 1, 3}).input("c", {-1, 2, 1}).output("y");
    b.node(op, {"a", "b", "c"}, {"y"});
    check_node(one_node(b), 0);
  }
  {
    ModelBuilder b; // a constant term
    b.input("a", {-1, 4}).input("b", {-1, 4}).init("c", {4}, {0.3, -0.2, 0.6, -0.7}).output("y");
    b.node(op, {"a", "b", "c"}, {"y"});
    check_node(one_node(b), 0);
  }
  ModelBuilder b;
  b.input("a", {-1, 5}).output("y");
  b.node(op, {"a"}, {"y"});
  check_node(one_node(b), 0);
}
} // namespace

TEST_CASE("Sum backward matches finite differences (the gradient to every input)") {
  check_variadic("Sum");
}

TEST_CASE("Mean backward matches finite differences (1/n of the gradient to every input)") {
  check_variadic("Mean");
}

TEST_CASE("Max backward matches finite differences (the gradient to the largest input)") {
  check_variadic("Max");
}

TEST_CASE("Min backward matches finite differences (the gradient to the smallest input)") {
  check_variadic("Min");
}
