// Unit tests of the data I/O library: IDX and CSV reading, dispatch by extension, atomic writes,
// finiteness checks.
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

TEST_CASE("write_file_atomic: replaces the target: failures leave nothing behind") {
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
