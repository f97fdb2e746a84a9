// Pass: the float-graph forms that PyTorch's exporter writes for activation layers (nn.GELU,
// nn.SiLU, nn.Mish, nn.Hardswish, nn.Softsign, nn.LogSigmoid) become one table function each.
#include "ir/op.h"
#include "ir/passes/passes.h"

#include <cmath>
#include <optional>
#include <set>

namespace hgqc {

namespace {
// 1/sqrt(2), sqrt(2), sqrt(2/pi) and 0.044715 as doubles; PyTorch writes them as float32.
constexpr double kSqrtHalf = 0.70710678118654752, kSqrt2 = 1.4142135623730951,
                 kSqrt2OverPi = 0.79788456080286536, kKappa = 0.044715;

// A constant equal to `want` up to its rounding to float32 (2^-24 relative); for 0.5, 1 and
// other values that float32 holds exactly, equal.
bool near(std::optional<double> c, double want) {
  return c && std::fabs(*c - want) <= std::ldexp(std::fabs(want), -24);
}

struct Matcher {
  Graph &g;
  std::vector<int> prod, uses;
  std::set<int> consumed; // nodes of the matches of this round
  std::vector<int> members;

  // The node defining `v` when it has op `op`, v has no use but the pattern's one (and is not a
  // graph output), and the node is not taken by another match; nullptr otherwise.
  Node *def(ValueId v, OpKind op) {
    if (v == kNoValue || prod[v] < 0 || uses[v] != 1)
      return nullptr;
    Node &n = g.nodes[static_cast<size_t>(prod[v])];
    // A table function that carries its output quantizer (fuse_table_quant) is not f(x).
    if (n.op != op || consumed.count(prod[v]) || (op_def(op).table && n.inputs.size() != 1))
      return nullptr;
    members.push_back(prod[v]);
    return &n;
  }
  // The value of a one-element float constant.
  std::optional<double> scalar(ValueId v) const {
    const Tensor *t = g.constant_of(v);
    if (!t || t->numel() != 1 || !is_float(t->dtype()))
      return std::nullopt;
    return (*t)[0];
  }
  // For a binary node with `v` on one side, the other side; kNoValue when neither is v.
  static ValueId other(const Node &n, ValueId v) {
    return n.inputs[0] == v ? n.inputs[1] : n.inputs[1] == v ? n.inputs[0] : kNoValue;
  }
  // For a binary node with a constant side near `c`, the other side.
  ValueId other_than_const(const Node &n, double c) const {
    if (near(scalar(n.inputs[1]), c) && !g.constant_of(n.inputs[0]))
      return n.inputs[0];
    if (near(scalar(n.inputs[0]), c) && !g.constant_of(n.inputs[1]))
      return n.inputs[1];
    return kNoValue;
  }

