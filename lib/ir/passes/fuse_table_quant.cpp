// Pass: a table function whose output only a FixedQuant reads takes that quantizer in (its
// inputs k, i, f and its modes), so that its fixed-point form is the quantized table.
#include "ir/op.h"
#include "ir/passes/passes.h"

namespace hgqc {

int fuse_table_quant(Graph &g) {
  std::vector<int> uses = g.use_counts();
  std::vector<int> prod = g.producers();
  int fused = 0;
  for (Node &q : g.nodes) {
    if (q.op != OpKind::FixedQuant || q.inputs.empty() || q.inputs[0] == kNoValue)
      continue;
    ValueId v = q.inputs[0];
    if (prod[v] < 0 || uses[v] != 1)
      continue;
    Node &f = g.nodes[static_cast<size_t>(prod[v])];
    if (!op_def(f.op).table || f.inputs.size() != 1)
      continue;
    f.inputs.insert(f.inputs.end(), q.inputs.begin() + 1, q.inputs.end());
    f.attrs["round_mode"] = q.attrs.at("round_mode");
    f.attrs["overflow_mode"] = q.attrs.at("overflow_mode");
    f.outputs[0] = q.outputs[0];
    q.inputs.clear();
    q.outputs = {kNoValue};
    ++fused;
  }
  if (fused)
    g.remove_dead();
  return fused;
}

} // namespace hgqc
