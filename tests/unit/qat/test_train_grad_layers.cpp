// Gradient checks of the layer ops (Neg, Abs, PRelu, Pad, Resize, Slice): each backward hook
// against central finite differences of its train_forward.
#include "grad_check.h"
#include "onnx_builder.h"

#include <doctest/doctest.h>

using namespace hgqc;
using hgqc::test::check_node;
using hgqc::test::ModelBuilder;

TEST_CASE("Neg and Abs backward match finite differences") {
  for (const char *op : {"Neg", "Abs"}) {
    ModelBuilder b;
    b.input("x", {-1, 7}).output("y");
    b.node(op, {"x"}, {"y"});
    check_node(b.import(), 0);
  }
}

TEST_CASE("PRelu backward matches finite differences (x and the broadcast slope)") {
  ModelBuilder b;
  b.input("x", {-1, 3, 2, 2}).output("y").init("s", {3, 1, 1}, {0.25, -0.5, 1.5});
  b.node("PRelu", {"x", "s"}, {"y"});
  check_node(b.import(), 0);
}

TEST_CASE("Pad backward matches finite differences (constant value, edge, reflect)") {
  for (const char *mode : {"constant", "edge", "reflect"}) {
    CAPTURE(mode);
    ModelBuilder b;
    b.input("x", {-1, 2, 3, 3}).output("y");
    b.init("p", {8}, {0, 0, 1, 2, 0, 0, 2, 1}, true).init("v", {}, {0.5});
    auto &n = b.node("Pad", {"x", "p", "v"}, {"y"});
    auto *a = n.add_attribute();
    a->set_name("mode");
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(mode);
    check_node(b.import(), 0);
  }
}

TEST_CASE("Resize backward matches finite differences (Upsample nearest, scale 2)") {
  ModelBuilder b;
  b.input("x", {-1, 2, 2, 3}).output("y").init("roi", {0}, {}).init("s", {4}, {1, 1, 2, 2});
  b.node("Resize", {"x", "roi", "s"}, {"y"});
  check_node(b.import(), 0);
}

TEST_CASE("Slice backward matches finite differences (negative step)") {
  ModelBuilder b;
  b.input("x", {-1, 2, 5}).output("y");
  b.init("st", {1}, {4}, true).init("en", {1}, {0}, true).init("ax", {1}, {2}, true);
  b.init("sp", {1}, {-2}, true);
  b.node("Slice", {"x", "st", "en", "ax", "sp"}, {"y"});
  check_node(b.import(), 0);
}
