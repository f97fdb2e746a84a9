// The LUT-cost model of emitted logic: bit classes per netlist node, calibrated against Yosys.
#include "backend/lut_model.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace hgqc::backend {

namespace {

// Which bits of a W-bit operand (node id << s, sign- or zero-extended) are run-time signals.
struct OperandBits {
  bool constant = true;  // the operand is a constant (no run-time bits)
  int lo = 0, hi = 0;    // bits [lo, hi) are the node's own bits
  bool sign_ext = false; // bits >= hi repeat the sign bit (a run-time signal)
  bool live(int i) const {
    if (constant)
      return false;
    return (i >= lo && i < hi) || (sign_ext && i >= hi);
  }
};

// A run-time operand of `width` bits shifted left by s.
OperandBits live_operand(int width, bool is_signed, int s) {
  return OperandBits{false, s, s + width, is_signed};
}

OperandBits operand_bits(const Netlist &net, NetId id, int s) {
  if (id == kNoNet)
    return OperandBits{};
  const NetNode &n = net.nodes[static_cast<size_t>(id)];
  if (n.op == NetOp::Const)
    return OperandBits{};
  return live_operand(n.width(), n.is_signed(), s);
}

// The carry bits of a W-bit adder of x and y: both operands live, or one.
void carry_bits(const OperandBits &x, const OperandBits &y, int width, LutBits &b) {
  for (int i = 0; i < width; ++i) {
    bool a = x.live(i), c = y.live(i);
    if (a && c)
      ++b[kCarry2];
    else if (a || c)
      ++b[kCarry1];
  }
}

// The bits of a multiplier as verilog.cpp builds it: the m bits of the narrower factor gate
// copies of the w-bit other one (m * w partial-product bits), which a tree of ceil(log2(m))
// adder levels sums. Fitted on Yosys (docs/hardware.md, "Multipliers"): m * w * (the tree's
// levels + 1) partial-product bits, ABC merging the gating ANDs into the adders' LUTs. A one-bit
// unsigned gate with no adder is a mux per output bit.
void mul_bits(const Netlist &net, const NetNode &n, LutBits &b) {
  const NetNode &x = net.nodes[static_cast<size_t>(n.a)], &y = net.nodes[static_cast<size_t>(n.b)];
  const int m = std::min(x.width(), y.width()), w = std::max(x.width(), y.width());
  const NetNode &g = y.width() > x.width() ? x : y;
  if (m == 1 && !g.is_signed()) {
    b[kMux] += n.width();
    return;
  }
  b[kMulBits] += int64_t{m} * w * std::bit_width(static_cast<unsigned>(m));
}

} // namespace

const char *lut_class_name(int c) {
  static const char *names[kLutClasses] = {"carry_both_operands", "carry_one_operand", "mux",
                                           "multiplier_partial_products", "rom"};
  return names[c];
}

LutBits node_lut_bits(const Netlist &net, size_t k) {
  LutBits b{};
  const NetNode &n = net.nodes[k];
  const int W = n.width();
  switch (n.op) {
  case NetOp::Add:
  case NetOp::Sub:
    carry_bits(operand_bits(net, n.a, n.sa), operand_bits(net, n.b, n.sb), W, b);
    break;
  case NetOp::Neg:
    carry_bits(operand_bits(net, n.a, n.sa), OperandBits{}, W, b);
    break;
  case NetOp::Round:
    if (n.rnd != RoundMode::TRN)
      b[kCarry1] += W; // the kept bits take the rounding carry
    break;
  case NetOp::Relu:
    b[kMux] += W;
    break;
  case NetOp::Max:
  case NetOp::Min: { // a comparator and a multiplexer
    b[kMux] += W;
    const NetNode &a = net.nodes[static_cast<size_t>(n.a)];
    const NetNode &c = net.nodes[static_cast<size_t>(n.b)];
    b[kCarry2] += std::max(a.width() + n.sa, c.width() + n.sb); // the comparator
    break;
  }
  case NetOp::Clamp: {
    b[kMux] += W;
    const NetNode &a = net.nodes[static_cast<size_t>(n.a)];
    Int128 scale = Int128{1} << std::min(n.sa, 126);
    int sides = (a.lo * scale < n.clo ? 1 : 0) + (a.hi * scale > n.chi ? 1 : 0);
    b[kCarry1] += int64_t{sides} * (a.width() + n.sa); // comparators with constants
    break;
  }
  case NetOp::Mul:
    mul_bits(net, n, b);
    break;
  case NetOp::Table: {
    const NetTable &t = net.tables[static_cast<size_t>(n.index)];
    b[kRom] += rom_bits(W, ceil_log2(static_cast<UInt128>(t.entries.size())));
    break;
  }
  default:
    break;
  }
  return b;
}

LutBits adder_graph_lut_bits(const AdderGraph &g) {
  LutBits b{};
  auto value = [&](int id, int s) {
    if (id < g.num_inputs) {
      const InputFormat &f = g.inputs[static_cast<size_t>(id)];
      return live_operand(f.width, f.is_signed, s);
    }
    const AdderOp &a = g.adders[static_cast<size_t>(id - g.num_inputs)];
    return live_operand(a.width, a.is_signed, s);
  };
  for (const AdderOp &a : g.adders)
    carry_bits(value(a.a, 0), value(a.b, a.shift), a.width, b);
  return b;
}

int64_t rom_bits(int width, int address) { return int64_t{width} << (std::max(address, 6) - 6); }

double lut_sum(const LutBits &bits) {
  // Least-squares fit (relative error, non-negative) to Yosys synth_xilinx LUT counts of seven
  // designs, 9k to 67k LUTs (bench/lut_model/run.sh; docs/hardware.md, "The LUT model"):
  // largest error 7.5 %. Below 1: ReLU ANDs merge into the LUTs of the adders that read them,
  // and one-operand carry bits mostly pass through the carry cells. The multiplier class is
  // fitted alone, the others kept, on designs of multipliers only (bench/lut_model/run_mul.sh;
  // docs/hardware.md, "Multipliers").
  // ROM bits: 0.77, the fit of eight table designs (bench/lut_model/rom.sh; docs/hardware.md):
  // largest error 18 %; Yosys's logic minimisation needs fewer LUTs than a LUT6 tree per bit.
  double s = 0;
  for (int c = 0; c < kLutClasses; ++c)
    s += kLutCoef[c] * static_cast<double>(bits[static_cast<size_t>(c)]);
  return s;
}

int64_t lut_estimate(const LutBits &bits) {
  return static_cast<int64_t>(std::llround(lut_sum(bits)));
}

} // namespace hgqc::backend
