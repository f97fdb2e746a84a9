// The LUT-cost model of emitted logic: bit classes per netlist node, calibrated against Yosys.
#pragma once

#include "backend/cmvm.h"
#include "ir/netlist.h"

#include <array>
#include <string>

namespace hgqc::backend {

/// Bit classes of a node's logic that the LUT model weighs (docs/hardware.md, "LUT model").
enum LutClass : int {
  kCarry2 = 0, ///< carry-chain bits (adder, subtracter, comparator) where both operands are
               ///< run-time signals
  kCarry1,     ///< carry-chain bits with one run-time operand (the other a constant or
               ///< shifted-in zeros): negation, rounding, comparison with a constant
  kMux,        ///< ReLU / max / clamp output bits (a mux or AND per bit)
  kMulBits,    ///< multipliers of two signals: m * w * ceil(log2(m + 1)) for factors of m <= w
               ///< bits (partial products times the adder-tree levels + 1)
  kRom,        ///< table (ROM) output bits times 2^(a - 6) for a >= 6 address bits: the LUT6
               ///< (and multiplexers) of each output bit
  kLutClasses
};

/// LUTs per bit of each class: a least-squares fit (relative error, non-negative) to Yosys
/// synth_xilinx LUT counts (docs/hardware.md, "The LUT model"). Training's LUT cost
/// (qat/cost.h) prices its terms with these.
inline constexpr double kLutCoef[kLutClasses] = {1.05, 0.21, 0.03, 0.52, 0.77};

/// Bits of each class in one node.
using LutBits = std::array<int64_t, kLutClasses>;

/// The class names, for report.json.
const char *lut_class_name(int c);

/// Bits of each class in node `k` of `net`.
LutBits node_lut_bits(const Netlist &net, size_t k);

/// Bits of each class in the adders of `g`, as they are once lowered into a netlist (each
/// adder's operands at their own widths, the second one shifted).
LutBits adder_graph_lut_bits(const AdderGraph &g);

/// The `rom` bits of a ROM of `width` output bits and `address` address bits: width * 2^(a - 6)
/// for a = max(address, 6) (a LUT6 per output bit, and the multiplexers of wider addresses).
int64_t rom_bits(int width, int address);

/// The calibrated LUT estimate of a set of bits, unrounded.
double lut_sum(const LutBits &bits);

/// The calibrated LUT estimate of a set of bits (rounded to an integer).
int64_t lut_estimate(const LutBits &bits);

} // namespace hgqc::backend
