// The training engine's graph edits: HGQ quantizers inserted into a float model before training,
// and the trained weights and per-element formats written back as FixedQuant nodes after it.
#include "qat/engine/impl.h"

#include "qat/ptq.h"

#include "ir/op.h"
#include "ir/passes/passes.h"

namespace hgqc {

int insert_hgq_quantizers(Graph &g) {
  for (const Node &n : g.nodes)
    if (n.op == OpKind::Quant || n.op == OpKind::FixedQuant || n.op == OpKind::BipolarQuant)
      throw UserError("the model is already quantized (node '" + n.name +
                      "'); train starts from a float model");
  const FixedFormat placeholder{1, 0, 8};
  int added = 0;
  std::vector<ValueId> acts = activation_quant_points(g);
  std::vector<int> prod = g.producers();
  for (ValueId v : acts) {
    size_t at = prod[v] < 0 ? 0 : static_cast<size_t>(prod[v]) + 1;
    ValueId q = insert_fixed_quant(g, at, v, placeholder, RoundMode::RND, OverflowMode::SAT);
    read_through_quantizer(g, v, q);
    prod = g.producers();
    ++added;
  }
  for (size_t ni = 0; ni < g.nodes.size(); ++ni) {
    for (size_t j = 0; j < g.nodes[ni].inputs.size(); ++j) {
      ValueId w = g.nodes[ni].inputs[j];
      // PRelu's slope is trained too (HGQ only: `hgqc quantize` leaves it as given).
      const Node &n = g.nodes[ni];
      bool slope = n.op == OpKind::PRelu && j == 1 && w != kNoValue && g.values[w].constant;
      if ((!slope && !is_weight_quant_point(g, n, j)) || !is_float(g.values[w].type.dtype))
        continue;
      ValueId q = insert_fixed_quant(g, ni, w, placeholder, RoundMode::RND, OverflowMode::SAT);
      ++ni;
      g.nodes[ni].inputs[j] = q;
      ++added;
    }
  }
  verify(g);
  return added;
}

Graph TrainEngine::export_graph(double cover) const {
  const Impl &m = *impl_;
  Graph g = g_;
  for (const HgqQuantizer &q : quants_) {
    Node &n = g.nodes[static_cast<size_t>(q.node)];
    Tensor tk(DType::Int64, q.dims), ti(DType::Int64, q.dims), tf(DType::Int64, q.dims);
    ValueId x = n.inputs[0];
    if (q.weight) {
      const TrainTensor &w = m.sval[x];
      Tensor wt(g.values[x].constant->dtype(), w.shape);
      for (int64_t e = 0; e < q.n; ++e) {
        wt[e] = w.v[e];
        FixedFormat f = hgq_weight_format(q, e, w.v[e]);
        tk[e] = f.k;
        ti[e] = f.i;
        tf[e] = f.f;
      }
      g.values[x].constant = std::move(wt);
    } else {
      for (int64_t e = 0; e < q.n; ++e) {
        FixedFormat f{0, 0, 0};
        if (q.seen) {
          int64_t lo, hi;
          hgq_act_interval(q, e, lo, hi, cover);
          f = hgq_act_format(q, e, lo, hi);
        }
        tk[e] = f.k;
        ti[e] = f.i;
        tf[e] = f.f;
      }
    }
    const std::string base = g.values[x].name;
    n.inputs[1] = g.add_constant(base + "_k", std::move(tk));
    n.inputs[2] = g.add_constant(base + "_i", std::move(ti));
    n.inputs[3] = g.add_constant(base + "_f", std::move(tf));
    n.attrs["round_mode"] = std::string("RND");
    n.attrs["overflow_mode"] = std::string("SAT");
  }
  g.remove_dead();
  verify(g);
  return g;
}

} // namespace hgqc
