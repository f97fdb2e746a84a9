// Pass: a Softmax or LogSoftmax that computes a graph output is removed; the circuit outputs the
// logits.
#include "ir/op.h"
#include "ir/passes/passes.h"

namespace hgqc {

int drop_output_softmax(Graph &g, std::vector<std::string> *notes) {
  int dropped = 0;
  std::vector<int> prod = g.producers();
  for (ValueId out : std::vector<ValueId>(g.outputs)) {
    int p = prod[out];
    if (p < 0 || (g.nodes[p].op != OpKind::Softmax && g.nodes[p].op != OpKind::LogSoftmax))
      continue;
    Node &sm = g.nodes[p];
    if (!g.bypass(out, sm.inputs[0]))
      continue;
    if (notes)
      notes->push_back("output '" + g.values[out].name + "': " + std::string(op_def(sm.op).name) +
                       " '" + sm.name +
                       "' removed; the fixed-point model outputs its input (the logits, same "
                       "argmax)");
    sm.outputs = {kNoValue};
    sm.inputs.clear();
    ++dropped;
  }
  g.remove_dead();
  return dropped;
}

} // namespace hgqc
