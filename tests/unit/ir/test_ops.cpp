// Unit tests of op semantics that the ONNX node tests do not cover (QONNX quantizers,
// opset differences, batch handling), through the importer and the evaluator.
#include "ir/eval.h"
#include "ir/op.h"
#include "ir/passes/passes.h"
#include "onnx_builder.h"

#include <doctest/doctest.h>

#include <cmath>

using namespace hgqc;
using hgqc::test::ModelBuilder;
using hgqc::test::ramp;

namespace {
Tensor run1(const Graph &g, const Tensor &x) { return evaluate(g, {x}).at(0); }

// Half-to-even rounding written out, independent of the FP environment.
double round_half_even(double v) {
  double f = std::floor(v), d = v - f;
  if (d > 0.5)
    return f + 1;
  if (d < 0.5)
    return f;
  return std::fmod(f, 2.0) == 0 ? f : f + 1;
}
} // namespace

TEST_CASE("Quant matches QONNX semantics exhaustively at small widths") {
  const char *modes[] = {"ROUND", "FLOOR", "CEIL", "ROUND_TO_ZERO", "HALF_UP", "HALF_DOWN"};
  for (int bw = 1; bw <= 4; ++bw)
    for (int sgn = 0; sgn <= 1; ++sgn)
      for (int narrow = 0; narrow <= 1; ++narrow)
        for (const char *mode : modes)
          for (double zp : {0.0, 1.0}) {
            ModelBuilder b;
            b.input("x", {1, 193});
            b.init("s", {}, {0.5}).init("z", {}, {zp}).init("bw", {}, {double(bw)});
            auto &n = b.node("Quant", {"x", "s", "z", "bw"}, {"y"}, "q");
            n.set_domain("finn.custom_op.general");
            ModelBuilder::attr_int(n, "signed", sgn);
            ModelBuilder::attr_int(n, "narrow", narrow);
            auto *a = n.add_attribute();
            a->set_name("rounding_mode");
            a->set_type(onnx::AttributeProto::STRING);
            a->set_s(mode);
            b.output("y");
            Graph g = b.import();
            // x from -6 to 6 in steps of 1/16: every tie and both saturation sides.
            Tensor x = ramp({1, 193}, 6.0, 1.0 / 16);
            Tensor y = run1(g, x);
            double lo = sgn ? -std::ldexp(1, bw - 1) + narrow : 0;
            double hi = sgn ? std::ldexp(1, bw - 1) - 1 : std::ldexp(1, bw) - 1 - narrow;
            for (int64_t i = 0; i < x.numel(); ++i) {
              double v = std::min(std::max(x[i] / 0.5 + zp, lo), hi), q;
              std::string m = mode;
              if (m == "ROUND")
                q = round_half_even(v);
              else if (m == "FLOOR")
                q = std::floor(v);
              else if (m == "CEIL")
                q = std::ceil(v);
              else if (m == "ROUND_TO_ZERO")
                q = std::trunc(v);
              else if (m == "HALF_UP")
                q = std::floor(v + 0.5);
              else
                q = std::ceil(v - 0.5);
              INFO("bw=" << bw << " signed=" << sgn << " narrow=" << narrow << " mode=" << mode
                         << " zp=" << zp << " x=" << x[i]);
              CHECK(y[i] == (q - zp) * 0.5);
              CHECK(q >= lo);
              CHECK(q <= hi);
            }
          }
}

TEST_CASE("BipolarQuant maps the sign to +-scale, zero to +scale") {
  ModelBuilder b;
  b.input("x", {1, 3});
  b.init("s", {3}, {1.0, 0.5, 2.0});
  b.node("BipolarQuant", {"x", "s"}, {"y"}).set_domain("onnx.brevitas");
  b.output("y");
  Tensor y = run1(b.import(), Tensor(DType::Float32, {1, 3}, {-0.1, 0.0, 3.0}));
  CHECK(y[0] == -1.0);
  CHECK(y[1] == 0.5);
  CHECK(y[2] == 2.0);
}

