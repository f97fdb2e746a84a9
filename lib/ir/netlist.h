// The bit-level dataflow netlist a quantized graph lowers to: an SSA list of exact integer
// operations (shift-add, negate, ReLU, max, rounding shift, wrap, clamp, product, ROM lookup,
// concatenation) with exact bounds.
#pragma once

#include "ir/fixed.h"

#include <optional>
#include <span>
#include <string>
#include <vector>

namespace hgqc {

/// Most bits of the product of two run-time signals (NetOp::Mul), sign included: wider
/// products are refused (the emulator holds exact values in 64 bits).
inline constexpr int kMaxProductBits = 62;

/// Index of a node of a Netlist.
using NetId = int32_t;
/// No node: a NetRef to it is the constant zero.
inline constexpr NetId kNoNet = -1;

/// A real value carried by the netlist: the integer of node `node` times 2^-f. Reading
/// the same node at another exponent is free in hardware (it only moves the binary
/// point), so refs, not nodes, carry exponents. `node == kNoNet` is the constant zero.
struct NetRef {
  NetId node = kNoNet;
  int f = 0;
  /// True for the constant zero.
  bool zero() const { return node == kNoNet; }
  bool operator==(const NetRef &) const = default;
};

/// The operation of a netlist node. Operands a, b are read shifted left by sa, sb bits.
enum class NetOp : uint8_t {
  Input,  ///< element `index` of the input bus
  Const,  ///< the integer lo (== hi)
  Add,    ///< (a << sa) + (b << sb)
  Sub,    ///< (a << sa) - (b << sb)
  Neg,    ///< -(a << sa)
  Relu,   ///< max(a, 0)
  Max,    ///< max(a << sa, b << sb)
  Round,  ///< floor((a + c) / 2^shift): c = 0 (TRN), 2^(shift-1) (RND), or
          ///< 2^(shift-1) - 1 + bit `shift` of a (RND_CONV: half to even)
  Wrap,   ///< the low `bits` bits of a << sa, two's complement when `wrap_signed`
  Clamp,  ///< min(max(a << sa, clo), chi)
  Mul,    ///< (a << sa) * (b << sb): a multiplier of two run-time signals
  Table,  ///< tables[index].entries[(a << sa) - tables[index].lo]: a ROM lookup
  Min,    ///< min(a << sa, b << sb)
  Concat, ///< (a mod 2^sb) + ((b mod 2^bits) << sb): the raw bits of b above those of a (a
          ///< ROM address; free wiring)
};

/// Name of a NetOp ("add", "round", ...).
const char *net_op_name(NetOp op);

/// One node: an exact integer in [lo, hi].
struct NetNode {
  NetOp op = NetOp::Const;
  NetId a = kNoNet, b = kNoNet;   ///< operands
  int sa = 0, sb = 0;             ///< left shifts of the operands (>= 0)
  Int128 lo = 0, hi = 0;          ///< exact bounds of the node's integer
  int f = 0;                      ///< exponent the node was built at (for names and reports)
  int shift = 0;                  ///< Round: bits shifted out
  RoundMode rnd = RoundMode::TRN; ///< Round: rounding mode
  int bits = 0;                   ///< Wrap: kept bits; Concat: bits of b
  bool wrap_signed = false;       ///< Wrap: the kept bits are two's complement
  Int128 clo = 0, chi = 0;        ///< Clamp: bounds
  int64_t index = 0;              ///< Input: element of the input bus; Table: table number
  int32_t layer = -1;             ///< IR node (index into Netlist::layers) that built it
  /// Bits of the node's integer: two's complement when lo < 0, else unsigned (0 for the
  /// constant zero).
  int width() const;
  /// True when the node's integer can be negative.
  bool is_signed() const { return lo < 0; }
};

/// A ROM's contents: entry j is the output integer for the input integer lo + j. Stored once
/// per distinct content in Netlist::tables and read by every Table node that uses it.
struct NetTable {
  Int128 lo = 0;               ///< input integer of entry 0
  std::vector<Int128> entries; ///< output integers (at least one)
  bool operator==(const NetTable &) const = default;
};

/// One port (a graph input or output) as a list of elements, row-major over `dims` (one
/// sample). Every element has its exact interval; input elements that are the constant
/// zero (pruned) take no bits of the bus.
struct NetPort {
  std::string name;            ///< the graph value's name
  Dims dims;                   ///< per-sample dims (batch 1)
  std::vector<NetRef> el;      ///< per element
  std::vector<Interval> range; ///< per element: exact interval of its value (the IR range)
};

/// A netlist: nodes in evaluation order (operands before users), input and output ports.
struct Netlist {
  std::vector<NetNode> nodes;
  std::vector<NetPort> inputs;
  std::vector<NetPort> outputs;
  std::vector<NetTable> tables;    ///< ROM contents of the Table nodes, distinct
  std::vector<std::string> layers; ///< names of the IR nodes, by layer index
  int32_t layer = -1;              ///< layer recorded in nodes built now

