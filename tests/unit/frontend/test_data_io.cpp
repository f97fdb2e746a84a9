// Unit tests of the data I/O library: .npy/.npz/IDX/CSV reading, writing and error reporting.
#include "frontend/data_io.h"

#include <doctest/doctest.h>
#include <zlib.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace hgqc;

namespace {

/// testdata/io of the source tree (CMake may define HGQC_TESTDATA_DIR as the testdata root).
std::string fixture(const std::string &name) {
#ifdef HGQC_TESTDATA_DIR
  fs::path dir = fs::path(HGQC_TESTDATA_DIR) / "io";
#else
  fs::path dir = fs::path(__FILE__).parent_path().parent_path().parent_path().parent_path() /
                 "testdata" / "io";
#endif
  return (dir / name).string();
}

/// A fresh temporary directory, removed with everything in it at scope exit.
struct TmpDir {
  fs::path dir;
  TmpDir() {
    static int counter = 0;
    dir = fs::temp_directory_path() /
          ("hgqc_test_data_io_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~TmpDir() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string path(const std::string &name) const { return (dir / name).string(); }
  std::string write(const std::string &name, std::string_view bytes) const {
    std::string p = path(name);
    std::ofstream(p, std::ios::binary)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return p;
  }
};

/// Runs f, which must throw a UserError; returns it (a default one after a failed check).
UserError expect_user_error(const std::function<void()> &f) {
  try {
    f();
  } catch (const UserError &e) {
    return e;
  } catch (const std::exception &e) {
    FAIL_CHECK("expected UserError, got another exception: " << e.what());
    return UserError("");
  }
  FAIL_CHECK("expected UserError, nothing was thrown");
  return UserError("");
}

bool contains(const std::string &s, const std::string &part) {
  return s.find(part) != std::string::npos;
}

#define CHECK_CONTAINS(s, part) CHECK_MESSAGE(contains((s), (part)), (s))

std::vector<double> values(const Tensor &t) { return {t.data().begin(), t.data().end()}; }

std::string bytes_of(const std::string &path) { return read_file(path); }

// Little/big-endian byte builders for hand-made files.
void le(std::string &s, uint64_t v, int n) {
  for (int i = 0; i < n; ++i)
    s += static_cast<char>((v >> (8 * i)) & 0xff);
}
void be(std::string &s, uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i)
    s += static_cast<char>((v >> (8 * i)) & 0xff);
}

/// A .npy with a version 1.0 header holding `dict` (no padding) followed by `data`.
std::string npy_with_header(const std::string &dict, std::string_view data = {}) {
  std::string s = "\x93NUMPY";
  s += '\x01';
  s += '\0';
  le(s, dict.size(), 2);
  return s + dict + std::string(data);
}

std::string idx_file(int type, const std::vector<uint32_t> &dims, const std::string &data) {
  std::string s;
  s += '\0';
  s += '\0';
  s += static_cast<char>(type);
  s += static_cast<char>(dims.size());
  for (uint32_t d : dims)
    be(s, d, 4);
  return s + data;
}

void write_gz(const std::string &path, std::string_view bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) ==
          static_cast<int>(bytes.size()));
  REQUIRE(gzclose(f) == Z_OK);
}

/// A zip archive of stored members using zip64 records throughout (central-directory extra
/// fields, zip64 end record and locator), as large archives have.
std::string zip64_archive(const std::vector<std::pair<std::string, std::string>> &members) {
  std::string out, cd;
  for (auto &[name, data] : members) {
    uint32_t crc = static_cast<uint32_t>(
        crc32_z(0, reinterpret_cast<const Bytef *>(data.data()), data.size()));
    uint64_t off = out.size();
    le(out, 0x04034b50, 4);
    le(out, 45, 2);
    le(out, 0, 2);
    le(out, 0, 2);
    le(out, 0, 4);
    le(out, crc, 4);
    le(out, 0xffffffff, 4);
    le(out, 0xffffffff, 4);
    le(out, name.size(), 2);
    le(out, 20, 2);
    out += name;
    le(out, 1, 2);
    le(out, 16, 2);
    le(out, data.size(), 8);
    le(out, data.size(), 8);
    out += data;
    le(cd, 0x02014b50, 4);
    le(cd, 45, 2);
    le(cd, 45, 2);
    le(cd, 0, 2);
    le(cd, 0, 2);
    le(cd, 0, 4);
    le(cd, crc, 4);
    le(cd, 0xffffffff, 4);
    le(cd, 0xffffffff, 4);
    le(cd, name.size(), 2);
    le(cd, 28, 2);
    le(cd, 0, 2);
    le(cd, 0, 2);
    le(cd, 0, 2);
    le(cd, 0, 4);
    le(cd, 0xffffffff, 4);
    cd += name;
    le(cd, 1, 2);
    le(cd, 24, 2);
    le(cd, data.size(), 8);
    le(cd, data.size(), 8);
    le(cd, off, 8);
  }
  uint64_t cd_off = out.size();
  out += cd;
  uint64_t z64 = out.size();
  le(out, 0x06064b50, 4);
  le(out, 44, 8);
  le(out, 45, 2);
  le(out, 45, 2);
  le(out, 0, 4);
  le(out, 0, 4);
  le(out, members.size(), 8);
  le(out, members.size(), 8);
  le(out, cd.size(), 8);
  le(out, cd_off, 8);
  le(out, 0x07064b50, 4);
  le(out, 0, 4);
  le(out, z64, 8);
  le(out, 1, 4);
  le(out, 0x06054b50, 4);
  le(out, 0, 2);
  le(out, 0, 2);
  le(out, 0xffff, 2);
  le(out, 0xffff, 2);
  le(out, 0xffffffff, 4);
  le(out, 0xffffffff, 4);
  le(out, 0, 2);
  return out;
}

} // namespace

