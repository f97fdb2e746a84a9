// `hgqc verify`: Verilator co-simulation of emitted Verilog against the integer emulator.
#include "backend/verify.h"
#include "cli_common.h"
#include "commands.h"
#include "ir/error.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>

namespace hgqc::cli {

namespace {
struct VerifyCliOptions {
  std::string rtl_dir, model, verilator = "verilator", simulator = "verilator";
  std::vector<std::string> data;
  int64_t vectors = 100000;
  uint64_t seed = 1;
  int jobs = 2;
  ToFixedOptions fixed;
  std::string input_format, input_round, input_overflow;
};

void verify(const VerifyCliOptions &o) {
  Graph g = load_fixed_design(o.model, o.fixed);
  RangeAnalysis ra = analyze_model_ranges(g, o.model);
  backend::VerifyOptions v;
  v.vectors = o.vectors;
  v.seed = o.seed;
  v.verilator = o.verilator;
  v.simulator = o.simulator;
  v.jobs = o.jobs;
  if (!o.data.empty())
    v.data = load_inputs(g, o.data);
  backend::VerifyResult r = backend::verify_design(o.rtl_dir, g, ra, v);
  std::string kinds;
  for (const auto &[k, n] : r.kinds)
    kinds += (kinds.empty() ? "" : ", ") + std::to_string(n) + " " + k;
  std::printf("verified %lld vectors (%s): build %.1f s, simulation %.1f s, first "
              "output after %lld cycle(s) (report.json: %d)\n",
              static_cast<long long>(r.vectors), kinds.c_str(), r.build_seconds, r.sim_seconds,
              static_cast<long long>(r.first_valid_cycle), r.latency);
  if (r.lint_warnings >= 0)
    std::printf("Verilator lint (-Wall): %lld warning(s)%s\n",
                static_cast<long long>(r.lint_warnings),
                r.lint_warnings ? " (not fatal; see verify/verilator.log)" : "");
  for (const backend::Mismatch &m : r.first)
    std::printf("  mismatch: vector %lld (%s) output '%s' element %lld: expected %lld, got %lld "
                "(input bus 0x%s)\n",
                static_cast<long long>(m.vector), m.kind.c_str(), m.output.c_str(),
                static_cast<long long>(m.element), static_cast<long long>(m.expected),
                static_cast<long long>(m.got), m.input_hex.c_str());
  std::string mj = (std::filesystem::path(o.rtl_dir) / "mismatches.json").string();
  if (r.first_valid_cycle != r.latency)
    throw CheckFailed("the first output appeared after " + std::to_string(r.first_valid_cycle) +
                      " cycle(s), report.json says " + std::to_string(r.latency));
  if (r.mismatched_vectors)
    throw CheckFailed(std::to_string(r.mismatched_vectors) + " of " + std::to_string(r.vectors) +
                      " vectors differ (" + std::to_string(r.mismatched_elements) +
                      " output elements); see " + mj);
  std::printf("0 mismatches: every output bit equals the emulator (wrote %s)\n", mj.c_str());
}
} // namespace

void add_verify(CLI::App &app, Action &action) {
  auto *cmd = app.add_subcommand(
      "verify", "Co-simulate emitted Verilog under Verilator against the integer emulator");
  auto o = std::make_shared<VerifyCliOptions>();
  cmd->add_option("rtl_dir", o->rtl_dir, "Directory written by emit-verilog")->required();
  cmd->add_option("--model", o->model, "The quantized model the design was emitted from")
      ->required();
  cmd->add_option("--data", o->data,
                  "Data-set inputs (.npy, .npz, .csv, IDX[.gz]) to include, and x2 to force "
                  "overflow");
  cmd->add_option("--vectors", o->vectors, "Vectors in all")->capture_default_str();
  cmd->add_option("--seed", o->seed, "Seed of the random vectors")->capture_default_str();
  cmd->add_option("-j,--jobs", o->jobs, "Parallel jobs of the Verilator build")
      ->capture_default_str();
  cmd->add_option("--verilator", o->verilator, "Verilator executable")->capture_default_str();
  cmd->add_option("--simulator", o->simulator,
                  "verilator, or iverilog (Icarus Verilog; a second simulator, much slower)")
      ->capture_default_str();
  add_fixed_options(cmd, o->fixed, o->input_format, o->input_round, o->input_overflow);
  cmd->callback([&action, o] {
    action = [o] {
      finish_fixed_options(o->fixed, o->input_format, o->input_round, o->input_overflow);
      verify(*o);
    };
  });
}

} // namespace hgqc::cli
