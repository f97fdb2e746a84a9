// `hgqc emit-verilog`: a quantized model to pipelined Verilog and report.json.
#include "backend/emit.h"
#include "cli_common.h"
#include "commands.h"
#include "frontend/data_io.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

namespace hgqc::cli {

namespace {
struct EmitCliOptions {
  std::string model, out_dir, top;
  int max_depth = 0, stages = 0;
  int rom_bits = backend::CmvmLowerOptions{}.rom_cone_bits;
  std::string slack = "2";
  bool no_reset = false, no_share = false;
  int64_t check = 1000;
  ToFixedOptions fixed;
  std::string input_format, input_round, input_overflow;
};

void emit(const EmitCliOptions &o) {
  auto t0 = std::chrono::steady_clock::now();
  // Options first, then the model; the directory is written only once the design is built
  // and checked.
  backend::EmitOptions e;
  std::error_code fs_ec;
  if (std::filesystem::exists(o.out_dir, fs_ec) && !std::filesystem::is_directory(o.out_dir, fs_ec))
    throw UserError("exists and is not a directory", {o.out_dir});
  if (o.max_depth && o.stages)
    throw UserError("give either --max-adder-depth or --stages, not both");
  if (o.max_depth)
    e.pipeline.max_adder_depth = o.max_depth;
  if (o.stages)
    e.pipeline.stages = o.stages;
  std::string top = o.top.empty() ? std::filesystem::path(o.model).stem().string() : o.top;
  e.verilog.top = backend::verilog_identifier(top);
  if (!o.top.empty() && e.verilog.top != o.top)
    throw UserError("--top '" + o.top + "' is not a legal Verilog module name (try '" +
                    e.verilog.top + "')");
  e.verilog.reset = !o.no_reset;
  e.cmvm.share = !o.no_share;
  e.cmvm.rom_cone_bits = o.rom_bits;
  if (o.slack == "free") {
    e.cmvm.depth_slack.reset();
  } else {
    try {
      size_t used = 0;
      e.cmvm.depth_slack = std::stoi(o.slack, &used);
      if (used != o.slack.size() || *e.cmvm.depth_slack < 0)
        throw std::invalid_argument(o.slack);
    } catch (const std::exception &) {
      throw UserError("--cmvm-depth-slack '" + o.slack + "' is not a count >= 0 or 'free'");
    }
  }
  e.check_vectors = o.check;
  e.generator = std::string("hgqc ") + HGQC_VERSION;
  e.verilog.header = {"hgqc " + std::string(HGQC_VERSION) + " from " +
                          std::filesystem::path(o.model).filename().string(),
                      std::string("options: ") +
                          (o.max_depth ? "--max-adder-depth " + std::to_string(o.max_depth)
                           : o.stages  ? "--stages " + std::to_string(o.stages)
                                       : "one stage") +
                          (o.no_reset ? ", no reset" : "") + (o.no_share ? ", plain CSD" : "") +
                          (o.rom_bits == 0 ? ", no ROM cones" : "")};
  Graph g = load_fixed_design(o.model, o.fixed);
  RangeAnalysis ra = analyze_model_ranges(g, o.model);
  backend::EmittedDesign d;
  try {
    d = backend::emit_design(g, ra, e);
  } catch (const UserError &err) {
    throw err.with_location(Location{o.model});
  }
  nlohmann::json rep = backend::design_report(d, e, o.model);
  OutputGuard guard(o.out_dir);
  std::error_code ec;
  std::filesystem::create_directories(o.out_dir, ec);
  if (ec)
    throw UserError("cannot create the output directory: " + ec.message(), {o.out_dir});
  std::string vpath = (std::filesystem::path(o.out_dir) / (e.verilog.top + ".v")).string();
  write_file_atomic(vpath, d.verilog);
  write_file_atomic((std::filesystem::path(o.out_dir) / "report.json").string(),
                    rep.dump(2) + "\n");
  guard.keep();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  std::printf("%-32s %8s %8s %10s %12s\n", "layer", "adders", "muxes", "LUTs(est)", "EBOPs");
  for (const auto &l : d.layers)
    std::printf("%-32s %8lld %8lld %10lld %12.0f\n", l.name.substr(0, 32).c_str(),
                static_cast<long long>(l.adders), static_cast<long long>(l.other),
                static_cast<long long>(l.luts), l.ebops);
  std::printf("%-32s %8lld %8lld %10lld %12.0f\n", "total", static_cast<long long>(d.total.adders),
              static_cast<long long>(d.total.other), static_cast<long long>(d.total.luts),
              d.total.ebops);
  std::printf("latency %d cycle(s) at II=1, adder depth %d (%d per stage), %lld register bits, "
              "in %lld bits, out %lld bits\n",
              d.sched.stages, d.sched.depth, d.sched.levels_per_stage,
              static_cast<long long>(d.registers), static_cast<long long>(d.layout.in_width),
              static_cast<long long>(d.layout.out_width));
  spdlog::info("CMVM: {} products ({} from cache), {:.2f} s optimising; netlist checked against "
               "the emulator on {} vectors",
               d.cmvm.products, d.cmvm.cache_hits, d.cmvm.optimise_seconds, d.checked_vectors);
  std::printf("wrote %s and report.json in %.2f s\n", vpath.c_str(), secs);
}
} // namespace

void add_emit_verilog(CLI::App &app, Action &action) {
  auto *cmd = app.add_subcommand(
      "emit-verilog", "Write pipelined Verilog (adder graphs, bit-exact with run --fixed)");
  auto o = std::make_shared<EmitCliOptions>();
  cmd->add_option("model", o->model, "Quantized ONNX model (hgqc or QONNX)")->required();
  cmd->add_option("-o,--output", o->out_dir,
                  "Output directory (created; gets TOP.v and report.json)")
      ->required();
  cmd->add_option("--top", o->top, "Top module name (default: the model's file name)");
  cmd->add_option("--max-adder-depth", o->max_depth,
                  "Adder levels per pipeline stage (default: one stage, all combinational)")
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--stages", o->stages, "Number of pipeline stages instead")
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--cmvm-depth-slack", o->slack,
                  "Adder levels each constant product may use beyond its minimum, or 'free' "
                  "(fewest adders, deepest logic)")
      ->capture_default_str();
  cmd->add_flag("--no-reset", o->no_reset, "No rst port (the valid chain is not cleared)");
  cmd->add_flag("--no-share", o->no_share,
                "Plain CSD adder trees without common-subexpression sharing (a baseline)");
  cmd->add_option("--rom-cone-bits", o->rom_bits,
                  "Logic that depends on at most this many input bits becomes one ROM where "
                  "the LUT model prices that lower (0: never)")
      ->check(CLI::Range(0, 12))
      ->capture_default_str();
  cmd->add_option("--check-vectors", o->check,
                  "Random vectors for the built-in netlist-versus-emulator check (0: skip)")
      ->capture_default_str();
  add_fixed_options(cmd, o->fixed, o->input_format, o->input_round, o->input_overflow);
  cmd->callback([&action, o] {
    action = [o] {
      finish_fixed_options(o->fixed, o->input_format, o->input_round, o->input_overflow);
      emit(*o);
    };
  });
}

} // namespace hgqc::cli
