// The fuzzer's seeds, and mutations of data files (.npy, .npz, CSV, IDX) and option values.
#include "fuzz.h"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace hgqc::fuzz {

namespace {
namespace fs = std::filesystem;

template <class T> T pick(Rng &rng, std::initializer_list<T> xs) {
  return *(xs.begin() + std::uniform_int_distribution<size_t>(0, xs.size() - 1)(rng));
}
size_t below(Rng &rng, size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); }
bool coin(Rng &rng, int one_in) { return below(rng, static_cast<size_t>(one_in)) == 0; }

std::string slurp(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Sorted regular files under `dir` with one of the extensions `exts`.
std::vector<fs::path> files_under(const fs::path &dir, std::initializer_list<const char *> exts) {
  std::vector<fs::path> r;
  for (const auto &e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file())
      for (const char *x : exts)
        if (e.path().extension() == x)
          r.push_back(e.path());
  std::sort(r.begin(), r.end());
  return r;
}

void put_u32_be(std::string &b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8)
    b.push_back(static_cast<char>((v >> s) & 0xff));
}

// A small IDX file: `type`, `dims`, and `bytes` of data.
std::string idx_file(int type, const std::vector<uint32_t> &dims, size_t bytes) {
  std::string b{'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t d : dims)
    put_u32_be(b, d);
  for (size_t j = 0; j < bytes; ++j)
    b.push_back(static_cast<char>(j * 37 % 251));
  return b;
}

const char *const kCsvFields[] = {"1",
                                  "-2.5",
                                  "0",
                                  "1e300",
                                  "-1e300",
                                  "1e-400",
                                  "3.4028236e38",
                                  "nan",
                                  "NaN",
                                  "inf",
                                  "-inf",
                                  "\"3\"",
                                  "\"unterminated",
                                  "",
                                  " ",
                                  "0x10",
                                  "1e",
                                  "-",
                                  "+",
                                  ".",
                                  "\"a\"\"b\"",
                                  "\x01",
                                  "\xff\xfe",
                                  "label",
                                  "1.5.5",
                                  "  7  ",
                                  "99999999999999999999999999999999999999999999"};

std::string csv_text(Rng &rng) {
  std::string s;
  if (coin(rng, 3))
    s += "a,b,c\n";
  size_t rows = below(rng, 6), cols = 1 + below(rng, 4);
  for (size_t r = 0; r < rows; ++r) {
    size_t c = coin(rng, 5) ? 1 + below(rng, 5) : cols;
    for (size_t j = 0; j < c; ++j) {
      s += j ? "," : "";
      s += coin(rng, 3) ? kCsvFields[below(rng, std::size(kCsvFields))]
                        : std::to_string(static_cast<int>(below(rng, 200)) - 100);
    }
    s += pick<const char *>(rng, {"\n", "\n", "\r\n", "\n\n", ""});
  }
  return s;
}

// Overwrites 2 or 4 bytes (little-endian) at `at` with an odd value.
void poke(std::string &b, size_t at, int width, Rng &rng) {
  uint32_t v = pick<uint32_t>(
      rng, {0, 1, 2, 8, 0x7fff, 0xffff, 0x7fffffff, 0xffffffff, 0x80000000, 1000000});
  for (int j = 0; j < width && at + static_cast<size_t>(j) < b.size(); ++j)
    b[at + static_cast<size_t>(j)] = static_cast<char>((v >> (8 * j)) & 0xff);
}

// Rewrites the header dict of the .npy that starts at `at` in `b`.
void mutate_npy_header(std::string &b, size_t at, Rng &rng) {
  size_t open = b.find('{', at), close = b.find('}', at);
  if (open == std::string::npos || close == std::string::npos || close < open || close > at + 4096)
    return;
  std::string dict = b.substr(open, close - open + 1);
  auto replace = [&](const std::string &key, const std::string &val) {
    size_t k = dict.find(key);
    if (k == std::string::npos)
      return;
    size_t v0 = k + key.size(), v1 = dict.find_first_of(key == "'shape': " ? ")" : ",}", v0);
    if (v1 == std::string::npos)
      return;
    dict.replace(v0, v1 - v0 + (key == "'shape': " ? 1 : 0), val);
  };
  switch (below(rng, 5)) {
  case 0:
    replace("'shape': ",
            pick<const char *>(
                rng, {"(2147483648,)", "(-1, 3)", "(0,)", "()", "(4294967296, 4294967296)", "(3,",
                      "(1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1)",
                      "(9223372036854775807,)", "(N,)", "(1e3,)"}));
    break;
  case 1:
    replace("'descr': ", pick<const char *>(rng, {"'<f2'", "'>f8'", "'<u8'", "'|O'", "'<c8'",
                                                  "'<f4 '", "''", "'<i16'", "'<V8'", "0"}));
    break;
  case 2:
    replace("'fortran_order': ", pick<const char *>(rng, {"True", "1", "None", "'x'"}));
    break;
  case 3: // the header length field
    poke(b, at + 8, b[at + 6] == 1 ? 2 : 4, rng);
    return;
  default: // the version
    b[at + 6] = static_cast<char>(pick<int>(rng, {0, 1, 2, 3, 4, 0xff}));
    return;
  }
  // Keep the header length: pad or cut the dict text to its old size.
  size_t old = close - open + 1;
  dict.resize(std::max(dict.size(), old), ' ');
  if (dict.size() > old)
    dict = dict.substr(0, old);
  b.replace(open, old, dict);
}

// Overwrites one field of a zip record (local header, central directory or end record).
void mutate_zip(std::string &b, Rng &rng) {
  struct Sig {
    const char *magic;
    std::initializer_list<std::pair<int, int>> fields; // offset, width
  };
  static const Sig sigs[] = {
      {"PK\x03\x04", {{6, 2}, {8, 2}, {14, 4}, {18, 4}, {22, 4}, {26, 2}, {28, 2}}},
      {"PK\x01\x02", {{10, 2}, {20, 4}, {24, 4}, {28, 2}, {30, 2}, {32, 2}, {42, 4}}},
      {"PK\x05\x06", {{8, 2}, {10, 2}, {12, 4}, {16, 4}, {20, 2}}}};
  std::vector<std::pair<size_t, const Sig *>> at;
  for (const Sig &s : sigs)
    for (size_t p = b.find(s.magic, 0, 4); p != std::string::npos; p = b.find(s.magic, p + 1, 4))
      at.emplace_back(p, &s);
  if (at.empty())
    return;
  auto [p, s] = at[below(rng, at.size())];
  auto f = *(s->fields.begin() + below(rng, s->fields.size()));
  poke(b, p + static_cast<size_t>(f.first), f.second, rng);
}
} // namespace

