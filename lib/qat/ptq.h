// Post-training uniform quantization: the baseline that HGQ training must beat.
#pragma once

#include "ir/fixed.h"
#include "ir/graph.h"

#include <string>
#include <vector>

namespace hgqc {

/// Options of quantize_uniform().
struct PtqOptions {
  int weight_bits = 8;     ///< width of every weight and bias (sign included)
  int act_bits = 8;        ///< width of every activation and input (sign included if signed)
  double cover_factor = 1; ///< integer bits cover max|x| * cover_factor seen in calibration
  RoundMode round = RoundMode::RND;
  OverflowMode act_overflow = OverflowMode::SAT;
};

/// What quantize_uniform() did, for the summary.
struct PtqReport {
  int weight_quantizers = 0;
  int act_quantizers = 0;
  std::vector<std::string> lines; ///< one per quantizer: value, format, calibrated range
};

/// Inserts FixedQuant nodes into a normalised float graph `g`: on every graph input, on the
/// constant weights and biases of MatMul, Gemm and Conv and the constant terms of Add and
/// Sub, and on every non-constant input of MatMul, Gemm and Conv. Each quantizer is uniform over
/// its tensor: `bits` wide, signed when the tensor has negative values, integer bits i =
/// floor(log2(max|x|)) + 1 from the weights themselves or from the float model evaluated on `calib`
/// (one tensor per graph input). Throws UserError when a width cannot be built or calibration data
/// is unusable.
PtqReport quantize_uniform(Graph &g, const std::vector<Tensor> &calib, const PtqOptions &opt);

/// Where quantizers go (uniform quantization and HGQ training alike): the activations are the
/// float graph inputs, the run-time first inputs of MatMul, Gemm and Conv, both factors of a
/// Mul or MatMul of two run-time values, and the inputs and outputs of table functions
/// (OpDef::table: the input's width sets the table's size, and the fixed-point form takes its
/// output format from the quantizer), in graph order.
std::vector<ValueId> activation_quant_points(const Graph &g);
/// Makes the quantizer output `q` (of a FixedQuant reading `v`) replace `v` everywhere else:
/// in the other nodes' inputs and in the graph outputs, where `q` takes `v`'s name (the
/// model's interface keeps its output names).
void read_through_quantizer(Graph &g, ValueId v, ValueId q);
/// Whether input j of `n` is a weight or bias to quantize: a constant read as input 1 or 2 of
/// MatMul, Gemm or Conv, or a constant term of Add or Sub (a bias added after a MatMul) or of
/// Sum, Mean, Max or Min.
bool is_weight_quant_point(const Graph &g, const Node &n, size_t j);

} // namespace hgqc
