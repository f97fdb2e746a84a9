// Pass: a Softmax that does not compute a graph output becomes max-subtract, Exp, sum,
// Reciprocal and a product, ops that each have a fixed-point form.
#include "ir/op.h"
#include "ir/passes/passes.h"

#include <algorithm>
#include <numeric>

namespace hgqc {

int decompose_softmax(Graph &g) {
  int rewritten = 0;
  std::vector<Node> old = std::move(g.nodes);
  g.nodes.clear();
  for (Node &sm : old) {
    ValueId y = sm.outputs.empty() ? kNoValue : sm.outputs[0];
    bool is_output = std::find(g.outputs.begin(), g.outputs.end(), y) != g.outputs.end();
    if (sm.op != OpKind::Softmax || is_output) {
      g.nodes.push_back(std::move(sm));
      continue;
    }
    ValueId x = sm.inputs[0];
    const ValueType xt = g.values[x].type;
    auto rank = static_cast<int64_t>(xt.dims.size());
    int64_t axis = attr_int(sm, "axis", -1);
    HGQC_ASSERT(axis >= 0 && axis < rank, "Softmax axis not canonical");
    // Opset < 13 (coerce_2d) normalises over every axis from `axis` on, one axis otherwise.
    int64_t last = attr_int(sm, "coerce_2d", 0) ? rank - 1 : axis;
    std::vector<int64_t> axes(static_cast<size_t>(last - axis + 1));
    std::iota(axes.begin(), axes.end(), axis);
    ValueType kept = xt; // the reduced shape with keepdims = 1
    for (int64_t a : axes)
      kept.dims[static_cast<size_t>(a)] = 1;
    const std::string &base = sm.name;
    auto add = [&](OpKind op, const char *suffix, std::vector<ValueId> in, const ValueType &t,
                   ValueId out = kNoValue) {
      if (out == kNoValue)
        out = g.add_value(g.fresh_value_name(base + suffix), t);
      Node n;
      n.name = base + suffix;
      n.op = op;
      n.source_op = std::string(op_def(op).name);
      n.inputs = std::move(in);
      n.outputs = {out};
      if (op == OpKind::ReduceMax || op == OpKind::ReduceSum) {
        n.attrs["axes"] = axes;
        n.attrs["keepdims"] = int64_t{1};
      }
      g.nodes.push_back(std::move(n));
      return out;
    };
    ValueId m = add(OpKind::ReduceMax, "_max", {x}, kept);
    ValueId d = add(OpKind::Sub, "_sub", {x, m}, xt);      // <= 0, 0 at the maximum
    ValueId e = add(OpKind::Exp, "_exp", {d}, xt);         // in (0, 1], 1 at the maximum
    ValueId s = add(OpKind::ReduceSum, "_sum", {e}, kept); // in [1, n]
    ValueId r = add(OpKind::Reciprocal, "_recip", {s}, kept);
    add(OpKind::Mul, "_mul", {e, r}, xt, y);
    ++rewritten;
  }
  if (rewritten)
    infer_shapes(g);
  return rewritten;
}

} // namespace hgqc
