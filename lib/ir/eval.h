// The float reference evaluator: runs a graph in double precision on concrete inputs.
#pragma once

#include "ir/graph.h"

#include <vector>

namespace hgqc {

/// Runs `g` on one tensor per graph input (in order) and returns one tensor per
/// graph output. Numeric inputs feeding a float graph input are converted to its
/// type (float64 data is rounded for a float32 input); integer graph inputs take
/// only their own type. Shapes must match the declared ones except for
/// dimensions unknown until run time (the batch).
/// Throws UserError naming the input or the node that failed.
std::vector<Tensor> evaluate(const Graph &g, std::vector<Tensor> inputs);

/// Runs one node on concrete inputs, adding the node's location to errors.
std::vector<Tensor> eval_node(const Node &n, const std::vector<const Tensor *> &inputs);

} // namespace hgqc