// ---------------------------------------------------------------------------------------------
// .npy

TEST_CASE("npy: write_npy/read_npy round trip for every dtype and shape") {
  TmpDir tmp;
  struct Case {
    DType dtype;
    Dims shape;
    std::vector<double> v;
  };
  std::vector<Case> cases = {
      {DType::Float32, {2, 3}, {1.5, -2.0, 3.25, 0.0, 1e-3f, -7.0}},
      {DType::Float64, {3}, {0.1, -2.5, 1e300}},
      {DType::Int64, {2, 2}, {-9007199254740992.0, 9007199254740992.0, 0, -7}},
      {DType::Int32, {1, 2, 2}, {-2147483648.0, 2147483647.0, 0, -1}},
      {DType::UInt8, {2, 2}, {0, 255, 7, 128}},
      {DType::Bool, {3}, {1, 0, 1}},
      {DType::Float32, {}, {3.5}},
      {DType::Int64, {}, {-12}},
      {DType::Float32, {0, 3}, {}},
      {DType::UInt8, {4, 0, 1000000}, {}},
      {DType::Float64, {1, 2, 1, 2, 1}, {1, 2, 3, 4}},
  };
  for (const Case &c : cases) {
    CAPTURE(dtype_name(c.dtype));
    CAPTURE(dims_str(c.shape));
    std::string p = tmp.path("a.npy");
    write_npy(p, Tensor(c.dtype, c.shape, c.v));
    Tensor r = read_npy(p);
    CHECK(r.dtype() == c.dtype);
    CHECK(r.shape() == c.shape);
    CHECK(values(r) == c.v);
    size_t item = c.dtype == DType::Float64 || c.dtype == DType::Int64   ? 8
                  : c.dtype == DType::Float32 || c.dtype == DType::Int32 ? 4
                                                                         : 1;
    CHECK((bytes_of(p).size() - static_cast<size_t>(r.numel()) * item) % 64 == 0);
  }
  CHECK(!fs::exists(tmp.path("a.npy.tmp." + std::to_string(::getpid()))));
}

TEST_CASE("npy: serialize_npy is byte-identical to np.save") {
  struct Case {
    const char *file;
    Tensor t;
  };
  std::vector<Case> cases = {
      {"f4_2x3.npy", Tensor(DType::Float32, {2, 3}, {1.5, -2.0, 3.25, 0.0, 1e-3f, -7.0})},
      {"f8_3.npy", Tensor(DType::Float64, {3}, {0.1, -2.5, 1e300})},
      {"i4_2x2.npy", Tensor(DType::Int32, {2, 2}, {-2147483648.0, 2147483647.0, 0, -1})},
      {"i8_4.npy", Tensor(DType::Int64, {4}, {-9007199254740992.0, 9007199254740992.0, 0, -7})},
      {"u1_2x2.npy", Tensor(DType::UInt8, {2, 2}, {0, 255, 7, 128})},
      {"b1_3.npy", Tensor(DType::Bool, {3}, {1, 0, 1})},
      {"scalar_f4.npy", Tensor::scalar(DType::Float32, 3.5)},
      {"empty_0x3.npy", Tensor(DType::Float32, {0, 3})},
  };
  for (const Case &c : cases) {
    CAPTURE(c.file);
    CHECK(serialize_npy(c.t) == bytes_of(fixture(c.file)));
  }
}

TEST_CASE("npy: integer output is truncated and saturated") {
  TmpDir tmp;
  std::string p = tmp.path("s.npy");
  write_npy(p, Tensor(DType::Int32, {4}, {1e10, -1e10, 2.7, -2.7}));
  CHECK(values(read_npy(p)) == std::vector<double>{2147483647.0, -2147483648.0, 2, -2});
  write_npy(p, Tensor(DType::UInt8, {4}, {-5, 300, 254.9, std::nan("")}));
  CHECK(values(read_npy(p)) == std::vector<double>{0, 255, 254, 0});
  write_npy(p, Tensor(DType::Int64, {2}, {1e30, -1e30}));
  CHECK(values(read_npy(p)) == std::vector<double>{9223372036854775807.0, -9223372036854775808.0});
  write_npy(p, Tensor(DType::Bool, {3}, {0, -2, 0.5}));
  CHECK(values(read_npy(p)) == std::vector<double>{0, 1, 1});
}

