// Helpers of the data I/O unit tests: fixture paths, a temporary folder, expected user errors,
// and hand-built .npy, IDX, gzip and zip64 bytes.
#pragma once

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

namespace hgqc::iotest {

namespace fs = std::filesystem;

/// testdata/io of the source tree (CMake may define HGQC_TESTDATA_DIR as the testdata root).
inline std::string fixture(const std::string &name) {
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
inline UserError expect_user_error(const std::function<void()> &f) {
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

inline bool contains(const std::string &s, const std::string &part) {
  return s.find(part) != std::string::npos;
}

#define CHECK_CONTAINS(s, part) CHECK_MESSAGE(contains((s), (part)), (s))

inline std::vector<double> values(const Tensor &t) { return {t.data().begin(), t.data().end()}; }

inline std::string bytes_of(const std::string &path) { return read_file(path); }

// Little/big-endian byte builders for hand-made files.
inline void le(std::string &s, uint64_t v, int n) {
  for (int i = 0; i < n; ++i)
    s += static_cast<char>((v >> (8 * i)) & 0xff);
}
inline void be(std::string &s, uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i)
    s += static_cast<char>((v >> (8 * i)) & 0xff);
}

/// A .npy with a version 1.0 header holding `dict` (no padding) followed by `data`.
inline std::string npy_with_header(const std::string &dict, std::string_view data = {}) {
  std::string s = "\x93NUMPY";
  s += '\x01';
  s += '\0';
  le(s, dict.size(), 2);
  return s + dict + std::string(data);
}

inline std::string idx_file(int type, const std::vector<uint32_t> &dims, const std::string &data) {
  std::string s;
  s += '\0';
  s += '\0';
  s += static_cast<char>(type);
  s += static_cast<char>(dims.size());
  for (uint32_t d : dims)
    be(s, d, 4);
  return s + data;
}

inline void write_gz(const std::string &path, std::string_view bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) ==
          static_cast<int>(bytes.size()));
  REQUIRE(gzclose(f) == Z_OK);
}

/// A zip archive of stored members using zip64 records throughout (central-directory extra
/// fields, zip64 end record and locator), as large archives have.
inline std::string zip64_archive(const std::vector<std::pair<std::string, std::string>> &members) {
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

} // namespace hgqc::iotest
