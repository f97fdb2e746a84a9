// IDX (MNIST / Fashion-MNIST) file reading, plain or gzip-compressed.
#include "frontend/data_io.h"

#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace hgqc {

namespace {

/// A gzFile opened for reading (zlib reads uncompressed files transparently).
class GzReader {
public:
  explicit GzReader(const std::string &path) : loc_{path} {
    errno = 0;
    f_ = gzopen(path.c_str(), "rb");
    if (!f_)
      throw UserError(std::string("cannot open file: ") +
                          (errno ? std::strerror(errno) : "out of memory"),
                      loc_);
  }
  ~GzReader() { gzclose(f_); }
  GzReader(const GzReader &) = delete;
  GzReader &operator=(const GzReader &) = delete;

  /// Appends up to `n` bytes to `out`, growing it as data arrives (so a hostile header cannot
  /// make us allocate more than the file holds); returns the number of bytes read.
  uint64_t read(std::vector<unsigned char> &out, uint64_t n) {
    uint64_t got = 0;
    while (got < n) {
      size_t chunk = static_cast<size_t>(std::min<uint64_t>(n - got, uint64_t{1} << 24));
      size_t old = out.size();
      out.resize(old + chunk);
      int r = gzread(f_, out.data() + old, static_cast<unsigned>(chunk));
      if (r < 0) {
        int err = 0;
        const char *msg = gzerror(f_, &err);
        throw UserError(std::string("cannot read file: ") +
                            (err == Z_ERRNO ? std::strerror(errno) : msg),
                        loc_);
      }
      out.resize(old + static_cast<size_t>(r));
      got += static_cast<uint64_t>(r);
      if (static_cast<size_t>(r) < chunk) {
        int err = 0;
        const char *msg = gzerror(f_, &err);
        if (err == Z_BUF_ERROR)
          throw UserError("truncated gzip stream (" + std::string(msg) + ")", loc_);
        if (err != Z_OK)
          throw UserError("corrupt gzip data: " + std::string(msg), loc_);
        break; // end of file
      }
    }
    return got;
  }

private:
  gzFile f_ = nullptr;
  Location loc_;
};

uint64_t load_be(const unsigned char *p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i)
    v = (v << 8) | p[i];
  return v;
}

} // namespace

Tensor read_idx(const std::string &path) {
  Location loc{path};
  GzReader in(path);
  std::vector<unsigned char> head;
  if (in.read(head, 4) < 4)
    throw UserError("not an IDX file (shorter than its 4-byte magic number)", loc);
  int code = head[2], ndims = head[3];
  if (head[0] != 0 || head[1] != 0) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%02X%02X%02X%02X", head[0], head[1], head[2], head[3]);
    throw UserError(std::string("not an IDX file (bad magic ") + buf +
                        ", expected 0x0000 followed by type and rank bytes)",
                    loc);
  }
  int size = 0;
  DType dtype = DType::Int32;
  switch (code) {
  case 0x08:
    size = 1, dtype = DType::UInt8;
    break;
  case 0x09:
    size = 1;
    break;
  case 0x0B:
    size = 2;
    break;
  case 0x0C:
    size = 4;
    break;
  case 0x0D:
    size = 4, dtype = DType::Float32;
    break;
  case 0x0E:
    size = 8, dtype = DType::Float64;
    break;
  default: {
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02X", code);
    throw UserError(std::string("unsupported IDX data type ") + buf +
                        " (supported: 0x08 ubyte, 0x09 sbyte, 0x0B short, 0x0C int, 0x0D float, "
                        "0x0E double)",
                    loc);
  }
  }
  std::vector<unsigned char> dimbytes;
  if (in.read(dimbytes, static_cast<uint64_t>(ndims) * 4) < static_cast<uint64_t>(ndims) * 4)
    throw UserError("truncated: IDX header declares " + std::to_string(ndims) +
                        " dimensions but the file ends inside them",
                    loc);
  Dims dims;
  int64_t numel = 1;
  for (int i = 0; i < ndims; ++i) {
    auto d = static_cast<int64_t>(load_be(dimbytes.data() + 4 * i, 4));
    dims.push_back(d);
    if (__builtin_mul_overflow(numel, d, &numel))
      throw UserError("IDX shape " + dims_str(dims) + "... is too large", loc);
  }
  if (std::find(dims.begin(), dims.end(), 0) != dims.end())
    numel = 0;
  check_numel_cap(static_cast<uint64_t>(numel), "IDX shape " + dims_str(dims), loc);
  int64_t nbytes = 0;
  if (__builtin_mul_overflow(numel, static_cast<int64_t>(size), &nbytes))
    throw UserError("IDX shape " + dims_str(dims) + " is too large", loc);
  std::vector<unsigned char> data;
  uint64_t got = in.read(data, static_cast<uint64_t>(nbytes));
  if (got < static_cast<uint64_t>(nbytes))
    throw UserError("truncated: header says " + std::to_string(nbytes) +
                        " bytes of data, file has " + std::to_string(got),
                    loc);
  std::vector<unsigned char> extra;
  if (in.read(extra, 1) != 0)
    throw UserError("trailing data: header says " + std::to_string(nbytes) +
                        " bytes of data (shape " + dims_str(dims) + "), file has more",
                    loc);

  std::vector<double> values(static_cast<size_t>(numel));
  const unsigned char *p = data.data();
  for (size_t i = 0; i < values.size(); ++i, p += size) {
    uint64_t raw = load_be(p, size);
    switch (code) {
    case 0x08:
      values[i] = static_cast<double>(raw);
      break;
    case 0x09:
      values[i] = static_cast<int8_t>(static_cast<uint8_t>(raw));
      break;
    case 0x0B:
      values[i] = static_cast<int16_t>(static_cast<uint16_t>(raw));
      break;
    case 0x0C:
      values[i] = static_cast<int32_t>(static_cast<uint32_t>(raw));
      break;
    case 0x0D:
      values[i] = std::bit_cast<float>(static_cast<uint32_t>(raw));
      break;
    case 0x0E:
      values[i] = std::bit_cast<double>(raw);
      break;
    }
  }
  Tensor t(dtype, std::move(dims), std::move(values));
  check_finite(t, loc);
  return t;
}

} // namespace hgqc
