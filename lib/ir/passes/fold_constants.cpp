// Pass: constant folding, including batch-only shape computations feeding Reshape.
#include "ir/eval.h"
#include "ir/graph_edit.h"
#include "ir/op.h"
#include "ir/passes/passes.h"

#include <algorithm>
#include <optional>

namespace hgqc {

namespace {
// Stands for the batch dimension inside folded shape tensors (exact in double).
constexpr double kBatchMark = -4611686018427387904.0; // -2^62

// Ops that only move shape entries around, so a batch mark passes through them intact.
bool moves_entries(OpKind k) {
  return k == OpKind::Gather || k == OpKind::Unsqueeze || k == OpKind::Squeeze ||
         k == OpKind::Concat || k == OpKind::Identity || k == OpKind::Reshape ||
         k == OpKind::Flatten;
}

bool has_mark(const Tensor &t) {
  for (double v : t.data())
    if (v == kBatchMark)
      return true;
  return false;
}
} // namespace

int fold_constants(Graph &g) {
  int folded = 0;
  // Values known at import, possibly holding batch marks (then not real constants).
  std::vector<std::optional<Tensor>> known(g.values.size());
  for (size_t v = 0; v < g.values.size(); ++v)
    if (g.values[v].constant)
      known[v] = g.values[v].constant;
  std::vector<bool> dead(g.nodes.size(), false);
  FreshNames names(g);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    Node &n = g.nodes[i];
    const OpDef &d = op_def(n.op);
    if (!d.foldable)
      continue;
    if (n.op == OpKind::Shape) {
      // Evaluate the op on an empty probe whose run-time dimensions are 0: its entries
      // are the known dimensions, sliced by start/end, and 0 where the batch goes.
      Dims probe_dims = g.values[n.inputs[0]].type.dims;
      if (std::count(probe_dims.begin(), probe_dims.end(), 0) > 0)
        continue; // a real empty dimension would be mistaken for the batch
      std::replace(probe_dims.begin(), probe_dims.end(), kDynamic, int64_t{0});
      Tensor probe(DType::Float32, probe_dims);
      Tensor s = eval_node(n, {&probe})[0];
      std::replace(s.data().begin(), s.data().end(), 0.0, kBatchMark);
      known[n.outputs[0]] = std::move(s);
    } else {
      bool all = true, marked = false;
      std::vector<const Tensor *> in;
      for (ValueId v : n.inputs) {
        all &= v == kNoValue || known[v].has_value();
        in.push_back(v == kNoValue || !known[v] ? nullptr : &*known[v]);
        marked |= v != kNoValue && known[v] && has_mark(*known[v]);
      }
      if (n.op == OpKind::Reshape && !known[n.inputs[0]] && known[n.inputs[1]] &&
          has_mark(*known[n.inputs[1]])) {
        // Reshape target built from the batch size: copy the batch dimension instead.
        std::vector<int64_t> t = known[n.inputs[1]]->as_int64();
        const Dims &xd = g.values[n.inputs[0]].type.dims;
        int marks = 0;
        bool ok = attr_int(n, "allowzero", 0) == 0;
        for (size_t k = 0; k < t.size(); ++k)
          if (static_cast<double>(t[k]) == kBatchMark) {
            ++marks;
            ok &= k < xd.size() && xd[k] == kDynamic;
            t[k] = 0;
          }
        if (ok && marks == 1) {
          Tensor c(DType::Int64, {static_cast<int64_t>(t.size())},
                   std::vector<double>(t.begin(), t.end()));
          n.inputs[1] = names.add_value(g.values[n.inputs[1]].name + "_folded",
                                        ValueType{DType::Int64, c.shape()}, c);
          known.emplace_back(c);
        }
        continue;
      }
      if (!all || (marked && !moves_entries(n.op)))
        continue;
      std::vector<Tensor> out = eval_node(n, in);
      for (size_t k = 0; k < n.outputs.size(); ++k) {
        ValueId o = n.outputs[k];
        if (o == kNoValue)
          continue;
        known[o] = out[k].cast(out[k].dtype()); // rounded as a runtime stores it
        marked |= has_mark(out[k]);
      }
      if (marked)
        continue; // depends on the batch size: keep computing it at run time
    }
    if (n.op == OpKind::Shape && has_mark(*known[n.outputs[0]]))
      continue;
    for (ValueId o : n.outputs)
      if (o != kNoValue) {
        g.values[o].constant = known[o];
        g.values[o].type = ValueType{known[o]->dtype(), known[o]->shape()};
      }
    dead[i] = true;
    ++folded;
  }
  std::vector<Node> kept;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (!dead[i])
      kept.push_back(std::move(g.nodes[i]));
  g.nodes = std::move(kept);
  return folded;
}

} // namespace hgqc
