// hgqc command-line entry point: parses the subcommand, runs it, maps errors to exit codes.
#include "commands.h"
#include "ir/error.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <iostream>
#include <new>

namespace {
/// Exit codes (docs/cli.md).
constexpr int kExitOk = 0, kExitInternal = 1, kExitUser = 2, kExitCheck = 3, kExitInterrupted = 130;

std::string one_line(std::string s) {
  for (char &c : s)
    if (c == '\n' || c == '\r')
      c = ' ';
  return s;
}
} // namespace

int main(int argc, char **argv) {
  CLI::App app{"hgqc: compiles ONNX neural networks into pipelined FPGA Verilog. It imports ONNX "
               "and QONNX models, trains per-element bit-widths (HGQ) or quantizes them, runs "
               "them in float and in exact fixed point, emits Verilog that computes bit for "
               "bit what the fixed-point model computes, and verifies and synthesises it",
               "hgqc"};
  app.set_version_flag("--version", std::string("hgqc ") + HGQC_VERSION);
  bool verbose = false, quiet = false;
  app.add_flag("-v,--verbose", verbose, "Print debug messages");
  app.add_flag("-q,--quiet", quiet, "Print only errors");
  app.require_subcommand(1);
  hgqc::cli::Action action;
  hgqc::cli::add_inspect(app, action);
  hgqc::cli::add_run(app, action);
  hgqc::cli::add_quantize(app, action);
  hgqc::cli::add_convert(app, action);
  hgqc::cli::add_emit_verilog(app, action);
  hgqc::cli::add_verify(app, action);
  hgqc::cli::add_synth(app, action);
  hgqc::cli::add_ops(app, action);
  hgqc::cli::add_train(app, action);
  // One handler for everything after the options are declared: an error thrown while
  // parsing (a CLI11 callback, a check) reaches the same exit codes as one thrown by the
  // command, so nothing ends in std::terminate.
  try {
    try {
      app.parse(argc, argv);
    } catch (const CLI::ParseError &e) {
      if (e.get_exit_code() == 0)
        return app.exit(e); // --help, --version
      std::cerr << "hgqc: error: " << one_line(e.what()) << " (see hgqc --help)\n";
      return kExitUser;
    }

    auto logger = spdlog::stderr_color_st("hgqc");
    logger->set_pattern("hgqc: %^%l%$: %v");
    logger->set_level(verbose ? spdlog::level::debug
                              : (quiet ? spdlog::level::err : spdlog::level::info));
    spdlog::set_default_logger(logger);

    HGQC_ASSERT(static_cast<bool>(action), "the subcommand set no action");
    action();
    return kExitOk;
  } catch (const hgqc::UserError &e) {
    std::cerr << "hgqc: error: " << one_line(e.what()) << "\n";
    return kExitUser;
  } catch (const hgqc::cli::Interrupted &e) {
    std::cerr << "hgqc: " << one_line(e.what()) << "\n";
    return kExitInterrupted;
  } catch (const hgqc::CheckFailed &e) {
    std::cerr << "hgqc: check failed: " << one_line(e.what()) << "\n";
    return kExitCheck;
  } catch (const hgqc::InternalError &e) {
    std::cerr << "hgqc: " << one_line(e.what()) << " (please report this bug)\n";
    return kExitInternal;
  } catch (const std::bad_alloc &) {
    std::cerr << "hgqc: error: out of memory\n";
    return kExitInternal;
  } catch (const std::exception &e) {
    std::cerr << "hgqc: internal error: " << one_line(e.what()) << " (please report this bug)\n";
    return kExitInternal;
  } catch (...) {
    std::cerr << "hgqc: internal error: unknown exception (please report this bug)\n";
    return kExitInternal;
  }
}
