// Unit tests of tensors, broadcasting, comparison, size limits and the escaping of messages.
#include "ir/tensor.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>

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

namespace {
// The message of the UserError `f` throws, or "" (and a failed check) if it throws none.
template <class F> std::string user_error(F f) {
  try {
    f();
  } catch (const UserError &e) {
    return e.what();
  }
  FAIL_CHECK("expected a UserError");
  return "";
}
bool contains(const std::string &s, const std::string &part) {
  return s.find(part) != std::string::npos;
}
} // namespace

TEST_CASE("dims_numel refuses unknown, negative and oversized shapes without overflowing") {
  CHECK(dims_numel({}) == 1);
  CHECK(dims_numel({2, 3}) == 6);
  CHECK(dims_numel({std::numeric_limits<int64_t>::max(), 0}) == 0);
  CHECK(dims_numel({kMaxTensorElements}) == kMaxTensorElements);
  CHECK(contains(user_error([] {
                   dims_numel({kDynamic, 6});
                 }),
                 "shape [N,6] has an unknown dimension"));
  CHECK(contains(user_error([] {
                   dims_numel({std::numeric_limits<int64_t>::min(), 2});
                 }),
                 "has a negative dimension"));
  CHECK(contains(user_error([] {
                   dims_numel({int64_t{1} << 40, int64_t{1} << 40});
                 }),
                 "more than the 268435456 elements hgqc allows"));
  CHECK(contains(user_error([] {
                   dims_numel({std::numeric_limits<int64_t>::max(), 3});
                 }),
                 "more than the 268435456"));
  CHECK(contains(user_error([] { dims_numel({kMaxTensorElements, 2}); }), "more than"));
  // The zero-filled constructor checks before it allocates.
  CHECK(contains(user_error([] {
                   Tensor(DType::Float32, {int64_t{1} << 20, int64_t{1} << 20});
                 }),
                 "more than"));
  CHECK(contains(user_error([] { check_numel_cap(uint64_t{1} << 40, "x", Location{"f.npy"}); }),
                 "f.npy: x has 1099511627776 elements"));
}

TEST_CASE("printable escapes control bytes and invalid UTF-8, keeps valid UTF-8") {
  CHECK(printable("plain text, 'quoted' [1,2]") == "plain text, 'quoted' [1,2]");
  CHECK(printable("a\x01"
                  "b\nc\td\x7f") == "a\\x01b\\x0ac\\x09d\\x7f");
  CHECK(printable(std::string("nul\0x", 5)) == "nul\\x00x");
  CHECK(printable("caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x99\x82") ==
        "caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x99\x82");
  CHECK(printable("\xff\xfe") == "\\xff\\xfe");
  CHECK(printable("end \xc3") == "end \\xc3");                    // truncated sequence
  CHECK(printable("\xc0\xaf") == "\\xc0\\xaf");                   // overlong '/'
  CHECK(printable("\xe0\x80\xaf") == "\\xe0\\x80\\xaf");          // overlong, 3 bytes
  CHECK(printable("\xed\xa0\x80") == "\\xed\\xa0\\x80");          // UTF-16 surrogate
  CHECK(printable("\xf4\x90\x80\x80") == "\\xf4\\x90\\x80\\x80"); // above U+10FFFF
  CHECK(printable("\xc2\x85") == "\\xc2\\x85");                   // C1 control NEL
  CHECK(printable("\xe6\x97") == "\\xe6\\x97");                   // cut inside
  CHECK(printable("\xe6\x97"
                  "a") == "\\xe6\\x97a");
}

TEST_CASE("UserError messages are one printable line whatever the names hold") {
  UserError e("bad value '\x01\xff'", Location{"m\n.onnx", 3, "n\x01\n\xfe", "Op\r"});
  CHECK(std::string(e.what()) == "m\\x0a.onnx:3: node 'n\\x01\\x0a\\xfe' (Op\\x0d): bad value "
                                 "'\\x01\\xff'");
  // The bare message and the location keep the raw bytes; re-locating does not escape twice.
  CHECK(e.bare_message() == "bad value '\x01\xff'");
  CHECK(std::string(e.with_location(Location{"outer"}).what()) == e.what());
}
