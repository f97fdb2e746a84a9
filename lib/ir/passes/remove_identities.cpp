// Pass: drop Identity and inference-mode Dropout nodes (one sweep, linear in the graph size).
#include "ir/graph_edit.h"
#include "ir/op.h"
#include "ir/passes/passes.h"

namespace hgqc {

int remove_identities(Graph &g) {
  // Each dropped node's output is mapped to the value it copies (already resolved, as the
  // nodes are in topological order); the uses are rewritten at the end in one pass. Use
  // counts and producers are kept up to date as nodes go.
  const auto nv = static_cast<ValueId>(g.values.size());
  std::vector<ValueId> to(g.values.size());
  for (ValueId v = 0; v < nv; ++v)
    to[v] = v;
  std::vector<int> uses = g.use_counts(), producer = g.producers();
  std::vector<bool> is_input(g.values.size(), false), is_output(g.values.size(), false);
  for (ValueId v : g.inputs)
    is_input[v] = true;
  for (ValueId v : g.outputs)
    is_output[v] = true;
  int removed = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    Node &n = g.nodes[i];
    if (n.op != OpKind::Identity && n.op != OpKind::Dropout)
      continue;
    if (n.inputs.empty() || n.inputs[0] == kNoValue || n.outputs[0] == kNoValue)
      continue;
    if (n.outputs.size() > 1 && n.outputs[1] != kNoValue && uses[n.outputs[1]] > 0)
      continue; // a Dropout mask is used
    ValueId in = to[n.inputs[0]], out = n.outputs[0];
    if (!is_output[out]) {
      // Uses of `out` read `in`; this node's own use of `in` goes.
      to[out] = in;
      uses[in] += uses[out] - 1;
      uses[out] = 0;
    } else {
      // A graph output keeps its name: `in`'s producer defines it instead, when `in` is used
      // by this node only and is neither a graph input nor a graph output.
      int p = producer[in];
      if (p < 0 || is_input[in] || is_output[in] || uses[in] != 1)
        continue;
      for (ValueId &o : g.nodes[p].outputs)
        if (o == in)
          o = out;
      producer[out] = p;
      producer[in] = -1;
      uses[in] = 0;
    }
    for (ValueId v : n.inputs)
      if (v != kNoValue && v != n.inputs[0])
        --uses[to[v]];
    n.outputs.assign(n.outputs.size(), kNoValue); // now dead
    n.inputs.clear();
    ++removed;
  }
  if (removed > 0)
    replace_uses(g, to);
  g.remove_dead();
  return removed;
}

} // namespace hgqc
