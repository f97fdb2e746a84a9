// Float semantics of the layer ops of small PyTorch and Keras exports (Neg, Abs, PRelu, Pad,
// Resize and Upsample): hand computations, every attribute and opset form, and the refusals.
#include "fixed_test_util.h"
#include "ir/eval.h"
#include "ir/passes/passes.h"

#include <doctest/doctest.h>

#include <cmath>

using namespace hgqc;
using hgqc::test::attr_f;
using hgqc::test::attr_s;
using hgqc::test::contains;
using hgqc::test::ModelBuilder;
using hgqc::test::ramp;

namespace {
Tensor run1(const Graph &g, const Tensor &x) { return evaluate(g, {x}).at(0); }

// The UserError message of importing `b` and running it on `x`, or "".
std::string error_of(const ModelBuilder &b, const Tensor &x) {
  try {
    run1(b.import(), x);
  } catch (const UserError &e) {
    return e.what();
  }
  return "";
}

// x [N, 1, 2, 3] = 0..5 per sample (offset by 10 for the second sample).
Tensor image(int64_t n = 1) {
  Tensor x(DType::Float32, {n, 1, 2, 3});
  for (int64_t i = 0; i < x.numel(); ++i)
    x[i] = static_cast<double>(i % 6 + 10 * (i / 6));
  return x;
}
} // namespace

TEST_CASE("Neg and Abs are -x and |x|") {
  ModelBuilder b;
  b.input("x", {1, 5});
  b.node("Neg", {"x"}, {"n"});
  b.node("Abs", {"n"}, {"y"});
  b.output("n").output("y");
  Graph g = b.import();
  Tensor x(DType::Float32, {2, 5}, {-2.5, -0.0, 0.0, 0.125, 7, 1, -1, 3, -4, 0.5});
  std::vector<Tensor> r = evaluate(g, {x});
  for (int64_t i = 0; i < x.numel(); ++i) {
    CHECK(r[0][i] == -x[i]);
    CHECK(r[1][i] == std::fabs(x[i]));
  }
}

TEST_CASE("PRelu: a slope per channel broadcast to x, only to x") {
  ModelBuilder b;
  b.input("x", {1, 2, 3});
  b.init("s", {2, 1}, {0.25, -2});
  b.node("PRelu", {"x", "s"}, {"y"});
  b.output("y");
  Graph g = b.import();
  Tensor x(DType::Float32, {1, 2, 3}, {-4, 0, 3, -1, 2, -0.5});
  Tensor y = run1(g, x);
  const double want[] = {-1, 0, 3, 2, 2, 1};
  for (int64_t i = 0; i < 6; ++i)
    CHECK(y[i] == want[i]);
  ModelBuilder bad;
  bad.input("x", {1, 3});
  bad.init("s", {2, 1}, {0.25, 0.5});
  bad.node("PRelu", {"x", "s"}, {"y"}, "pr");
  bad.output("y");
  std::string e = error_of(bad, ramp({1, 3}));
  CHECK(contains(e, "node 'pr' (PRelu): slope of shape [2,1] does not broadcast to X of shape "
                    "[N,3]"));
}

