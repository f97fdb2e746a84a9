// The exact interval analysis and the integer emulator of a quantized graph.
#pragma once

#include "ir/graph.h"
#include "ir/op.h"

#include <optional>
#include <vector>

namespace hgqc {

/// Exact per-element ranges of every value of a quantized graph (method.md §1).
struct RangeAnalysis {
  /// By ValueId; nullopt for float graph inputs (which only quantizers may read).
  std::vector<std::optional<ValueRange>> ranges;
};

/// Runs the interval analysis over `g`. Throws UserError naming the node when an op has
/// no fixed-point form, a float graph input feeds anything but a FixedQuant's x, a
/// constant is not a fixed-point number, or a value needs more than kMaxFixedWidth bits.
RangeAnalysis analyze_ranges(const Graph &g);

/// Result of one emulator run.
struct FixedRun {
  std::vector<FixedTensor> outputs; ///< one per graph output
  std::vector<int64_t> overflows;   ///< by node index: elements that overflowed (quantizers)
  std::vector<int64_t> quantized;   ///< by node index: elements quantized (quantizers)
};

/// Runs `g` in exact integer arithmetic on one float tensor per graph input (each is
/// quantized by the FixedQuant nodes reading it). Shapes are checked as by evaluate().
FixedRun evaluate_fixed(const Graph &g, const RangeAnalysis &ra, std::vector<Tensor> inputs);

/// The values q * 2^-f of an emulator tensor as a float64 tensor (exact below 2^53).
Tensor fixed_to_tensor(const FixedTensor &t, const ValueRange &r);

/// EBOPs of each node (by node index; 0 for nodes that multiply nothing), from the
/// element widths of the range analysis (method.md §2).
std::vector<double> node_ebops(const Graph &g, const RangeAnalysis &ra);

/// True when `g` has at least one FixedQuant node.
bool is_quantized(const Graph &g);

} // namespace hgqc