Seeds load_seeds(const std::string &source_dir) {
  Seeds s;
  fs::path src(source_dir), shared = src / ".." / "shared" / "models";
  for (const auto &p : files_under(src / "testdata", {".onnx"}))
    s.models.push_back({".onnx", slurp(p)});
  if (fs::is_directory(shared)) {
    for (const auto &p : files_under(shared, {".onnx"}))
      s.models.push_back({".onnx", slurp(p)});
  } else {
    std::printf("fuzz: note: %s is absent; seeding from testdata/ only\n", shared.c_str());
  }
  for (const auto &p : files_under(src / "testdata", {".npy", ".npz"}))
    if (fs::file_size(p) <= 64 * 1024)
      s.data.push_back({p.extension().string(), slurp(p)});
  // testdata/ has no CSV or IDX files: a few small valid ones.
  s.data.push_back({".csv", "a,b,c\n1,2,3\n4.5,-6,7e-3\n"});
  s.data.push_back({".csv", "1,2\n\"3\",4\n"});
  s.data.push_back({".idx", idx_file(0x08, {2, 3, 3}, 18)});
  s.data.push_back({".idx", idx_file(0x0D, {4}, 16)});
  s.data.push_back({".idx", idx_file(0x0E, {2, 2}, 32)});
  s.data.push_back({".idx", idx_file(0x0B, {3}, 6)});
  return s;
}