TEST_CASE("Pad: constant, edge and reflect: pads and value as attributes (opset 2) and inputs") {
  struct Case {
    const char *mode;
    double want[12]; // sample 0 of [1,1,3,4]: pads {0,0,1,0, 0,0,0,1}
  };
  const Case cases[] = {
      {"constant", {7, 7, 7, 7, 0, 1, 2, 7, 3, 4, 5, 7}},
      {"edge", {0, 1, 2, 2, 0, 1, 2, 2, 3, 4, 5, 5}},
      {"reflect", {3, 4, 5, 4, 0, 1, 2, 1, 3, 4, 5, 4}},
  };
  for (int opset : {2, 11, 13})
    for (const Case &c : cases) {
      CAPTURE(opset);
      CAPTURE(c.mode);
      ModelBuilder b(opset);
      b.input("x", {1, 1, 2, 3});
      std::vector<int64_t> pads{0, 0, 1, 0, 0, 0, 0, 1};
      onnx::NodeProto *n;
      if (opset < 11) {
        n = &b.node("Pad", {"x"}, {"y"});
        ModelBuilder::attr_ints(*n, "pads", pads);
        attr_f(*n, "value", 7);
      } else {
        b.init("p", {8}, std::vector<double>(pads.begin(), pads.end()), true);
        b.init("v", {}, {7});
        n = &b.node("Pad", {"x", "p", "v"}, {"y"});
      }
      attr_s(*n, "mode", c.mode);
      b.output("y");
      Graph g = b.import();
      CHECK(g.values[g.outputs[0]].type.dims == Dims{kDynamic, 1, 3, 4});
      Tensor y = run1(g, image(2));
      REQUIRE(y.shape() == Dims{2, 1, 3, 4});
      for (int64_t i = 0; i < 12; ++i) {
        CHECK(y[i] == c.want[i]);
        // the second sample: the same copy of its own elements (10 more), or the value
        CHECK(y[12 + i] ==
              (std::string(c.mode) == "constant" && c.want[i] == 7 ? 7.0 : c.want[i] + 10));
      }
    }
}

TEST_CASE("Pad: the value defaults to 0, negative pads crop, opset 1 names them paddings") {
  {
    ModelBuilder b(13);
    b.input("x", {1, 1, 2, 3});
    b.init("p", {8}, {0, 0, 0, -1, 0, 0, 1, 1}, true);
    b.node("Pad", {"x", "p"}, {"y"});
    b.output("y");
    Tensor y = run1(b.import(), image());
    REQUIRE(y.shape() == Dims{1, 1, 3, 3});
    const double want[] = {1, 2, 0, 4, 5, 0, 0, 0, 0};
    for (int64_t i = 0; i < 9; ++i)
      CHECK(y[i] == want[i]);
  }
  {
    ModelBuilder b(1);
    b.input("x", {1, 3});
    ModelBuilder::attr_ints(b.node("Pad", {"x"}, {"y"}), "paddings", {0, 2, 0, 0});
    b.output("y");
    Tensor y = run1(b.import(), ramp({1, 3}, -1.0, 1.0));
    REQUIRE(y.shape() == Dims{1, 5});
    CHECK(y[0] == 0);
    CHECK(y[2] == 1);
    CHECK(y[4] == 3);
  }
}

TEST_CASE("Pad: unsupported modes, pads beyond what the mode can fill, computed pads of a float") {
  auto pad_error = [](const char *mode, std::vector<double> pads, bool const_pads = true) {
    ModelBuilder b(13);
    b.input("x", {1, 1, 2, 3});
    if (const_pads)
      b.init("p", {static_cast<int64_t>(pads.size())}, pads, true);
    else
      b.input("p", {static_cast<int64_t>(pads.size())});
    attr_s(b.node("Pad", {"x", "p"}, {"y"}, "pad0"), "mode", mode);
    b.output("y");
    return error_of(b, image());
  };
  CHECK(contains(pad_error("wrap", {0, 0, 1, 1, 0, 0, 1, 1}),
                 "node 'pad0' (Pad): mode 'wrap' is not supported (constant, edge or reflect)"));
  CHECK(contains(pad_error("reflect", {0, 0, 0, 3, 0, 0, 0, 0}),
                 "node 'pad0' (Pad): mode 'reflect' cannot pad dimension 3 of size 3 by 3"));
  CHECK(contains(pad_error("edge", {0, 0, 0, -1, 0, 0, 0, 0}),
                 "negative pads (cropping) are supported in mode 'constant' only, not 'edge'"));
  CHECK(contains(pad_error("constant", {0, 0, 0, -2, 0, 0, 0, -2}),
                 "pads -2 and -2 remove more than the 3 elements of dimension 3"));
  CHECK(contains(pad_error("constant", {0, 0, 1, 1}), "pads has 4 entries; data of rank 4 "
                                                      "needs 8"));
  CHECK(contains(pad_error("constant", {0, 0, 1, 1, 0, 0, 1, 1}, false),
                 "node 'pad0' (Pad): input 'pads' must be int64"));
}

