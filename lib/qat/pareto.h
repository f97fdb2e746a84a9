// The Pareto front of `hgqc train`: exact evaluation of saved quantized models (the integer
// emulator, as `hgqc run --fixed` runs it), the calibration pass, the front and its plot.
#pragma once

#include "qat/dataset.h"

#include <string>
#include <vector>

namespace hgqc {

/// A saved model and how it scores.
struct Checkpoint {
  std::string file;
  int epoch = 0;
  int64_t correct = 0, total = 0; ///< classification: emulator top-1 hits on validation
  double accuracy = 0;            ///< correct / total (classification)
  double mse = 0;                 ///< regression: mean squared error of the emulator outputs
  double ebops = 0;               ///< exact EBOPs of the file (hgqc inspect's total)
  int64_t overflows = 0;          ///< activation elements that overflowed on validation
};

/// Loads the quantized model `file` exactly as `hgqc run --fixed` does (import, normalise,
/// lower to fixed point), runs the integer emulator on `val` (`threads` threads over row
/// blocks) and fills the scores of `c` (file and epoch are kept).
void evaluate_checkpoint(Checkpoint &c, const Dataset &val, TaskKind task, int threads);

/// True when `a` is at least as good as `b` in both score and EBOPs (so `b` adds nothing).
bool covers(const Checkpoint &a, const Checkpoint &b, TaskKind task);

/// Adds `c` to `front` unless a member covers it; members `c` covers are removed. Files of
/// removed checkpoints (and of `c` when it is not kept) are deleted. Returns whether `c` was
/// kept.
bool update_front(std::vector<Checkpoint> &front, const Checkpoint &c, TaskKind task);

/// The calibration pass (method.md §2, "trace"): runs the emulator on `data` with the
/// activation quantizers of `file` widened (no overflow can happen, checked), records the
/// exact range of every activation element, and rewrites `file` (atomically) with the
/// minimal formats covering those ranges widened by `cover` (>= 1). Pruned elements stay
/// pruned; fractional bits are kept. Afterwards no activation overflows on `data`.
void calibrate_checkpoint(const std::string &file, const Dataset &data, double cover, int threads);

/// An SVG scatter plot of score against EBOPs (log scale): the front highlighted and joined,
/// every evaluated epoch in grey.
std::string front_svg(const std::vector<Checkpoint> &front, const std::vector<Checkpoint> &all,
                      TaskKind task);

} // namespace hgqc
