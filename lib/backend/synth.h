// `hgqc synth`: out-of-context Yosys synthesis of an emitted design and its resource report.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace hgqc::backend {

/// Options of synth_design.
struct SynthOptions {
  std::string yosys = "yosys"; ///< the Yosys executable
  std::string family = "xc7";  ///< synth_xilinx -family (xc7: 7-series; xcup: UltraScale+)
  bool keep_netlist = false;   ///< keep the synthesized netlist (synth/netlist.json)
};

/// Resources of a synthesized (technology-mapped, flattened) Xilinx netlist.
struct SynthFigures {
  std::map<std::string, int64_t> cells; ///< cell count by type
  int64_t luts = 0;                     ///< LUT1..LUT6 plus INV (a LUT1 in Yosys's Xilinx library)
  int64_t ffs = 0;                      ///< flip-flops (FD*)
  int64_t carry = 0;                    ///< carry cells (CARRY4 / CARRY8)
  int64_t muxes = 0;                    ///< MUXF7 / MUXF8 / MUXF9
  int64_t srls = 0;                     ///< shift-register LUTs (SRL16E / SRLC32E)
  int64_t latches = 0;                  ///< latches (LD*; an emitted design has none)
  int logic_levels = 0;                 ///< LUTs on the longest register-to-register (or port) path
  int carry_on_path = 0; ///< carry cells on that path (a carry chain is fast: not a level)
};

/// Counts the cells of module `top` of a Yosys JSON netlist (write_json) and finds its
/// longest combinational path between flip-flops and ports, counting LUT levels. Throws
/// UserError on a malformed netlist or a combinational loop.
SynthFigures analyze_yosys_netlist(const nlohmann::json &netlist, const std::string &top);

/// What a synthesis run did.
struct SynthResult {
  SynthFigures figures;
  std::string top;
  std::string yosys_version;
  int64_t luts_estimate = 0; ///< report.json's estimate, for the ratio
  double seconds = 0;
  /// Caveats about the mapping, for the user and report.json (e.g. CARRY4 chains in an
  /// UltraScale netlist, which has CARRY8).
  std::vector<std::string> notes;
};

/// The caveats of a mapping to `family` with the cells `figures` found: an UltraScale or
/// UltraScale+ netlist (xcu, xcup) holding CARRY4 cells, which those devices do not have
/// (Yosys 0.23's synth_xilinx maps carry chains to CARRY4 for every family).
std::vector<std::string> synth_notes(const std::string &family, const SynthFigures &figures);

/// Runs Yosys (`synth_xilinx -flatten -noiopad -noclkbuf`, out of context) on the design in
/// `rtl_dir` (its report.json names the top file), in rtl_dir/synth (script and log kept), and
/// adds a "synth" object to report.json (atomically). Throws UserError when Yosys is missing
/// or fails, or report.json is missing or malformed.
SynthResult synth_design(const std::string &rtl_dir, const SynthOptions &options);

} // namespace hgqc::backend
