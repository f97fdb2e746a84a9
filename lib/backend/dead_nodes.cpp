// Netlist pass: removes the nodes no output reads and renumbers the rest in order.
#include "backend/passes.h"

namespace hgqc::backend {

Netlist remove_dead_nodes(const Netlist &net) {
  const size_t n = net.nodes.size();
  std::vector<uint8_t> live(n, 0);
  for (const NetPort &p : net.outputs)
    for (NetRef r : p.el)
      if (!r.zero())
        live[static_cast<size_t>(r.node)] = 1;
  for (size_t k = n; k-- > 0;) {
    if (!live[k])
      continue;
    const NetNode &nd = net.nodes[k];
    if (nd.a != kNoNet)
      live[static_cast<size_t>(nd.a)] = 1;
    if (nd.b != kNoNet)
      live[static_cast<size_t>(nd.b)] = 1;
  }
  // Input nodes stay: they define the bus even when nothing reads them.
  for (size_t k = 0; k < n; ++k)
    if (net.nodes[k].op == NetOp::Input)
      live[k] = 1;
  std::vector<NetId> map(n, kNoNet);
  Netlist out;
  out.layers = net.layers;
  out.tables = net.tables;
  for (size_t k = 0; k < n; ++k) {
    if (!live[k])
      continue;
    NetNode nd = net.nodes[k];
    if (nd.a != kNoNet)
      nd.a = map[static_cast<size_t>(nd.a)];
    if (nd.b != kNoNet)
      nd.b = map[static_cast<size_t>(nd.b)];
    map[k] = static_cast<NetId>(out.nodes.size());
    out.nodes.push_back(nd);
  }
  auto remap = [&](std::vector<NetPort> ports) {
    for (NetPort &p : ports)
      for (NetRef &r : p.el)
        if (!r.zero())
          r.node = map[static_cast<size_t>(r.node)];
    return ports;
  };
  out.inputs = remap(net.inputs);
  out.outputs = remap(net.outputs);
  return out;
}

} // namespace hgqc::backend
