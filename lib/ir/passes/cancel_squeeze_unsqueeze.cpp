// Pass: remove Squeeze(Unsqueeze(x, axes), axes) pairs.
#include "ir/op.h"
#include "ir/passes/passes.h"

#include <algorithm>

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
    ValueId in = u.inputs[0];
    if (std::find(g.outputs.begin(), g.outputs.end(), out) != g.outputs.end()) {
      // Keep the output's name: the producer of `in` defines it instead, if it may.
      bool in_is_graph_value = std::find(g.inputs.begin(), g.inputs.end(), in) != g.inputs.end() ||
                               std::find(g.outputs.begin(), g.outputs.end(), in) != g.outputs.end();
      if (producer[in] < 0 || in_is_graph_value || uses[in] != 1)
        continue;
      Node &p = g.nodes[producer[in]];
      std::replace(p.outputs.begin(), p.outputs.end(), in, out);
    } else {
      g.replace_uses(out, in);
    }
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