TEST_CASE("npy: reading files written by numpy") {
  Tensor f4 = read_npy(fixture("f4_2x3.npy"));
  CHECK(f4.dtype() == DType::Float32);
  CHECK(f4.shape() == Dims{2, 3});
  CHECK(values(f4) == std::vector<double>{1.5, -2.0, 3.25, 0.0, static_cast<double>(1e-3f), -7.0});

  Tensor f8 = read_npy(fixture("f8_3.npy"));
  CHECK(f8.dtype() == DType::Float64);
  CHECK(values(f8) == std::vector<double>{0.1, -2.5, 1e300});

  Tensor i4 = read_npy(fixture("i4_2x2.npy"));
  CHECK(i4.dtype() == DType::Int32);
  CHECK(values(i4) == std::vector<double>{-2147483648.0, 2147483647.0, 0, -1});

  Tensor i8 = read_npy(fixture("i8_4.npy"));
  CHECK(i8.dtype() == DType::Int64);
  CHECK(values(i8) == std::vector<double>{-9007199254740992.0, 9007199254740992.0, 0, -7});

  Tensor u1 = read_npy(fixture("u1_2x2.npy"));
  CHECK(u1.dtype() == DType::UInt8);
  CHECK(values(u1) == std::vector<double>{0, 255, 7, 128});

  Tensor b1 = read_npy(fixture("b1_3.npy"));
  CHECK(b1.dtype() == DType::Bool);
  CHECK(b1.shape() == Dims{3});
  CHECK(values(b1) == std::vector<double>{1, 0, 1});

  Tensor sc = read_npy(fixture("scalar_f4.npy"));
  CHECK(sc.rank() == 0);
  CHECK(sc.numel() == 1);
  CHECK(sc[0] == 3.5);

  Tensor e = read_npy(fixture("empty_0x3.npy"));
  CHECK(e.dtype() == DType::Float32);
  CHECK(e.shape() == Dims{0, 3});
  CHECK(e.numel() == 0);

  Tensor v2 = read_npy(fixture("v2_f4.npy"));
  CHECK(bytes_of(fixture("v2_f4.npy"))[6] == 2);
  CHECK(v2.shape() == Dims{3});
  CHECK(values(v2) == std::vector<double>{1, 2, 3});

  Tensor v3 = read_npy(fixture("v3_i8.npy"));
  CHECK(bytes_of(fixture("v3_i8.npy"))[6] == 3);
  CHECK(v3.dtype() == DType::Int64);
  CHECK(v3.shape() == Dims{1, 2});
  CHECK(values(v3) == std::vector<double>{4, 5});
}

TEST_CASE("npy: unsupported content written by numpy is rejected with a clear message") {
  struct Case {
    const char *file;
    std::vector<std::string> parts;
  };
  std::vector<Case> cases = {
      {"fortran_f4.npy", {"Fortran-order", "'<f4'"}},
      {"be_f4.npy", {"unsupported dtype '>f4'", "big-endian", "supported: float32 '<f4'"}},
      {"f2.npy", {"unsupported dtype '<f2'", "supported: float32 '<f4'", "bool '|b1'"}},
      {"object.npy", {"unsupported dtype '|O'", "object"}},
      {"structured.npy", {"unsupported dtype", "structured"}},
      {"nan_f4.npy", {"contains NaN at index 1 (element [0,1])"}},
      {"inf_f8.npy", {"contains -Inf at index 1"}},
  };
  for (const Case &c : cases) {
    CAPTURE(c.file);
    UserError e = expect_user_error([&] { read_npy(fixture(c.file)); });
    CHECK(e.location().file == fixture(c.file));
    for (const std::string &part : c.parts)
      CHECK_CONTAINS(e.bare_message(), part);
    CHECK_CONTAINS(std::string(e.what()), fixture(c.file) + ": ");
  }
}

TEST_CASE("npy: malformed and hostile input") {
  auto err = [](std::string_view bytes) {
    UserError e = expect_user_error([&] { parse_npy(bytes, "x.npy"); });
    CHECK(e.location().file == "x.npy");
    return e.bare_message();
  };
  std::string good = serialize_npy(Tensor(DType::Float32, {2, 3}, {1, 2, 3, 4, 5, 6}));

  CHECK_CONTAINS(err(""), "not a .npy file");
  CHECK_CONTAINS(err("PK\x03\x04 this is a zip"), "not a .npy file");
  CHECK_CONTAINS(err("\x93NUMPY\x01"), "truncated");
  std::string v4 = good;
  v4[6] = 4;
  CHECK_CONTAINS(err(v4), "unsupported .npy format version 4.0");
  CHECK_CONTAINS(err(good.substr(0, 60)), "truncated: preamble says the header has 118 bytes");
  CHECK_CONTAINS(err(good.substr(0, good.size() - 1)),
                 "truncated: header says 24 bytes of data, file has 23");
  CHECK_CONTAINS(err(good.substr(0, 128)), "truncated: header says 24 bytes of data, file has 0");
  CHECK(parse_npy(good + "extra", "x.npy").numel() == 6); // numpy ignores trailing bytes too

  CHECK_CONTAINS(err(npy_with_header("{'descr': '<f4', 'shape': (2,), }")),
                 "missing key 'fortran_order'");
  CHECK_CONTAINS(err(npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)")),
                 "malformed .npy header");
  CHECK_CONTAINS(err(npy_with_header("garbage")), "malformed .npy header");
  CHECK_CONTAINS(err(npy_with_header("[1, 2]")), "not a dict");
  CHECK_CONTAINS(err(npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }")),
                 "negative number");
  CHECK_CONTAINS(err(npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': 5, }")),
                 "'shape' is not a tuple");
  CHECK_CONTAINS(err(npy_with_header("{'descr': '<f4', 'fortran_order': 0, 'shape': (), }")),
                 "'fortran_order' is not True/False");
  CHECK_CONTAINS(err(npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': "
                                     "(99999999999999999999,), }")),
                 "integer too large");
  CHECK_CONTAINS(err(npy_with_header(std::string(100, '(') + std::string(100, ')'))),
                 "nested too deeply");
  // Huge declared shapes are refused before any allocation.
  CHECK_CONTAINS(err(npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': "
                                     "(1000000, 1000000), }")),
                 "truncated: header says 8000000000000 bytes of data, file has 0");
  CHECK_CONTAINS(err(npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': "
                                     "(4294967296, 4294967296), }")),
                 "too large");
  CHECK_CONTAINS(err(npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': "
                                     "(3037000499, 3037000499), }")),
                 "too large");
  // Zero-sized arrays with enormous other dimensions are fine; overflowing ones are not.
  CHECK(parse_npy(npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': "
                                  "(4294967296, 0), }"),
                  "x.npy")
            .numel() == 0);
  CHECK_CONTAINS(err(npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': "
                                     "(4294967296, 0, 4294967296), }")),
                 "too large");
  // Header variants numpy accepts: double quotes, Python 2 long suffix, no trailing comma.
  Tensor t = parse_npy(npy_with_header("{\"descr\": \"<i4\", \"fortran_order\": False, "
                                       "\"shape\": (2L,)}",
                                       std::string("\x05\0\0\0\xff\xff\xff\xff", 8)),
                       "x.npy");
  CHECK(values(t) == std::vector<double>{5, -1});
}

