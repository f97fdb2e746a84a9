// The LUT cost of HGQ training (docs/training.md "LUT cost"): the calibrated LUT model's bit
// classes priced on the per-element widths, with their width gradients.
#include "backend/cmvm_lower.h"
#include "backend/csd.h"
#include "qat/cost.h"

#include "ir/op.h"
#include "ir/ops/pool_common.h"

#include <algorithm>
#include <cmath>
#include <optional>

namespace hgqc {

namespace {

using backend::kLutCoef;
constexpr double kAdd = kLutCoef[backend::kCarry2];   // an adder bit of two signals
constexpr double kRound = kLutCoef[backend::kCarry1]; // a rounding carry bit
constexpr double kMux = kLutCoef[backend::kMux];      // a ReLU / max mux bit
constexpr double kMulBit = kLutCoef[backend::kMulBits];

// Nonzero CSD digits of an integer; magnitudes beyond csd_weight's range (never a trained
// weight) count as one digit per two bits, the CSD maximum, and a non-finite value none.
int digits_of(double v) {
  double a = std::fabs(std::nearbyint(v));
  if (!std::isfinite(a))
    return 0;
  if (a < 0x1p62)
    return backend::csd_weight(static_cast<int64_t>(std::nearbyint(v)));
  return static_cast<int>(std::ceil(std::log2(a) / 2));
}

// Elementwise nodes of unchanged shape that lie between a linear node and the activation
// quantizer narrowing its outputs.
bool passes_shape(OpKind k) {
  return k == OpKind::Add || k == OpKind::Sub || k == OpKind::Relu ||
         k == OpKind::BatchNormalization;
}

// Runs node n's train_forward on ins and returns its output.
void run_forward(const Node &n, std::vector<const TrainTensor *> &ins, TrainTensor &y,
                 std::any &cache) {
  std::vector<TrainTensor *> outs{&y};
  std::vector<const Tensor *> noconsts(n.inputs.size(), nullptr);
  TrainContext ctx{noconsts, &cache};
  op_def(n.op).train_forward(n, ins, outs, ctx);
}

// Node n's backward from output gradient dy into the inputs' gradients dins.
void run_backward(const Node &n, std::vector<const TrainTensor *> &ins, const TrainTensor &y,
                  const TrainTensor &dy, std::vector<TrainTensor *> &dins, std::any &cache) {
  std::vector<const TrainTensor *> douts{&dy}, youts{&y};
  std::vector<const Tensor *> noconsts(n.inputs.size(), nullptr);
  TrainContext ctx{noconsts, &cache};
  op_def(n.op).backward(n, ins, youts, douts, dins, ctx);
}

} // namespace

void CostModel::find_lut_terms(const Graph &g, const std::vector<HgqQuantizer> &quants) {
  const size_t nv = g.values.size();
  std::vector<std::vector<int>> readers(nv);
  for (size_t ni = 0; ni < g.nodes.size(); ++ni)
    for (ValueId v : g.nodes[ni].inputs)
      if (v != kNoValue)
        readers[static_cast<size_t>(v)].push_back(static_cast<int>(ni));
  std::vector<int> quant_node(g.nodes.size(), -1);
  for (size_t q = 0; q < quants.size(); ++q)
    quant_node[static_cast<size_t>(quants[q].node)] = static_cast<int>(q);
  auto batch1 = [&](ValueId v) {
    Dims d = g.values[v].type.dims;
    if (!d.empty())
      d[0] = 1;
    return d;
  };
  // The activation quantizer reading v (same dims) through shape-keeping elementwise nodes.
  auto narrowing_quant = [&](ValueId v) {
    const Dims d = batch1(v);
    for (int hops = 0; hops < 8 && v != kNoValue; ++hops) {
      const std::vector<int> &r = readers[static_cast<size_t>(v)];
      if (r.size() != 1)
        return -1;
      const Node &u = g.nodes[static_cast<size_t>(r[0])];
      int q = quant_node[static_cast<size_t>(r[0])];
      if (q >= 0)
        return !quants[q].weight && u.inputs[0] == v && quants[q].dims == d ? q : -1;
      if (!passes_shape(u.op) || u.outputs.empty() || u.outputs[0] == kNoValue ||
          batch1(u.outputs[0]) != d)
        return -1;
      v = u.outputs[0];
    }
    return -1;
  };
  for (EbopsTerm &t : terms_) {
    const Node &n = g.nodes[static_cast<size_t>(t.node)];
    if (!t.counts.empty()) {
      t.max = n.op == OpKind::MaxPool || n.op == OpKind::ReduceMax;
      continue;
    }
    const bool weight = t.qw >= 0 && quants[t.qw].weight;
    if (t.qw < 0) {
      // An untrained constant: its integers' CSD digits (minus one for a Mul: its adders).
      const Tensor &ct = *g.values[n.inputs[static_cast<size_t>(t.iw)]].constant;
      t.digits.resize(ct.shape());
      for (int64_t j = 0; j < ct.numel(); ++j) {
        std::optional<Interval> iv = constant_interval(ct[j]);
        HGQC_ASSERT(iv.has_value(), "a product term's constant has no exact interval");
        int d = digits_of(static_cast<double>(iv->lo));
        t.digits.v[static_cast<size_t>(j)] =
            static_cast<float>(n.op == OpKind::Mul ? std::max(d - 1, 0) : d);
      }
    }
    if (weight || (t.qw < 0 && n.op != OpKind::Mul)) {
      t.layer = static_cast<int>(layers_.size());
      layers_.push_back(LutLayer{t.node, n.name, 0, 1});
      if (!n.outputs.empty() && n.outputs[0] != kNoValue)
        t.out_q = narrowing_quant(n.outputs[0]);
    }
  }
  // Average pools of a graph input narrowed by an activation quantizer (through Flatten or
  // Reshape): the windows a ROM may replace, with that quantizer's rounding.
  std::vector<uint8_t> pooled_rom(quants.size(), 0);
  for (EbopsTerm &t : terms_) {
    const Node &n = g.nodes[static_cast<size_t>(t.node)];
    if (t.counts.empty() || t.max || n.op != OpKind::AveragePool || n.outputs.empty())
      continue;
    const ValueId xin = g.nodes[static_cast<size_t>(quants[t.qa].node)].inputs[0];
    if (std::find(g.inputs.begin(), g.inputs.end(), xin) == g.inputs.end())
      continue;
    ValueId v = n.outputs[0];
    const int64_t numel = dims_numel(batch1(v));
    int q = -1;
    for (int hops = 0; hops < 4 && v != kNoValue && q < 0; ++hops) {
      const std::vector<int> &r = readers[static_cast<size_t>(v)];
      if (r.size() != 1)
        break;
      const Node &u = g.nodes[static_cast<size_t>(r[0])];
      const int uq = quant_node[static_cast<size_t>(r[0])];
      if (uq >= 0) {
        if (!quants[uq].weight && u.inputs[0] == v && quants[uq].n == numel)
          q = uq;
        break;
      }
      if ((u.op != OpKind::Flatten && u.op != OpKind::Reshape) || u.outputs.empty())
        break;
      v = u.outputs[0];
    }
    if (q < 0 || pooled_rom[static_cast<size_t>(q)])
      continue;
    const ops::PoolRangeGeom geo = ops::pool_range_geom(n, quants[t.qa].dims);
    if (geo.planes * geo.osz != numel)
      continue;
    t.rom_q = q;
    pooled_rom[static_cast<size_t>(q)] = 1;
    t.win_begin.assign(1, 0);
    for (int64_t e = 0; e < numel; ++e) {
      geo.for_taps(e, [&](int64_t xe) { t.win_el.push_back(xe); });
      t.win_begin.push_back(static_cast<int64_t>(t.win_el.size()));
    }
  }
  // Rounding: every activation quantizer but those of the graph inputs (ports, already on
  // their grid) rounds to nearest (RND), a carry over its output bits (a pooled ROM's
  // quantizer: with the pool).
  for (size_t q = 0; q < quants.size(); ++q) {
    if (quants[q].weight || pooled_rom[q])
      continue;
    ValueId x = g.nodes[static_cast<size_t>(quants[q].node)].inputs[0];
    if (std::find(g.inputs.begin(), g.inputs.end(), x) == g.inputs.end())
      requant_.push_back(static_cast<int>(q));
  }
  // ReLU: a mux per bit of the activation quantizer reading its output (or feeding it).
  const std::vector<int> prod = g.producers();
  for (size_t ni = 0; ni < g.nodes.size(); ++ni) {
    const Node &n = g.nodes[ni];
    if (n.op != OpKind::Relu || n.outputs.empty() || n.outputs[0] == kNoValue)
      continue;
    int q = narrowing_quant(n.outputs[0]);
    if (q < 0) {
      int p = prod[static_cast<size_t>(n.inputs[0])];
      q = p >= 0 ? quant_node[static_cast<size_t>(p)] : -1;
      if (q >= 0 && (quants[q].weight || quants[q].dims != batch1(n.outputs[0])))
        q = -1;
    }
    if (q >= 0)
      relu_.push_back(q);
  }
}

double CostModel::linear_luts(const Graph &g, EbopsTerm &t, const std::vector<HgqQuantizer> &quants,
                              const TrainTensor *wq, double beta,
                              std::vector<std::vector<float>> &egrad) {
  const Node &n = g.nodes[static_cast<size_t>(t.node)];
  const HgqQuantizer &qa = quants[t.qa];
  const HgqQuantizer *qw = t.qw >= 0 ? &quants[t.qw] : nullptr;
  LutLayer &layer = layers_[static_cast<size_t>(t.layer)];
  // d: the nonzero CSD digits of each weight's integer round(w 2^f), 0 when pruned.
  TrainTensor dig;
  const TrainTensor *d = &t.digits;
  if (qw) {
    HGQC_ASSERT(wq && static_cast<int64_t>(wq->v.size()) == qw->n,
                "the LUT cost needs the quantized weights of " + n.name);
    dig.resize(qw->dims);
    for (int64_t k = 0; k < qw->n; ++k)
      dig.v[k] = qw->live[k] > 0 ? static_cast<float>(digits_of(wq->v[k] * qw->scale[k])) : 0.0f;
    d = &dig;
  }
  TrainTensor ba, la, S, D;
  ba.shape = la.shape = qa.dims;
  ba.v = qa.width;
  la.v = qa.live;
  std::vector<const TrainTensor *> ins_b(n.inputs.size(), nullptr), ins_l(n.inputs.size(), nullptr);
  ins_b[static_cast<size_t>(t.ia)] = &ba;
  ins_l[static_cast<size_t>(t.ia)] = &la;
  ins_b[static_cast<size_t>(t.iw)] = ins_l[static_cast<size_t>(t.iw)] = d;
  run_forward(n, ins_b, S, t.cache); // S_j = sum_i d_ij b_i
  run_forward(n, ins_l, D, t.cache); // D_j = sum_i d_ij live_i: the surviving terms' digits
  const HgqQuantizer *qo = t.out_q >= 0 ? &quants[t.out_q] : nullptr;
  HGQC_ASSERT(!qo || qo->n == static_cast<int64_t>(S.v.size()),
              "the quantizer after " + n.name + " has another shape");
  TrainTensor dS, dD;
  dS.assign(S.shape, 0.0f);
  dD.assign(D.shape, 0.0f);
  double raw = 0;
  const double sc = layer.scale;
  for (size_t j = 0; j < S.v.size(); ++j) {
    const double Dj = D.v[j], Sj = S.v[j], L = qo ? qo->live[j] : 1.0f;
    if (!(Dj >= 1) || L == 0)
      continue;
    // D - 1 adders at the mean term width S / D, plus the accumulator's growth G: in a
    // balanced tree of D terms, half the adders sit on the first level (one bit of growth),
    // a quarter on the second, ...: a mean of G = 2 (1 - 1/D) bits per adder.
    const double keep = 1 - 1 / Dj, G = 2 * keep;
    raw += kAdd * keep * (Sj + G * Dj) * L;
    dS.v[j] = static_cast<float>(sc * kAdd * keep * L);
    // d/dD of keep S + 2 keep^2 D, with d keep / dD = 1 / D^2.
    dD.v[j] =
        static_cast<float>(sc * kAdd * (Sj / (Dj * Dj) + 4 * keep / Dj + 2 * keep * keep) * L);
  }
  layer.raw = raw;
  if (beta == 0)
    return raw * sc;
  TrainTensor da, dl, dd1, dd2;
  std::vector<TrainTensor *> dins(n.inputs.size(), nullptr);
  dins[static_cast<size_t>(t.ia)] = &da;
  if (qw)
    dins[static_cast<size_t>(t.iw)] = &dd1;
  run_backward(n, ins_b, S, dS, dins, t.cache);
  dins[static_cast<size_t>(t.ia)] = &dl;
  if (qw)
    dins[static_cast<size_t>(t.iw)] = &dd2;
  run_backward(n, ins_l, D, dD, dins, t.cache);
  for (int64_t k = 0; k < qa.n; ++k)
    egrad[t.qa][k] += static_cast<float>(beta * da.v[k]) * qa.live[k];
  // A surviving weight's digits grow by kCsdDigitsPerBit per bit of width.
  if (qw)
    for (int64_t k = 0; k < qw->n; ++k)
      egrad[t.qw][k] +=
          static_cast<float>(beta * kCsdDigitsPerBit * (dd1.v[k] + dd2.v[k])) * qw->live[k];
  return raw * sc;
}

double CostModel::pooled_rom_luts(const EbopsTerm &t, const std::vector<HgqQuantizer> &quants,
                                  double rb, std::vector<std::vector<float>> &egrad, bool grad) {
  // Window j of B input bits (its live elements' widths), narrowed to O bits: its adders and
  // the rounding, or a ROM of O outputs on B address bits where 0 < B <= the ROM cones' limit
  // and that is cheaper (backend rom_cones.cpp): O LUT6s up to 6 bits, doubling per bit above.
  const HgqQuantizer &qa = quants[static_cast<size_t>(t.qa)];
  const HgqQuantizer &qo = quants[static_cast<size_t>(t.rom_q)];
  const double max_bits = backend::CmvmLowerOptions{}.rom_cone_bits;
  double luts = 0;
  for (size_t j = 0; j + 1 < t.win_begin.size(); ++j) {
    double B = 0, adders = 0;
    for (int64_t i = t.win_begin[j]; i < t.win_begin[j + 1]; ++i) {
      const size_t k = static_cast<size_t>(t.win_el[static_cast<size_t>(i)]);
      B += static_cast<double>(qa.width[k]) * qa.live[k];
      adders += kAdd * qa.width[k];
    }
    const double O = static_cast<double>(qo.width[j]) * qo.live[j];
    const double logic = adders + kRound * qo.width[j];
    // The ROM as a table function's (table_cost, in EBOPs): B address bits, O output bits.
    double rom_dB = 0, rom_dO = 0;
    const double rom = table_cost(B, O, &rom_dB, &rom_dO) / kEbopsPerLut;
    const bool use_rom = O > 0 && B > 0 && B <= max_bits && rom < logic;
    luts += use_rom ? rom : logic;
    if (!grad)
      continue;
    const double dB = use_rom ? rom_dB / kEbopsPerLut : kAdd;
    for (int64_t i = t.win_begin[j]; i < t.win_begin[j + 1]; ++i) {
      const size_t k = static_cast<size_t>(t.win_el[static_cast<size_t>(i)]);
      egrad[static_cast<size_t>(t.qa)][k] += static_cast<float>(rb * dB) * qa.live[k];
    }
    egrad[static_cast<size_t>(t.rom_q)][j] +=
        static_cast<float>(rb * (use_rom ? rom_dO / kEbopsPerLut : kRound)) * qo.live[j];
  }
  return luts;
}

double CostModel::add_luts(const Graph &g, const std::vector<HgqQuantizer> &quants,
                           const std::vector<const TrainTensor *> &wq, double beta,
                           std::vector<std::vector<float>> &egrad) {
  // Everything but the linear layers is scaled by rest_scale_ (calibrated like a layer's
  // scale); `luts` collects it unscaled, `layers` the scaled linear layers.
  double luts = 0, layers = 0;
  const double rb = beta * rest_scale_;
  const float fb = static_cast<float>(rb);
  for (EbopsTerm &t : terms_) {
    const Node &n = g.nodes[static_cast<size_t>(t.node)];
    const HgqQuantizer &qa = quants[t.qa];
    if (t.rom_q >= 0) {
      luts += pooled_rom_luts(t, quants, rb, egrad, beta != 0);
      continue;
    }
    if (!t.counts.empty()) {
      // Pooling. Sums: an adder per addend at its width. Maxima: each window of T elements
      // is T - 1 comparators and muxes, spread over the elements as (sum counts - windows) /
      // sum counts of each addend.
      double per = kAdd;
      if (t.max) {
        double total = 0;
        for (float c : t.counts)
          total += c;
        const Dims &od = g.values[n.outputs[0]].type.dims;
        double windows = static_cast<double>(dims_numel(Dims(od.begin() + 1, od.end())));
        per = total > 0 ? (kAdd + kMux) * std::max(total - windows, 0.0) / total : 0;
      }
      for (int64_t k = 0; k < qa.n; ++k) {
        luts += per * t.counts[k] * qa.width[k];
        if (beta != 0)
          egrad[t.qa][k] += static_cast<float>(rb * per * t.counts[k]) * qa.live[k];
      }
      continue;
    }
    if (t.layer >= 0) {
      layers += linear_luts(g, t, quants, t.qw >= 0 ? wq[static_cast<size_t>(t.qw)] : nullptr, beta,
                            egrad);
      continue;
    }
    if (t.qw < 0) {
      // A Mul by a constant: digits(c) - 1 adders at the activation's width.
      TrainTensor ba, y, ones, da;
      ba.shape = qa.dims;
      ba.v = qa.width;
      std::vector<const TrainTensor *> ins(n.inputs.size(), nullptr);
      ins[static_cast<size_t>(t.ia)] = &ba;
      ins[static_cast<size_t>(t.iw)] = &t.digits;
      run_forward(n, ins, y, t.cache);
      for (float v : y.v)
        luts += kAdd * v;
      if (beta == 0)
        continue;
      ones.assign(y.shape, static_cast<float>(kAdd));
      std::vector<TrainTensor *> dins(n.inputs.size(), nullptr);
      dins[static_cast<size_t>(t.ia)] = &da;
      run_backward(n, ins, y, ones, dins, t.cache);
      for (int64_t k = 0; k < qa.n; ++k)
        egrad[t.qa][k] += fb * da.v[k] * qa.live[k];
      continue;
    }
    const HgqQuantizer &qb = quants[t.qw];
    if (n.op == OpKind::Mul && qa.dims == qb.dims) {
      // A multiplier per product: m w ceil(log2(m + 1)) bits for factors of m <= w bits.
      for (int64_t k = 0; k < qa.n; ++k) {
        const bool a_small = qa.width[k] <= qb.width[k];
        const double m = a_small ? qa.width[k] : qb.width[k];
        const double w = a_small ? qb.width[k] : qa.width[k];
        if (!(m > 0))
          continue;
        const double lv = std::ceil(std::log2(m + 1));
        luts += kMulBit * m * w * lv;
        if (beta == 0)
          continue;
        const float dm = static_cast<float>(rb * kMulBit * w * lv);
        const float dw = static_cast<float>(rb * kMulBit * m * lv);
        egrad[t.qa][k] += (a_small ? dm : dw) * qa.live[k];
        egrad[t.qw][k] += (a_small ? dw : dm) * qb.live[k];
      }
      continue;
    }
    // Other products of two signals (a broadcasting Mul, a MatMul of two activations): their
    // EBOPs priced in LUTs.
    luts += term_ebops(g, t, quants, rb / kEbopsPerLut, egrad, beta != 0) / kEbopsPerLut;
  }
  for (int q : requant_)
    for (int64_t k = 0; k < quants[q].n; ++k) {
      luts += kRound * quants[q].width[k];
      if (beta != 0)
        egrad[q][k] += static_cast<float>(rb * kRound) * quants[q].live[k];
    }
  for (int q : relu_)
    for (int64_t k = 0; k < quants[q].n; ++k) {
      luts += kMux * quants[q].width[k];
      if (beta != 0)
        egrad[q][k] += static_cast<float>(rb * kMux) * quants[q].live[k];
    }
  if (beta != 0) {
    luts += add_tables(quants, rb / kEbopsPerLut, egrad) / kEbopsPerLut;
  } else {
    for (const TableTerm &t : tables_)
      for (int64_t k = 0; k < quants[t.qin].n; ++k) {
        double d_in, d_out;
        luts += table_cost(quants[t.qin].width[k], quants[t.qout].width[k], &d_in, &d_out) /
                kEbopsPerLut;
      }
  }
  rest_raw_ = luts;
  return layers + luts * rest_scale_;
}

double LutScaleAverage::update(const std::string &key, double old, double ratio, double raw) {
  auto [it, first] = last_raw_.try_emplace(key, raw);
  const double prev = it->second;
  it->second = raw;
  if (first || !(old > 0) || !(raw > 0) || !(prev > 0))
    return ratio;
  const double w = std::min(1.0, kWeight + kDrift * std::fabs(std::log(raw / prev)));
  return std::exp((1 - w) * std::log(old) + w * std::log(ratio));
}

bool CostModel::set_lut_scale(int node, double factor) {
  for (LutLayer &l : layers_)
    if (l.node == node) {
      l.scale = factor;
      return true;
    }
  return false;
}

bool CostModel::set_lut_scale(const std::string &name, double factor) {
  for (LutLayer &l : layers_)
    if (l.name == name) {
      l.scale = factor;
      return true;
    }
  return false;
}

} // namespace hgqc
