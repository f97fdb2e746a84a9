// `hgqc verify`: Verilator co-simulation of an emitted design against the integer emulator.
#pragma once

#include "ir/fixed_eval.h"

#include <map>
#include <string>

namespace hgqc::backend {

/// Options of verify_design.
struct VerifyOptions {
  int64_t vectors = 100000;            ///< vectors in all
  uint64_t seed = 1;                   ///< seed of the random vectors
  std::vector<Tensor> data;            ///< optional data-set rows, one tensor per graph input
  std::string verilator = "verilator"; ///< the Verilator executable
  std::string simulator = "verilator"; ///< verilator, or iverilog (Icarus: slower, no bubbles)
  int jobs = 2;                        ///< parallel compile jobs of the Verilator build
  size_t report = 10;                  ///< mismatches kept in the result and mismatches.json
};

/// One differing output element.
struct Mismatch {
  int64_t vector = 0;  ///< input index
  std::string kind;    ///< random, extreme, data or data_x2
  std::string output;  ///< output name
  int64_t element = 0; ///< element of the output (row-major, one sample)
  int64_t expected = 0, got = 0;
  std::string input_hex; ///< the input bus, hexadecimal
};

/// What a verification run did.
struct VerifyResult {
  int64_t vectors = 0;
  int64_t mismatched_vectors = 0, mismatched_elements = 0;
  std::vector<Mismatch> first;          ///< the first `report` mismatches
  std::map<std::string, int64_t> kinds; ///< vectors per kind
  int latency = 0;                      ///< from report.json
  int64_t first_valid_cycle = 0;        ///< seen in simulation (must equal latency)
  double build_seconds = 0, sim_seconds = 0;
  /// Verilator's -Wall lint warnings of the design, counted in its build log (the lines
  /// starting "%Warning-"); -1 under Icarus Verilog.
  int64_t lint_warnings = -1;
};

/// Builds the design in `rtl_dir` (its report.json names the top file) with a generated
/// Verilator harness (in rtl_dir/verify), streams the vectors through it at one input per clock
/// (with a bubble every 97 inputs), and compares every output bit with the emulator of `g`.
/// Vectors: data rows, the same rows scaled by 2 (to force overflow), then random values over
/// each input element's format with extremes. Writes rtl_dir/mismatches.json. Throws
/// UserError when Verilator is missing or fails, or when report.json does not match `g`.
VerifyResult verify_design(const std::string &rtl_dir, const Graph &g, const RangeAnalysis &ra,
                           const VerifyOptions &options);

} // namespace hgqc::backend
