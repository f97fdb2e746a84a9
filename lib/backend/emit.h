// The emit-verilog flow: lower a quantized graph, remove dead logic, check the netlist against
// the emulator, schedule the pipeline, write Verilog and the report.
#pragma once

#include "backend/cmvm_lower.h"
#include "backend/lut_model.h"
#include "backend/passes.h"
#include "backend/verilog.h"
#include "ir/fixed_eval.h"

#include <nlohmann/json.hpp>

namespace hgqc::backend {

/// Options of emit_design.
struct EmitOptions {
  PipelineOptions pipeline;
  VerilogOptions verilog;
  CmvmLowerOptions cmvm;
  int64_t check_vectors = 1000;   ///< random vectors for the netlist-vs-emulator check (0: none)
  uint64_t seed = 1;              ///< seed of those vectors
  std::string generator = "hgqc"; ///< producer name and version for the report
};

/// Figures of one layer (IR node) of the design.
struct LayerFigures {
  std::string name;
  int64_t adders = 0;      ///< adders and subtracters (incl. negations and rounding adds)
  int64_t other = 0;       ///< comparators, muxes (max, clamp, relu), table lookups
  int64_t multipliers = 0; ///< multipliers of two run-time signals
  int64_t luts = 0;        ///< estimated LUTs: the calibrated model (lut_model.h) over `bits`
  int64_t output_bits = 0; ///< output bits of every adder, mux and multiplier (uncalibrated)
  LutBits bits{};          ///< bits of each LUT-model class
  double ebops = 0;        ///< EBOPs of the IR node
};

/// The emitted design.
struct EmittedDesign {
  Netlist net;
  Schedule sched;
  BusLayout layout;
  std::string verilog;
  std::vector<LayerFigures> layers; ///< layers with logic or EBOPs, in graph order
  LayerFigures total;
  int64_t registers = 0; ///< register bits (pipeline and valid)
  CmvmStats cmvm;
  int64_t checked_vectors = 0;
};

/// The figures of a design without its pipeline or Verilog.
struct DesignFigures {
  std::vector<LayerFigures> layers; ///< layers with logic or EBOPs, in graph order
  LayerFigures total;
  CmvmStats cmvm;
};

/// Lowers `g` (ranges `ra`) as emit_design does (CMVM adder graphs with `cmvm`, dead nodes
/// removed) and counts its figures per layer, the calibrated LUT estimate included; no check
/// vectors, schedule or Verilog. The layers and total equal emit_design's for the same graph and
/// CMVM options. Throws UserError naming the node for ops that cannot be built.
DesignFigures estimate_design(const Graph &g, const RangeAnalysis &ra,
                              const CmvmLowerOptions &cmvm = {});

/// Lowers, checks and writes the design of the quantized graph `g` (ranges `ra`). Throws
/// UserError naming the node for ops that cannot be built, and CheckFailed when the netlist
/// disagrees with the emulator on a check vector (a bug).
EmittedDesign emit_design(const Graph &g, const RangeAnalysis &ra, const EmitOptions &options);

/// Checks the netlist `net` lowered from `g` against the emulator on `xs` (one tensor per graph
/// input, samples along the first dimension): every output element of every sample must be
/// equal. Throws CheckFailed on the first difference (a bug).
void check_netlist(const Netlist &net, const Graph &g, const RangeAnalysis &ra,
                   const std::vector<Tensor> &xs);

/// Random inputs for the graph's input quantizers: `count` samples per input, each element
/// uniform over the integers of its input quantizer's format (every 16th sample at the
/// format's extremes), as real values q * 2^-f.
std::vector<Tensor> random_inputs(const Graph &g, const RangeAnalysis &ra, int64_t count,
                                  uint64_t seed);

/// The values the graph's input quantizers give for `inputs` (one tensor per graph input):
/// per input, the integers of its quantizer's output, sample after sample.
std::vector<FixedTensor> quantized_inputs(const Graph &g, const RangeAnalysis &ra,
                                          const std::vector<Tensor> &inputs);

/// The report.json of a design: top, latency, buses with every field, totals, per layer.
nlohmann::json design_report(const EmittedDesign &d, const EmitOptions &options,
                             const std::string &model);

} // namespace hgqc::backend