TEST_CASE("Resize nearest: torch's Upsample(scale_factor=2) in every opset form") {
  // Sample 0 of x [1,1,2,3] scaled by 2 in H and W: each element a 2x2 block.
  auto check = [](const Graph &g) {
    Tensor y = run1(g, image(2));
    REQUIRE(y.shape() == Dims{2, 1, 4, 6});
    for (int64_t s = 0; s < 2; ++s)
      for (int64_t h = 0; h < 4; ++h)
        for (int64_t w = 0; w < 6; ++w)
          CHECK(y[s * 24 + h * 6 + w] == static_cast<double>(10 * s + (h / 2) * 3 + w / 2));
  };
  for (int opset : {7, 9, 10, 11, 13}) {
    CAPTURE(opset);
    ModelBuilder b(opset);
    b.input("x", {1, 1, 2, 3});
    if (opset == 7) {
      auto &n = b.node("Upsample", {"x"}, {"y"});
      auto *a = n.add_attribute();
      a->set_name("scales");
      a->set_type(onnx::AttributeProto::FLOATS);
      for (float v : {1.0f, 1.0f, 2.0f, 2.0f})
        a->add_floats(v);
    } else if (opset <= 10) {
      b.init("s", {4}, {1, 1, 2, 2});
      b.node(opset == 9 ? "Upsample" : "Resize", {"x", "s"}, {"y"});
    } else { // what torch 1.13 writes
      b.init("roi", {0}, {}).init("s", {4}, {1, 1, 2, 2});
      auto &n = b.node("Resize", {"x", "roi", "s"}, {"y"});
      attr_s(n, "coordinate_transformation_mode", "asymmetric");
      attr_f(n, "cubic_coeff_a", -0.75f);
      attr_s(n, "mode", "nearest");
      attr_s(n, "nearest_mode", "floor");
    }
    b.output("y");
    Graph g = b.import();
    CHECK(g.values[g.outputs[0]].type.dims == Dims{kDynamic, 1, 4, 6});
    check(g);
  }
  // sizes instead of scales (the batch entry is the declared batch)
  ModelBuilder b(13);
  b.input("x", {1, 1, 2, 3});
  b.init("roi", {0}, {}).init("s", {0}, {}).init("z", {4}, {1, 1, 4, 6}, true);
  auto &n = b.node("Resize", {"x", "roi", "s", "z"}, {"y"});
  attr_s(n, "coordinate_transformation_mode", "asymmetric");
  attr_s(n, "nearest_mode", "floor");
  b.output("y");
  check(b.import());
}

TEST_CASE("Resize nearest: coordinate transforms and nearest modes by hand") {
  // One dimension of 4 elements (0..3) resized to 6 (sizes) or by 0.5 (scales).
  struct Case {
    const char *transform, *nearest;
    int64_t out;
    std::vector<double> want;
  };
  const Case cases[] = {
      // half_pixel: (o + 0.5) / 1.5 - 0.5 = -1/6, 0.5, 7/6, 11/6, 2.5, 19/6
      {"half_pixel", "round_prefer_floor", 6, {0, 0, 1, 2, 2, 3}},
      {"half_pixel", "round_prefer_ceil", 6, {0, 1, 1, 2, 3, 3}},
      {"half_pixel", "floor", 6, {0, 0, 1, 1, 2, 3}},
      {"half_pixel", "ceil", 6, {0, 1, 2, 2, 3, 3}},
      // align_corners: o * 3 / 5 = 0, 0.6, 1.2, 1.8, 2.4, 3
      {"align_corners", "round_prefer_floor", 6, {0, 1, 1, 2, 2, 3}},
      // asymmetric: o / 1.5
      {"asymmetric", "round_prefer_floor", 6, {0, 1, 1, 2, 3, 3}},
      // tf_half_pixel_for_nn: (o + 0.5) / 1.5
      {"tf_half_pixel_for_nn", "floor", 6, {0, 1, 1, 2, 3, 3}},
      // pytorch_half_pixel downsampling to one element: 0
      {"pytorch_half_pixel", "round_prefer_floor", 1, {0}},
      // half_pixel to one element: 0.5 / 0.25 - 0.5 = 1.5, rounded down
      {"half_pixel", "round_prefer_floor", 1, {1}},
  };
  for (const Case &c : cases) {
    CAPTURE(c.transform);
    CAPTURE(c.nearest);
    ModelBuilder b(13);
    b.input("x", {1, 4});
    b.init("roi", {0}, {}).init("s", {0}, {}).init("z", {2}, {1, double(c.out)}, true);
    auto &n = b.node("Resize", {"x", "roi", "s", "z"}, {"y"});
    attr_s(n, "coordinate_transformation_mode", c.transform);
    attr_s(n, "nearest_mode", c.nearest);
    b.output("y");
    Tensor y = run1(b.import(), ramp({1, 4}, 0.0, 1.0));
    REQUIRE(y.numel() == c.out);
    for (int64_t i = 0; i < c.out; ++i)
      CHECK(y[i] == c.want[static_cast<size_t>(i)]);
  }
}