void mutate_data(Case &c, Rng &rng) {
  if (coin(rng, 3)) {
    mutate_bytes(c.bytes, rng);
    return;
  }
  if (c.ext == ".csv") {
    c.bytes = csv_text(rng);
  } else if (c.ext == ".idx") {
    std::vector<uint32_t> dims;
    size_t nd = pick<size_t>(rng, {0, 1, 2, 3, 4, 200});
    for (size_t j = 0; j < nd; ++j)
      dims.push_back(
          pick<uint32_t>(rng, {0, 1, 2, 3, 28, 60000, 0x7fffffff, 0x80000000, 0xffffffff, 65536}));
    c.bytes = idx_file(pick<int>(rng, {0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x0A, 0}), dims,
                       below(rng, 64));
  } else if (c.ext == ".npz") {
    std::vector<size_t> npys;
    for (size_t p = c.bytes.find("\x93NUMPY"); p != std::string::npos;
         p = c.bytes.find("\x93NUMPY", p + 1))
      npys.push_back(p);
    if (!npys.empty() && coin(rng, 2))
      mutate_npy_header(c.bytes, npys[below(rng, npys.size())], rng);
    else
      mutate_zip(c.bytes, rng);
  } else if (c.bytes.starts_with("\x93NUMPY")) {
    if (coin(rng, 4))
      c.bytes.resize(below(rng, c.bytes.size())); // data cut short
    else
      mutate_npy_header(c.bytes, 0, rng);
  } else {
    mutate_bytes(c.bytes, rng);
  }
}

Case make_options_case(Rng &rng) {
  static const char *const formats[] = {"1,5,10",
                                        "1,1000,1",
                                        "1,5,10,3",
                                        "fixed<1,5,10>",
                                        "fixed<1,5,10",
                                        "-1,5,10",
                                        "0,0,1",
                                        "1,-100,50",
                                        "1,2147483647,1",
                                        "2147483647,2147483647,2147483647",
                                        "1,5,",
                                        ",,",
                                        "1,,",
                                        "1, 5, 10",
                                        "1,60,1",
                                        "0,62,0",
                                        "1,30,31",
                                        "1,-96,100",
                                        "1,97,-90",
                                        "a,b,c",
                                        "99999999999,1,1",
                                        "1,-2147483648,2",
                                        "0,-5,6",
                                        "1,40,-30",
                                        "0,1,0",
                                        "1,0,0",
                                        "fixed<>"};
  static const char *const rounds[] = {"TRN",  "RND",  "RND_CONV",    "rnd", "sat",
                                       "\xff", "TRN ", "RND_MIN_INF", "0"};
  static const char *const overflows[] = {"SAT",  "WRAP", "SAT_SYM", "sat",
                                          "wrap", "TRN",  "\x1b",    "SAT_ZERO"};
  std::string s = "model=" +
                  std::string(pick<const char *>(rng, {"testdata/qonnx/quant_mlp.onnx",
                                                       "testdata/qonnx/pow2_cnn.onnx",
                                                       "testdata/train/mlp_blobs.onnx"})) +
                  "\n";
  if (!coin(rng, 4)) {
    std::string f = formats[below(rng, std::size(formats))];
    if (coin(rng, 3)) // a random triple
      f = std::to_string(static_cast<int>(below(rng, 3)) - 0) + "," +
          std::to_string(static_cast<int>(below(rng, 140)) - 70) + "," +
          std::to_string(static_cast<int>(below(rng, 140)) - 70);
    s += "input-format=" + f + "\n";
  }
  if (coin(rng, 2))
    s += "input-round=" + std::string(rounds[below(rng, std::size(rounds))]) + "\n";
  if (coin(rng, 2))
    s += "input-overflow=" + std::string(overflows[below(rng, std::size(overflows))]) + "\n";
  return {".opts", s};
}

} // namespace hgqc::fuzz
