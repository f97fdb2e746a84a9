// The graph normalisation passes run after import, one per file in lib/ir/passes/.
#pragma once

#include "ir/fixed.h"
#include "ir/graph.h"

#include <string>
#include <vector>

namespace hgqc {

/// Replaces foldable nodes whose inputs are all constant by their values. Shape
/// computations that depend only on the batch dimension (PyTorch's
/// Shape/Gather/Unsqueeze/Concat/Reshape flatten) are folded into Reshape targets
/// that copy the batch dimension. Folded values are rounded to their element type, as a
/// runtime computing in that type stores them. Returns the number of nodes folded.
int fold_constants(Graph &g);

/// Recomputes every value's static type from the graph inputs and constants.
void infer_shapes(Graph &g);

/// Removes Identity and inference-mode Dropout nodes. Returns how many.
int remove_identities(Graph &g);

/// Folds BatchNormalization into a preceding Gemm, MatMul (rank 2) or Conv with
/// constant weights whose result feeds only that BatchNormalization (for Gemm and
/// Conv also through an Unsqueeze of axes >= 2). The new weights and biases are rounded to
/// their element type. Returns how many.
int fold_batchnorm(Graph &g);

/// Removes Squeeze(Unsqueeze(x, axes), axes) pairs whose intermediate has no other use
/// (left behind by fold_batchnorm on PyTorch's BatchNorm1d export). Returns how many.
int cancel_squeeze_unsqueeze(Graph &g);

/// Rewrites each Softmax that does not compute a graph output into ops with a fixed-point
/// form: m = ReduceMax(x), e = Exp(x - m), y = e * Reciprocal(ReduceSum(e)), the reductions
/// over the normalised axes with keepdims = 1. The same values up to float rounding. Returns
/// how many.
int decompose_softmax(Graph &g);

/// Rewrites the float-graph forms that PyTorch 1.13 writes for activation layers into one
/// table function each (docs/fixed-point.md, "Activation rewrites"): nn.GELU's
/// x * (Erf(x / sqrt 2) + 1) * 0.5 and its tanh form into Gelu, x * Sigmoid(x) into Silu,
/// x * Tanh(Softplus(x)) into Mish, x * HardSigmoid(x) (alpha 1/6, beta 1/2) into HardSwish,
/// x / (Abs(x) + 1) into Softsign, and Log(Sigmoid(x)) into Neg(Softplus(Neg(x))). Constants
/// must equal theirs up to float32 rounding, and intermediate values have no other use. The
/// same values up to float rounding. Returns how many.
int fuse_activations(Graph &g);

/// Options of the import normalisation pipeline.
struct NormalizeOptions {
  bool fold_constants = true;
  bool remove_identities = true;
  bool fold_batchnorm = true;
  bool decompose_softmax = true;
  bool fuse_activations = true;
};

/// Runs the passes above, removes dead nodes and values, and verifies the graph.
void normalize(Graph &g, const NormalizeOptions &opt = {});

// Passes towards the fixed-point form (see to_fixed()). `notes` collect what a user
// should know about changes of meaning.

/// Replaces QONNX Quant nodes by FixedQuant: the scale must be a power of two (scalar or
/// per channel) and the zero point 0; ROUND/HALF_EVEN become RND_CONV, HALF_UP RND,
/// FLOOR TRN; the clamp becomes SAT (narrow range: SAT_SYM). BipolarQuant is refused.
/// Throws UserError naming the node. Returns how many.
int quant_to_fixed(Graph &g);

/// Rewrites BatchNormalization (constant parameters) and chains of Add/Sub/Mul/Div by
/// constants into one Mul by a constant followed by one Add of a constant; coefficients
/// computed by the pass are rounded to float32. Returns the number of rewrites.
int fold_affine(Graph &g, std::vector<std::string> *notes);

/// Removes Softmax nodes that compute graph outputs (the output becomes the logits).
int drop_output_softmax(Graph &g, std::vector<std::string> *notes);

/// The quantizer put on graph inputs that have none.
struct InputQuantizer {
  FixedFormat format{1, 5, 10}; ///< ap_fixed<16,6>, the customary hls4ml input type
  RoundMode round = RoundMode::TRN;
  OverflowMode overflow = OverflowMode::SAT;
};
/// Inserts `x -> FixedQuant(fmt, r, o) -> new value` (scalar k, i, f initializers) at
/// position `at` of g.nodes, named after x; returns the new value. Uses of x are unchanged.
ValueId insert_fixed_quant(Graph &g, size_t at, ValueId x, FixedFormat fmt, RoundMode r,
                           OverflowMode o);

/// Adds a FixedQuant on every float graph input used by anything but a FixedQuant.
int quantize_inputs(Graph &g, const InputQuantizer &q, std::vector<std::string> *notes);

/// Replaces constants read by FixedQuant nodes by their quantized values (when those are
/// exact in the constant's element type). Returns how many.
int snap_quantized_constants(Graph &g);

/// Folds each FixedQuant that alone reads the output of a table function (OpDef::table; see
/// lib/ir/ops/table_common.h) into that node: the node takes the quantizer's k, i, f as inputs
/// 1..3 and its round_mode and overflow_mode, and defines the quantizer's output. Returns how
/// many.
int fuse_table_quant(Graph &g);

/// Moves each saturating FixedQuant (SAT, SAT_SYM) that alone reads a MaxPool or ReduceMax in
/// front of it when that is exact: every input element read by several windows gets one format
/// from all of them (elements no window reads are pruned). The quantizer then reads the max's
/// input, the max defines the quantizer's output, and the comparators work on the quantized
/// values. Repeats through chains of pools. Not for a max that reads a graph input. Returns how
/// many moves it made (docs/fixed-point.md, "Quantizers before a maximum").
int hoist_quant_over_max(Graph &g);

/// Options of to_fixed().
struct ToFixedOptions {
  InputQuantizer input;
  bool drop_output_softmax = true;
};

/// Turns a normalised graph with quantizers (QONNX Quant, FixedQuant) into hgqc's
/// fixed-point form: the passes above in order, then folding, shape inference and
/// verification. Returns the notes.
std::vector<std::string> to_fixed(Graph &g, const ToFixedOptions &opt = {});

} // namespace hgqc
