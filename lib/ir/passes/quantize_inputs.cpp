// Pass: every float graph input that feeds anything but a FixedQuant gets an input quantizer.
#include "ir/op.h"
#include "ir/passes/passes.h"

#include <algorithm>

namespace hgqc {

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
    ValueId out = g.add_value(g.fresh_value_name(name + "_q"), g.values[in].type);
    g.replace_uses(in, out);
    // replace_uses also rewrote graph outputs equal to the input: keep those as they were.
    std::replace(g.outputs.begin(), g.outputs.end(), out, in);
    auto scalar = [&](const char *suffix, int v) {
      Tensor t = Tensor::scalar(DType::Int64, v);
      return g.add_value(g.fresh_value_name(name + suffix), ValueType{DType::Int64, {}}, t);
    };
    Node n;
    n.name = name + "_quant";
    n.op = OpKind::FixedQuant;
    n.source_op = "hgqc.FixedQuant";
    n.inputs = {in, scalar("_k", q.format.k), scalar("_i", q.format.i), scalar("_f", q.format.f)};
    n.outputs = {out};
    n.attrs["round_mode"] = std::string(round_mode_name(q.round));
    n.attrs["overflow_mode"] = std::string(overflow_mode_name(q.overflow));
    g.nodes.insert(g.nodes.begin(), n);
    ++added;
    if (notes)
      notes->push_back("input '" + name + "' had no quantizer: added " + q.format.str() + " " +
                       round_mode_name(q.round) + " " + overflow_mode_name(q.overflow) +
                       " (set it with --input-format)");
  }
  return added;
}

} // namespace hgqc