TEST_CASE("Resize: other modes, transforms and downsampling in the old forms are refused") {
  auto resize_error = [](int opset, const char *attr, const char *value, double scale = 2) {
    ModelBuilder b(opset);
    b.input("x", {1, 1, 2, 3});
    b.init("roi", {0}, {}).init("s", {4}, {1, 1, scale, scale});
    auto &n = opset < 11 ? b.node("Resize", {"x", "s"}, {"y"}, "rs")
                         : b.node("Resize", {"x", "roi", "s"}, {"y"}, "rs");
    if (attr)
      attr_s(n, attr, value);
    b.output("y");
    return error_of(b, image());
  };
  CHECK(contains(resize_error(13, "mode", "linear"),
                 "node 'rs' (Resize): mode 'linear' is not supported (only 'nearest')"));
  CHECK(contains(resize_error(10, "mode", "linear"), "mode 'linear' is not supported"));
  CHECK(contains(resize_error(13, "coordinate_transformation_mode", "tf_crop_and_resize"),
                 "coordinate_transformation_mode 'tf_crop_and_resize' is not supported"));
  CHECK(contains(resize_error(13, "nearest_mode", "nearest"),
                 "nearest_mode 'nearest' is not supported"));
  CHECK(contains(resize_error(10, nullptr, nullptr, 0.5),
                 "node 'rs' (Resize): scales below 1 are refused in Resize-10"));
  // Resize from opset 11 downsamples.
  CHECK(resize_error(13, nullptr, nullptr, 0.5) == "");
}

TEST_CASE("Slice: attribute form (opset 9) and input form, negative and clamped bounds, steps") {
  for (int opset : {9, 13}) {
    CAPTURE(opset);
    ModelBuilder b(opset);
    b.input("x", {1, 2, 5});
    if (opset < 10) {
      auto &n = b.node("Slice", {"x"}, {"y"});
      ModelBuilder::attr_ints(n, "starts", {-4});
      ModelBuilder::attr_ints(n, "ends", {1000});
      ModelBuilder::attr_ints(n, "axes", {2});
    } else {
      b.init("st", {1}, {-4}, true).init("en", {1}, {1000}, true).init("ax", {1}, {-1}, true);
      b.node("Slice", {"x", "st", "en", "ax"}, {"y"});
    }
    b.output("y");
    Graph g = b.import();
    CHECK(g.values[g.outputs[0]].type.dims == Dims{kDynamic, 2, 4});
    Tensor y = run1(g, ramp({1, 2, 5}, 0.0, 1.0));
    const double want[] = {1, 2, 3, 4, 6, 7, 8, 9};
    for (int64_t i = 0; i < 8; ++i)
      CHECK(y[i] == want[i]);
  }
  // Negative steps from past the end: reversed.
  ModelBuilder b(13);
  b.input("x", {1, 5});
  b.init("st", {1}, {100}, true).init("en", {1}, {-100}, true).init("ax", {1}, {1}, true);
  b.init("sp", {1}, {-2}, true);
  b.node("Slice", {"x", "st", "en", "ax", "sp"}, {"y"});
  b.output("y");
  Tensor y = run1(b.import(), ramp({1, 5}, 0.0, 1.0));
  REQUIRE(y.shape() == Dims{1, 3});
  CHECK(y[0] == 4);
  CHECK(y[1] == 2);
  CHECK(y[2] == 0);
  ModelBuilder bad(13);
  bad.input("x", {1, 5});
  bad.init("st", {1}, {0}, true).init("en", {1}, {3}, true).init("ax", {1}, {1}, true);
  bad.init("sp", {1}, {0}, true);
  bad.node("Slice", {"x", "st", "en", "ax", "sp"}, {"y"}, "sl");
  bad.output("y");
  CHECK(contains(error_of(bad, ramp({1, 5})), "node 'sl' (Slice): steps must not be 0"));
}

