// Pass: drop Identity and inference-mode Dropout nodes.
#include "ir/op.h"
#include "ir/passes/passes.h"

#include <algorithm>

namespace hgqc {

int remove_identities(Graph &g) {
  int removed = 0;
  std::vector<int> producer = g.producers();
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    Node &n = g.nodes[i];
    if (n.op != OpKind::Identity && n.op != OpKind::Dropout)
      continue;
    if (n.outputs.size() > 1 && n.outputs[1] != kNoValue && g.use_counts()[n.outputs[1]] > 0)
      continue; // a Dropout mask is used
    ValueId in = n.inputs[0], out = n.outputs[0];
    bool out_is_graph_output =
        std::find(g.outputs.begin(), g.outputs.end(), out) != g.outputs.end();
    if (!out_is_graph_output) {
      g.replace_uses(out, in);
    } else {
      // Keep the output's name: let the input's producer define it instead,
      // when the input has no other role.
      bool in_is_graph_value =
          std::find(g.outputs.begin(), g.outputs.end(), in) != g.outputs.end() ||
          std::find(g.inputs.begin(), g.inputs.end(), in) != g.inputs.end();
      if (producer[in] < 0 || in_is_graph_value || g.use_counts()[in] != 1)
        continue;
      Node &p = g.nodes[producer[in]];
      std::replace(p.outputs.begin(), p.outputs.end(), in, out);
      producer[out] = producer[in];
      producer[in] = -1;
    }
    n.outputs.assign(n.outputs.size(), kNoValue); // now dead
    n.inputs.clear();
    ++removed;
  }
  g.remove_dead();
  return removed;
}

} // namespace hgqc