TEST_CASE("npy: missing file") {
  UserError e = expect_user_error([] { read_npy("/nonexistent/dir/x.npy"); });
  CHECK(e.location().file == "/nonexistent/dir/x.npy");
  CHECK_CONTAINS(e.bare_message(), "cannot open");
  CHECK_CONTAINS(e.bare_message(), "No such file");
  TmpDir tmp;
  UserError d = expect_user_error([&] { read_npy(tmp.dir.string()); });
  CHECK_CONTAINS(d.bare_message(), "cannot open");
}

// ---------------------------------------------------------------------------------------------
// .npz

TEST_CASE("npz: reading np.savez, np.savez_compressed and streamed archives") {
  auto check_ab = [](const std::vector<std::pair<std::string, Tensor>> &arrays) {
    REQUIRE(arrays.size() == 2);
    CHECK(arrays[0].first == "a");
    CHECK(arrays[0].second.dtype() == DType::Float32);
    CHECK(arrays[0].second.shape() == Dims{2, 2});
    CHECK(values(arrays[0].second) == std::vector<double>{1, 2, 3, 4.5});
    CHECK(arrays[1].first == "b");
    CHECK(arrays[1].second.dtype() == DType::Int64);
    CHECK(values(arrays[1].second) == std::vector<double>{1, 2, 3});
  };
  check_ab(read_npz(fixture("savez_2.npz")));

  auto c = read_npz(fixture("savez_compressed_2.npz"));
  REQUIRE(c.size() == 2);
  CHECK(c[0].first == "weights");
  CHECK(c[0].second.shape() == Dims{3, 4});
  CHECK(c[0].second[11] == 2.75);
  CHECK(c[1].first == "labels");
  CHECK(c[1].second.dtype() == DType::UInt8);
  CHECK(values(c[1].second) == std::vector<double>{3, 1, 4, 1, 5});

  // Written to an unseekable stream: data descriptors, zero sizes in the local headers.
  auto s = read_npz(fixture("streamed_2.npz"));
  REQUIRE(s.size() == 2);
  CHECK(s[0].first == "first");
  CHECK(values(s[0].second) == std::vector<double>{1, 2, 3});
  CHECK(s[1].first == "second");
  CHECK(values(s[1].second) == std::vector<double>{1, 2, 3, 4.5});

  auto one = read_npz(fixture("single.npz"));
  REQUIRE(one.size() == 1);
  CHECK(one[0].first == "arr_0");
  CHECK(one[0].second.dtype() == DType::Int32);
}

TEST_CASE("npz: selecting members") {
  CHECK(values(read_npz_member(fixture("savez_compressed_2.npz"), "labels")) ==
        std::vector<double>{3, 1, 4, 1, 5});
  CHECK(values(read_npz_member(fixture("single.npz"), "")) == std::vector<double>{7, 8});
  CHECK(values(read_array(fixture("single.npz"))) == std::vector<double>{7, 8});
  CHECK(values(read_array(fixture("savez_2.npz"), "b")) == std::vector<double>{1, 2, 3});

  UserError many = expect_user_error([] { read_array(fixture("savez_2.npz")); });
  CHECK_CONTAINS(many.bare_message(), "holds 2 arrays ('a', 'b')");
  CHECK(many.location().file == fixture("savez_2.npz"));
  UserError missing = expect_user_error([] { read_array(fixture("savez_2.npz"), "c"); });
  CHECK_CONTAINS(missing.bare_message(), "no array named 'c'");
  CHECK_CONTAINS(missing.bare_message(), "'a', 'b'");
}

TEST_CASE("npz: write_npz round trip") {
  TmpDir tmp;
  std::string p = tmp.path("out.npz");
  std::vector<std::pair<std::string, Tensor>> arrays = {
      {"x", Tensor(DType::Float32, {2, 2}, {1, -2, 3.5, 4})},
      {"labels", Tensor(DType::UInt8, {3}, {0, 9, 255})},
      {"mask", Tensor(DType::Bool, {}, {1})},
      {"empty", Tensor(DType::Int64, {0})},
      {"d\xc3\xa9j\xc3\xa0", Tensor(DType::Float64, {1}, {0.25})},
  };
  write_npz(p, arrays);
  auto r = read_npz(p);
  REQUIRE(r.size() == arrays.size());
  for (size_t i = 0; i < r.size(); ++i) {
    CAPTURE(arrays[i].first);
    CHECK(r[i].first == arrays[i].first);
    CHECK(r[i].second.dtype() == arrays[i].second.dtype());
    CHECK(r[i].second.shape() == arrays[i].second.shape());
    CHECK(values(r[i].second) == values(arrays[i].second));
  }
  write_npz(p, {});
  CHECK(read_npz(p).empty());
  CHECK_CONTAINS(expect_user_error([&] { read_array(p); }).bare_message(), "holds no arrays");

  UserError dup = expect_user_error([&] {
    write_npz(p, {{"a", Tensor(DType::Float32, {1})}, {"a", Tensor(DType::Float32, {1})}});
  });
  CHECK_CONTAINS(dup.bare_message(), "two arrays named 'a'");
  CHECK(dup.location().file == p);
  CHECK_CONTAINS(expect_user_error([&] {
                   write_npz(p, {{"", Tensor(DType::Float32, {1})}});
                 }).bare_message(),
                 "empty name");
}

