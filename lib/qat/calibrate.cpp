// Calibration in passes: calibrate_checkpoint, then again with each activation quantizer followed
// by a clamp at its calibrated largest value, until the formats no longer change.
#include "qat/calibrate.h"

#include "frontend/onnx_export.h"
#include "frontend/onnx_import.h"
#include "ir/op.h"
#include "ir/passes/passes.h"
#include "qat/pareto.h"

#include <cmath>
#include <filesystem>
#include <map>
#include <set>

namespace hgqc {

namespace {

// An activation quantizer: a FixedQuant of a run-time value (as calibrate_checkpoint finds them).
bool is_act_quant(const Graph &g, const Node &n) {
  return n.op == OpKind::FixedQuant && !g.values[n.inputs[0]].constant;
}

Graph load(const std::string &file) {
  Graph g = import_onnx(file);
  normalize(g);
  return g;
}

using Formats = std::map<std::string, std::vector<FixedFormat>>;

// The per-element formats of every activation quantizer, by node name.
Formats act_formats(const Graph &g) {
  Formats out;
  for (const Node &n : g.nodes)
    if (is_act_quant(g, n))
      out[n.name] = broadcast_formats(*g.constant_of(n.inputs[1]), *g.constant_of(n.inputs[2]),
                                      *g.constant_of(n.inputs[3]),
                                      range_dims(g.values[n.inputs[0]].type.dims));
  return out;
}

// After each activation quantizer y = q(x) that computes no graph output and feeds no table
// function, c = h - relu(h - y), with h its format's largest value per element: y clamped where
// the calibrated format saturates (a rounded-up maximum), the readers of y reading c. Returns
// the names of the added nodes.
std::set<std::string> add_clamps(Graph &g) {
  std::set<std::string> names;
  for (const Node &n : g.nodes)
    names.insert(n.name);
  auto fresh = [&](const std::string &base) {
    std::string s = base;
    while (names.count(s))
      s += "_";
    names.insert(s);
    return s;
  };
  std::set<std::string> added;
  std::vector<Node> nodes;
  std::vector<std::pair<ValueId, ValueId>> rewire; // (y, c), t1 reads y
  std::vector<size_t> first_sub;                   // index in `nodes` of each clamp's h - y
  for (size_t ni = 0; ni < g.nodes.size(); ++ni) {
    nodes.push_back(g.nodes[ni]);
    const Node &q = g.nodes[ni];
    if (!is_act_quant(g, q))
      continue;
    ValueId y = q.outputs[0];
    bool skip = std::find(g.outputs.begin(), g.outputs.end(), y) != g.outputs.end();
    for (const Node &u : g.nodes)
      skip |=
          op_def(u.op).table && std::find(u.inputs.begin(), u.inputs.end(), y) != u.inputs.end();
    Dims d = range_dims(g.values[y].type.dims);
    std::vector<FixedFormat> f = broadcast_formats(
        *g.constant_of(q.inputs[1]), *g.constant_of(q.inputs[2]), *g.constant_of(q.inputs[3]), d);
    Tensor h(DType::Float32, d);
    for (size_t e = 0; e < f.size() && !skip; ++e) {
      // h must be exact in float32 (24 significant bits) for the clamp to be exact.
      skip |= f[e].qmax() >= (int64_t{1} << 24);
      h[static_cast<int64_t>(e)] = std::ldexp(static_cast<double>(f[e].qmax()), -f[e].f);
    }
    if (skip)
      continue;
    const std::string base = q.name + "_calib_clamp";
    ValueId hv = g.add_constant(base + "_h", std::move(h));
    ValueType ty = g.values[y].type;
    ValueId t1 = g.add_value(g.fresh_value_name(base + "_gap"), ty);
    ValueId t2 = g.add_value(g.fresh_value_name(base + "_over"), ty);
    ValueId c = g.add_value(g.fresh_value_name(base), ty);
    auto node = [&](OpKind op, std::vector<ValueId> in, ValueId out, const char *suffix) {
      Node m;
      m.name = fresh(base + suffix);
      m.op = op;
      m.source_op = std::string(op_def(op).name);
      m.inputs = std::move(in);
      m.outputs = {out};
      added.insert(m.name);
      nodes.push_back(std::move(m));
    };
    first_sub.push_back(nodes.size());
    node(OpKind::Sub, {hv, y}, t1, "_gap");
    node(OpKind::Relu, {t1}, t2, "_relu");
    node(OpKind::Sub, {hv, t2}, c, "");
    rewire.emplace_back(y, c);
  }
  g.nodes = std::move(nodes);
  for (size_t k = 0; k < rewire.size(); ++k) {
    g.replace_uses(rewire[k].first, rewire[k].second);
    g.nodes[first_sub[k]].inputs[1] = rewire[k].first;
  }
  verify(g);
  return added;
}

// Removes the clamps of add_clamps (found by node name): their readers read the quantizer again.
void remove_clamps(Graph &g, const std::set<std::string> &clamps) {
  std::vector<int> prod = g.producers();
  for (const Node &n : g.nodes) {
    if (!clamps.count(n.name) || n.op != OpKind::Sub || n.inputs.size() != 2 ||
        prod[n.inputs[1]] < 0)
      continue;
    const Node &r = g.nodes[static_cast<size_t>(prod[n.inputs[1]])];
    if (!clamps.count(r.name) || r.op != OpKind::Relu)
      continue;
    // n is c = h - relu(h - y): the last node of a clamp.
    const Node &t1 = g.nodes[static_cast<size_t>(prod[r.inputs[0]])];
    g.replace_uses(n.outputs[0], t1.inputs[1]);
  }
  g.remove_dead();
  for (const Node &n : g.nodes)
    HGQC_ASSERT(!clamps.count(n.name), "calibration clamp left in the model: " + n.name);
}

} // namespace

int calibrate_in_passes(const std::string &file, const Dataset &data, double cover, int threads) {
  calibrate_checkpoint(file, data, cover, threads);
  Graph g = load(file);
  Formats fmts = act_formats(g);
  const Graph first = g;
  const std::string probe = file + ".calib.onnx";
  int passes = 1;
  // Pass p makes the quantizers p levels deep final; there are at most as many levels as
  // quantizers.
  while (passes <= static_cast<int>(fmts.size())) {
    Graph c = g;
    std::set<std::string> clamps = add_clamps(c);
    if (clamps.empty())
      break;
    export_onnx(c, probe);
    Graph r;
    bool ok = true;
    try {
      calibrate_checkpoint(probe, data, cover, threads);
      r = load(probe);
    } catch (const UserError &) {
      // The clamps widen the probe by a bit; where that no longer fits, the file gets the first
      // pass's formats back: they cover the data (a pass between, traced behind clamps that
      // were not final yet, might not).
      ok = false;
    }
    std::error_code ec;
    std::filesystem::remove(probe, ec);
    if (!ok) {
      if (passes > 1)
        export_onnx(first, file);
      passes = 1;
      break;
    }
    ++passes;
    Formats next = act_formats(r);
    if (next == fmts)
      break;
    remove_clamps(r, clamps);
    export_onnx(r, file);
    g = std::move(r);
    fmts = std::move(next);
  }
  return passes;
}

} // namespace hgqc
