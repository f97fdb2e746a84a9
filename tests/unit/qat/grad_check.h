// Helpers shared by the tests of tests/unit/qat/: finite-difference checks of op backward hooks,
// and an engine's cost model.
#pragma once

#include "ir/graph.h"
#include "ir/train.h"
#include "onnx_builder.h"
#include "qat/cost.h"
#include "qat/engine.h"

#include <random>
#include <vector>

namespace hgqc::test {

/// Random values in [-1, 1], kept at least 0.05 away from 0 (the kink of Relu and LeakyRelu).
TrainTensor random_tensor(const Dims &d, std::mt19937 &rng);

/// Checks node `ni` of `g`: random inputs (batch 2), L = sum(out * R); backward (dout = R)
/// against the central difference (L(x + h) - L(x - h)) / 2h for every element of every
/// float input except those numbered in `skip`; then that backward adds into gradients that
/// already hold values (micrograd's `+=`) instead of overwriting them.
void check_node(const Graph &g, size_t ni, std::vector<int> skip = {});

/// A one-node model through the importer (canonical attributes), not normalised.
Graph one_node(ModelBuilder &b);

/// A gated MLP z = W3 (relu(W1 s + b1) * (W2 s + b2)), softmax output, 4 -> 3 -> 2, normalised,
/// without HGQ quantizers: s = x, or with `scaled_input` s = x * c (c a constant that is not a
/// power of two). The gate is linear (the zoo model's is clip(W2 x, 0, 1)), so only ops with
/// a backward take part.
Graph gated_mlp(bool scaled_input);

/// The cost model of an engine's graph, as the engine builds it.
CostModel cost_of(const TrainEngine &eng);

} // namespace hgqc::test
