// Netlist pass: logic that depends on a few input-bus bits becomes one ROM where that is cheaper.
#include "backend/lut_model.h"
#include "backend/passes.h"

#include "ir/error.h"

#include <algorithm>
#include <iterator>

namespace hgqc::backend {

namespace {

// Estimated LUTs of node k (the calibrated model, unrounded).
double node_luts(const Netlist &net, size_t k) { return lut_sum(node_lut_bits(net, k)); }

// Estimated LUTs of a ROM of `width` output bits and `address` address bits.
double rom_luts(int width, int address) {
  LutBits b{};
  b[kRom] = rom_bits(width, address);
  return lut_sum(b);
}

// Input-bus nodes a node depends on, when their bits total at most the limit.
struct Support {
  bool small = true;
  int bits = 0;
  std::vector<NetId> inputs; // sorted
};

// One root and the nodes of its cone, inputs excluded, in evaluation order (the root last).
struct Cone {
  NetId root = kNoNet;
  std::vector<NetId> nodes;
};

// The support of every node (not small once its inputs pass max_bits bits).
std::vector<Support> supports(const Netlist &net, int max_bits) {
  std::vector<Support> s(net.nodes.size());
  for (size_t k = 0; k < net.nodes.size(); ++k) {
    const NetNode &n = net.nodes[k];
    Support &o = s[k];
    if (n.op == NetOp::Input) {
      o.inputs = {static_cast<NetId>(k)};
      o.bits = n.width();
      o.small = o.bits <= max_bits;
      continue;
    }
    for (NetId x : {n.a, n.b}) {
      if (x == kNoNet)
        continue;
      const Support &xs = s[static_cast<size_t>(x)];
      if (!xs.small) {
        o.small = false;
        break;
      }
      std::vector<NetId> u;
      std::set_union(o.inputs.begin(), o.inputs.end(), xs.inputs.begin(), xs.inputs.end(),
                     std::back_inserter(u));
      o.inputs = std::move(u);
    }
    if (!o.small) {
      o.inputs.clear();
      continue;
    }
    for (NetId i : o.inputs)
      o.bits += net.nodes[static_cast<size_t>(i)].width();
    o.small = o.bits <= max_bits;
    if (!o.small)
      o.inputs.clear();
  }
  return s;
}

// The nodes root depends on, inputs excluded, in evaluation order. `mark` (one entry per node,
// never root's id before) records the visit.
std::vector<NetId> cone_of(const Netlist &net, NetId root, std::vector<NetId> &mark) {
  std::vector<NetId> out, stack{root};
  mark[static_cast<size_t>(root)] = root;
  while (!stack.empty()) {
    NetId k = stack.back();
    stack.pop_back();
    const NetNode &n = net.nodes[static_cast<size_t>(k)];
    if (n.op == NetOp::Input)
      continue;
    out.push_back(k);
    for (NetId x : {n.a, n.b})
      if (x != kNoNet && mark[static_cast<size_t>(x)] != root) {
        mark[static_cast<size_t>(x)] = root;
        stack.push_back(x);
      }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The ROM of a cone: entry j is the root's integer when the support inputs hold the raw bits
// of j (the first input in the lowest bits). Bit patterns outside an input's bounds cannot
// occur; they repeat the entry of the first pattern that can.
NetTable cone_table(const Netlist &net, const Support &sup, const Cone &c) {
  std::vector<Int128> vals(static_cast<size_t>(c.root) + 1, 0);
  const size_t count = size_t{1} << sup.bits;
  NetTable t;
  t.entries.assign(count, 0);
  std::vector<uint8_t> possible(count, 0);
  for (size_t j = 0; j < count; ++j) {
    int at = 0;
    bool ok = true;
    for (NetId i : sup.inputs) {
      const NetNode &in = net.nodes[static_cast<size_t>(i)];
      const int w = in.width();
      Int128 v = wrap_bits(static_cast<Int128>(j >> at), w, in.is_signed());
      at += w;
      ok = ok && v >= in.lo && v <= in.hi;
      vals[static_cast<size_t>(i)] = v;
    }
    if (!ok)
      continue;
    for (NetId k : c.nodes)
      vals[static_cast<size_t>(k)] =
          eval_net_node(net.nodes[static_cast<size_t>(k)], vals, {}, net.tables);
    t.entries[j] = vals[static_cast<size_t>(c.root)];
    possible[j] = 1;
  }
  auto first = std::find(possible.begin(), possible.end(), 1);
  HGQC_ASSERT(first != possible.end(), "a ROM cone with no possible input");
  Int128 fill = t.entries[static_cast<size_t>(first - possible.begin())];
  for (size_t j = 0; j < count; ++j)
    if (!possible[j])
      t.entries[j] = fill;
  return t;
}

double total_luts(const Netlist &net) {
  double s = 0;
  for (size_t k = 0; k < net.nodes.size(); ++k)
    s += node_luts(net, k);
  return s;
}

} // namespace

Netlist collapse_rom_cones(const Netlist &net, int max_bits) {
  if (max_bits <= 0)
    return net;
  HGQC_ASSERT(max_bits <= 16, "ROM cones of more than 16 address bits");
  const size_t n = net.nodes.size();
  std::vector<Support> sup = supports(net, max_bits);
  // Users of each node; a node read by an output port or by a node of large support ends a
  // cone (a root).
  std::vector<std::vector<NetId>> users(n);
  std::vector<uint8_t> root(n, 0);
  for (size_t k = 0; k < n; ++k)
    for (NetId x : {net.nodes[k].a, net.nodes[k].b})
      if (x != kNoNet) {
        users[static_cast<size_t>(x)].push_back(static_cast<NetId>(k));
        if (!sup[k].small)
          root[static_cast<size_t>(x)] = 1;
      }
  for (const NetPort &p : net.outputs)
    for (NetRef r : p.el)
      if (!r.zero())
        root[static_cast<size_t>(r.node)] = 1;

  // Which roots to collapse: where the ROM is cheaper than the logic that dies with it (the
  // cone's nodes no other logic reads).
  std::vector<std::vector<NetId>> cones(n); // the cone of each root to collapse, else empty
  std::vector<uint8_t> dies(n, 0);
  std::vector<NetId> mark(n, kNoNet);
  for (size_t k = 0; k < n; ++k) {
    const NetNode &nd = net.nodes[k];
    if (!root[k] || !sup[k].small || sup[k].inputs.empty() || nd.op == NetOp::Input ||
        nd.op == NetOp::Const || nd.op == NetOp::Concat || nd.lo == nd.hi)
      continue;
    Cone c{static_cast<NetId>(k), cone_of(net, static_cast<NetId>(k), mark)};
    double logic = 0;
    for (auto it = c.nodes.rbegin(); it != c.nodes.rend(); ++it) {
      size_t j = static_cast<size_t>(*it);
      // dies is set only inside this cone (and cleared after it): a user outside keeps j.
      bool d = j == k || std::all_of(users[j].begin(), users[j].end(),
                                     [&](NetId u) { return dies[static_cast<size_t>(u)] != 0; });
      dies[j] = d;
      if (d)
        logic += node_luts(net, j);
    }
    for (NetId j : c.nodes)
      dies[static_cast<size_t>(j)] = 0;
    if (rom_luts(nd.width(), sup[k].bits) < logic)
      cones[k] = std::move(c.nodes);
  }

  Netlist out;
  out.layers = net.layers;
  out.tables = net.tables;
  out.inputs = net.inputs;
  out.outputs = net.outputs;
  std::vector<NetId> map(n, kNoNet);
  auto push = [&](NetNode nd) {
    out.nodes.push_back(nd);
    return static_cast<NetId>(out.nodes.size() - 1);
  };
  for (size_t k = 0; k < n; ++k) {
    const NetNode &nd = net.nodes[k];
    if (cones[k].empty()) {
      NetNode c = nd;
      if (c.a != kNoNet)
        c.a = map[static_cast<size_t>(c.a)];
      if (c.b != kNoNet)
        c.b = map[static_cast<size_t>(c.b)];
      map[k] = push(c);
      continue;
    }
    const Support &s = sup[k];
    NetTable t = cone_table(net, s, Cone{static_cast<NetId>(k), std::move(cones[k])});
    // The address: the support inputs' raw bits side by side, the first lowest.
    NetId addr = map[static_cast<size_t>(s.inputs[0])];
    int at = net.nodes[static_cast<size_t>(s.inputs[0])].width();
    for (size_t i = 1; i < s.inputs.size(); ++i) {
      const int w = net.nodes[static_cast<size_t>(s.inputs[i])].width();
      NetNode cat;
      cat.op = NetOp::Concat;
      cat.a = addr;
      cat.b = map[static_cast<size_t>(s.inputs[i])];
      cat.sb = at;
      cat.bits = w;
      cat.lo = 0;
      cat.hi = (Int128{1} << (at + w)) - 1;
      cat.layer = nd.layer;
      addr = push(cat);
      at += w;
    }
    if (s.inputs.size() == 1 && net.nodes[static_cast<size_t>(s.inputs[0])].is_signed()) {
      // One signed input: its integer, not its raw bits, addresses the ROM.
      const NetNode &in = net.nodes[static_cast<size_t>(s.inputs[0])];
      NetTable u;
      u.lo = in.lo;
      for (Int128 v = in.lo; v <= in.hi; ++v)
        u.entries.push_back(t.entries[static_cast<size_t>(wrap_bits(v, at, false))]);
      t = std::move(u);
    }
    auto [mn, mx] = std::minmax_element(t.entries.begin(), t.entries.end());
    if (*mn == *mx) { // constant on every possible input: left to the logic (already folded)
      NetNode cp = nd;
      cp.a = cp.a == kNoNet ? kNoNet : map[static_cast<size_t>(cp.a)];
      cp.b = cp.b == kNoNet ? kNoNet : map[static_cast<size_t>(cp.b)];
      map[k] = push(cp);
      continue;
    }
    NetNode rom;
    rom.op = NetOp::Table;
    rom.a = addr;
    rom.lo = *mn;
    rom.hi = *mx;
    rom.f = nd.f;
    rom.layer = nd.layer;
    auto it = std::find(out.tables.begin(), out.tables.end(), t);
    rom.index = it - out.tables.begin();
    if (it == out.tables.end())
      out.tables.push_back(std::move(t));
    map[k] = push(rom);
  }
  for (NetPort &p : out.outputs)
    for (NetRef &r : p.el)
      if (!r.zero())
        r.node = map[static_cast<size_t>(r.node)];
  for (NetPort &p : out.inputs)
    for (NetRef &r : p.el)
      if (!r.zero())
        r.node = map[static_cast<size_t>(r.node)];
  Netlist done = remove_dead_nodes(out);
  // The choice was made root by root; keep the result only where the whole is cheaper.
  return total_luts(done) < total_luts(net) ? done : net;
}

} // namespace hgqc::backend