TEST_CASE("npz: zip64 records") {
  TmpDir tmp;
  std::string p = tmp.write(
      "z64.npz", zip64_archive({{"p.npy", serialize_npy(Tensor(DType::Int32, {2}, {4, 2}))},
                                {"q.npy", serialize_npy(Tensor(DType::Float32, {}, {0.5}))}}));
  auto r = read_npz(p);
  REQUIRE(r.size() == 2);
  CHECK(r[0].first == "p");
  CHECK(values(r[0].second) == std::vector<double>{4, 2});
  CHECK(r[1].first == "q");
  CHECK(r[1].second[0] == 0.5);
}

TEST_CASE("npz: corrupt and unsupported archives") {
  TmpDir tmp;
  auto err = [&](std::string_view bytes) {
    std::string p = tmp.write("bad.npz", bytes);
    UserError e = expect_user_error([&] { read_npz(p); });
    CHECK(e.location().file == p);
    return e.bare_message();
  };
  std::string stored = bytes_of(fixture("savez_2.npz"));
  std::string deflated = bytes_of(fixture("savez_compressed_2.npz"));

  CHECK_CONTAINS(err(""), "not a .npz file");
  CHECK_CONTAINS(err(std::string(100, 'x')), "not a .npz file");
  CHECK_CONTAINS(err(bytes_of(fixture("f4_2x3.npy"))), "it is a .npy file");
  CHECK_CONTAINS(err(stored.substr(0, stored.size() / 2)), "not a .npz file");
  // Cutting the data away but keeping the directory: offsets point outside the file.
  std::string tail = stored.substr(stored.size() - 200);
  CHECK_CONTAINS(err(tail), "corrupt .npz (zip) archive");

  // A flipped byte in stored member data: CRC mismatch.
  std::string flipped = stored;
  flipped[150] ^= 0x55; // inside the data of member a.npy
  CHECK_CONTAINS(err(flipped), "CRC-32 mismatch");
  // A flipped byte in deflated data: a deflate or CRC error, never a crash.
  for (size_t at = 60; at < 140; at += 7) {
    std::string d = deflated;
    d[at] ^= 0x20;
    std::string p = tmp.write("bad.npz", d);
    try {
      read_npz(p);
    } catch (const UserError &e) {
      CHECK(e.location().file == p);
    }
  }

  // Declared uncompressed sizes that disagree with the deflate stream.
  size_t dcd = deflated.find("PK\x01\x02");
  REQUIRE(dcd != std::string::npos);
  REQUIRE(static_cast<unsigned char>(deflated[dcd + 24]) == 176); // weights.npy: 176 bytes
  std::string longer = deflated;
  longer[dcd + 24] = static_cast<char>(177);
  CHECK_CONTAINS(err(longer), "member 'weights.npy': bad deflate data (stream ends after 176 of "
                              "177 bytes)");
  std::string shorter = deflated;
  shorter[dcd + 24] = static_cast<char>(175);
  CHECK_CONTAINS(err(shorter), "truncated, or longer than the declared 175 bytes");
  std::string bomb = deflated;
  bomb[dcd + 27] = 0x7f; // ~2 GiB from 103 compressed bytes
  CHECK_CONTAINS(err(bomb), "implausible uncompressed size");

  // Patch the method / flags of the first central directory entry.
  size_t cd = stored.find("PK\x01\x02");
  REQUIRE(cd != std::string::npos);
  std::string method = stored;
  method[cd + 10] = 12; // bzip2
  CHECK_CONTAINS(err(method), "member 'a.npy': zip compression method 12 is not supported");
  std::string enc = stored;
  enc[cd + 8] |= 1;
  CHECK_CONTAINS(err(enc), "encrypted");
  // An absurd entry count.
  std::string count = stored;
  size_t eocd = stored.rfind("PK\x05\x06");
  count[eocd + 10] = '\xfe';
  count[eocd + 11] = '\xfe';
  CHECK_CONTAINS(err(count), "cannot hold 65278 entries");

  // A member that is not a valid .npy names the member.
  std::string nan_npz = tmp.path("nan.npz");
  write_npz(nan_npz, {{"ok", Tensor(DType::Float32, {1}, {1})},
                      {"bad", Tensor(DType::Float32, {2}, {1, std::nan("")})}});
  UserError e = expect_user_error([&] { read_npz(nan_npz); });
  CHECK_CONTAINS(e.bare_message(), "member 'bad.npy': contains NaN at index 1");
  CHECK(e.location().file == nan_npz);
  CHECK(read_npz_member(nan_npz, "ok")[0] == 1); // other members are not decoded

  CHECK_CONTAINS(expect_user_error([] { read_npz("/nonexistent.npz"); }).bare_message(),
                 "cannot open");
}

