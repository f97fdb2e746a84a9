// The emit-verilog flow: lower a quantized graph, remove dead logic, check the netlist against
// the emulator, schedule the pipeline, write Verilog and the report.
#include "backend/emit.h"

#include "ir/error.h"
#include "ir/lower.h"

#include <cmath>
#include <map>
#include <random>

namespace hgqc::backend {

namespace {
// The FixedQuant reading graph input i.
const Node &input_quantizer(const Graph &g, size_t i) {
  ValueId v = g.inputs[i];
  for (const Node &n : g.nodes)
    if (n.op == OpKind::FixedQuant && !n.inputs.empty() && n.inputs[0] == v)
      return n;
  throw UserError("input '" + g.values[v].name + "' is not read by a FixedQuant");
}

int64_t per_sample(const Dims &d) { return dims_numel(range_dims(d)); }

nlohmann::json fields_json(const std::vector<BusField> &fs) {
  nlohmann::json a = nlohmann::json::array();
  for (const BusField &b : fs)
    a.push_back({{"port", b.port},
                 {"element", b.element},
                 {"lsb", b.lsb},
                 {"width", b.width},
                 {"signed", b.is_signed},
                 {"f", b.f}});
  return a;
}

nlohmann::json lut_bits_json(const LutBits &b) {
  nlohmann::json j;
  for (int c = 0; c < kLutClasses; ++c)
    j[lut_class_name(c)] = b[static_cast<size_t>(c)];
  return j;
}

nlohmann::json layer_json(const LayerFigures &l) {
  return {{"name", l.name},
          {"adders", l.adders},
          {"other", l.other},
          {"multipliers", l.multipliers},
          {"luts_estimate", l.luts},
          {"output_bits", l.output_bits},
          {"lut_model_bits", lut_bits_json(l.bits)},
          {"ebops", l.ebops}};
}
} // namespace

std::vector<FixedTensor> quantized_inputs(const Graph &g, const RangeAnalysis &ra,
                                          const std::vector<Tensor> &inputs) {
  HGQC_ASSERT(inputs.size() == g.inputs.size(), "input count");
  std::vector<FixedTensor> out;
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    const Node &q = input_quantizer(g, i);
    const ValueRange &r = *ra.ranges[q.outputs[0]];
    auto val = [&](size_t j) { return *g.values[q.inputs[j]].constant; };
    auto fmts = broadcast_formats(val(1), val(2), val(3), r.dims);
    RoundMode rnd = *parse_round_mode(attr_string(q, "round_mode", "TRN"));
    OverflowMode ovf = *parse_overflow_mode(attr_string(q, "overflow_mode", "WRAP"));
    const Tensor &x = inputs[i];
    int64_t per = static_cast<int64_t>(fmts.size());
    FixedTensor t{x.shape(), std::vector<int64_t>(static_cast<size_t>(x.numel()))};
    for (int64_t j = 0; j < x.numel(); ++j) {
      if (!std::isfinite(x[j]))
        throw UserError("input '" + g.values[g.inputs[i]].name + "' holds NaN or infinite values");
      t.q[static_cast<size_t>(j)] =
          quantize_real(x[j], fmts[static_cast<size_t>(j % per)], rnd, ovf).q;
    }
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<Tensor> random_inputs(const Graph &g, const RangeAnalysis &ra, int64_t count,
                                  uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Tensor> out;
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    const Node &q = input_quantizer(g, i);
    const ValueRange &r = *ra.ranges[q.outputs[0]];
    Dims d = r.dims;
    d[0] = count;
    Tensor x(DType::Float64, d);
    int64_t per = dims_numel(r.dims);
    for (int64_t s = 0; s < count; ++s)
      for (int64_t e = 0; e < per; ++e) {
        const Interval &iv = r.el[static_cast<size_t>(e)];
        int64_t lo = static_cast<int64_t>(iv.lo), hi = static_cast<int64_t>(iv.hi), v;
        if (s % 16 == 15)
          v = ((s / 16 + e) % 2) ? hi : lo;
        else
          v = std::uniform_int_distribution<int64_t>(lo, hi)(rng);
        x[s * per + e] = std::ldexp(static_cast<double>(v), -iv.f);
      }
    out.push_back(std::move(x));
  }
  return out;
}

void check_netlist(const Netlist &net, const Graph &g, const RangeAnalysis &ra,
                   const std::vector<Tensor> &xs) {
  HGQC_ASSERT(!xs.empty(), "check inputs");
  std::vector<FixedTensor> qs = quantized_inputs(g, ra, xs);
  const int64_t count =
      static_cast<int64_t>(qs[0].q.size()) / per_sample(g.values[g.inputs[0]].type.dims);
  FixedRun run = evaluate_fixed(g, ra, xs);
  for (int64_t s = 0; s < count; ++s) {
    std::vector<FixedTensor> one;
    for (size_t i = 0; i < qs.size(); ++i) {
      int64_t per = per_sample(g.values[g.inputs[i]].type.dims);
      one.push_back(FixedTensor{
          {1}, std::vector<int64_t>(qs[i].q.begin() + s * per, qs[i].q.begin() + (s + 1) * per)});
    }
    std::vector<int64_t> bus = input_bus_of(net, one);
    std::vector<Int128> vals = evaluate_netlist(net, bus);
    for (size_t o = 0; o < net.outputs.size(); ++o) {
      const NetPort &p = net.outputs[o];
      int64_t per = static_cast<int64_t>(p.el.size());
      for (int64_t e = 0; e < per; ++e) {
        const Interval &iv = p.range[static_cast<size_t>(e)];
        if (iv.zero())
          continue;
        Int128 got = net_value_at(p.el[static_cast<size_t>(e)], vals, iv.f);
        int64_t want = run.outputs[o].q[static_cast<size_t>(s * per + e)];
        if (got != want)
          throw CheckFailed("internal check failed: the netlist gives " + int128_str(got) +
                            " for output '" + p.name + "' element " + std::to_string(e) +
                            " of check vector " + std::to_string(s) + ", the emulator " +
                            std::to_string(want) + " (a bug in hgqc; please report it)");
      }
    }
  }
}

namespace {
// The netlist of `g`: CMVM lowering, dead-node removal, then ROM cones.
Netlist lower_design(const Graph &g, const RangeAnalysis &ra, const CmvmLowerOptions &cmvm,
                     CmvmStats &stats) {
  auto st = std::make_shared<CmvmStats>();
  Netlist full = lower_graph(g, ra, make_cmvm_builder(cmvm, st));
  stats = *st;
  return collapse_rom_cones(remove_dead_nodes(full), cmvm.rom_cone_bits);
}

// Figures per layer of `net` (lowered from `g`) and their total.
void count_figures(const Netlist &net, const Graph &g, const RangeAnalysis &ra,
                   std::vector<LayerFigures> &layers, LayerFigures &total) {
  std::map<std::string, double> ebops;
  std::vector<double> ne = node_ebops(g, ra);
  for (size_t k = 0; k < g.nodes.size(); ++k)
    ebops[g.nodes[k].name] += ne[k];
  std::vector<LayerFigures> per(net.layers.size());
  for (size_t l = 0; l < per.size(); ++l) {
    per[l].name = net.layers[l];
    per[l].ebops = ebops.count(per[l].name) ? ebops[per[l].name] : 0;
  }
  for (size_t k = 0; k < net.nodes.size(); ++k) {
    const NetNode &n = net.nodes[k];
    if (n.layer < 0)
      continue;
    LayerFigures &l = per[static_cast<size_t>(n.layer)];
    switch (n.op) {
    case NetOp::Add:
    case NetOp::Sub:
    case NetOp::Neg:
      ++l.adders;
      l.output_bits += n.width();
      break;
    case NetOp::Round:
      if (n.rnd != RoundMode::TRN) {
        ++l.adders;
        l.output_bits += n.width();
      }
      break;
    case NetOp::Max:
    case NetOp::Min:
    case NetOp::Clamp:
    case NetOp::Relu:
    case NetOp::Table:
      ++l.other;
      l.output_bits += n.width();
      break;
    case NetOp::Mul:
      ++l.multipliers;
      l.output_bits += n.width();
      break;
    default:
      break;
    }
    LutBits nb = node_lut_bits(net, k);
    for (size_t c = 0; c < nb.size(); ++c)
      l.bits[c] += nb[c];
  }
  total = LayerFigures{};
  total.name = "total";
  layers.clear();
  for (LayerFigures &l : per) {
    l.luts = lut_estimate(l.bits);
    total.adders += l.adders;
    total.other += l.other;
    total.multipliers += l.multipliers;
    total.output_bits += l.output_bits;
    for (size_t c = 0; c < l.bits.size(); ++c)
      total.bits[c] += l.bits[c];
    total.ebops += l.ebops;
    if (l.adders || l.other || l.multipliers || l.ebops)
      layers.push_back(l);
  }
  total.luts = lut_estimate(total.bits);
}
} // namespace

DesignFigures estimate_design(const Graph &g, const RangeAnalysis &ra,
                              const CmvmLowerOptions &cmvm) {
  DesignFigures f;
  Netlist net = lower_design(g, ra, cmvm, f.cmvm);
  count_figures(net, g, ra, f.layers, f.total);
  return f;
}

EmittedDesign emit_design(const Graph &g, const RangeAnalysis &ra, const EmitOptions &options) {
  EmittedDesign d;
  d.net = lower_design(g, ra, options.cmvm, d.cmvm);

  // The netlist's own interpreter against the graph emulator.
  if (options.check_vectors > 0) {
    check_netlist(d.net, g, ra, random_inputs(g, ra, options.check_vectors, options.seed));
    d.checked_vectors = options.check_vectors;
  }

  d.sched = schedule_pipeline(d.net, options.pipeline);
  d.layout = bus_layout(d.net);
  d.verilog = write_verilog(d.net, d.sched, options.verilog);
  count_figures(d.net, g, ra, d.layers, d.total);
  for (size_t k = 0; k < d.net.nodes.size(); ++k) {
    const NetNode &n = d.net.nodes[k];
    int copies = d.sched.need[k] - d.sched.stage[k];
    if (n.layer >= 0 && n.op != NetOp::Const && copies > 0)
      d.registers += int64_t{copies} * n.width();
  }
  d.registers += d.sched.stages; // the valid chain
  return d;
}

nlohmann::json design_report(const EmittedDesign &d, const EmitOptions &o,
                             const std::string &model) {
  nlohmann::json j;
  j["generator"] = o.generator;
  j["model"] = model;
  j["top"] = o.verilog.top;
  j["file"] = o.verilog.top + ".v";
  j["reset"] = o.verilog.reset;
  j["latency_cycles"] = d.sched.stages;
  j["initiation_interval"] = 1;
  j["adder_depth"] = d.sched.depth;
  j["adder_levels_per_stage"] = d.sched.levels_per_stage;
  nlohmann::json ports = nlohmann::json::array();
  for (const NetPort &p : d.net.inputs)
    ports.push_back({{"name", p.name}, {"dims", p.dims}});
  j["inputs"] = ports;
  ports = nlohmann::json::array();
  for (const NetPort &p : d.net.outputs)
    ports.push_back({{"name", p.name}, {"dims", p.dims}});
  j["outputs"] = ports;
  j["in_width"] = d.layout.in_width;
  j["out_width"] = d.layout.out_width;
  j["in_fields"] = fields_json(d.layout.in);
  j["out_fields"] = fields_json(d.layout.out);
  nlohmann::json t = layer_json(d.total);
  t["registers"] = d.registers;
  t["netlist_nodes"] = d.net.nodes.size();
  j["totals"] = t;
  nlohmann::json layers = nlohmann::json::array();
  for (const LayerFigures &l : d.layers)
    layers.push_back(layer_json(l));
  j["layers"] = layers;
  j["cmvm"] = {{"products", d.cmvm.products}, {"cache_hits", d.cmvm.cache_hits}};
  j["checked_vectors"] = d.checked_vectors;
  return j;
}

} // namespace hgqc::backend
