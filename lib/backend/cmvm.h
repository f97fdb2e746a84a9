// Constant matrix-vector products (CMVM) as shift-and-add graphs: CSD digits, greedy
// common-subexpression elimination and depth-aware reduction trees (method.md §3).
#pragma once

#include "ir/fixed.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace hgqc::backend {

/// A dense integer matrix, row-major: rows are outputs, columns are inputs.
struct IntMatrix {
  int rows = 0;              ///< number of outputs
  int cols = 0;              ///< number of inputs
  std::vector<int64_t> data; ///< rows * cols entries, row-major
  /// Entry (i, j).
  int64_t at(int i, int j) const { return data[static_cast<size_t>(i) * cols + j]; }
};

/// The integer format of one input: `width` bits, two's complement when `is_signed`.
struct InputFormat {
  int width = 8;         ///< 1..32 bits
  bool is_signed = true; ///< signed: [-2^(w-1), 2^(w-1)-1]; unsigned: [0, 2^w-1]
};

/// The latest arrival level CmvmOptions::input_depths takes.
constexpr int kMaxInputDepth = 32;

/// Options of the CMVM optimiser.
struct CmvmOptions {
  /// One format per input; empty means every input is 8-bit signed.
  std::vector<InputFormat> inputs;
  /// The adder level at which each input arrives (0..kMaxInputDepth); empty means all at 0.
  /// The graph's depths, `max_depth` and `min_depth` count from these levels, so a product
  /// whose inputs arrive late sums the early ones first.
  std::vector<int> input_depths;
  /// Greedy common-subexpression elimination; false gives plain CSD (each output a
  /// balanced tree of its own CSD terms), the baseline.
  bool share = true;
  /// Maximum adder depth of every output (from level 0, inputs arriving at their
  /// `input_depths`); unset means unconstrained.
  std::optional<int> max_depth;
  /// Hold the depth to the minimum possible for the matrix and input depths
  /// (cmvm_min_depth); overrides `max_depth`.
  bool min_depth = false;
};

/// One adder of the graph: value = a + (b << shift), or a - (b << shift) when `subtract`, or
/// (b << shift) - a when `subtract` and `reverse`.
/// Operands are value ids: 0 .. num_inputs-1 are the inputs, num_inputs + k is adder k.
struct AdderOp {
  int a = 0;              ///< first operand (value id)
  int b = 0;              ///< second operand (value id), shifted left by `shift`
  int shift = 0;          ///< >= 0
  bool subtract = false;  ///< a - (b << shift) instead of a + (b << shift)
  bool reverse = false;   ///< with `subtract`: (b << shift) - a
  int depth = 0;          ///< adder levels from the inputs (1 + max of the operands)
  Int128 min = 0;         ///< exact minimum of the value over all input values
  Int128 max = 0;         ///< exact maximum of the value over all input values
  int width = 0;          ///< bits of the result (two's complement when `is_signed`)
  bool is_signed = false; ///< min < 0
};

/// Where an output comes from: value = (negate ? -1 : 1) * (value id << shift), or 0
/// when `value` is -1 (an all-zero row).
struct OutputRef {
  int value = -1;      ///< value id, -1 for a constant zero
  int shift = 0;       ///< >= 0
  bool negate = false; ///< the output is the negation of the shifted value
  int depth = 0;       ///< adder depth of the output
};

/// The optimised adder graph of a CMVM, in SSA order (operands come before their users).
struct AdderGraph {
  int num_inputs = 0;              ///< number of inputs (matrix columns)
  std::vector<InputFormat> inputs; ///< input formats, one per input
  std::vector<int> input_depths;   ///< arrival level of each input (the adders count from it)
  std::vector<AdderOp> adders;     ///< adders, in evaluation order
  std::vector<OutputRef> outputs;  ///< one per matrix row
  /// Maximum adder depth over the outputs.
  int depth() const;
  /// Sum of the adder widths: the LUT cost estimate of method.md §3.
  int64_t total_width() const;
};

/// Optimises y = M x into an adder graph. Throws UserError for a malformed matrix,
/// entries with |m| >= 2^40, input widths outside 1..32, input format or depth counts that
/// do not match the columns, input depths outside 0..kMaxInputDepth, or a max depth below
/// what the matrix needs.
AdderGraph optimise_cmvm(const IntMatrix &m, const CmvmOptions &options = {});

/// The smallest adder depth any adder graph made from CSD terms can reach for `m` with its
/// inputs arriving at levels `input_depths` (empty: all 0): the max over rows of
/// ceil(log2(sum over the row's CSD terms of 2^(level of their input))).
int cmvm_min_depth(const IntMatrix &m, std::span<const int> input_depths = {});

/// Evaluates the graph exactly on integer inputs `x` (one per input, in range of their
/// format); returns one value per output.
std::vector<Int128> evaluate_adder_graph(const AdderGraph &g, std::span<const int64_t> x);

/// Checks the graph against the direct product M x on `x`: exact values, and every adder
/// value inside its recorded [min, max] and width. Returns an empty string when all agree,
/// otherwise a description of the first difference.
std::string check_adder_graph(const AdderGraph &g, const IntMatrix &m, std::span<const int64_t> x);

} // namespace hgqc::backend
