// The float reference evaluator: runs a graph in double precision on concrete inputs.
#include "ir/eval.h"

#include "ir/op.h"
#include "ir/ops/common.h"

#include <cmath>
#include <optional>
#include <sstream>

namespace hgqc {

std::vector<Tensor> eval_node(const Node &n, const std::vector<const Tensor *> &inputs) {
  std::vector<Tensor> out;
  try {
    out = op_def(n.op).eval(n, inputs);
  } catch (const UserError &e) {
    throw e.with_location(n.loc());
  }
  HGQC_ASSERT(out.size() >= n.outputs.size(), n.name + ": op returned too few outputs");
  return out;
}

void check_input(const Graph &g, size_t i, const Tensor &t, const std::string &source) {
  HGQC_ASSERT(i < g.inputs.size());
  const Value &v = g.values[g.inputs[i]];
  Location loc{source};
  if (!ops::shape_matches(t.shape(), v.type.dims))
    throw UserError("input '" + v.name + "' has shape " + dims_str(t.shape()) +
                        ", the model expects " + dims_str(v.type.dims) + " (N: any batch size)",
                    loc);
  if (t.dtype() == v.type.dtype)
    return;
  // Any numeric data may feed a float input (values keep their meaning);
  // nothing may feed an integer input but its own type.
  if (!is_float(v.type.dtype) || t.dtype() == DType::Bool)
    throw UserError("input '" + v.name + "' has element type " + dtype_name(t.dtype()) +
                        ", the model expects " + dtype_name(v.type.dtype),
                    loc);
  for (int64_t j = 0; j < t.numel(); ++j)
    if (!std::isfinite(round_to_dtype(t[j], v.type.dtype))) {
      std::ostringstream s;
      s << "input '" << v.name << "': element " << j << " (" << t[j] << ") is "
        << (std::isfinite(t[j]) ? "outside the range of " : "not finite as ")
        << dtype_name(v.type.dtype) << ", the model's input type";
      throw UserError(s.str(), loc);
    }
}

std::vector<Tensor> evaluate(const Graph &g, std::vector<Tensor> inputs) {
  if (inputs.size() != g.inputs.size())
    throw UserError("the model has " + std::to_string(g.inputs.size()) + " input(s), " +
                    std::to_string(inputs.size()) + " given");
  std::vector<std::optional<Tensor>> vals(g.values.size());
  std::vector<int> uses = g.use_counts();
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Value &v = g.values[g.inputs[i]];
    Tensor &t = inputs[i];
    check_input(g, i, t);
    if (t.dtype() != v.type.dtype)
      t = t.cast(v.type.dtype);
    vals[g.inputs[i]] = std::move(t);
  }
  auto get = [&](ValueId id) -> const Tensor * {
    if (id == kNoValue)
      return nullptr;
    if (vals[id])
      return &*vals[id];
    HGQC_ASSERT(g.values[id].constant.has_value(), "value " + g.values[id].name + " not computed");
    return &*g.values[id].constant;
  };
  for (const Node &n : g.nodes) {
    std::vector<const Tensor *> in;
    for (ValueId v : n.inputs)
      in.push_back(get(v));
    std::vector<Tensor> out;
    try {
      out = eval_node(n, in);
    } catch (const UserError &e) {
      throw e.with_location(Location{g.source});
    }
    for (ValueId v : n.inputs)
      if (v != kNoValue && --uses[v] == 0)
        vals[v].reset();
    for (size_t k = 0; k < n.outputs.size(); ++k)
      if (n.outputs[k] != kNoValue)
        vals[n.outputs[k]] = std::move(out[k]);
  }
  std::vector<Tensor> res;
  for (ValueId v : g.outputs)
    res.push_back(*get(v));
  return res;
}

} // namespace hgqc
