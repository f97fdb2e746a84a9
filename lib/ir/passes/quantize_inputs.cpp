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
  int added = 0;
  for (ValueId in : g.inputs) {
    if (!is_float(g.values[in].type.dtype))
      continue;
    bool other_use = false;
    for (const Node &n : g.nodes)
      for (size_t j = 0; j < n.inputs.size(); ++j)
        if (n.inputs[j] == in && !(n.op == OpKind::FixedQuant && j == 0))
          other_use = true;
    if (!other_use)
      continue;
    const std::string name = g.values[in].name;
    ValueId out = insert_fixed_quant(g, 0, in, q.format, q.round, q.overflow);
    // Every other reader of the input now reads the quantizer's output.
    for (size_t k = 1; k < g.nodes.size(); ++k)
      std::replace(g.nodes[k].inputs.begin(), g.nodes[k].inputs.end(), in, out);
    ++added;
    if (notes)
      notes->push_back("input '" + name + "' had no quantizer: added " + q.format.str() + " " +
                       round_mode_name(q.round) + " " + overflow_mode_name(q.overflow) +
                       " (set it with --input-format)");
  }
  return added;
}

} // namespace hgqc
