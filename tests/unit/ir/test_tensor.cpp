// Unit tests of tensors, broadcasting and comparison.
#include "ir/tensor.h"

#include <doctest/doctest.h>

#include <cmath>

using namespace hgqc;

TEST_CASE("broadcast_dims follows numpy and lets the batch dimension through") {
  Dims r;
  CHECK(broadcast_dims({3, 1, 5}, {4, 1}, r));
  CHECK(r == Dims{3, 4, 5});
  CHECK(broadcast_dims({kDynamic, 4}, {4}, r));
  CHECK(r == Dims{kDynamic, 4});
  CHECK(broadcast_dims({kDynamic, 4}, {3, 1}, r));
  CHECK(r == Dims{3, 4});
  CHECK_FALSE(broadcast_dims({2, 3}, {4, 3}, r));
  CHECK(broadcast_dims({}, {2, 2}, r));
  CHECK(r == Dims{2, 2});
}

TEST_CASE("broadcast_strides zeroes broadcast dimensions") {
  CHECK(broadcast_strides({3, 1}, {2, 3, 4}) == std::vector<int64_t>{0, 1, 0});
  CHECK(broadcast_strides({4}, {2, 4}) == std::vector<int64_t>{0, 1});
}

TEST_CASE("compare uses |a-e| <= atol + rtol*|e| and treats NaN on one side as a mismatch") {
  Tensor e(DType::Float32, {4}, {1.0, 100.0, 0.0, NAN});
  Tensor a(DType::Float32, {4}, {1.00001, 100.002, 1e-7, NAN});
  TensorDiff d = compare(a, e, 1e-5, 1e-6);
  CHECK(d.same_shape);
  CHECK(d.mismatches == 1); // 100.002 is 2e-5 relative off
  CHECK(d.worst == 1);
  CHECK(d.max_abs == doctest::Approx(0.002));
  a[3] = 0.0;
  CHECK(compare(a, e, 1.0, 1.0).mismatches == 1);
  CHECK_FALSE(compare(a, Tensor(DType::Float32, {2, 2}), 1, 1).same_shape);
}

TEST_CASE("cast rounds to float32 and truncates to integers") {
  Tensor t(DType::Float64, {3}, {0.1, -2.7, 1e40});
  Tensor f = t.cast(DType::Float32);
  CHECK(f[0] == static_cast<double>(0.1f));
  CHECK(t.cast(DType::Int64)[1] == -2.0);
  CHECK(std::isinf(f[2]));
  // A float32 tensor holding double-precision values is rounded too.
  Tensor d(DType::Float32, {1}, {0.1});
  CHECK(d.cast(DType::Float32)[0] == static_cast<double>(0.1f));
}

TEST_CASE("dims_str marks the batch dimension") {
  CHECK(dims_str({kDynamic, 3, 4}) == "[N,3,4]");
  CHECK(dims_str({}) == "[]");
}