namespace {
/// Raw deflate of `data` (no zlib header, as zip members hold it).
std::string raw_deflate(std::string_view data) {
  z_stream zs{};
  REQUIRE(deflateInit2(&zs, 1, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&zs, data.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef *>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&zs, Z_FINISH) == Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

/// A zip archive with one deflate member "x.npy" whose sizes are declared as given.
std::string deflate_archive(const std::string &compressed, uint32_t usize) {
  std::string out, cd;
  const std::string name = "x.npy";
  auto header = [&](std::string &s, bool central) {
    le(s, central ? 0x02014b50 : 0x04034b50, 4);
    if (central)
      le(s, 20, 2);
    le(s, 20, 2);
    le(s, 0, 2); // flags
    le(s, 8, 2); // deflate
    le(s, 0, 4); // time, date
    le(s, 0, 4); // CRC (not reached)
    le(s, compressed.size(), 4);
    le(s, usize, 4);
    le(s, name.size(), 2);
    le(s, 0, 2);
    if (central) {
      le(s, 0, 2);
      le(s, 0, 2);
      le(s, 0, 2);
      le(s, 0, 4);
      le(s, 0, 4); // local header offset
    }
    s += name;
  };
  header(out, false);
  out += compressed;
  header(cd, true);
  uint64_t cd_off = out.size();
  out += cd;
  le(out, 0x06054b50, 4);
  le(out, 0, 4);
  le(out, 1, 2);
  le(out, 1, 2);
  le(out, cd.size(), 4);
  le(out, cd_off, 4);
  le(out, 0, 2);
  return out;
}
} // namespace

TEST_CASE("npz: a member's declared size is checked against its .npy header before inflating") {
  TmpDir tmp;
  auto err = [&](std::string_view bytes) {
    std::string p = tmp.write("bomb.npz", bytes);
    UserError e = expect_user_error([&] { read_npz(p); });
    CHECK(e.location().file == p);
    return e.bare_message();
  };
  // A small array that claims 100 MB uncompressed (the zeros after it inflate that far).
  std::string small = serialize_npy(Tensor(DType::Float32, {2}, {1, 2}));
  std::string padded = small + std::string(1 << 20, '\0');
  std::string junk(300000, 'j'); // makes the declared sizes plausible for deflate's ratio
  CHECK_CONTAINS(err(deflate_archive(raw_deflate(padded) + junk, 100000000)),
                 "member 'x.npy': declares 100000000 uncompressed bytes, its array needs 136");
  // A header over the element cap is refused from its first bytes, whatever follows.
  std::string huge = npy_with_header("{'descr': '|u1', 'fortran_order': False, 'shape': "
                                     "(268435457,), }") +
                     std::string(1 << 19, '\0');
  CHECK_CONTAINS(err(deflate_archive(raw_deflate(huge) + junk, 268435457 + 128)),
                 "member 'x.npy': shape [268435457] has 268435457 elements, more than the "
                 "268435456 hgqc allows in one tensor");
  // Not a .npy at all.
  CHECK_CONTAINS(err(deflate_archive(raw_deflate(std::string(1 << 19, 'z')) + junk, 1 << 19)),
                 "member 'x.npy': not a .npy file");
  // Two central directory entries pointing at the same data.
  std::string twice = bytes_of(fixture("savez_2.npz"));
  size_t cd = twice.find("PK\x01\x02"), cd2 = twice.find("PK\x01\x02", cd + 1);
  REQUIRE(cd2 != std::string::npos);
  for (int k = 0; k < 4; ++k)
    twice[cd2 + 42 + k] = twice[cd + 42 + k]; // second entry's local header offset := first's
  CHECK_CONTAINS(err(twice), "two members overlap");
}

// ---------------------------------------------------------------------------------------------
// IDX

TEST_CASE("idx: every element type, plain and gzip-compressed") {
  TmpDir tmp;
  std::string u8;
  for (int i = 0; i < 24; ++i)
    u8 += static_cast<char>(i * 10);
  for (bool gz : {false, true}) {
    CAPTURE(gz);
    auto put = [&](const std::string &name, const std::string &bytes) {
      std::string p = tmp.path(name + (gz ? ".gz" : ""));
      if (gz)
        write_gz(p, bytes);
      else
        tmp.write(name, bytes);
      return p;
    };
    Tensor a = read_idx(put("images-idx3-ubyte", idx_file(0x08, {2, 3, 4}, u8)));
    CHECK(a.dtype() == DType::UInt8);
    CHECK(a.shape() == Dims{2, 3, 4});
    CHECK(a[23] == 230);

    Tensor s = read_idx(put("s.idx", idx_file(0x09, {3}, "\x80\xff\x05")));
    CHECK(s.dtype() == DType::Int32);
    CHECK(values(s) == std::vector<double>{-128, -1, 5});

    std::string shorts;
    be(shorts, 0x8000, 2);
    be(shorts, 0x1234, 2);
    Tensor sh = read_idx(put("sh.idx", idx_file(0x0B, {2}, shorts)));
    CHECK(sh.dtype() == DType::Int32);
    CHECK(values(sh) == std::vector<double>{-32768, 0x1234});

    std::string ints;
    be(ints, 0x80000000u, 4);
    be(ints, 70000, 4);
    Tensor in = read_idx(put("i.idx", idx_file(0x0C, {1, 2}, ints)));
    CHECK(in.dtype() == DType::Int32);
    CHECK(values(in) == std::vector<double>{-2147483648.0, 70000});

    std::string floats;
    be(floats, std::bit_cast<uint32_t>(1.5f), 4);
    be(floats, std::bit_cast<uint32_t>(-0.25f), 4);
    Tensor f = read_idx(put("f.idx", idx_file(0x0D, {2}, floats)));
    CHECK(f.dtype() == DType::Float32);
    CHECK(values(f) == std::vector<double>{1.5, -0.25});

    std::string doubles;
    be(doubles, std::bit_cast<uint64_t>(0.1), 8);
    Tensor d = read_idx(put("d.idx", idx_file(0x0E, {1}, doubles)));
    CHECK(d.dtype() == DType::Float64);
    CHECK(values(d) == std::vector<double>{0.1});

    Tensor e = read_idx(put("e.idx", idx_file(0x08, {0, 28, 28}, "")));
    CHECK(e.shape() == Dims{0, 28, 28});

    // read_array dispatch by name.
    CHECK(read_array(put("t10k-labels-idx1-ubyte", idx_file(0x08, {3}, "\x01\x02\x03"))).shape() ==
          Dims{3});
  }
}

TEST_CASE("idx: malformed input") {
  TmpDir tmp;
  auto err = [&](const std::string &bytes, bool gz = false) {
    std::string p = tmp.path(gz ? "bad.idx.gz" : "bad.idx");
    if (gz)
      write_gz(p, bytes);
    else
      tmp.write("bad.idx", bytes);
    UserError e = expect_user_error([&] { read_idx(p); });
    CHECK(e.location().file == p);
    return e.bare_message();
  };
  CHECK_CONTAINS(err(""), "not an IDX file");
  CHECK_CONTAINS(err("\x93NUMPY\x01\x00"), "not an IDX file (bad magic 0x934E554D");
  CHECK_CONTAINS(err(idx_file(0x0A, {1}, "x")), "unsupported IDX data type 0x0A");
  CHECK_CONTAINS(err(idx_file(0x08, {2, 3}, "").substr(0, 9)), "ends inside them");
  CHECK_CONTAINS(err(idx_file(0x08, {2, 3}, "abcde")),
                 "truncated: header says 6 bytes of data, file has 5");
  CHECK_CONTAINS(err(idx_file(0x08, {2, 3}, "abcde"), true),
                 "truncated: header says 6 bytes of data, file has 5");
  CHECK_CONTAINS(err(idx_file(0x08, {2, 3}, "abcdefg")), "trailing data");
  // A shape over kMaxTensorElements is refused before reading (gzip data could expand to it).
  CHECK_CONTAINS(err(idx_file(0x08, {0xffffffffu, 0xffffu}, "")),
                 "IDX shape [4294967295,65535] has 281470681677825 elements, more than the "
                 "268435456 hgqc allows in one tensor");
  CHECK_CONTAINS(err(idx_file(0x0E, {0x7fffffffu, 0x7fffffffu}, "")), "more than the 268435456");
  CHECK_CONTAINS(err(idx_file(0x08, {0xffffffffu, 0xffffffffu, 0xffffffffu}, "")), "too large");
  std::string floats;
  be(floats, std::bit_cast<uint32_t>(1.0f), 4);
  be(floats, std::bit_cast<uint32_t>(std::numeric_limits<float>::quiet_NaN()), 4);
  CHECK_CONTAINS(err(idx_file(0x0D, {2}, floats)), "contains NaN at index 1");

  // A gzip stream cut short.
  std::string gzp = tmp.path("cut.idx.gz");
  std::string big(4000, '\0');
  for (size_t i = 0; i < big.size(); ++i)
    big[i] = static_cast<char>((i * 7919) % 251);
  write_gz(gzp, idx_file(0x08, {4000}, big));
  std::string gzbytes = bytes_of(gzp);
  std::string cutp = tmp.write("cut2.idx.gz", gzbytes.substr(0, gzbytes.size() / 2));
  UserError cut = expect_user_error([&] { read_idx(cutp); });
  CHECK_CONTAINS(cut.bare_message(), "truncated");
  CHECK(cut.location().file == cutp);

  CHECK_CONTAINS(
      expect_user_error([] { read_idx("/nonexistent/t10k-images-idx3-ubyte"); }).bare_message(),
      "cannot open");
}

TEST_CASE("idx: Fashion-MNIST t10k images, if installed") {
  fs::path root = "/usr/share/datasets/fashion-mnist";
  std::string images;
  std::error_code ec;
  if (fs::is_directory(root, ec))
    for (auto it = fs::recursive_directory_iterator(root, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
      if (it->path().filename().string().rfind("t10k-images", 0) == 0)
        images = it->path().string();
  if (images.empty()) {
    MESSAGE("skipped: no t10k-images file under " << root.string()
                                                  << " (package dataset-fashion-mnist)");
    return;
  }
  Tensor t = read_array(images);
  CHECK(t.dtype() == DType::UInt8);
  CHECK(t.shape() == Dims{10000, 28, 28});
}

// ---------------------------------------------------------------------------------------------
// CSV

TEST_CASE("csv: numbers with and without a header") {
  TmpDir tmp;
  Tensor a = read_csv(tmp.write("a.csv", "1,2,3\n4.5,-6,7e-1\n"));
  CHECK(a.dtype() == DType::Float32);
  CHECK(a.shape() == Dims{2, 3});
  CHECK(values(a) == std::vector<double>{1, 2, 3, 4.5, -6, static_cast<double>(0.7f)});

  Tensor h = read_csv(tmp.write("h.csv", "x0,x1\r\n0.5, 1\r\n\r\n +2 ,\"3\"\r\n"));
  CHECK(h.shape() == Dims{2, 2});
  CHECK(values(h) == std::vector<double>{0.5, 1, 2, 3});

  Tensor q = read_csv(tmp.write("q.csv", "\xEF\xBB\xBF\"a,b\",\"c \"\"d\"\"\"\n1,2"));
  CHECK(q.shape() == Dims{1, 2});

  Tensor tiny = read_csv(tmp.write("tiny.csv", "1e-400,-1e-50,1e-40\n"));
  CHECK(tiny[0] == 0);
  CHECK(tiny[1] == 0);
  CHECK(tiny[2] == static_cast<double>(1e-40f));

  Tensor one = read_csv(tmp.write("one.csv", "\n\n42\n"));
  CHECK(one.shape() == Dims{1, 1});
  CHECK(one[0] == 42);

  CHECK(read_array(tmp.write("UPPER.CSV", "1\n2\n")).shape() == Dims{2, 1});
}

TEST_CASE("csv: errors carry file and line") {
  TmpDir tmp;
  auto err = [&](const std::string &text, long line) {
    std::string p = tmp.write("bad.csv", text);
    UserError e = expect_user_error([&] { read_csv(p); });
    CHECK(e.location().file == p);
    CHECK(e.location().line == line);
    if (line > 0)
      CHECK_CONTAINS(std::string(e.what()), p + ":" + std::to_string(line) + ": ");
    return e.bare_message();
  };
  CHECK_CONTAINS(err("1,2\n3,x\n", 2), "column 2: non-numeric field 'x'");
  CHECK_CONTAINS(err("a,b\n1,2\n3,4,5\n", 3), "ragged row: 3 fields, but line 1 has 2");
  CHECK_CONTAINS(err("1,2\n\n3\n", 3), "ragged row: 1 fields");
  CHECK_CONTAINS(err("a,b\n1,nan\n", 2), "NaN in data");
  CHECK_CONTAINS(err("1,NaN\n", 1), "NaN in data");
  CHECK_CONTAINS(err("1\n-inf\n", 2), "Inf in data");
  CHECK_CONTAINS(err("1\n1e39\n", 2), "outside the float32 range");
  CHECK_CONTAINS(err("1\n1e400\n", 2), "out of range");
  CHECK_CONTAINS(err("1\n-1e400\n", 2), "out of range");
  CHECK_CONTAINS(err("1,,3\n", 1), "column 2: empty field");
  CHECK_CONTAINS(err("1;2;3\n4;5;6\n", 2), "non-numeric field '4;5;6'");
  CHECK_CONTAINS(err("\"1,2\n", 1), "unterminated quoted field");
  CHECK_CONTAINS(err("", 0), "empty file");
  CHECK_CONTAINS(err("\n \n", 0), "empty file");
  CHECK_CONTAINS(err("a,b\n", 1), "no data rows after the header line");
  CHECK_CONTAINS(expect_user_error([] { read_csv("/nonexistent.csv"); }).bare_message(),
                 "cannot open");
}

// ---------------------------------------------------------------------------------------------
// Dispatch, atomic writes, finiteness

TEST_CASE("read_array: dispatch by extension") {
  TmpDir tmp;
  std::string p = tmp.path("x.NPY");
  write_npy(p, Tensor(DType::Int32, {2}, {1, 2}));
  CHECK(values(read_array(p)) == std::vector<double>{1, 2});
  UserError unk = expect_user_error([&] { read_array(tmp.write("x.txt", "1,2\n")); });
  CHECK(unk.location().file == tmp.path("x.txt"));
  for (const char *ext : {".npy", ".npz", ".csv", ".idx", "-ubyte", ".gz"})
    CHECK_CONTAINS(unk.bare_message(), ext);
  UserError key = expect_user_error([&] { read_array(p, "a"); });
  CHECK_CONTAINS(key.bare_message(), "only be given for .npz files");
}

TEST_CASE("write_file_atomic: replaces the target; failures leave nothing behind") {
  TmpDir tmp;
  std::string tmp_suffix = ".tmp." + std::to_string(::getpid());
  std::string p = tmp.path("f.bin");
  write_file_atomic(p, "old");
  write_file_atomic(p, std::string("new\0data", 8));
  CHECK(bytes_of(p) == std::string("new\0data", 8));
  CHECK(!fs::exists(p + tmp_suffix));
  write_file_atomic(p, "");
  CHECK(bytes_of(p).empty());

  // Into a directory that does not exist.
  std::string missing = tmp.path("no/such/dir/out.npy");
  UserError e = expect_user_error([&] { write_npy(missing, Tensor(DType::Float32, {1})); });
  CHECK(e.location().file == missing);
  CHECK_CONTAINS(e.bare_message(), "cannot write file");
  CHECK(!fs::exists(missing));
  CHECK(!fs::exists(missing + tmp_suffix));

  // Onto an existing directory: the temp file is written, the rename fails, the temp file goes.
  fs::create_directory(tmp.path("d.npz"));
  UserError d = expect_user_error([&] { write_npz(tmp.path("d.npz"), {}); });
  CHECK(d.location().file == tmp.path("d.npz"));
  CHECK_CONTAINS(d.bare_message(), "renaming");
  CHECK(fs::is_directory(tmp.path("d.npz")));
  CHECK(!fs::exists(tmp.path("d.npz") + tmp_suffix));
  CHECK(std::distance(fs::directory_iterator(tmp.dir), fs::directory_iterator()) == 2);
}

TEST_CASE("check_finite") {
  Location loc{"f.bin", 3, {}, {}};
  check_finite(Tensor(DType::Float32, {2}, {1, 2}), loc);
  check_finite(Tensor(DType::Int32, {0}), loc);
  UserError e = expect_user_error([&] {
    check_finite(Tensor(DType::Float64, {2, 2, 2}, {0, 0, 0, 0, 0, 0, 0, INFINITY}), loc, "input");
  });
  CHECK(e.bare_message().rfind("input: contains +Inf at index 7 (element [1,1,1])", 0) == 0);
  CHECK(e.location().file == "f.bin");
  CHECK(e.location().line == 3);
}
