// Reading a quantized model file into its fixed-point form, as `hgqc run --fixed` does, and
// into the design that emit-verilog builds.
#pragma once

#include "ir/graph.h"
#include "ir/passes/passes.h"

#include <string>
#include <vector>

namespace hgqc {

/// Imports `path`, normalises it and lowers it to fixed point (to_fixed with `opt`). Refuses a
/// model with no quantizer ("quantize it first"). Errors of the lowering are located in `path`;
/// its notes are appended to `notes` when given. Every command that reads a quantized model
/// (run --fixed, inspect, convert, emit-verilog, verify, train's front scoring) goes through
/// this, so they all see the same graph.
Graph read_fixed_model(const std::string &path, const ToFixedOptions &opt = {},
                       std::vector<std::string> *notes = nullptr);

/// The exact rewrites that make the circuit cheaper without changing an output bit
/// (hoist_quant_over_max), applied to `g` as read from `path` (errors located in `path`). Every
/// command that builds or counts the circuit (emit-verilog, verify, train's LUT estimate) goes
/// through this, so they all build the same design.
void prepare_fixed_design(Graph &g, const std::string &path);

/// read_fixed_model, then prepare_fixed_design: the graph that emit-verilog builds.
Graph read_fixed_design(const std::string &path, const ToFixedOptions &opt = {},
                        std::vector<std::string> *notes = nullptr);

} // namespace hgqc
