// The hardware cost surrogates of HGQ training (method.md §2): EBOPs and table terms found
// once per graph and evaluated on the widths with their gradients; the width term.
#include "qat/cost.h"

#include "ir/op.h"

#include <algorithm>
#include <cmath>
#include <optional>

namespace hgqc {

namespace {
EbopsTerm make_term(int node, int qa, int qw, int ia, int iw) {
  EbopsTerm t;
  t.node = node;
  t.qa = qa;
  t.qw = qw;
  t.ia = ia;
  t.iw = iw;
  return t;
}
} // namespace

double table_cost(double b_in, double b_out, double *d_in, double *d_out) {
  if (!(b_in > 0)) {
    *d_in = 0;
    *d_out = 0;
    return 0;
  }
  double rom = kEbopsPerLut * kLutsPerRomBit *
               std::exp2(std::max(b_in, kRomFloorBits) - kRomFloorBits); // per output bit
  *d_out = rom;
  *d_in = b_in > kRomFloorBits ? rom * b_out * std::log(2.0) : 0;
  return rom * b_out;
}

CostModel::CostModel(const Graph &g, const std::vector<HgqQuantizer> &quants,
                     const std::vector<int> &quant_of, const std::function<bool(ValueId)> &is_const,
                     int skip_node) {
  std::vector<int> prod = g.producers();
  const size_t nn = g.nodes.size();
  // EBOPs terms: nodes with an EBOPs hook reading an activation quantizer and either a weight
  // quantizer (Gemm, MatMul, Conv), a second activation quantizer (Mul, MatMul of two run-time
  // values) or a constant that is not trained (a Mul by a scale, which
  // the exact count charges as width(x) * width(c) per element, 0 where c is a power of two):
  // the constant's widths are those of its exact values, as the interval analysis takes them.
  auto quant_at = [&](ValueId v) {
    int p = v == kNoValue ? -1 : prod[v];
    return p >= 0 ? quant_of[static_cast<size_t>(p)] : -1;
  };
  // The activation quantizer whose values v carries, also through a Mul by constant powers of
  // two (a shift keeps every element's width; e.g. --normalize scale in front of a pool).
  auto quant_through_shift = [&](ValueId v) {
    int q = quant_at(v), p = v == kNoValue ? -1 : prod[v];
    if (q >= 0 || p < 0)
      return q;
    const Node &mul = g.nodes[static_cast<size_t>(p)];
    if (mul.op != OpKind::Mul || mul.inputs.size() != 2)
      return -1;
    for (int j = 0; j < 2; ++j) {
      ValueId c = mul.inputs[static_cast<size_t>(1 - j)];
      if (!is_const(c))
        continue;
      const Tensor &ct = *g.values[c].constant;
      bool shift = true;
      for (int64_t e = 0; e < ct.numel() && shift; ++e) {
        std::optional<Interval> iv = constant_interval(ct[e]);
        shift = iv && iv->power_of_two();
      }
      int qx = quant_at(mul.inputs[static_cast<size_t>(j)]);
      if (shift && qx >= 0 && g.values[v].type.dims == g.values[mul.inputs[j]].type.dims)
        return qx;
    }
    return -1;
  };
  for (size_t ni = 0; ni < nn; ++ni) {
    const Node &n = g.nodes[ni];
    if (op_def(n.op).addend_counts && static_cast<int>(ni) != skip_node) {
      int qa = quant_through_shift(n.inputs[0]);
      if (qa < 0 || quants[qa].weight)
        continue;
      EbopsTerm t = make_term(static_cast<int>(ni), qa, -1, 0, -1);
      op_def(n.op).addend_counts(n, quants[qa].dims, t.counts);
      HGQC_ASSERT(static_cast<int64_t>(t.counts.size()) == quants[qa].n,
                  "addend counts of the wrong size at " + n.name);
      terms_.push_back(std::move(t));
      continue;
    }
    if (!op_def(n.op).ebops || n.op == OpKind::FixedQuant || n.inputs.size() < 2 ||
        static_cast<int>(ni) == skip_node)
      continue;
    for (int ia = 0; ia < 2; ++ia) {
      int iw = 1 - ia, qa = quant_at(n.inputs[ia]), qw = quant_at(n.inputs[iw]);
      if (qa < 0 || quants[qa].weight)
        continue;
      // A weight, or a second activation (a product of two run-time values: a multiplier
      // charged b_a * b_b per product, with gradients to both widths).
      if (qw >= 0 && ia == 0) {
        terms_.push_back(make_term(static_cast<int>(ni), qa, qw, ia, iw));
        break;
      }
      ValueId c = n.inputs[iw];
      if (qw >= 0 || c == kNoValue || !is_const(c))
        continue;
      const Tensor &ct = *g.values[c].constant;
      TrainTensor cw;
      cw.resize(ct.shape());
      bool exact = true;
      for (int64_t j = 0; j < ct.numel() && exact; ++j) {
        std::optional<Interval> iv = constant_interval(ct[j]);
        exact = iv.has_value();
        if (exact)
          cw.v[static_cast<size_t>(j)] = static_cast<float>(iv->product_width());
      }
      if (exact) {
        // All shifts (e.g. a scale by 2^-8) cost nothing, and give no term.
        if (std::any_of(cw.v.begin(), cw.v.end(), [](float w) { return w != 0.0f; })) {
          EbopsTerm t = make_term(static_cast<int>(ni), qa, -1, ia, iw);
          t.cw = std::move(cw);
          terms_.push_back(std::move(t));
        }
        break;
      }
    }
  }
  // Table terms: a table function whose input an activation quantizer gives and whose output
  // an activation quantizer of the same shape reads (the one fuse_table_quant folds into it).
  std::vector<int> read_by(g.values.size(), -1);
  for (size_t ni = 0; ni < nn; ++ni) {
    int q = quant_of[ni];
    ValueId x = g.nodes[ni].inputs.empty() ? kNoValue : g.nodes[ni].inputs[0];
    if (q >= 0 && !quants[q].weight && x != kNoValue && read_by[x] < 0)
      read_by[x] = q;
  }
  for (size_t ni = 0; ni < nn; ++ni) {
    const Node &n = g.nodes[ni];
    if (!op_def(n.op).table || static_cast<int>(ni) == skip_node || n.inputs.empty() ||
        n.outputs.empty() || n.outputs[0] == kNoValue)
      continue;
    int qin = quant_at(n.inputs[0]), qout = read_by[n.outputs[0]];
    if (qin >= 0 && qout >= 0 && !quants[qin].weight && quants[qin].dims == quants[qout].dims)
      tables_.push_back(TableTerm{static_cast<int>(ni), qin, qout});
  }
  find_lut_terms(g, quants);
}

double CostModel::add_tables(const std::vector<HgqQuantizer> &quants, double beta,
                             std::vector<std::vector<float>> &egrad) const {
  double cost = 0;
  for (const TableTerm &t : tables_) {
    const HgqQuantizer &qi = quants[t.qin], &qo = quants[t.qout];
    for (int64_t k = 0; k < qi.n; ++k) {
      double d_in, d_out;
      cost += table_cost(qi.width[k], qo.width[k], &d_in, &d_out);
      egrad[t.qin][k] += static_cast<float>(beta * d_in) * qi.live[k];
      egrad[t.qout][k] += static_cast<float>(beta * d_out) * qo.live[k];
    }
  }
  return cost;
}

double CostModel::term_ebops(const Graph &g, EbopsTerm &t, const std::vector<HgqQuantizer> &quants,
                             double beta, std::vector<std::vector<float>> &egrad, bool grad) {
  // The linear node run on the widths (batch 1, no bias); its backward with a gradient of
  // ones gives d EBOPs / d width.
  const Node &n = g.nodes[static_cast<size_t>(t.node)];
  const HgqQuantizer &qa = quants[t.qa];
  const HgqQuantizer *qw = t.qw >= 0 ? &quants[t.qw] : nullptr;
  TrainTensor ba, bw, y, ones, da, dw;
  ba.shape = qa.dims;
  ba.v = qa.width;
  if (qw) {
    bw.shape = qw->dims;
    bw.v = qw->width;
  }
  std::vector<const TrainTensor *> ins(n.inputs.size(), nullptr);
  ins[static_cast<size_t>(t.ia)] = &ba;
  ins[static_cast<size_t>(t.iw)] = qw ? &bw : &t.cw;
  std::vector<TrainTensor *> outs{&y};
  std::vector<const Tensor *> noconsts(n.inputs.size(), nullptr);
  TrainContext ctx{noconsts, &t.cache};
  op_def(n.op).train_forward(n, ins, outs, ctx);
  double e = 0;
  for (float v : y.v)
    e += v;
  if (!grad)
    return e;
  ones.assign(y.shape, 1.0f);
  std::vector<const TrainTensor *> douts{&ones}, youts{&y};
  std::vector<TrainTensor *> dins(n.inputs.size(), nullptr);
  dins[static_cast<size_t>(t.ia)] = &da;
  if (qw)
    dins[static_cast<size_t>(t.iw)] = &dw;
  op_def(n.op).backward(n, ins, youts, douts, dins, ctx);
  for (int64_t k = 0; k < qa.n; ++k)
    egrad[t.qa][k] += static_cast<float>(beta) * da.v[k] * qa.live[k];
  if (qw)
    for (int64_t k = 0; k < qw->n; ++k)
      egrad[t.qw][k] += static_cast<float>(beta) * dw.v[k] * qw->live[k];
  return e;
}

double CostModel::add_ebops(const Graph &g, const std::vector<HgqQuantizer> &quants, double beta,
                            std::vector<std::vector<float>> &egrad) {
  double ebops = 0;
  for (EbopsTerm &t : terms_) {
    const HgqQuantizer &qa = quants[t.qa];
    if (!t.counts.empty()) {
      for (int64_t k = 0; k < qa.n; ++k) {
        ebops += static_cast<double>(t.counts[k]) * qa.width[k];
        egrad[t.qa][k] += static_cast<float>(beta) * t.counts[k] * qa.live[k];
      }
      continue;
    }
    ebops += term_ebops(g, t, quants, beta, egrad, true);
  }
  return ebops;
}

double CostModel::fold_widths(const std::vector<HgqQuantizer> &quants, double gamma,
                              const std::vector<std::vector<float>> &egrad,
                              std::vector<std::vector<float>> &fgrad) {
  double widths = 0;
  for (size_t qi = 0; qi < quants.size(); ++qi) {
    const HgqQuantizer &q = quants[qi];
    std::fill(fgrad[qi].begin(), fgrad[qi].end(), 0.0f);
    for (int64_t e = 0; e < q.n; ++e) {
      widths += q.width[e];
      fgrad[qi][q.fi(e)] += egrad[qi][e] + static_cast<float>(gamma) * q.live[e];
    }
  }
  return widths;
}

} // namespace hgqc
