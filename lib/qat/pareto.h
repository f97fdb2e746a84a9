// The Pareto front of `hgqc train`: exact evaluation of saved quantized models (the integer
// emulator, as `hgqc run --fixed` runs it; the LUT estimate of emit-verilog's design), the
// calibration pass, the front and its plot.
#pragma once

#include "qat/dataset.h"

#include <string>
#include <vector>

namespace hgqc {

/// One layer (IR node) of a checkpoint's design: emit-verilog's figures for it.
struct LayerCost {
  std::string node;   ///< IR node name (report.json's layer name)
  int64_t luts = 0;   ///< estimated LUTs (the calibrated LUT model)
  int64_t adders = 0; ///< adders and subtracters
};

/// A saved model and how it scores.
struct Checkpoint {
  std::string file;
  int epoch = 0;
  int64_t correct = 0, total = 0; ///< classification: emulator top-1 hits on validation
  double accuracy = 0;            ///< correct / total (classification)
  double mse = 0;                 ///< regression: mean squared error of the emulator outputs
  double ebops = 0;               ///< exact EBOPs of the file (hgqc inspect's total)
  int64_t overflows = 0;          ///< activation elements that overflowed on validation
  /// LUTs of the design `hgqc emit-verilog` builds from the file with default options (its
  /// report's luts_estimate); -1 when that design cannot be built (see `lut_error`).
  int64_t luts_estimate = -1;
  int64_t adders = 0;            ///< adders of that design (its report's total)
  std::vector<LayerCost> layers; ///< that design's layers, in graph order
  std::string lut_error;         ///< why the design cannot be built (when luts_estimate < 0)
};

/// Loads the quantized model `file` exactly as `hgqc run --fixed` does (import, normalise,
/// lower to fixed point), runs the integer emulator on `val` (`threads` threads over row
/// blocks) and fills the scores of `c` (file and epoch are kept), then its LUT estimate
/// (estimate_checkpoint_luts).
void evaluate_checkpoint(Checkpoint &c, const Dataset &val, TaskKind task, int threads);

/// Fills the LUT estimate, adders and layers of `c` from the design `hgqc emit-verilog` builds
/// from `c.file` with default options: the same loading (read_fixed_design), CMVM lowering,
/// dead-node removal and calibrated LUT model, without check vectors or Verilog. A model whose
/// design cannot be built (an op without hardware lowering, an operand too wide) gets
/// luts_estimate -1 and the reason in lut_error.
void estimate_checkpoint_luts(Checkpoint &c);

/// True when `a` is at least as good as `b` in both score and estimated LUTs (so `b` adds
/// nothing); in score and EBOPs when either has no LUT estimate.
bool covers(const Checkpoint &a, const Checkpoint &b, TaskKind task);

/// Adds `c` to `front` unless a member covers it; members `c` covers are removed. Files of
/// removed checkpoints (and of `c` when it is not kept) are deleted. Returns whether `c` was
/// kept. The front stays sorted by estimated LUTs (by EBOPs when a member has no estimate),
/// ties by EBOPs, then epoch.
bool update_front(std::vector<Checkpoint> &front, const Checkpoint &c, TaskKind task);

/// The calibration pass (method.md §2, "trace"): runs the emulator on `data` with the
/// activation quantizers of `file` widened (no overflow can happen, checked), records the
/// exact range of every activation element, and rewrites `file` (atomically) with the
/// minimal formats covering those ranges widened by `cover` (>= 1). Pruned elements stay
/// pruned; fractional bits are kept. Afterwards no activation overflows on `data`.
void calibrate_checkpoint(const std::string &file, const Dataset &data, double cover, int threads);

/// An SVG scatter plot of score against estimated LUTs (log scale; EBOPs when a checkpoint has
/// no LUT estimate): the front highlighted and joined, every evaluated epoch in grey.
std::string front_svg(const std::vector<Checkpoint> &front, const std::vector<Checkpoint> &all,
                      TaskKind task);

} // namespace hgqc
