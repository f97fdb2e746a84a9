// Running external tools (Verilator, Icarus Verilog, Yosys): finding them, running them, timing.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace hgqc::backend {

/// The executable `name` resolved on PATH (or `name` itself when it holds a '/' and exists);
/// "" when not found.
std::string find_program(const std::string &name);

/// find_program(name), or a UserError naming the Debian package that provides it.
std::string require_program(const std::string &name, const char *package);

/// Runs argv with stdout and stderr appended to the file `log` (in the directory `cwd` when it
/// is not empty); returns the exit status (128 when the program was killed by a signal, 127
/// when it could not be started).
int run_program(const std::vector<std::string> &argv, const std::string &log,
                const std::string &cwd = {});

/// Seconds elapsed since `t0`.
double seconds_since(std::chrono::steady_clock::time_point t0);

} // namespace hgqc::backend
