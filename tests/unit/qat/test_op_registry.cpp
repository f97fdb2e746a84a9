// The op registry against training: every op with a fixed-point form has a training forward,
// a backward and a central finite-difference check of that backward, so that `hgqc train`
// accepts every model that `hgqc quantize` accepts.
//
// kFdChecked lists the ops whose backward a finite-difference TEST_CASE in tests/unit/qat/
// checks (test_train_grad*.cpp, test_train_products.cpp), with the op's ONNX name as a word of
// the TEST_CASE title; the test below also finds that title among the registered test cases.
// Adding an op with a fixed-point form (range, eval_fixed) means adding its
// finite-difference test there and its name here.
#include "ir/op.h"

#include <doctest/doctest.h>

#include <cctype>
#include <set>
#include <string>
#include <string_view>

using namespace hgqc;

namespace doctest::detail {
// doctest's registry of test cases (defined with the doctest implementation in this binary).
std::set<TestCase> &getRegisteredTests();
} // namespace doctest::detail

namespace {
// The ops whose backward a finite-difference test checks.
const std::set<std::string_view> kFdChecked = {"Add",
                                               "Sub",
                                               "Mul",
                                               "Div",
                                               "Relu",
                                               "LeakyRelu",
                                               "Clip",
                                               "Softmax",
                                               "LogSoftmax",
                                               "Gemm",
                                               "MatMul",
                                               "Conv",
                                               "BatchNormalization",
                                               "MaxPool",
                                               "AveragePool",
                                               "GlobalAveragePool",
                                               "Flatten",
                                               "Reshape",
                                               "Transpose",
                                               "Squeeze",
                                               "Unsqueeze",
                                               "Concat",
                                               "Identity",
                                               "Dropout",
                                               "ReduceSum",
                                               "ReduceMean",
                                               "ReduceMax",
                                               "Sigmoid",
                                               "Tanh",
                                               "Exp",
                                               "Softplus",
                                               "Softsign",
                                               "Elu",
                                               "Selu",
                                               "HardSigmoid",
                                               "HardSwish",
                                               "Erf",
                                               "Neg",
                                               "Abs",
                                               "PRelu",
                                               "Pad",
                                               "Resize",
                                               "Slice",
                                               "Reciprocal",
                                               "Sum",
                                               "Mean",
                                               "Max",
                                               "Min",
                                               "Celu",
                                               "Gelu",
                                               "Silu",
                                               "Mish",
                                               "Log"};

// The quantizers: the HGQ engine trains FixedQuant itself (lib/qat/hgq.cpp, checked by the
// "HGQ activation quantizer" and "HGQ weight quantizer" tests) and refuses models that are
// already quantized (Quant, BipolarQuant), so these need no backward hook.
const std::set<std::string_view> kQuantizers = {"FixedQuant", "Quant", "BipolarQuant"};

// Whether `word` occurs in `text` with no letter or digit on either side.
bool has_word(std::string_view text, std::string_view word) {
  for (size_t at = text.find(word); at != std::string_view::npos; at = text.find(word, at + 1)) {
    size_t end = at + word.size();
    bool left = at == 0 || !std::isalnum(static_cast<unsigned char>(text[at - 1]));
    bool right = end == text.size() || !std::isalnum(static_cast<unsigned char>(text[end]));
    if (left && right)
      return true;
  }
  return false;
}

// Whether a test case of tests/unit/qat/ names `op` in its title.
bool has_qat_test(std::string_view op) {
  for (const doctest::detail::TestCase &tc : doctest::detail::getRegisteredTests()) {
    std::string_view file = tc.m_file.c_str();
    if (file.find("unit/qat/") != std::string_view::npos && has_word(tc.m_name, op) &&
        !has_word(tc.m_name, "op registry"))
      return true;
  }
  return false;
}
} // namespace

TEST_CASE("op registry: every op with a fixed-point form has a backward and a finite-difference "
          "check") {
  int fixed_ops = 0;
  for (const OpDef *d : all_ops()) {
    if (!d->range && !d->eval_fixed)
      continue;
    CAPTURE(d->name);
    CHECK(static_cast<bool>(d->range));
    CHECK(static_cast<bool>(d->eval_fixed));
    if (kQuantizers.count(d->name))
      continue;
    ++fixed_ops;
    CHECK(static_cast<bool>(d->train_forward));
    CHECK(static_cast<bool>(d->backward));
    CHECK(kFdChecked.count(d->name) == 1);
  }
  CHECK(fixed_ops > 20);
  // The list names registered ops with a backward, each in a finite-difference test's title.
  for (std::string_view name : kFdChecked) {
    CAPTURE(name);
    const OpDef *d = find_op(OpDomain::Onnx, name);
    if (!d) // hgqc's own table functions (Gelu, Silu, Mish)
      d = find_op(OpDomain::Hgqc, name);
    REQUIRE(d != nullptr);
    CHECK(static_cast<bool>(d->backward));
    CHECK(has_qat_test(name));
  }
}

TEST_CASE("op registry: the title check finds whole words only") {
  CHECK(has_word("Relu, LeakyRelu and Softmax backward", "Relu"));
  CHECK(has_word("Relu, LeakyRelu and Softmax backward", "Softmax"));
  CHECK_FALSE(has_word("LeakyRelu backward", "Relu"));
  CHECK_FALSE(has_word("MaxPooling", "MaxPool"));
  CHECK(has_qat_test("Gemm"));
  CHECK_FALSE(has_qat_test("NoSuchOp"));
}
