// The graph normalisation passes run after import, one per file in lib/ir/passes/.
#pragma once

#include "ir/graph.h"

namespace hgqc {

/// Replaces foldable nodes whose inputs are all constant by their values. Shape
/// computations that depend only on the batch dimension (PyTorch's
/// Shape/Gather/Unsqueeze/Concat/Reshape flatten) are folded into Reshape targets
/// that copy the batch dimension. Returns the number of nodes folded.
int fold_constants(Graph &g);

/// Recomputes every value's static type from the graph inputs and constants.
void infer_shapes(Graph &g);

/// Removes Identity and inference-mode Dropout nodes. Returns how many.
int remove_identities(Graph &g);

/// Folds BatchNormalization into a preceding Gemm, MatMul (rank 2) or Conv with
/// constant weights whose result feeds only that BatchNormalization (for Gemm and
/// Conv also through an Unsqueeze of axes >= 2). Returns how many.
int fold_batchnorm(Graph &g);

/// Removes Squeeze(Unsqueeze(x, axes), axes) pairs whose intermediate has no other use
/// (left behind by fold_batchnorm on PyTorch's BatchNorm1d export). Returns how many.
int cancel_squeeze_unsqueeze(Graph &g);

/// Options of the import normalisation pipeline.
struct NormalizeOptions {
  bool fold_constants = true;
  bool remove_identities = true;
  bool fold_batchnorm = true;
};

/// Runs the passes above, removes dead nodes and values, and verifies the graph.
void normalize(Graph &g, const NormalizeOptions &opt = {});

} // namespace hgqc
