// Pass: every float graph input that feeds anything but a FixedQuant gets an input quantizer.
#include "ir/op.h"
#include "ir/passes/passes.h"

#include <algorithm>

namespace hgqc {

ValueId insert_fixed_quant(Graph &g, size_t at, ValueId x, FixedFormat fmt, RoundMode r,
                           OverflowMode o) {
  const std::string base = g.values[x].name;
  auto scalar = [&](const char *suffix, int v) {
    return g.add_constant(base + suffix, Tensor::scalar(DType::Int64, v));
  };
  ValueId k = scalar("_k", fmt.k), i = scalar("_i", fmt.i), f = scalar("_f", fmt.f);
  ValueId out = g.add_value(g.fresh_value_name(base + "_q"), g.values[x].type);
  Node n;
  n.name = base + "_quant";
  n.op = OpKind::FixedQuant;
  n.source_op = "hgqc.FixedQuant";
  n.inputs = {x, k, i, f};
  n.outputs = {out};
  n.attrs["round_mode"] = std::string(round_mode_name(r));
  n.attrs["overflow_mode"] = std::string(overflow_mode_name(o));
  g.nodes.insert(g.nodes.begin() + static_cast<long>(at), n);
  return out;
}

int quantize_inputs(Graph &g, const InputQuantizer &q, std::vector<std::string> *notes) {
  // One sweep finds the inputs read by anything but a FixedQuant's x; their quantizers go in
  // front, and one more sweep points the other readers at them.
  std::vector<bool> other_use(g.values.size(), false);
  for (const Node &n : g.nodes)
    for (size_t j = 0; j < n.inputs.size(); ++j)
      if (n.inputs[j] != kNoValue && !(n.op == OpKind::FixedQuant && j == 0))
        other_use[n.inputs[j]] = true;
  std::vector<Node> rest = std::move(g.nodes);
  g.nodes.clear();
  std::vector<ValueId> to(g.values.size());
  for (size_t v = 0; v < to.size(); ++v)
    to[v] = static_cast<ValueId>(v);
  int added = 0;
  for (ValueId in : g.inputs) {
    if (!is_float(g.values[in].type.dtype) || !other_use[in])
      continue;
    ValueId out = insert_fixed_quant(g, g.nodes.size(), in, q.format, q.round, q.overflow);
    to[in] = out;
    ++added;
    if (notes)
      notes->push_back("input '" + g.values[in].name + "' had no quantizer: added " +
                       q.format.str() + " " + round_mode_name(q.round) + " " +
                       overflow_mode_name(q.overflow) + " (set it with --input-format)");
  }
  if (added == 0) {
    g.nodes = std::move(rest);
    return 0;
  }
  // The quantizers come first, the last input's first (as when each was inserted at the
  // front). Every other reader of an input now reads its quantizer's output.
  std::reverse(g.nodes.begin(), g.nodes.end());
  for (Node &n : rest)
    for (ValueId &v : n.inputs)
      if (v != kNoValue)
        v = to[v];
  for (Node &n : rest)
    g.nodes.push_back(std::move(n));
  return added;
}

} // namespace hgqc
