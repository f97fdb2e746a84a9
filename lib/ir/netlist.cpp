// The netlist's builders (exact bounds, constant folding) and its integer interpreter.
#include "ir/netlist.h"

#include "ir/error.h"

#include <algorithm>
#include <optional>

namespace hgqc {

namespace {
using u128 = UInt128;

// Most bits of an integer in the netlist, operand shifts included (values are Int128 with
// headroom for the sums); a model whose formats need more is refused at emit time.
constexpr int kMaxNetBits = 124;

// v * 2^s for the bounded values of the netlist. Operands on grids far apart (formats of the
// model) can need more than kMaxNetBits: a UserError, which the lowering locates at the node.
Int128 shl(Int128 v, int s) {
  HGQC_ASSERT(s >= 0, "negative shift in the netlist");
  if (v == 0 || s == 0)
    return v;
  int bits = magnitude_bits(v) + s;
  if (bits > kMaxNetBits)
    throw UserError("aligning a " + std::to_string(bits - s) + "-bit value to a grid 2^" +
                    std::to_string(s) + " times finer needs " + std::to_string(bits) +
                    " bits; the netlist holds at most " + std::to_string(kMaxNetBits) +
                    " (the formats meeting here are too far apart)");
  return v * (Int128{1} << s);
}

// floor((q + c) / 2^s) with the rounding constant of `rnd` (s > 0); monotone in q. This is the
// hardware's formula (an adder and a bit select; RND_CONV adds bit s of q), written apart from
// the reference quantize_int so that the netlist check compares the two.
Int128 round_shift(Int128 q, int s, RoundMode rnd) {
  Int128 c = 0;
  if (rnd == RoundMode::RND)
    c = Int128{1} << (s - 1);
  else if (rnd == RoundMode::RND_CONV)
    c = (Int128{1} << (s - 1)) - 1 + ((q >> s) & 1);
  return (q + c) >> s; // arithmetic: floor (C++20)
}

// Two signals aligned on the finer grid F for a two-operand node `op`: the node with its operands
// and shifts set, and each operand's range on that grid.
struct Aligned {
  NetNode n;
  int F;
  Int128 la, ha, lb, hb;
};
Aligned align_pair(const Netlist &net, NetOp op, NetRef a, NetRef b) {
  Aligned p;
  p.F = std::max(a.f, b.f);
  const NetNode &na = net.node(a), &nb = net.node(b);
  p.n.op = op;
  p.n.a = a.node;
  p.n.b = b.node;
  p.n.sa = p.F - a.f;
  p.n.sb = p.F - b.f;
  p.la = shl(na.lo, p.n.sa);
  p.ha = shl(na.hi, p.n.sa);
  p.lb = shl(nb.lo, p.n.sb);
  p.hb = shl(nb.hi, p.n.sb);
  return p;
}

} // namespace

const char *net_op_name(NetOp op) {
  switch (op) {
  case NetOp::Input:
    return "input";
  case NetOp::Const:
    return "const";
  case NetOp::Add:
    return "add";
  case NetOp::Sub:
    return "sub";
  case NetOp::Neg:
    return "neg";
  case NetOp::Relu:
    return "relu";
  case NetOp::Max:
    return "max";
  case NetOp::Round:
    return "round";
  case NetOp::Wrap:
    return "wrap";
  case NetOp::Clamp:
    return "clamp";
  case NetOp::Mul:
    return "mul";
  case NetOp::Table:
    return "table";
  case NetOp::Min:
    return "min";
  case NetOp::Concat:
    return "concat";
  }
  return "?";
}

Int128 wrap_bits(Int128 v, int bits, bool is_signed) {
  u128 u = static_cast<u128>(v) & ((u128{1} << bits) - 1);
  Int128 r = static_cast<Int128>(u);
  if (is_signed && u >= (u128{1} << (bits - 1)))
    r -= Int128{1} << bits;
  return r;
}

int NetNode::width() const { return int_width(lo, hi); }

Interval Netlist::interval(NetRef r) const {
  if (r.zero())
    return Interval{};
  const NetNode &n = node(r);
  return Interval{n.lo, n.hi, r.f};
}

NetRef Netlist::push(NetNode n, int f) {
  HGQC_ASSERT(n.lo <= n.hi, "netlist node with empty bounds");
  if (n.lo == 0 && n.hi == 0)
    return {};
  n.f = f;
  n.layer = layer;
  nodes.push_back(n);
  return NetRef{static_cast<NetId>(nodes.size() - 1), f};
}

// Nodes whose operands are all constants become constants.
NetRef Netlist::fold_or_push(NetNode n, int f) {
  bool ca = n.a == kNoNet || nodes[static_cast<size_t>(n.a)].op == NetOp::Const;
  bool cb = n.b == kNoNet || nodes[static_cast<size_t>(n.b)].op == NetOp::Const;
  if (ca && cb && n.op != NetOp::Input) {
    // Operands renumbered 0 and 1 in a two-element value list.
    Int128 vals[2] = {n.a == kNoNet ? 0 : nodes[static_cast<size_t>(n.a)].lo,
                      n.b == kNoNet ? 0 : nodes[static_cast<size_t>(n.b)].lo};
    NetNode m = n;
    m.a = n.a == kNoNet ? kNoNet : 0;
    m.b = n.b == kNoNet ? kNoNet : 1;
    return constant(eval_net_node(m, vals, {}, tables), f);
  }
  return push(n, f);
}

NetRef Netlist::input(int64_t index, const Interval &r) {
  NetNode n;
  n.op = NetOp::Input;
  n.index = index;
  n.lo = r.lo;
  n.hi = r.hi;
  return push(n, r.f);
}

NetRef Netlist::constant(Int128 q, int f) {
  NetNode n;
  n.op = NetOp::Const;
  n.lo = n.hi = q;
  return push(n, f);
}

NetRef Netlist::add(NetRef a, NetRef b, bool sub) {
  if (b.zero())
    return a;
  if (a.zero())
    return sub ? neg(b) : b;
  Aligned p = align_pair(*this, sub ? NetOp::Sub : NetOp::Add, a, b);
  p.n.lo = sub ? p.la - p.hb : p.la + p.lb;
  p.n.hi = sub ? p.ha - p.lb : p.ha + p.hb;
  return fold_or_push(p.n, p.F);
}

NetRef Netlist::neg(NetRef a) {
  if (a.zero())
    return a;
  const NetNode &na = node(a);
  NetNode n;
  n.op = NetOp::Neg;
  n.a = a.node;
  n.lo = -na.hi;
  n.hi = -na.lo;
  return fold_or_push(n, a.f);
}

NetRef Netlist::relu(NetRef a) {
  if (a.zero())
    return a;
  const NetNode &na = node(a);
  if (na.lo >= 0)
    return a;
  if (na.hi <= 0)
    return {};
  NetNode n;
  n.op = NetOp::Relu;
  n.a = a.node;
  n.lo = 0;
  n.hi = na.hi;
  return fold_or_push(n, a.f);
}

NetRef Netlist::max(NetRef a, NetRef b) {
  if (a.zero())
    return relu(b);
  if (b.zero())
    return relu(a);
  Aligned p = align_pair(*this, NetOp::Max, a, b);
  if (p.la >= p.hb)
    return a;
  if (p.lb >= p.ha)
    return b;
  p.n.lo = std::max(p.la, p.lb);
  p.n.hi = std::max(p.ha, p.hb);
  return fold_or_push(p.n, p.F);
}

NetRef Netlist::min(NetRef a, NetRef b) {
  if (a.zero())
    std::swap(a, b);
  if (a.zero())
    return {};
  if (b.zero()) { // min(a, 0): a clamped from above, no comparator with a signal
    const NetNode &na = node(a);
    return na.hi <= 0 ? a : clamp(a, std::min<Int128>(na.lo, 0), 0, a.f);
  }
  Aligned p = align_pair(*this, NetOp::Min, a, b);
  if (p.ha <= p.lb)
    return a;
  if (p.hb <= p.la)
    return b;
  p.n.lo = std::min(p.la, p.lb);
  p.n.hi = std::min(p.ha, p.hb);
  return fold_or_push(p.n, p.F);
}

NetRef Netlist::clamp(NetRef a, Int128 lo, Int128 hi, int f) {
  HGQC_ASSERT(lo <= hi, "clamp with lo > hi");
  int F = a.zero() ? f : std::max(a.f, f);
  Int128 L = shl(lo, F - f), H = shl(hi, F - f);
  if (a.zero())
    return constant(std::min(std::max<Int128>(0, L), H), F);
  const NetNode &na = node(a);
  NetNode n;
  n.op = NetOp::Clamp;
  n.a = a.node;
  n.sa = F - a.f;
  Int128 la = shl(na.lo, n.sa), ha = shl(na.hi, n.sa);
  if (la >= L && ha <= H)
    return a;
  if (ha <= L)
    return constant(L, F);
  if (la >= H)
    return constant(H, F);
  n.clo = L;
  n.chi = H;
  n.lo = std::max(la, L);
  n.hi = std::min(ha, H);
  return fold_or_push(n, F);
}

NetRef Netlist::mul(NetRef a, NetRef b) {
  if (a.zero() || b.zero())
    return {};
  const NetNode &na = node(a), &nb = node(b);
  NetNode n;
  n.op = NetOp::Mul;
  n.a = a.node;
  n.b = b.node;
  // Operands of the netlist hold up to kMaxNetBits: bound the width before the corners.
  int w = na.width() + nb.width();
  if (w <= 2 * kMaxProductBits) {
    Int128 c[] = {na.lo * nb.lo, na.lo * nb.hi, na.hi * nb.lo, na.hi * nb.hi};
    n.lo = *std::min_element(c, c + 4);
    n.hi = *std::max_element(c, c + 4);
    w = int_width(n.lo, n.hi);
  }
  if (w > kMaxProductBits)
    throw UserError("the product of a " + std::to_string(na.width()) + "-bit and a " +
                    std::to_string(nb.width()) + "-bit signal needs " + std::to_string(w) +
                    " bits; a multiplier takes at most " + std::to_string(kMaxProductBits));
  return fold_or_push(n, a.f + b.f);
}

std::optional<NetRef> Netlist::truncate_with_offset(NetRef a, int s) {
  NetRef u = a;
  const bool relu = node(a).op == NetOp::Relu && node(a).sa == 0;
  if (relu)
    u = NetRef{node(a).a, a.f};
  const NetNode nu = node(u);
  if ((nu.op != NetOp::Add && nu.op != NetOp::Sub) || s > 120)
    return std::nullopt;
  const bool ca = nodes[static_cast<size_t>(nu.a)].op == NetOp::Const;
  const bool cb = nodes[static_cast<size_t>(nu.b)].op == NetOp::Const;
  if (ca == cb)
    return std::nullopt;
  // u = t +- x on u's grid, t the constant term; the half step joins t.
  const NetNode &c = nodes[static_cast<size_t>(ca ? nu.a : nu.b)];
  Int128 t = c.lo * (Int128{1} << (ca ? nu.sa : nu.sb));
  if (nu.op == NetOp::Sub && cb)
    t = -t;
  t += Int128{1} << (s - 1);
  if (t == 0)
    return std::nullopt;
  const NetRef x{ca ? nu.b : nu.a, u.f - (ca ? nu.sb : nu.sa)};
  const NetRef v = add(constant(t, u.f), x, nu.op == NetOp::Sub && ca);
  if (v.f - u.f + s <= 0 || node(v).op == NetOp::Const)
    return std::nullopt; // on the target grid already (never for a bias finer than it)
  NetNode n;
  n.op = NetOp::Round;
  n.a = v.node;
  n.shift = s + (v.f - u.f);
  n.rnd = RoundMode::TRN;
  n.lo = round_shift(node(v).lo, n.shift, RoundMode::TRN);
  n.hi = round_shift(node(v).hi, n.shift, RoundMode::TRN);
  const NetRef r = fold_or_push(n, u.f - s);
  return relu ? this->relu(r) : r;
}

NetRef Netlist::requantize(NetRef a, FixedFormat fmt, RoundMode rnd, OverflowMode ovf) {
  if (fmt.pruned() || a.zero())
    return {};
  if (node(a).op == NetOp::Const)
    return constant(quantize_int128(node(a).lo, a.f, fmt, rnd, ovf).q, fmt.f);
  // 1. Onto the grid fmt.f: a rounding shift, or a free left shift (sa below).
  int s = a.f - fmt.f;
  NetRef r = a;
  int sa = 0;
  std::optional<NetRef> folded;
  if (s > 0 && rnd == RoundMode::RND)
    folded = truncate_with_offset(a, s);
  if (folded) {
    r = *folded;
    if (r.zero())
      return r;
  } else if (s > 0) {
    const NetNode &na = node(a);
    NetNode n;
    n.op = NetOp::Round;
    n.a = a.node;
    n.shift = s;
    n.rnd = rnd;
    n.lo = round_shift(na.lo, s, rnd);
    n.hi = round_shift(na.hi, s, rnd);
    r = fold_or_push(n, fmt.f);
    if (r.zero())
      return r;
  } else {
    sa = -s;
  }
  // 2. Overflow: nothing when the rounded range fits the format.
  const NetNode &nr = node(r);
  Int128 L = shl(nr.lo, sa), H = shl(nr.hi, sa), qlo, qhi;
  overflow_range(fmt, ovf, qlo, qhi);
  if (L >= qlo && H <= qhi)
    return r;
  if (ovf == OverflowMode::WRAP) {
    NetNode n;
    n.op = NetOp::Wrap;
    n.a = r.node;
    n.sa = sa;
    n.bits = fmt.width();
    n.wrap_signed = fmt.k != 0;
    n.lo = fmt.qmin();
    n.hi = fmt.qmax();
    return fold_or_push(n, fmt.f);
  }
  NetNode n;
  n.op = NetOp::Clamp;
  n.a = r.node;
  n.sa = sa;
  n.clo = qlo;
  n.chi = qhi;
  n.lo = std::max(std::min(L, qhi), qlo);
  n.hi = std::min(std::max(H, qlo), qhi);
  return fold_or_push(n, fmt.f);
}

NetRef Netlist::tighten(NetRef r, const Interval &iv) {
  if (r.zero() || iv.zero())
    return {};
  HGQC_ASSERT(r.f <= iv.f, "tighten: the signal is on a finer grid than its range");
  NetNode &n = nodes[static_cast<size_t>(r.node)];
  int d = iv.f - r.f;                            // node integer = value on iv's grid / 2^d
  Int128 lo = -((-iv.lo) >> d), hi = iv.hi >> d; // ceil and floor
  n.lo = std::max(n.lo, lo);
  n.hi = std::min(n.hi, hi);
  HGQC_ASSERT(n.lo <= n.hi, "tighten: disjoint bounds");
  if (n.lo == 0 && n.hi == 0)
    return {};
  return r;
}

NetRef Netlist::table(NetRef a, int in_f, NetTable t, int out_f) {
  HGQC_ASSERT(!t.entries.empty(), "empty table");
  auto [mn, mx] = std::minmax_element(t.entries.begin(), t.entries.end());
  if (*mn == *mx)
    return *mn == 0 ? NetRef{} : constant(*mn, out_f);
  HGQC_ASSERT(a.zero() || a.f <= in_f, "table operand on a finer grid than the table");
  NetNode n;
  n.op = NetOp::Table;
  n.a = a.node;
  n.sa = a.zero() ? 0 : in_f - a.f;
  n.lo = *mn;
  n.hi = *mx;
  auto it = std::find(tables.begin(), tables.end(), t);
  n.index = it - tables.begin();
  if (it == tables.end())
    tables.push_back(std::move(t));
  return fold_or_push(n, out_f); // a constant operand (or zero) reads its entry now
}

Int128 eval_net_node(const NetNode &n, std::span<const Int128> vals,
                     std::span<const int64_t> input_bus, std::span<const NetTable> tables) {
  auto va = [&] { return shl(vals[static_cast<size_t>(n.a)], n.sa); };
  auto vb = [&] { return shl(vals[static_cast<size_t>(n.b)], n.sb); };
  switch (n.op) {
  case NetOp::Input:
    return input_bus[static_cast<size_t>(n.index)];
  case NetOp::Const:
    return n.lo;
  case NetOp::Add:
    return va() + vb();
  case NetOp::Sub:
    return va() - vb();
  case NetOp::Neg:
    return -va();
  case NetOp::Relu:
    return std::max<Int128>(va(), 0);
  case NetOp::Max:
    return std::max(va(), vb());
  case NetOp::Min:
    return std::min(va(), vb());
  case NetOp::Round:
    return round_shift(va(), n.shift, n.rnd);
  case NetOp::Wrap:
    return wrap_bits(va(), n.bits, n.wrap_signed);
  case NetOp::Clamp:
    return std::min(std::max(va(), n.clo), n.chi);
  case NetOp::Mul:
    return va() * vb();
  case NetOp::Table: {
    HGQC_ASSERT(n.index >= 0 && static_cast<size_t>(n.index) < tables.size(), "table number");
    const NetTable &t = tables[static_cast<size_t>(n.index)];
    Int128 j = (n.a == kNoNet ? 0 : va()) - t.lo;
    HGQC_ASSERT(j >= 0 && j < static_cast<Int128>(t.entries.size()),
                "table input outside the table");
    return t.entries[static_cast<size_t>(j)];
  }
  case NetOp::Concat:
    return wrap_bits(vals[static_cast<size_t>(n.a)], n.sb, false) +
           (wrap_bits(vals[static_cast<size_t>(n.b)], n.bits, false) << n.sb);
  }
  HGQC_ASSERT(false, "unknown netlist op");
  return 0;
}

std::vector<Int128> evaluate_netlist(const Netlist &net, std::span<const int64_t> input_bus) {
  std::vector<Int128> vals(net.nodes.size());
  for (size_t k = 0; k < net.nodes.size(); ++k) {
    const NetNode &n = net.nodes[k];
    Int128 v = eval_net_node(n, vals, input_bus, net.tables);
    HGQC_ASSERT(v >= n.lo && v <= n.hi, std::string("netlist node ") + std::to_string(k) + " (" +
                                            net_op_name(n.op) + ") value " + int128_str(v) +
                                            " outside [" + int128_str(n.lo) + ", " +
                                            int128_str(n.hi) + "]");
    vals[k] = v;
  }
  return vals;
}

Int128 net_value_at(NetRef r, std::span<const Int128> vals, int f) {
  if (r.zero())
    return 0;
  HGQC_ASSERT(r.f <= f, "netlist value on a finer grid than requested");
  return shl(vals[static_cast<size_t>(r.node)], f - r.f);
}

int64_t input_bus_size(const Netlist &net) {
  int64_t n = 0;
  for (const NetPort &p : net.inputs)
    for (NetRef r : p.el)
      n += !r.zero();
  return n;
}

} // namespace hgqc