  /// The node of a non-zero ref.
  const NetNode &node(NetRef r) const { return nodes[static_cast<size_t>(r.node)]; }
  /// Exact interval of a ref's value (the zero interval for the constant zero).
  Interval interval(NetRef r) const;

  /// A new input-bus element with the exact interval `r` (zero: no node).
  NetRef input(int64_t index, const Interval &r);
  /// The constant q * 2^-f.
  NetRef constant(Int128 q, int f);
  /// a + b (a - b when `sub`), on the finer of the two grids.
  NetRef add(NetRef a, NetRef b, bool sub = false);
  /// -a.
  NetRef neg(NetRef a);
  /// max(a, 0).
  NetRef relu(NetRef a);
  /// max(a, b), on the finer grid.
  NetRef max(NetRef a, NetRef b);
  /// min(a, b), on the finer grid (min(a, 0) is a Clamp of a from above).
  NetRef min(NetRef a, NetRef b);
  /// min(max(a, lo * 2^-f), hi * 2^-f) on the grid f (lo <= hi).
  NetRef clamp(NetRef a, Int128 lo, Int128 hi, int f);
  /// a * b, exact, on the grid a.f + b.f: a multiplier where both are run-time signals, a
  /// constant when both are constants. The product's integer must fit kMaxProductBits
  /// (UserError otherwise, naming the width). A constant factor is the caller's business
  /// (shift-and-add logic, ops::lower_const_mul); here it gives a Mul node as well.
  NetRef mul(NetRef a, NetRef b);
  /// `r` known (by the exact range analysis) to lie in `iv`: narrows its node's bounds to
  /// that interval on the ref's grid, or gives the constant zero when iv is zero. Sound for
  /// every use of the node, since the node's value is the same wherever it is read.
  NetRef tighten(NetRef r, const Interval &iv);
  /// a quantized to `fmt` exactly as quantize_int does (round, then wrap or saturate);
  /// the result is on the grid fmt.f (or the constant zero).
  NetRef requantize(NetRef a, FixedFormat fmt, RoundMode rnd, OverflowMode ovf);
  /// The lookup t.entries[q - t.lo] where q is the integer of a's value on the grid `in_f`
  /// (a.f <= in_f; every value of a lies in the table's input range), giving a value on the
  /// grid `out_f`. The table is stored once per distinct content; a constant operand or a
  /// table of one value folds to a constant.
  NetRef table(NetRef a, int in_f, NetTable t, int out_f);

private:
  /// Round-half-up of `a` by s bits as a truncation, where `a` is u or ReLU(u) and u adds a
  /// constant to a run-time value: the half step 2^(s-1) joins the constant (a new adder for
  /// u), so the rounding adder and its level go. Exact: floor((v + h) / 2^s) with v + h built
  /// at once, and floor and ReLU commute (both monotone, 0 at 0). nullopt where `a` is not of
  /// that form. The old adder stays for any other reader (dead-node removal drops it if none).
  std::optional<NetRef> truncate_with_offset(NetRef a, int s);
  NetRef push(NetNode n, int f);
  NetRef fold_or_push(NetNode n, int f);
};

/// The raw bits v mod 2^bits (two's complement when `is_signed` and the top bit is set).
Int128 wrap_bits(Int128 v, int bits, bool is_signed);

/// Evaluates node `n` given the integers of all earlier nodes (`vals`) and the input bus.
Int128 eval_net_node(const NetNode &n, std::span<const Int128> vals,
                     std::span<const int64_t> input_bus, std::span<const NetTable> tables = {});

/// Integer values of every node for one input-bus vector (one integer per bus element).
/// Asserts that every value lies in its node's bounds.
std::vector<Int128> evaluate_netlist(const Netlist &net, std::span<const int64_t> input_bus);

/// The integer of `r`'s value on the grid f (r.f <= f, or r zero): the node's integer
/// shifted left by f - r.f.
Int128 net_value_at(NetRef r, std::span<const Int128> vals, int f);

/// Number of input-bus elements (input port elements that are not the constant zero).
int64_t input_bus_size(const Netlist &net);

} // namespace hgqc
