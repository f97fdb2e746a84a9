// Running external tools (Verilator, Icarus Verilog, Yosys): finding them, running them, timing.
#include "backend/process.h"

#include "ir/error.h"

#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

namespace hgqc::backend {

namespace fs = std::filesystem;

std::string find_program(const std::string &name) {
  if (name.find('/') != std::string::npos)
    return fs::exists(name) ? fs::absolute(name).string() : "";
  const char *path = std::getenv("PATH");
  std::stringstream ss(path ? path : "");
  std::string dir;
  while (std::getline(ss, dir, ':'))
    if (!dir.empty() && ::access((fs::path(dir) / name).c_str(), X_OK) == 0)
      return (fs::path(dir) / name).string();
  return "";
}

std::string require_program(const std::string &name, const char *package) {
  std::string p = find_program(name);
  if (p.empty())
    throw UserError(name + " not found: install it (Debian: apt-get install " + package +
                    ", or run scripts/install-deps.sh as root)");
  return p;
}

int run_program(const std::vector<std::string> &argv, const std::string &log,
                const std::string &cwd) {
  // The argument array is built before fork: the child of a process with other threads (verify
  // emulates while the simulator builds) must not allocate before exec.
  std::vector<char *> a;
  for (const std::string &s : argv)
    a.push_back(const_cast<char *>(s.c_str()));
  a.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0)
    throw UserError("cannot start " + argv[0]);
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::close(fd);
    }
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0)
      ::_exit(127);
    ::execvp(a[0], a.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

} // namespace hgqc::backend
