// Lowering of a quantized graph to a netlist: each op's lower hook, driven in graph order.
#include "ir/lower.h"

#include "ir/ops/common.h"

namespace hgqc {

namespace {
std::string lowered_ops_list() {
  std::string s;
  for (const OpDef *d : all_ops())
    if (d->lower)
      s += (s.empty() ? "" : ", ") + std::string(d->name);
  return s;
}

// The Const signals of a constant's elements.
std::vector<NetRef> constant_refs(Netlist &net, const ValueRange &r) {
  std::vector<NetRef> out(r.el.size());
  for (size_t e = 0; e < r.el.size(); ++e)
    out[e] = net.constant(r.el[e].lo, r.el[e].f);
  return out;
}
} // namespace

Netlist lower_graph(const Graph &g, const RangeAnalysis &ra, const CmvmBuildFn &cmvm) {
  Netlist net;
  std::vector<std::optional<std::vector<NetRef>>> sig(g.values.size());

  // Input ports: the output of the one FixedQuant reading each graph input.
  std::vector<int> input_of_node(g.nodes.size(), -1);
  // The nodes reading each value, in node order (one sweep, not one per graph input).
  std::vector<std::vector<size_t>> readers_of(g.values.size());
  for (size_t ni = 0; ni < g.nodes.size(); ++ni)
    for (ValueId in : g.nodes[ni].inputs)
      if (in != kNoValue && (readers_of[in].empty() || readers_of[in].back() != ni))
        readers_of[in].push_back(ni);
  int64_t bus = 0;
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    ValueId v = g.inputs[i];
    const Value &val = g.values[v];
    const std::vector<size_t> &readers = readers_of[v];
    if (readers.size() != 1 || g.nodes[readers[0]].op != OpKind::FixedQuant ||
        g.nodes[readers[0]].inputs[0] != v)
      throw UserError("input '" + val.name + "' feeds " + std::to_string(readers.size()) +
                      " node(s): for hardware it must feed exactly one FixedQuant (its output is "
                      "the circuit's input)");
    // The circuit reads one sample per clock: dimension 0 of the input is the batch.
    if (val.type.dims.size() < 2)
      throw UserError("input '" + val.name + "' has shape " + dims_str(val.type.dims) +
                      ", without a batch dimension: for hardware every graph input must be "
                      "[N, ...], one sample per clock");
    const Node &q = g.nodes[readers[0]];
    input_of_node[readers[0]] = static_cast<int>(i);
    const ValueRange &r = *ra.ranges[q.outputs[0]];
    NetPort p{val.name, r.dims, {}, r.el};
    net.layers.push_back(q.name);
    net.layer = static_cast<int32_t>(net.layers.size() - 1);
    for (const Interval &iv : r.el)
      p.el.push_back(iv.zero() ? NetRef{} : net.input(bus++, iv));
    sig[q.outputs[0]] = p.el;
    net.inputs.push_back(std::move(p));
  }

  for (size_t ni = 0; ni < g.nodes.size(); ++ni) {
    const Node &n = g.nodes[ni];
    if (input_of_node[ni] >= 0)
      continue;
    const OpDef &d = op_def(n.op);
    try {
      if (!d.lower)
        throw UserError("op has no hardware lowering (ops with one: " + lowered_ops_list() + ")");
      net.layers.push_back(n.name);
      net.layer = static_cast<int32_t>(net.layers.size() - 1);
      std::vector<const ValueRange *> irng, orng;
      std::vector<const std::vector<NetRef> *> in;
      std::vector<const Tensor *> consts;
      for (ValueId v : n.inputs) {
        if (v == kNoValue) {
          irng.push_back(nullptr);
          in.push_back(nullptr);
          consts.push_back(nullptr);
          continue;
        }
        HGQC_ASSERT(ra.ranges[v], "value " + g.values[v].name + " has no range");
        irng.push_back(&*ra.ranges[v]);
        consts.push_back(g.values[v].constant ? &*g.values[v].constant : nullptr);
        if (!sig[v]) {
          HGQC_ASSERT(g.values[v].constant, "value " + g.values[v].name + " not lowered");
          sig[v] = constant_refs(net, *ra.ranges[v]);
        }
        in.push_back(&*sig[v]);
      }
      for (ValueId v : n.outputs)
        orng.push_back(v == kNoValue ? nullptr : &*ra.ranges[v]);
      LowerContext ctx{net, irng, orng, in, consts, cmvm};
      std::vector<std::vector<NetRef>> out = d.lower(n, ctx);
      HGQC_ASSERT(out.size() >= n.outputs.size(), n.name + ": lower returned too few outputs");
      for (size_t k = 0; k < n.outputs.size(); ++k) {
        ValueId v = n.outputs[k];
        if (v == kNoValue)
          continue;
        const ValueRange &r = *ra.ranges[v];
        HGQC_ASSERT(out[k].size() == r.el.size(),
                    n.name + ": lowered " + std::to_string(out[k].size()) + " signals for " +
                        std::to_string(r.el.size()) + " elements");
        // Adder graphs bound their results by interval arithmetic, which can be looser
        // than the range analysis: narrow every signal to its exact range.
        for (size_t e = 0; e < r.el.size(); ++e) {
          NetRef &s = out[k][e];
          HGQC_ASSERT(s.zero() || r.el[e].zero() || s.f <= r.el[e].f,
                      n.name + ": element " + std::to_string(e) + " on a finer grid (2^-" +
                          std::to_string(s.f) + ") than its range " + r.el[e].str());
          s = net.tighten(s, r.el[e]);
        }
        sig[v] = std::move(out[k]);
      }
    } catch (const UserError &e) {
      throw e.with_location(n.loc());
    }
  }

  for (ValueId v : g.outputs) {
    HGQC_ASSERT(sig[v] && ra.ranges[v], "output " + g.values[v].name + " not lowered");
    const ValueRange &r = *ra.ranges[v];
    net.outputs.push_back(NetPort{g.values[v].name, r.dims, *sig[v], r.el});
  }
  net.layer = -1;
  return net;
}

std::vector<int64_t> input_bus_of(const Netlist &net, std::span<const FixedTensor> quantized) {
  HGQC_ASSERT(quantized.size() == net.inputs.size(), "input count differs from the netlist's");
  std::vector<int64_t> bus;
  for (size_t i = 0; i < net.inputs.size(); ++i) {
    const NetPort &p = net.inputs[i];
    HGQC_ASSERT(quantized[i].q.size() == p.el.size(), "input sample size differs");
    for (size_t e = 0; e < p.el.size(); ++e)
      if (!p.el[e].zero())
        bus.push_back(quantized[i].q[e]);
  }
  return bus;
}

} // namespace hgqc
