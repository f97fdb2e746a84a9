// Shared data I/O: whole-file reading, finiteness checks and dispatch by extension.
#include "frontend/data_io.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace hgqc {

namespace {

std::string os_error(int err) { return std::strerror(err); }

} // namespace

std::string read_file(const std::string &path) {
  Location loc{path};
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw UserError("cannot open file: " + os_error(errno), loc);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    throw UserError("cannot open file: " + os_error(err), loc);
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw UserError("cannot open file: it is a directory", loc);
  }
  std::string out;
  if (S_ISREG(st.st_mode) && st.st_size > 0)
    out.reserve(static_cast<size_t>(st.st_size));
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      int err = errno;
      ::close(fd);
      throw UserError("cannot read file: " + os_error(err), loc);
    }
    if (n == 0)
      break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

void check_finite(const Tensor &t, const Location &loc, const std::string &what) {
  if (!is_float(t.dtype()))
    return;
  auto d = t.data();
  for (size_t i = 0; i < d.size(); ++i) {
    if (std::isfinite(d[i]))
      continue;
    std::string idx;
    if (t.rank() > 1) {
      auto strides = dims_strides(t.shape());
      int64_t rem = static_cast<int64_t>(i);
      idx = " (element [";
      for (size_t k = 0; k < strides.size(); ++k) {
        if (k)
          idx += ",";
        idx += std::to_string(rem / strides[k]);
        rem %= strides[k];
      }
      idx += "])";
    }
    std::string kind = std::isnan(d[i]) ? "NaN" : (d[i] > 0 ? "+Inf" : "-Inf");
    throw UserError((what.empty() ? "" : what + ": ") + "contains " + kind + " at index " +
                        std::to_string(i) + idx + " (NaN/Inf in data is not allowed)",
                    loc);
  }
}

Tensor read_array(const std::string &path, const std::string &key) {
  Location loc{path};
  std::string lower = path;
  for (char &c : lower)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  bool is_npz = lower.ends_with(".npz");
  if (!key.empty() && !is_npz)
    throw UserError("an array name ('" + key + "') can only be given for .npz files", loc);
  if (lower.ends_with(".npy"))
    return read_npy(path);
  if (lower.ends_with(".csv"))
    return read_csv(path);
  if (lower.ends_with(".idx") || lower.ends_with("-ubyte") || lower.ends_with(".gz"))
    return read_idx(path);
  if (is_npz)
    return read_npz_member(path, key);
  throw UserError("unsupported data file type; supported extensions: .npy, .npz, .csv, "
                  ".idx, -ubyte (e.g. .idx3-ubyte), .gz (gzip-compressed IDX)",
                  loc);
}

} // namespace hgqc
