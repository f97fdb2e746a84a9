// Pass: constants read by a FixedQuant are replaced by their quantized values, so that a
// saved model stores its weights on their grid.
#include "ir/eval.h"
#include "ir/graph_edit.h"
#include "ir/op.h"
#include "ir/passes/passes.h"

namespace hgqc {

int snap_quantized_constants(Graph &g) {
  int snapped = 0;
  FreshNames names(g);
  for (Node &n : g.nodes) {
    if (n.op != OpKind::FixedQuant || !g.values[n.inputs[0]].constant)
      continue;
    std::vector<const Tensor *> in;
    for (ValueId v : n.inputs)
      in.push_back(&*g.values[v].constant);
    Tensor q = eval_node(n, in)[0];
    const Tensor &old = *g.values[n.inputs[0]].constant;
    DType t = old.dtype();
    bool changed = false, exact = true;
    for (int64_t j = 0; j < q.numel(); ++j) {
      changed |= q[j] != old[j];
      exact &= round_to_dtype(q[j], t) == q[j];
    }
    if (!changed || !exact) // values wider than the element type stay as they are
      continue;
    std::string base = g.values[n.inputs[0]].name + "_q";
    ValueType ty = g.values[n.inputs[0]].type;
    Tensor qt(t, q.shape(), std::vector<double>(q.data().begin(), q.data().end()));
    n.inputs[0] = names.add_value(base, ty, std::move(qt));
    ++snapped;
  }
  g.remove_dead();
  return snapped;
}

} // namespace hgqc