  // Gelu: Mul(Mul(x, Add(Erf(Div(x, sqrt 2)), 1)), 0.5), each binary op in either order, the
  // division also as Mul(x, 1/sqrt 2). Returns x.
  ValueId gelu_erf(const Node &root) {
    members.clear();
    Node *m = def(other_than_const(root, 0.5), OpKind::Mul);
    for (int side = 0; m && side < 2; ++side) {
      size_t before = members.size();
      ValueId x = m->inputs[static_cast<size_t>(side)];
      Node *a = def(m->inputs[static_cast<size_t>(1 - side)], OpKind::Add);
      Node *e = a ? def(other_than_const(*a, 1.0), OpKind::Erf) : nullptr;
      ValueId d = e ? e->inputs[0] : kNoValue;
      if (Node *dv = def(d, OpKind::Div);
          dv && dv->inputs[0] == x && near(scalar(dv->inputs[1]), kSqrt2))
        return x;
      if (Node *dm = def(d, OpKind::Mul);
          dm && other(*dm, x) != kNoValue && near(scalar(other(*dm, x)), kSqrtHalf))
        return x;
      members.resize(before); // try x on the other side
    }
    return kNoValue;
  }
  // Gelu (tanh): Mul(Mul(x, Add(Tanh(Mul(Add(x, Mul(Mul(x, Mul(x, x)), 0.044715)),
  // sqrt(2/pi))), 1)), 0.5), each binary op in either order. Returns x.
  ValueId gelu_tanh(const Node &root) {
    members.clear();
    Node *m = def(other_than_const(root, 0.5), OpKind::Mul);
    for (int side = 0; m && side < 2; ++side) {
      size_t before = members.size();
      ValueId x = m->inputs[static_cast<size_t>(side)];
      Node *a1 = def(m->inputs[static_cast<size_t>(1 - side)], OpKind::Add);
      Node *t = a1 ? def(other_than_const(*a1, 1.0), OpKind::Tanh) : nullptr;
      Node *m3 = t ? def(t->inputs[0], OpKind::Mul) : nullptr;
      Node *a = m3 ? def(other_than_const(*m3, kSqrt2OverPi), OpKind::Add) : nullptr;
      Node *m2 = a ? def(other(*a, x), OpKind::Mul) : nullptr;
      Node *m1 = m2 ? def(other_than_const(*m2, kKappa), OpKind::Mul) : nullptr;
      Node *m0 = m1 ? def(other(*m1, x), OpKind::Mul) : nullptr;
      if (m0 && m0->inputs[0] == x && m0->inputs[1] == x)
        return x;
      members.resize(before);
    }
    return kNoValue;
  }
  // Mul(x, F(x)) in either order, F a unary node of op `f`; with `g2`, Mul(x, F(G(x))).
  ValueId times_self(const Node &root, OpKind f, std::optional<OpKind> g2 = std::nullopt) {
    members.clear();
    for (int side = 0; side < 2; ++side) {
      size_t before = members.size();
      ValueId x = root.inputs[static_cast<size_t>(side)];
      Node *fn = def(root.inputs[static_cast<size_t>(1 - side)], f);
      Node *gn = fn && g2 ? def(fn->inputs[0], *g2) : fn;
      if (gn && gn->inputs[0] == x)
        return x;
      members.resize(before);
    }
    return kNoValue;
  }
  // Div(x, Add(Abs(x), 1)), the Add in either order. Returns x.
  ValueId softsign(const Node &root) {
    members.clear();
    ValueId x = root.inputs[0];
    Node *a = def(root.inputs[1], OpKind::Add);
    Node *b = a ? def(other_than_const(*a, 1.0), OpKind::Abs) : nullptr;
    return b && b->inputs[0] == x ? x : kNoValue;
  }
};

// `n` rewritten in place into op `op` of x (keeping its name and output).
void become(Node &n, OpKind op, ValueId x) {
  n.op = op;
  n.source_op = std::string(op_def(op).name);
  n.inputs = {x};
  n.attrs.clear();
}

// One round over the graph: each match rewritten, dead nodes removed. Returns how many.
int fuse_round(Graph &g) {
  Matcher mt{g, g.producers(), g.use_counts(), {}, {}};
  std::vector<Node> out;
  int count = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    Node n = g.nodes[i]; // a copy: the matchers read the round's original nodes
    mt.members.clear();
    ValueId x = kNoValue;
    OpKind op{};
    std::string approximate;
    if (n.op == OpKind::Mul && !mt.consumed.count(static_cast<int>(i))) {
      if ((x = mt.gelu_erf(n)) != kNoValue) {
        op = OpKind::Gelu, approximate = "none";
      } else if ((x = mt.gelu_tanh(n)) != kNoValue) {
        op = OpKind::Gelu, approximate = "tanh";
      } else if ((x = mt.times_self(n, OpKind::Sigmoid)) != kNoValue) {
        op = OpKind::Silu;
      } else if ((x = mt.times_self(n, OpKind::Tanh, OpKind::Softplus)) != kNoValue) {
        op = OpKind::Mish;
      } else if ((x = mt.times_self(n, OpKind::HardSigmoid)) != kNoValue) {
        const Node &h = g.nodes[static_cast<size_t>(mt.members.back())];
        if (near(attr_float(h, "alpha", 0.2), 1.0 / 6) && attr_float(h, "beta", 0.5) == 0.5)
          op = OpKind::HardSwish;
        else
          x = kNoValue;
      }
    } else if (n.op == OpKind::Div && !mt.consumed.count(static_cast<int>(i))) {
      if ((x = mt.softsign(n)) != kNoValue)
        op = OpKind::Softsign;
    } else if (n.op == OpKind::Log) {
      mt.members.clear();
      Node *s = mt.def(n.inputs[0], OpKind::Sigmoid);
      x = s ? s->inputs[0] : kNoValue;
    }
    // The rewrite must keep the output's type (no broadcast by a constant of higher rank).
    if (x == kNoValue || g.values[x].type.dtype != g.values[n.outputs[0]].type.dtype ||
        g.values[x].type.dims != g.values[n.outputs[0]].type.dims) {
      out.push_back(std::move(n));
      continue;
    }
    mt.consumed.insert(mt.members.begin(), mt.members.end());
    mt.consumed.insert(static_cast<int>(i));
    ++count;
    if (n.op == OpKind::Log) { // log(sigmoid(x)) = -softplus(-x)
      ValueType t = g.values[x].type;
      ValueId nx = g.add_value(g.fresh_value_name(n.name + "_neg_x"), t);
      ValueId sp = g.add_value(g.fresh_value_name(n.name + "_softplus"), t);
      Node a = n, b = n;
      a.name = n.name + "_neg_x", b.name = n.name + "_softplus";
      become(a, OpKind::Neg, x);
      a.outputs = {nx};
      become(b, OpKind::Softplus, nx);
      b.outputs = {sp};
      become(n, OpKind::Neg, sp);
      out.push_back(std::move(a));
      out.push_back(std::move(b));
      out.push_back(std::move(n));
      continue;
    }
    become(n, op, x);
    if (!approximate.empty())
      n.attrs["approximate"] = approximate;
    out.push_back(std::move(n));
  }
  g.nodes = std::move(out);
  if (count)
    g.remove_dead();
  return count;
}
} // namespace

int fuse_activations(Graph &g) {
  int total = 0;
  for (int c; (c = fuse_round(g)) > 0;)
    total += c;
  if (total)
    infer_shapes(g);
  return total;
}

} // namespace hgqc
