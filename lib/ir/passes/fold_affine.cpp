// Pass: BatchNormalization and chains of Add/Sub/Mul/Div by constants become one
// Mul(x, A) then Add(., B), with the derived coefficients rounded to float32 so that they
// are short fixed-point constants.
#include "ir/graph_edit.h"
#include "ir/op.h"
#include "ir/ops/common.h"
#include "ir/passes/passes.h"

#include <cmath>
#include <set>

namespace hgqc {

namespace {
// BatchNormalization with constant parameters becomes Mul(x, A) + B in place (the node
// becomes the Mul, an Add is inserted after it). Returns how many.
int expand_batchnorm(Graph &g, FreshNames &names, std::set<ValueId> &derived) {
  int count = 0;
  std::vector<Node> nodes;
  nodes.reserve(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    nodes.push_back(std::move(g.nodes[i]));
    if (nodes.back().op != OpKind::BatchNormalization)
      continue;
    bool all_const = true;
    for (int j = 1; j < 5; ++j)
      all_const &= g.constant_of(nodes.back().inputs[j]) != nullptr;
    if (!all_const)
      continue;
    Node bn = nodes.back();
    const Tensor scale = *g.constant_of(bn.inputs[1]), bias = *g.constant_of(bn.inputs[2]),
                 mean = *g.constant_of(bn.inputs[3]), var = *g.constant_of(bn.inputs[4]);
    double eps = attr_float(bn, "epsilon", 1e-5);
    int64_t rank = static_cast<int64_t>(g.values[bn.inputs[0]].type.dims.size());
    Dims d{scale.numel()};
    d.resize(static_cast<size_t>(rank - 1), 1);
    Tensor a(DType::Float32, d), b(DType::Float32, d);
    for (int64_t c = 0; c < scale.numel(); ++c) {
      a[c] = scale[c] / std::sqrt(var[c] + eps);
      b[c] = bias[c] - mean[c] * a[c];
    }
    ValueId av = names.add_constant(bn.name + "_scale", a),
            bv = names.add_constant(bn.name + "_shift", b);
    derived.insert(av);
    derived.insert(bv);
    ValueId out = bn.outputs[0];
    ValueId mid = names.add_value(bn.name + "_scaled", g.values[out].type);
    Node &mul = nodes.back();
    mul.op = OpKind::Mul;
    mul.attrs.clear();
    mul.inputs = {bn.inputs[0], av};
    mul.outputs = {mid};
    Node add;
    add.name = bn.name + "_shift";
    add.op = OpKind::Add;
    add.source_op = bn.source_op;
    add.inputs = {mid, bv};
    add.outputs = {out};
    nodes.push_back(std::move(add));
    ++count;
  }
  g.nodes = std::move(nodes);
  return count;
}

// Sub(x, c) -> Add(x, -c) and Div(x, c) -> Mul(x, 1/c) for constant c.
void canonicalize(Graph &g, FreshNames &names, std::set<ValueId> &derived) {
  for (Node &n : g.nodes) {
    if ((n.op != OpKind::Sub && n.op != OpKind::Div) || !g.constant_of(n.inputs[1]) ||
        g.constant_of(n.inputs[0]) || !is_float(g.values[n.inputs[1]].type.dtype))
      continue;
    Tensor c = *g.constant_of(n.inputs[1]);
    bool div = n.op == OpKind::Div;
    for (double &v : c.data())
      v = div ? 1.0 / v : -v;
    bool exact = true;
    if (div)
      for (double v : g.constant_of(n.inputs[1])->data()) {
        int e;
        exact &= std::frexp(std::fabs(v), &e) == 0.5;
      }
    ValueId cv = names.add_constant(g.values[n.inputs[1]].name + (div ? "_recip" : "_neg"), c);
    if (!exact)
      derived.insert(cv);
    n.op = div ? OpKind::Mul : OpKind::Add;
    n.inputs[1] = cv;
  }
}

// Index of the constant operand of a two-input Add/Mul whose other operand is not constant.
int const_operand(const Graph &g, const Node &n) {
  if ((n.op != OpKind::Add && n.op != OpKind::Mul) || n.inputs.size() != 2)
    return -1;
  bool c0 = g.constant_of(n.inputs[0]), c1 = g.constant_of(n.inputs[1]);
  if (c0 == c1)
    return -1;
  return c0 ? 0 : 1;
}

// Merges Mul(Mul(x,a),b), Add(Add(x,a),b) and Mul(Add(x,a),b) chains in one sweep (a chain
// of Mul or Add merges into its last node as the sweep goes). Returns merges done.
int merge_chains(Graph &g, FreshNames &names, std::set<ValueId> &derived) {
  int merged = 0;
  // Kept up to date: a merge leaves the intermediate value unused; new values are constants.
  std::vector<int> prod = g.producers(), uses = g.use_counts();
  std::vector<bool> is_output(g.values.size(), false);
  for (ValueId v : g.outputs)
    is_output[v] = true;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    Node &n = g.nodes[i];
    int cn = const_operand(g, n);
    if (cn < 0)
      continue;
    ValueId x = n.inputs[1 - cn];
    if (static_cast<size_t>(x) >= prod.size())
      continue; // a constant of this pass
    int pi = prod[x];
    if (pi < 0 || uses[x] != 1 || is_output[x])
      continue;
    Node &p = g.nodes[pi];
    int cp = const_operand(g, p);
    if (cp < 0)
      continue;
    const Tensor &a = *g.constant_of(p.inputs[cp]), &b = *g.constant_of(n.inputs[cn]);
    Dims d;
    if (!broadcast_dims(a.shape(), b.shape(), d) || d.size() > g.values[x].type.dims.size())
      continue;
    ValueId px = p.inputs[1 - cp];
    if (p.op == n.op) {
      bool mul = n.op == OpKind::Mul;
      Tensor c = ops::map_binary(a, b, DType::Float32,
                                 [mul](double u, double v) { return mul ? u * v : u + v; });
      ValueId cv = names.add_constant(g.values[n.inputs[cn]].name + "_merged", c);
      derived.insert(cv);
      Node &n2 = g.nodes[i];
      n2.inputs = {px, cv};
      g.nodes[pi].outputs = {kNoValue};
      g.nodes[pi].inputs.clear();
      prod[x] = -1;
      uses[x] = 0;
    } else if (p.op == OpKind::Add && n.op == OpKind::Mul) {
      // (x + a) * b = x * b + a * b: p becomes the Mul, n the Add.
      Tensor ab = ops::map_binary(a, b, DType::Float32, [](double u, double v) { return u * v; });
      ValueId bv = n.inputs[cn];
      ValueId abv = names.add_constant(g.values[bv].name + "_shift", ab);
      derived.insert(abv);
      Node &p2 = g.nodes[pi];
      p2.op = OpKind::Mul;
      p2.inputs = {px, bv};
      Node &n2 = g.nodes[i];
      n2.op = OpKind::Add;
      n2.inputs = {x, abv};
    } else {
      continue;
    }
    ++merged;
  }
  return merged;
}
} // namespace

int fold_affine(Graph &g, std::vector<std::string> *notes) {
  std::set<ValueId> derived;
  FreshNames names(g);
  int n = expand_batchnorm(g, names, derived);
  canonicalize(g, names, derived);
  // Each sweep merges whole Mul and Add chains; a Mul after an Add moves before it, which can
  // make a new chain for the next sweep. Every merge removes a node and every swap moves a
  // Mul up, so the loop ends.
  while (merge_chains(g, names, derived) > 0)
    ++n;
  // Coefficients computed here are rounded to float32: short exact fixed-point constants.
  int rounded = 0;
  for (ValueId v : derived) {
    Value &val = g.values[v];
    Tensor r = val.constant->cast(DType::Float32);
    for (int64_t j = 0; j < r.numel(); ++j)
      rounded += r[j] != (*val.constant)[j];
    val.constant = std::move(r);
    val.type.dtype = DType::Float32;
  }
  if (notes && rounded > 0)
    notes->push_back(std::to_string(rounded) +
                     " derived scale/shift coefficient(s) (batch normalisation, division by a "
                     "constant) were rounded to float32 to become fixed-point constants");
  g.remove_dead();
  return n;
}

} // namespace hgqc