TEST_CASE("Softmax before opset 13 normalises over all dimensions from axis on") {
  for (int opset : {11, 13}) {
    ModelBuilder b(opset);
    b.input("x", {1, 2, 3});
    ModelBuilder::attr_int(b.node("Softmax", {"x"}, {"y"}), "axis", 1);
    b.output("y");
    Tensor y = run1(b.import(), ramp({2, 2, 3}, 0.3, 0.37));
    double block = 0; // sample 0, all of [2,3]
    for (int i = 0; i < 6; ++i)
      block += y[i];
    double column = y[0] + y[3]; // sample 0, position 0 along axis 1
    INFO("opset " << opset);
    if (opset == 11) {
      CHECK(block == doctest::Approx(1.0));
      CHECK(column != doctest::Approx(1.0));
    } else {
      CHECK(column == doctest::Approx(1.0));
      CHECK(block == doctest::Approx(3.0));
    }
  }
}

TEST_CASE("LogSoftmax is the logarithm of Softmax, stable for large inputs, at both opsets") {
  for (int opset : {11, 13}) {
    CAPTURE(opset);
    Tensor x = ramp({2, 2, 3}, 0.3, 0.37);
    Tensor sm, ls;
    for (const char *op : {"Softmax", "LogSoftmax"}) {
      ModelBuilder b(opset);
      b.input("x", {-1, 2, 3});
      ModelBuilder::attr_int(b.node(op, {"x"}, {"y"}), "axis", 1);
      b.output("y");
      (std::string(op) == "Softmax" ? sm : ls) = run1(b.import(), x);
    }
    for (int64_t i = 0; i < x.numel(); ++i)
      CHECK(ls[i] == doctest::Approx(std::log(sm[i])));
  }
  ModelBuilder b(13);
  b.input("x", {-1, 3});
  b.node("LogSoftmax", {"x"}, {"y"});
  b.output("y");
  Tensor y = run1(b.import(), Tensor(DType::Float32, {1, 3}, {1000.0, 1000.0, 0.0}));
  CHECK(y[0] == doctest::Approx(-std::log(2.0)));
  CHECK(y[1] == doctest::Approx(-std::log(2.0)));
  CHECK(y[2] == doctest::Approx(-1000.0 - std::log(2.0)));
}

TEST_CASE("Squeeze and Unsqueeze read axes from attributes (opset 11) and inputs (opset 13)") {
  for (int opset : {11, 13}) {
    ModelBuilder b(opset);
    b.input("x", {1, 3, 1, 2});
    if (opset == 13) {
      b.init("ax", {1}, {2}, true).init("ax2", {2}, {0, -1}, true);
      b.node("Squeeze", {"x", "ax"}, {"s"});
      b.node("Unsqueeze", {"s", "ax2"}, {"y"});
    } else {
      ModelBuilder::attr_ints(b.node("Squeeze", {"x"}, {"s"}), "axes", {2});
      ModelBuilder::attr_ints(b.node("Unsqueeze", {"s"}, {"y"}), "axes", {0, -1});
    }
    b.output("y");
    Graph g = b.import();
    CHECK(g.values[g.outputs[0]].type.dims == Dims{1, kDynamic, 3, 2, 1});
    CHECK(run1(g, ramp({4, 3, 1, 2})).shape() == Dims{1, 4, 3, 2, 1});
  }
}

TEST_CASE("a declared batch in Reshape targets and Keras' Flatten(axis=0) does not fix the batch") {
  ModelBuilder b;
  b.input("x", {1, 2, 3});
  b.init("shape", {2}, {1, 6}, true);
  b.node("Reshape", {"x", "shape"}, {"r"});
  ModelBuilder::attr_int(b.node("Flatten", {"r"}, {"y"}), "axis", 0);
  b.output("y");
  Graph g = b.import();
  CHECK(g.values[g.outputs[0]].type.dims == Dims{kDynamic, 6});
  Tensor x = ramp({5, 2, 3});
  Tensor y = run1(g, x);
  CHECK(y.shape() == Dims{5, 6});
  for (int64_t i = 0; i < x.numel(); ++i)
    CHECK(y[i] == x[i]);
}

