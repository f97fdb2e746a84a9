// Pass: drop Identity and inference-mode Dropout nodes.
#include "ir/op.h"
#include "ir/passes/passes.h"

namespace hgqc {

int remove_identities(Graph &g) {
  int removed = 0;
  for (Node &n : g.nodes) {
    if (n.op != OpKind::Identity && n.op != OpKind::Dropout)
      continue;
    if (n.outputs.size() > 1 && n.outputs[1] != kNoValue && g.use_counts()[n.outputs[1]] > 0)
      continue; // a Dropout mask is used
    if (!g.bypass(n.outputs[0], n.inputs[0]))
      continue;
    n.outputs.assign(n.outputs.size(), kNoValue); // now dead
    n.inputs.clear();
    ++removed;
  }
  g.remove_dead();
  return removed;
}

} // namespace hgqc
