// Pass: fold inference BatchNormalization into the preceding Gemm, MatMul or Conv
// (also through an Unsqueeze that keeps the channel dimension, as PyTorch exports BatchNorm1d).
#include "ir/graph_edit.h"
#include "ir/op.h"
#include "ir/passes/passes.h"

#include <algorithm>
#include <cmath>

namespace hgqc {

namespace {
// Per-channel y = a * x + b of a BatchNormalization node with constant parameters.
bool bn_affine(const Graph &g, const Node &bn, std::vector<double> &a, std::vector<double> &b) {
  for (int i = 1; i < 5; ++i)
    if (!g.values[bn.inputs[i]].constant)
      return false;
  const Tensor &scale = *g.values[bn.inputs[1]].constant, &bias = *g.values[bn.inputs[2]].constant,
               &mean = *g.values[bn.inputs[3]].constant, &var = *g.values[bn.inputs[4]].constant;
  double eps = attr_float(bn, "epsilon", 1e-5);
  a.resize(scale.numel());
  b.resize(scale.numel());
  for (int64_t c = 0; c < scale.numel(); ++c) {
    a[c] = scale[c] / std::sqrt(var[c] + eps);
    b[c] = bias[c] - mean[c] * a[c];
  }
  return true;
}

// Adds the pass's new constants, values rounded to their element type (so that they are what
// they say), under fresh names.
struct ConstAdder {
  FreshNames names;
  ValueId operator()(const std::string &base, const Tensor &t) {
    return names.add_constant(base, t.cast(t.dtype()));
  }
};

// Rewrites producer `p` so that it computes a*y + b per channel; true on success.
bool fold_into(Graph &g, Node &p, const std::vector<double> &a, const std::vector<double> &b,
               ConstAdder &add_const) {
  if ((p.op != OpKind::Conv && p.op != OpKind::Gemm) || p.inputs.size() < 2)
    return false;
  const Tensor *w = g.constant_of(p.inputs[1]);
  if (!w)
    return false;
  auto C = static_cast<int64_t>(a.size());
  DType dt = w->dtype();
  if (p.op == OpKind::Conv) {
    if (w->shape()[0] != C)
      return false;
    const Tensor *bias = p.inputs.size() > 2 ? g.constant_of(p.inputs[2]) : nullptr;
    if (p.inputs.size() > 2 && p.inputs[2] != kNoValue && !bias)
      return false;
    Tensor nw = *w;
    int64_t per = w->numel() / C;
    for (int64_t c = 0; c < C; ++c)
      for (int64_t k = 0; k < per; ++k)
        nw[c * per + k] *= a[c];
    Tensor nb(dt, {C});
    for (int64_t c = 0; c < C; ++c)
      nb[c] = (bias ? (*bias)[c] : 0.0) * a[c] + b[c];
    p.inputs[1] = add_const(g.values[p.inputs[1]].name + "_bn", nw);
    p.inputs.resize(3);
    p.inputs[2] = add_const(p.name + "_bn_bias", nb);
    return true;
  }
  if (p.op == OpKind::Gemm) {
    // Y = alpha * A' B' + beta * C: scale column n of B' and rebuild C as a [N] bias.
    bool tb = attr_int(p, "transB", 0);
    if (w->rank() != 2 || (tb ? w->shape()[0] : w->shape()[1]) != C)
      return false;
    const Tensor *c0 = p.inputs.size() > 2 ? g.constant_of(p.inputs[2]) : nullptr;
    if (p.inputs.size() > 2 && p.inputs[2] != kNoValue && !c0)
      return false;
    if (c0 && !(c0->numel() == 1 || (c0->numel() == C && c0->shape().back() == C)))
      return false; // a full [M, N] bias does not fold into a per-channel one
    double beta = attr_float(p, "beta", 1.0);
    Tensor nw = *w;
    int64_t rows = w->shape()[0], cols = w->shape()[1];
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t k = 0; k < cols; ++k)
        nw[r * cols + k] *= a[tb ? r : k];
    Tensor nb(dt, {C});
    for (int64_t c = 0; c < C; ++c)
      nb[c] = (c0 ? beta * (*c0)[c0->numel() == 1 ? 0 : c] : 0.0) * a[c] + b[c];
    p.inputs[1] = add_const(g.values[p.inputs[1]].name + "_bn", nw);
    p.inputs.resize(3);
    p.inputs[2] = add_const(p.name + "_bn_bias", nb);
    p.attrs["beta"] = 1.0;
    return true;
  }
  return false;
}
} // namespace

