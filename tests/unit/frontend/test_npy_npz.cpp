// Unit tests of the data I/O library: .npy and .npz reading, writing and error reporting.
#include "data_io_test_util.h"

#include <doctest/doctest.h>
#include <zlib.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>

namespace fs = std::filesystem;
using namespace hgqc;
using namespace hgqc::iotest;

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
