// Writing output files atomically: a temporary file renamed over the target.
#include "support/file_io.h"

#include "ir/error.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace hgqc {

void write_file_atomic(const std::string &path, std::string_view bytes) {
  Location loc{path};
  HGQC_ASSERT(!path.empty(), "write_file_atomic with an empty path");
  std::string tmp = path + ".tmp." + std::to_string(static_cast<long>(::getpid()));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0)
    throw UserError("cannot write file (creating '" + tmp + "'): " + std::strerror(errno), loc);
  auto fail = [&](const std::string &what, int err) {
    if (fd >= 0)
      ::close(fd);
    ::unlink(tmp.c_str());
    throw UserError("cannot write file (" + what + "): " + std::strerror(err), loc);
  };
  size_t done = 0;
  while (done < bytes.size()) {
    size_t chunk = std::min<size_t>(bytes.size() - done, size_t{1} << 30);
    ssize_t n = ::write(fd, bytes.data() + done, chunk);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      fail("writing '" + tmp + "'", errno);
    }
    done += static_cast<size_t>(n);
  }
  int rc = ::close(fd);
  fd = -1;
  if (rc != 0)
    fail("closing '" + tmp + "'", errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    fail("renaming '" + tmp + "'", errno);
}

} // namespace hgqc