TEST_CASE("Flatten(axis=0) keeps its ONNX meaning when the declared batch is not 1") {
  ModelBuilder b;
  b.input("x", {2, 3});
  ModelBuilder::attr_int(b.node("Flatten", {"x"}, {"y"}), "axis", 0);
  b.output("y");
  CHECK(run1(b.import(), ramp({2, 3})).shape() == Dims{1, 6});
}

TEST_CASE("depthwise Conv equals a direct computation with pads, strides and dilations") {
  ModelBuilder b;
  b.input("x", {1, 3, 9});
  std::vector<double> w;
  for (int i = 0; i < 9; ++i)
    w.push_back(0.25 * i - 1.0);
  b.init("w", {3, 1, 3}, w).init("bias", {3}, {0.5, -0.5, 1.0});
  auto &n = b.node("Conv", {"x", "w", "bias"}, {"y"});
  ModelBuilder::attr_int(n, "group", 3);
  ModelBuilder::attr_ints(n, "pads", {2, 1});
  ModelBuilder::attr_ints(n, "strides", {2});
  ModelBuilder::attr_ints(n, "dilations", {2});
  b.output("y");
  Tensor x = ramp({2, 3, 9}, 1.3, 0.17);
  Tensor y = run1(b.import(), x);
  // out = floor((9 + 3 - 5) / 2) + 1 = 4
  REQUIRE(y.shape() == Dims{2, 3, 4});
  double bias[] = {0.5, -0.5, 1.0};
  for (int nb = 0; nb < 2; ++nb)
    for (int c = 0; c < 3; ++c)
      for (int o = 0; o < 4; ++o) {
        double acc = bias[c];
        for (int k = 0; k < 3; ++k) {
          int pos = o * 2 - 2 + k * 2;
          if (pos >= 0 && pos < 9)
            acc += x[(nb * 3 + c) * 9 + pos] * w[c * 3 + k];
        }
        CHECK(y[(nb * 3 + c) * 4 + o] == doctest::Approx(acc).epsilon(1e-12));
      }
}

TEST_CASE("Sigmoid does not overflow at large magnitudes") {
  ModelBuilder b;
  b.input("x", {1, 4});
  b.node("Sigmoid", {"x"}, {"y"});
  b.output("y");
  Tensor y = run1(b.import(), Tensor(DType::Float32, {1, 4}, {-1000, -30, 30, 1000}));
  CHECK(y[0] == 0.0);
  CHECK(y[1] > 0.0);
  CHECK(y[3] == 1.0);
}

TEST_CASE("every op in ops.def is registered under its own name") {
  for (const OpDef *d : all_ops()) {
    CHECK(find_op(d->domain, d->name) == d);
    CHECK(&op_def(op_kind(*d)) == d);
  }
  CHECK(find_op(OpDomain::Qonnx, "IntQuant") == &op_def(OpKind::Quant));
  CHECK(find_op(OpDomain::Onnx, "Quant") == nullptr);
}