TEST_CASE("ConstantOfShape and Cast: torch's pads computation for ZeroPad2d folds to one Pad") {
  // The committed export of nn.ZeroPad2d and nn.ReflectionPad2d (scripts/gen_zoo_ops.py)
  // computes its pads with ConstantOfShape, Concat, Reshape, Slice, Transpose and Cast.
  Graph g = import_onnx(HGQC_TESTDATA_DIR "/torch/zoo_pad_upsample_cnn.onnx");
  int before = 0;
  for (const Node &n : g.nodes)
    before += n.op == OpKind::ConstantOfShape || n.op == OpKind::Cast || n.op == OpKind::Slice;
  CHECK(before == 6);
  normalize(g);
  int pads = 0, others = 0;
  for (const Node &n : g.nodes) {
    pads += n.op == OpKind::Pad;
    others += n.op == OpKind::ConstantOfShape || n.op == OpKind::Cast || n.op == OpKind::Slice;
  }
  CHECK(pads == 2);
  CHECK(others == 0);
  // ConstantOfShape's value and Cast's truncation, and their refusals.
  ModelBuilder b(13);
  b.input("x", {1, 3});
  b.init("shape", {1}, {3}, true);
  auto &c = b.node("ConstantOfShape", {"shape"}, {"c"});
  auto *a = c.add_attribute();
  a->set_name("value");
  a->set_type(onnx::AttributeProto::TENSOR);
  a->mutable_t()->set_data_type(onnx::TensorProto::FLOAT);
  a->mutable_t()->add_dims(1);
  a->mutable_t()->add_float_data(-1.75f);
  b.node("Add", {"x", "c"}, {"s"});
  ModelBuilder::attr_int(b.node("Cast", {"s"}, {"i"}), "to", 7); // int64
  ModelBuilder::attr_int(b.node("Cast", {"i"}, {"y"}), "to", 1); // back to float
  b.output("y");
  Tensor y = run1(b.import(), Tensor(DType::Float32, {1, 3}, {0.5, 4, -2}));
  CHECK(y[0] == -1); // -1.25 truncated toward zero
  CHECK(y[1] == 2);  // 2.25
  CHECK(y[2] == -3); // -3.75
  ModelBuilder bad(13);
  bad.input("x", {1, 3});
  ModelBuilder::attr_int(bad.node("Cast", {"x"}, {"y"}, "cast0"), "to", 10); // float16
  bad.output("y");
  CHECK(contains(error_of(bad, ramp({1, 3})),
                 "node 'cast0' (Cast): cast to ONNX data type 10 is not supported"));
  ModelBuilder dyn(13);
  dyn.input("x", {1, 3});
  dyn.node("ConstantOfShape", {"x"}, {"y"}, "cos");
  dyn.output("y");
  CHECK(contains(error_of(dyn, ramp({1, 3})), "node 'cos' (ConstantOfShape): input 'input' must "
                                              "be int64"));
}
