// Test graphs built directly in memory: a node appender and a small quantized model.
#pragma once

#include "ir/op.h"

#include <string>
#include <vector>

namespace hgqc::test {

/// Appends node `name` (op `op` on `in`) to `g` with one new output value `out`, typed by shape
/// inference; returns the output.
inline ValueId add_node(Graph &g, const std::string &name, OpKind op, std::vector<ValueId> in,
                        const std::string &out, Attrs a) {
  Node n;
  n.name = name;
  n.op = op;
  n.source_op = std::string(op_def(op).name);
  n.inputs = std::move(in);
  n.attrs = std::move(a);
  ValueId o = g.add_value(out, {});
  n.outputs = {o};
  g.values[o].type = infer_node(g, n).at(0);
  g.nodes.push_back(std::move(n));
  return o;
}

/// x[N,4] -> FixedQuant (per-feature formats, one feature pruned) -> Gemm with per-element
/// quantized weights [3,4] and a quantized bias -> Relu -> FixedQuant (scalar format).
/// The k/i/f constants use int64, int32 and uint8 to exercise every integer type.
inline Graph fixed_mlp_graph() {
  Graph g;
  g.name = "fixed_mlp";
  auto cst = [&](const std::string &nm, DType t, Dims d, std::vector<double> v) {
    for (double &e : v)
      e = round_to_dtype(e, t);
    return g.add_value(nm, ValueType{t, d}, Tensor(t, d, std::move(v)));
  };
  auto node = [&](const std::string &name, OpKind op, std::vector<ValueId> in,
                  const std::string &out,
                  Attrs a) { return add_node(g, name, op, std::move(in), out, std::move(a)); };
  auto fq = [](const char *r, const char *o) {
    return Attrs{{"round_mode", std::string(r)}, {"overflow_mode", std::string(o)}};
  };
  ValueId x = g.add_value("x", ValueType{DType::Float32, {kDynamic, 4}});
  g.inputs = {x};
  // Feature 3 has width 1 + 0 + (-1) = 0: pruned.
  ValueId xq = node("x_quant", OpKind::FixedQuant,
                    {x, cst("x_k", DType::Int64, {4}, {1, 1, 0, 1}),
                     cst("x_i", DType::Int64, {4}, {2, 1, 3, 0}),
                     cst("x_f", DType::Int64, {4}, {5, 6, 4, -1})},
                    "x_q", fq("RND", "SAT"));
  std::vector<double> w, wk, wi, wf;
  for (int e = 0; e < 12; ++e) {
    w.push_back(0.37 * (e % 5) - 0.61 + 0.05 * e);
    wk.push_back(1);
    wi.push_back(e % 3 - 1);
    wf.push_back(2 + e % 4);
  }
  ValueId wq = node("w_quant", OpKind::FixedQuant,
                    {cst("w", DType::Float32, {3, 4}, w), cst("w_k", DType::Int32, {3, 4}, wk),
                     cst("w_i", DType::Int32, {3, 4}, wi), cst("w_f", DType::Int32, {3, 4}, wf)},
                    "w_q", fq("RND_CONV", "WRAP"));
  ValueId bq =
      node("b_quant", OpKind::FixedQuant,
           {cst("b", DType::Float32, {3}, {0.25, -0.8, 1.3}), cst("b_k", DType::UInt8, {}, {1}),
            cst("b_i", DType::UInt8, {}, {2}), cst("b_f", DType::UInt8, {}, {3})},
           "b_q", fq("TRN", "SAT_SYM"));
  ValueId y =
      node("fc", OpKind::Gemm, {xq, wq, bq}, "fc_out",
           Attrs{{"alpha", 1.0}, {"beta", 1.0}, {"transA", int64_t{0}}, {"transB", int64_t{1}}});
  ValueId r = node("relu", OpKind::Relu, {y}, "relu_out", {});
  ValueId out = node("out_quant", OpKind::FixedQuant,
                     {r, cst("o_k", DType::Int64, {}, {0}), cst("o_i", DType::Int64, {}, {3}),
                      cst("o_f", DType::Int64, {}, {4})},
                     "y", fq("RND", "SAT"));
  g.outputs = {out};
  verify(g);
  return g;
}

} // namespace hgqc::test
