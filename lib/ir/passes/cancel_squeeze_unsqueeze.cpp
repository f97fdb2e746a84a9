// Pass: remove Squeeze(Unsqueeze(x, axes), axes) pairs.
#include "ir/op.h"
#include "ir/passes/passes.h"

namespace hgqc {

int cancel_squeeze_unsqueeze(Graph &g) {
  int removed = 0;
  for (Node &s : g.nodes) {
    if (s.op != OpKind::Squeeze)
      continue;
    std::vector<int> producer = g.producers(), uses = g.use_counts();
    ValueId mid = s.inputs[0], out = s.outputs[0];
    if (producer[mid] < 0 || uses[mid] != 1)
      continue;
    Node &u = g.nodes[producer[mid]];
    if (u.op != OpKind::Unsqueeze || attr_ints(u, "axes", {}) != attr_ints(s, "axes", {}))
      continue;
    if (!g.bypass(out, u.inputs[0]))
      continue;
    s.outputs[0] = kNoValue;
    s.inputs.clear();
    u.outputs[0] = kNoValue;
    u.inputs.clear();
    ++removed;
  }
  g.remove_dead();
  return removed;
}

} // namespace hgqc
