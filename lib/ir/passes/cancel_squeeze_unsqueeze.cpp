// Pass: remove Squeeze(Unsqueeze(x, axes), axes) pairs (one sweep, linear in the graph size).
#include "ir/graph_edit.h"
#include "ir/op.h"
#include "ir/passes/passes.h"

namespace hgqc {

int cancel_squeeze_unsqueeze(Graph &g) {
  // As remove_identities: outputs of removed pairs map to the value they restore, use counts
  // and producers are kept up to date, and the uses are rewritten once at the end.
  const auto nv = static_cast<ValueId>(g.values.size());
  std::vector<ValueId> to(g.values.size());
  for (ValueId v = 0; v < nv; ++v)
    to[v] = v;
  std::vector<int> producer = g.producers(), uses = g.use_counts();
  std::vector<bool> is_input(g.values.size(), false), is_output(g.values.size(), false);
  for (ValueId v : g.inputs)
    is_input[v] = true;
  for (ValueId v : g.outputs)
    is_output[v] = true;
  auto drop_uses = [&](const Node &n) {
    for (ValueId v : n.inputs)
      if (v != kNoValue)
        --uses[to[v]];
  };
  int removed = 0;
  for (Node &s : g.nodes) {
    if (s.op != OpKind::Squeeze || s.inputs.empty() || s.outputs[0] == kNoValue)
      continue;
    ValueId mid = to[s.inputs[0]], out = s.outputs[0];
    if (mid == kNoValue || producer[mid] < 0 || uses[mid] != 1 || is_output[mid])
      continue;
    Node &u = g.nodes[producer[mid]];
    if (u.op != OpKind::Unsqueeze || attr_ints(u, "axes", {}) != attr_ints(s, "axes", {}))
      continue;
    ValueId x = to[u.inputs[0]];
    if (!is_output[out]) {
      to[out] = x;
      uses[x] += uses[out];
      uses[out] = 0;
    } else {
      // The graph output keeps its name: x's producer defines it, when x has no other use.
      int p = producer[x];
      if (p < 0 || is_input[x] || is_output[x] || uses[x] != 1)
        continue;
      for (ValueId &o : g.nodes[p].outputs)
        if (o == x)
          o = out;
      producer[out] = p;
      producer[x] = -1;
      uses[x] = 1; // balanced by drop_uses(u) below
    }
    drop_uses(s);
    drop_uses(u);
    s.outputs[0] = kNoValue;
    s.inputs.clear();
    u.outputs[0] = kNoValue;
    u.inputs.clear();
    producer[mid] = -1;
    ++removed;
  }
  if (removed > 0)
    replace_uses(g, to);
  g.remove_dead();
  return removed;
}

} // namespace hgqc
