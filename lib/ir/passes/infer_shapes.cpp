// Pass: recompute static value types in topological order.
#include "ir/op.h"
#include "ir/passes/passes.h"

namespace hgqc {

void infer_shapes(Graph &g) {
  for (const Node &n : g.nodes) {
    std::vector<ValueType> ts;
    try {
      ts = infer_node(g, n);
    } catch (const UserError &e) {
      throw e.with_location(n.loc());
    }
    HGQC_ASSERT(ts.size() >= n.outputs.size(), n.name + ": infer returned too few outputs");
    for (size_t k = 0; k < n.outputs.size(); ++k)
      if (n.outputs[k] != kNoValue)
        g.values[n.outputs[k]].type = ts[k];
  }
}

} // namespace hgqc