int fold_batchnorm(Graph &g) {
  int folded = 0;
  // Producers and use counts of the values the pass looks at; a fold moves the
  // BatchNormalization's output onto the producer and leaves its input unused. (New
  // constants get ids past these tables; only constants are added.)
  std::vector<int> producer = g.producers(), uses = g.use_counts();
  ConstAdder add_const{FreshNames(g)};
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    Node &bn = g.nodes[i];
    if (bn.op != OpKind::BatchNormalization)
      continue;
    std::vector<double> a, b;
    if (!bn_affine(g, bn, a, b))
      continue;
    ValueId x = bn.inputs[0];
    if (producer[x] < 0 || uses[x] != 1)
      continue;
    // PyTorch's opset-6 export of BatchNorm1d on [N, C] is Unsqueeze(axes >= 2), then
    // BatchNormalization: the channels stay dimension 1, so look through the Unsqueeze.
    Node *unsqueeze = nullptr;
    if (g.nodes[producer[x]].op == OpKind::Unsqueeze) {
      unsqueeze = &g.nodes[producer[x]];
      std::vector<int64_t> axes = attr_ints(*unsqueeze, "axes", {});
      ValueId u = unsqueeze->inputs[0];
      if (axes.empty() || axes[0] < 2 || producer[u] < 0 || uses[u] != 1)
        continue;
      x = u;
    }
    Node &p = g.nodes[producer[x]];
    if (!unsqueeze && p.op == OpKind::MatMul && p.inputs.size() == 2) {
      // Rank-2 MatMul with a constant [K, N] weight: scale columns, then add the shift.
      const Tensor *w = g.constant_of(p.inputs[1]);
      if (!w || w->rank() != 2 || g.values[x].type.dims.size() != 2 ||
          w->shape()[1] != static_cast<int64_t>(a.size()))
        continue;
      Tensor nw = *w;
      int64_t cols = w->shape()[1];
      for (int64_t k = 0; k < nw.numel(); ++k)
        nw[k] *= a[k % cols];
      Tensor shift(w->dtype(), {cols}, b);
      // (add_const may move g.values: `w` is not used after this point.)
      p.inputs[1] = add_const(g.values[p.inputs[1]].name + "_bn", nw);
      // The BatchNormalization node becomes Add(x, shift) in place.
      Node &bn2 = g.nodes[i];
      bn2.op = OpKind::Add;
      bn2.source_op = "BatchNormalization";
      bn2.attrs.clear();
      bn2.inputs = {x, add_const(bn2.name + "_shift", shift)};
      ++folded;
      continue;
    }
    if (!fold_into(g, p, a, b, add_const))
      continue;
    // The producer (or the Unsqueeze after it) now defines the BatchNormalization's
    // result, keeping its name; the BatchNormalization node is left dead.
    Node &bn2 = g.nodes[i];
    int def_index = producer[bn2.inputs[0]];
    Node &def = g.nodes[def_index];
    std::replace(def.outputs.begin(), def.outputs.end(), bn2.inputs[0], bn2.outputs[0]);
    producer[bn2.outputs[0]] = def_index;
    producer[bn2.inputs[0]] = -1;
    uses[bn2.inputs[0]] = 0;
    bn2.outputs[0] = kNoValue;
    ++folded;
  }
  if (folded)
    g.remove_dead();
  return folded;
}

} // namespace hgqc
