// Netlist passes of the backend (one per file): dead-node removal, ROM cones and pipeline
// scheduling.
#pragma once

#include "ir/netlist.h"

#include <optional>

namespace hgqc::backend {

/// Removes the nodes no output reads (dead_nodes.cpp); node ids are renumbered in order.
Netlist remove_dead_nodes(const Netlist &net);

/// Collapses each cone of logic whose value depends on at most `max_bits` bits of the input
/// bus (pooling and requantizing of narrow inputs, say) into one ROM addressed by those bits
/// side by side (rom_cones.cpp), where the LUT model prices the ROM below the logic that dies
/// with it; the netlist is kept as it is unless its LUT estimate falls. Exact: each entry is the
/// cone evaluated on that input. `max_bits` 0 turns the pass off.
Netlist collapse_rom_cones(const Netlist &net, int max_bits);

/// Adder levels a node adds on its path (method.md §3: one adder level is one unit of
/// delay): 1 for adders, subtracters, comparators and rounding adds, 0 for wires, muxes on a
/// sign bit and truncations; for a multiplier (node of `net`), the levels of the adder tree
/// that sums its gated partial products (verilog.cpp): ceil(log2(t)) for t terms, the narrower
/// factor's bits (less its sign bit, whose term is subtracted after: one level more).
int adder_levels(const Netlist &net, const NetNode &n);

/// How to cut the netlist into pipeline stages.
struct PipelineOptions {
  std::optional<int> max_adder_depth; ///< adder levels per stage (unset: all in one stage)
  std::optional<int> stages;          ///< number of stages instead (levels spread evenly)
};

/// The pipeline of a netlist (pipeline.cpp): the combinational logic of stage s reads the
/// inputs (s = 0) or the registers that end stage s - 1; every output is registered at the
/// end of the last stage, so the latency is `stages` clock cycles at one new input per clock.
struct Schedule {
  std::vector<int> stage;   ///< by node (constants: 0; they are never registered)
  std::vector<int> level;   ///< by node: adder levels from the inputs
  std::vector<int> need;    ///< by node: the last stage whose input reads it (stage: no register)
  int stages = 1;           ///< pipeline stages = latency in cycles
  int depth = 0;            ///< adder levels of the longest path
  int levels_per_stage = 0; ///< the limit used (depth when unconstrained)
};

/// Cuts `net` into stages of at most `max_adder_depth` adder levels (or into `stages`
/// stages). Throws UserError for a limit below 1.
Schedule schedule_pipeline(const Netlist &net, const PipelineOptions &options);

} // namespace hgqc::backend
