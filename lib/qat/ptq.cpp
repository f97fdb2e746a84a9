// Post-training uniform quantization with integer bits from calibration data.
#include "qat/ptq.h"

#include "ir/eval.h"
#include "ir/op.h"
#include "ir/passes/passes.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace hgqc {

namespace {
struct Stats {
  double min = 0, max = 0;
};

Stats stats_of(const Tensor &t) {
  Stats s;
  bool first = true;
  for (double v : t.data()) {
    s.min = first ? v : std::min(s.min, v);
    s.max = first ? v : std::max(s.max, v);
    first = false;
  }
  return s;
}

// The uniform format of `bits` covering [s.min, s.max] * cover.
FixedFormat format_for(Stats s, int bits, double cover) {
  int k = s.min < 0 ? 1 : 0;
  double m = std::max(std::fabs(s.min), std::fabs(s.max)) * cover;
  int i = m > 0 ? static_cast<int>(std::floor(std::log2(m))) + 1 : 0;
  return FixedFormat{k, i, bits - k - i};
}

bool is_linear(OpKind k) { return k == OpKind::MatMul || k == OpKind::Gemm || k == OpKind::Conv; }

} // namespace

std::vector<ValueId> activation_quant_points(const Graph &g) {
  std::vector<ValueId> acts;
  auto add_act = [&](ValueId v) {
    if (std::find(acts.begin(), acts.end(), v) == acts.end())
      acts.push_back(v);
  };
  for (ValueId v : g.inputs)
    if (is_float(g.values[v].type.dtype))
      add_act(v);
  for (const Node &n : g.nodes) {
    if (is_linear(n.op) && !g.values[n.inputs[0]].constant)
      add_act(n.inputs[0]);
    // A product of two run-time values (Mul, MatMul): both factors, so that each multiplier
    // has quantized (and, in training, learned) operand widths.
    if ((n.op == OpKind::Mul || n.op == OpKind::MatMul) && n.inputs.size() == 2 &&
        !g.values[n.inputs[0]].constant && !g.values[n.inputs[1]].constant) {
      add_act(n.inputs[0]);
      add_act(n.inputs[1]);
    }
    // The input of a max pool (MaxPool, ReduceMax): its comparators and muxes work at the
    // input's widths, so those are set (and, in training, charged and learned).
    if ((n.op == OpKind::MaxPool || n.op == OpKind::ReduceMax) && !g.values[n.inputs[0]].constant)
      add_act(n.inputs[0]);
    if (op_def(n.op).table) { // a table's input width sets its size, its output its format
      if (!g.values[n.inputs[0]].constant)
        add_act(n.inputs[0]);
      add_act(n.outputs[0]);
    }
  }
  return acts;
}

void read_through_quantizer(Graph &g, ValueId v, ValueId q) {
  for (Node &n : g.nodes)
    if (!(n.op == OpKind::FixedQuant && n.outputs[0] == q))
      std::replace(n.inputs.begin(), n.inputs.end(), v, q);
  if (std::find(g.outputs.begin(), g.outputs.end(), v) != g.outputs.end()) {
    std::replace(g.outputs.begin(), g.outputs.end(), v, q);
    std::swap(g.values[v].name, g.values[q].name);
  }
}

bool is_weight_quant_point(const Graph &g, const Node &n, size_t j) {
  // Constant terms of the elementwise sums and comparisons (Add, Sub, and the variadic Sum, Mean,
  // Max and Min) are quantized as biases.
  bool add = n.op == OpKind::Add || n.op == OpKind::Sub || n.op == OpKind::Sum ||
             n.op == OpKind::Mean || n.op == OpKind::Max || n.op == OpKind::Min;
  if ((!is_linear(n.op) && !add) || (!add && j == 0) || j >= n.inputs.size())
    return false;
  ValueId w = n.inputs[j];
  return w != kNoValue && g.values[w].constant;
}

PtqReport quantize_uniform(Graph &g, const std::vector<Tensor> &calib, const PtqOptions &opt) {
  for (int b : {opt.weight_bits, opt.act_bits})
    if (b < 1 || b > 32)
      throw UserError("bit width " + std::to_string(b) + " is not supported (1..32)");
  if (!(opt.cover_factor >= 1))
    throw UserError("the cover factor must be >= 1");
  for (const Node &n : g.nodes)
    if (n.op == OpKind::Quant || n.op == OpKind::FixedQuant || n.op == OpKind::BipolarQuant)
      throw UserError("the model is already quantized (node '" + n.name + "')");

  // Values that get an activation quantizer: graph inputs and non-constant inputs of the
  // linear ops.
  std::vector<ValueId> acts = activation_quant_points(g);

  // Calibration: the float model with those values as extra outputs.
  Graph probe = g;
  for (ValueId v : acts)
    probe.outputs.push_back(v);
  std::vector<Tensor> res = evaluate(probe, calib);
  std::map<ValueId, Stats> st;
  for (size_t j = 0; j < acts.size(); ++j) {
    const Tensor &t = res[g.outputs.size() + j];
    for (double v : t.data())
      if (!std::isfinite(v))
        throw UserError("value '" + g.values[acts[j]].name +
                        "' is not finite on the calibration data");
    st[acts[j]] = stats_of(t);
  }

  PtqReport rep;
  auto describe = [&](ValueId v, FixedFormat f, Stats s) {
    char buf[96];
    std::snprintf(buf, sizeof buf, " range [%.6g, %.6g]", s.min, s.max);
    rep.lines.push_back(g.values[v].name + ": " + f.str() + buf);
  };
  // Activations: one quantizer per value, placed right after its definition (at the top
  // for graph inputs), read by every consumer.
  std::vector<int> prod = g.producers();
  for (ValueId v : acts) {
    Stats s = st[v];
    FixedFormat f = format_for(s, opt.act_bits, opt.cover_factor);
    size_t at = prod[v] < 0 ? 0 : static_cast<size_t>(prod[v]) + 1;
    describe(v, f, s);
    ValueId q = insert_fixed_quant(g, at, v, f, opt.round, opt.act_overflow);
    read_through_quantizer(g, v, q);
    prod = g.producers();
    ++rep.act_quantizers;
  }
  // Weights and biases: constants read by the linear ops, and constant terms of Add/Sub
  // (a bias added after a MatMul).
  for (size_t ni = 0; ni < g.nodes.size(); ++ni) {
    for (size_t j = 0; j < g.nodes[ni].inputs.size(); ++j) {
      if (!is_weight_quant_point(g, g.nodes[ni], j))
        continue;
      ValueId w = g.nodes[ni].inputs[j];
      Stats s = stats_of(*g.values[w].constant);
      FixedFormat f = format_for(s, opt.weight_bits, 1.0);
      describe(w, f, s);
      ValueId q = insert_fixed_quant(g, ni, w, f, opt.round, OverflowMode::SAT);
      ++ni; // the node moved one place down
      g.nodes[ni].inputs[j] = q;
      ++rep.weight_quantizers;
    }
  }
  verify(g);
  return rep;
}

} // namespace hgqc
