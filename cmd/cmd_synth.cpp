// `hgqc synth`: out-of-context Yosys synthesis of an emitted design; resources into report.json.
#include "backend/synth.h"
#include "commands.h"

#include <cstdio>
#include <filesystem>
#include <memory>

namespace hgqc::cli {

namespace {
struct SynthCliOptions {
  std::string rtl_dir;
  backend::SynthOptions synth;
};

void synth(const SynthCliOptions &o) {
  backend::SynthResult r = backend::synth_design(o.rtl_dir, o.synth);
  const backend::SynthFigures &f = r.figures;
  std::printf("synthesized %s with %s (synth_xilinx -family %s, out of context) in %.1f s\n",
              r.top.c_str(), r.yosys_version.c_str(), o.synth.family.c_str(), r.seconds);
  std::printf("%-28s %12s\n", "resource", "count");
  std::printf("%-28s %12lld\n", "LUTs (LUT1-6 + INV)", static_cast<long long>(f.luts));
  std::printf("%-28s %12lld\n", "flip-flops", static_cast<long long>(f.ffs));
  std::printf("%-28s %12lld\n", "carry cells", static_cast<long long>(f.carry));
  std::printf("%-28s %12lld\n", "wide muxes (MUXF*)", static_cast<long long>(f.muxes));
  std::printf("%-28s %12lld\n", "shift registers (SRL*)", static_cast<long long>(f.srls));
  std::printf("%-28s %12lld\n", "latches", static_cast<long long>(f.latches));
  std::printf("%-28s %12d\n", "logic levels (LUTs)", f.logic_levels);
  std::printf("%-28s %12d\n", "carry cells on that path", f.carry_on_path);
  if (f.luts > 0)
    std::printf("LUT estimate (report.json) %lld = %.2f x Yosys LUTs\n",
                static_cast<long long>(r.luts_estimate),
                static_cast<double>(r.luts_estimate) / static_cast<double>(f.luts));
  for (const std::string &n : r.notes)
    std::printf("note: %s\n", n.c_str());
  std::printf("wrote %s (\"synth\"), Yosys log in %s\n",
              (std::filesystem::path(o.rtl_dir) / "report.json").string().c_str(),
              (std::filesystem::path(o.rtl_dir) / "synth").string().c_str());
}
} // namespace

void add_synth(CLI::App &app, Action &action) {
  auto *cmd = app.add_subcommand(
      "synth", "Synthesize emitted Verilog with Yosys (Xilinx, out of context) and report LUTs, "
               "flip-flops, carry cells and logic levels");
  auto o = std::make_shared<SynthCliOptions>();
  cmd->add_option("rtl_dir", o->rtl_dir, "Directory written by emit-verilog")->required();
  cmd->add_option(
         "--family", o->synth.family,
         "Xilinx family for synth_xilinx (xc7: 7-series; xcup: UltraScale+, which Yosys 0.23 "
         "maps with CARRY4)")
      ->capture_default_str();
  cmd->add_option("--yosys", o->synth.yosys, "Yosys executable")->capture_default_str();
  cmd->add_flag("--keep-netlist", o->synth.keep_netlist,
                "Keep the synthesized netlist (RTL_DIR/synth/netlist.json)");
  cmd->callback([&action, o] { action = [o] { synth(*o); }; });
}

} // namespace hgqc::cli
