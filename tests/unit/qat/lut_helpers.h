// Helpers shared by the LUT cost's tests (test_lut_cost.cpp, test_lut_engine.cpp): the gated
// MLP with HGQ quantizers, its two-row batch, an engine stepped on it, and the cost model's
// inputs (quantized weights, zeroed gradients).
#pragma once

#include "ir/graph.h"
#include "ir/train.h"
#include "qat/engine.h"
#include "qat/hgq.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace hgqc::test {

/// The quantized weights round(w 2^f) 2^-f of each weight quantizer (empty for activations),
/// from the graph's constants (the engine's weights before any optimiser step).
std::vector<TrainTensor> quantized_weights(const Graph &g, const std::vector<HgqQuantizer> &qs);

/// Pointers to the non-empty tensors of w (null for the empty ones), as add_luts takes them.
std::vector<const TrainTensor *> pointers(const std::vector<TrainTensor> &w);

/// One zeroed gradient per element of each quantizer.
std::vector<std::vector<float>> zero_grads(const std::vector<HgqQuantizer> &qs);

/// The gated MLP with its input scaled by a constant (gated_mlp(true)), with HGQ quantizers.
Graph hgq_gated_mlp();

/// Two rows of d features and the labels 0, 1: the engine tests' batch, its data in x and lab.
BatchData two_rows(std::vector<float> &x, std::vector<int32_t> &lab, int64_t d = 4);

/// A classifier engine on g (activations from 3 fractional bits, ranges kept) after two steps
/// on two_rows of d features.
std::unique_ptr<TrainEngine> stepped_classify(const Graph &g, int64_t d);

} // namespace hgqc::test