TEST_CASE("table functions: Exp, Softplus, Softsign, Elu, Selu, HardSigmoid, HardSwish, Erf, "
          "Tanh") {
  Tensor x(DType::Float32, {1, 5}, {-4, -1, 0, 0.5, 3.5});
  // op(x) with an optional float attribute.
  auto run = [&](const char *op, int opset, const char *attr = nullptr, float value = 0) {
    ModelBuilder b(opset);
    b.input("x", {1, 5});
    auto &n = b.node(op, {"x"}, {"y"});
    if (attr) {
      auto *a = n.add_attribute();
      a->set_name(attr);
      a->set_type(onnx::AttributeProto::FLOAT);
      a->set_f(value);
    }
    b.output("y");
    return run1(b.import(), x);
  };
  auto check = [&](const Tensor &y, auto f) {
    for (int64_t j = 0; j < 5; ++j)
      CHECK(y[j] == doctest::Approx(f(x[j])).epsilon(1e-6));
  };
  check(run("Exp", 13), [](double v) { return std::exp(v); });
  check(run("Softplus", 13), [](double v) { return std::log(1 + std::exp(v)); });
  check(run("Softsign", 13), [](double v) { return v / (1 + std::fabs(v)); });
  check(run("Tanh", 13), [](double v) { return std::tanh(v); });
  check(run("Erf", 13), [](double v) { return std::erf(v); });
  check(run("Elu", 13, "alpha", 0.5f), [](double v) { return v > 0 ? v : 0.5 * std::expm1(v); });
  check(run("Selu", 13), [](double v) {
    return v > 0 ? 1.0507009873554805 * v : 1.0507009873554805 * 1.6732632423543772 * std::expm1(v);
  });
  // PyTorch's nn.Hardsigmoid: alpha 1/6.
  check(run("HardSigmoid", 13, "alpha", 1.0f / 6),
        [](double v) { return std::max(0.0, std::min(1.0, v / 6 + 0.5)); });
  check(run("HardSigmoid", 13),
        [](double v) { return std::max(0.0, std::min(1.0, 0.2 * v + 0.5)); });
  check(run("HardSwish", 14), [](double v) { return v * std::max(0.0, std::min(6.0, v + 3)) / 6; });
}

TEST_CASE("table functions: Celu, Log, and hgqc's Gelu (both forms), Silu, Mish and refusals") {
  Tensor x(DType::Float32, {1, 5}, {-4, -1, 0.25, 0.5, 3.5});
  // op(x) in `domain` with an optional float or string attribute.
  auto model = [&](const char *op, const char *domain, const char *attr, float f, const char *s) {
    ModelBuilder b(13);
    b.input("x", {1, 5});
    auto &n = b.node(op, {"x"}, {"y"}, "fn");
    n.set_domain(domain);
    if (attr) {
      auto *a = n.add_attribute();
      a->set_name(attr);
      a->set_type(s ? onnx::AttributeProto::STRING : onnx::AttributeProto::FLOAT);
      s ? a->set_s(s) : a->set_f(f);
    }
    b.output("y");
    return b;
  };
  auto run = [&](const char *op, const char *domain = "", const char *attr = nullptr, float f = 0,
                 const char *s = nullptr) {
    return run1(model(op, domain, attr, f, s).import(), x);
  };
  auto check = [&](const Tensor &y, auto fn) {
    for (int64_t j = 0; j < 5; ++j)
      CHECK(y[j] == doctest::Approx(fn(x[j])).epsilon(1e-9));
  };
  check(run("Celu"), [](double v) { return v > 0 ? v : std::expm1(v); });
  check(run("Celu", "", "alpha", 2.0f), [](double v) { return v > 0 ? v : 2 * std::expm1(v / 2); });
  Tensor lg = run("Log");
  for (int64_t j = 2; j < 5; ++j) // the positive inputs
    CHECK(lg[j] == doctest::Approx(std::log(x[j])).epsilon(1e-12));
  CHECK(std::isnan(lg[0]));
  check(run("Gelu", "hgqc"), [](double v) { return v * 0.5 * std::erfc(-v / std::sqrt(2.0)); });
  check(run("Gelu", "hgqc", "approximate", 0, "tanh"), [](double v) {
    return 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
  });
  check(run("Silu", "hgqc"), [](double v) { return v / (1 + std::exp(-v)); });
  check(run("Mish", "hgqc"), [](double v) { return v * std::tanh(std::log1p(std::exp(v))); });
  auto error = [&](ModelBuilder b) {
    try {
      b.import();
    } catch (const UserError &e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(error(model("Celu", "", "alpha", 0.0f, nullptr)).find("'alpha' must be a positive") !=
        std::string::npos);
  CHECK(error(model("Gelu", "hgqc", "approximate", 0, "erf")).find("must be \"none\" or") !=
        std::string::npos);
}
