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
/// Inputs are checked with check_input. Throws UserError naming the input, or the node that
/// failed and the model file (Graph::source).
std::vector<Tensor> evaluate(const Graph &g, std::vector<Tensor> inputs);

/// Checks `t` as the value of graph input `i` of `g`: its shape (the batch is free), its element
/// type (numeric data may feed a float input; an integer input takes only its own type), and
/// that every value stays finite once rounded to the input's type (float64 1e300 does not fit
/// a float32 input). UserError naming the input and, for values, the element index; `source`
/// (the data file, may be empty) is the error's file.
void check_input(const Graph &g, size_t i, const Tensor &t, const std::string &source = "");

/// Runs one node on concrete inputs, adding the node's location to errors.
std::vector<Tensor> eval_node(const Node &n, const std::vector<const Tensor *> &inputs);

} // namespace hgqc
