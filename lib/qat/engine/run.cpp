// The training engine's run phase: forward over a batch split across the workers, the loss,
// one backward sweep, the reduction of the workers' gradients and the cost terms (method.md §2).
#include "qat/engine/impl.h"

#include "qat/loss.h"

#include "ir/op.h"
#include "ir/ops/train_kernels.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace hgqc {

namespace {
// The quantized values of each weight quantizer (by quantizer; null for activations), the
// cost's view of the weights after run_static_nodes().
std::vector<const TrainTensor *> quantized_weights(const Graph &g,
                                                   const std::vector<HgqQuantizer> &quants,
                                                   const std::vector<TrainTensor> &sval) {
  std::vector<const TrainTensor *> wq(quants.size(), nullptr);
  for (size_t qi = 0; qi < quants.size(); ++qi)
    if (quants[qi].weight)
      wq[qi] = &sval[g.nodes[static_cast<size_t>(quants[qi].node)].outputs[0]];
  return wq;
}
} // namespace

void TrainEngine::Impl::forward_rows(const Graph &g, std::vector<HgqQuantizer> &quants, Worker &w,
                                     const float *x, int64_t rows, const Dims &sample) {
  Impl &m = *this;
  TrainTensor &xin = w.val[m.input];
  Dims d{rows};
  d.insert(d.end(), sample.begin(), sample.end());
  xin.resize(d);
  std::memcpy(xin.data(), x, sizeof(float) * static_cast<size_t>(xin.numel()));
  std::vector<const TrainTensor *> ins;
  std::vector<TrainTensor *> outs;
  for (int ni : m.dyn_nodes) {
    const Node &n = g.nodes[static_cast<size_t>(ni)];
    ins.clear();
    outs.clear();
    for (ValueId v : n.inputs)
      ins.push_back(v == kNoValue                                              ? nullptr
                    : (m.kind[v] == Kind::Input || m.kind[v] == Kind::Dynamic) ? &w.val[v]
                                                                               : &m.sval[v]);
    for (ValueId v : n.outputs)
      outs.push_back(v == kNoValue ? nullptr : &w.val[v]);
    int qi = m.quant_of[static_cast<size_t>(ni)];
    try {
      if (qi >= 0) {
        hgq_act_forward(quants[qi], *ins[0], *outs[0], w.bmin[qi].data(), w.bmax[qi].data());
      } else {
        TrainContext ctx{m.consts[static_cast<size_t>(ni)], &w.cache[static_cast<size_t>(ni)]};
        op_def(n.op).train_forward(n, ins, outs, ctx);
      }
    } catch (const UserError &e) {
      throw e.with_location(n.loc());
    }
  }
}

void TrainEngine::Impl::backward_sweep(const Graph &g, std::vector<HgqQuantizer> &quants,
                                       const std::vector<int> &nodes, Worker *w) {
  Impl &m = *this;
  std::vector<char> &has = w ? w->has : m.static_has;
  std::vector<std::any> &cache = w ? w->cache : m.static_cache;
  auto per_sample = [&](ValueId v) {
    return w && (m.kind[v] == Kind::Input || m.kind[v] == Kind::Dynamic);
  };
  auto val = [&](ValueId v) -> TrainTensor & { return per_sample(v) ? w->val[v] : m.sval[v]; };
  auto grad = [&](ValueId v) -> TrainTensor & {
    return per_sample(v) ? w->grad[v] : w ? w->sgrad[v] : m.sgrad[v];
  };
  std::vector<const TrainTensor *> ins, outs, douts;
  std::vector<TrainTensor *> dins;
  for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) {
    const auto ni = static_cast<size_t>(*it);
    const Node &n = g.nodes[ni];
    bool any = false;
    for (ValueId v : n.outputs)
      any |= v != kNoValue && has[v];
    if (!any)
      continue;
    ins.clear();
    outs.clear();
    douts.clear();
    dins.clear();
    for (ValueId v : n.outputs) {
      if (v != kNoValue && !has[v]) {
        grad(v).assign(val(v).shape, 0.0f);
        has[v] = 1;
      }
      outs.push_back(v == kNoValue ? nullptr : &val(v));
      douts.push_back(v == kNoValue ? nullptr : &grad(v));
    }
    for (ValueId v : n.inputs) {
      ins.push_back(v == kNoValue ? nullptr : &val(v));
      dins.push_back(v != kNoValue && m.needs_grad[v] ? &grad(v) : nullptr);
    }
    int qi = m.quant_of[ni];
    try {
      if (qi >= 0 && w) {
        hgq_act_backward(quants[qi], *ins[0], *outs[0], *douts[0], dins[0], w->egrad[qi].data());
      } else if (qi >= 0) {
        HGQC_ASSERT(dins[0], "a weight quantizer's weight carries no gradient");
        hgq_weight_backward(quants[qi], *ins[0], *outs[0], *douts[0], *dins[0], m.egrad[qi].data());
      } else {
        TrainContext ctx{m.consts[ni], &cache[ni]};
        op_def(n.op).backward(n, ins, outs, douts, dins, ctx);
      }
    } catch (const UserError &e) {
      throw e.with_location(n.loc());
    }
    for (size_t j = 0; j < n.inputs.size(); ++j)
      if (dins[j])
        has[n.inputs[j]] = 1;
  }
}

// The activation quantizers' tables and the per-model values (quantized weights), once per
// step or prediction, on this thread.
void TrainEngine::run_static_nodes() {
  Impl &m = *impl_;
  for (HgqQuantizer &q : quants_)
    if (!q.weight)
      hgq_act_tables(q);
  for (int ni : m.static_nodes) {
    const Node &n = g_.nodes[static_cast<size_t>(ni)];
    int qi = m.quant_of[static_cast<size_t>(ni)];
    if (qi >= 0) {
      hgq_weight_forward(quants_[qi], m.sval[n.inputs[0]], m.sval[n.outputs[0]]);
      continue;
    }
    std::vector<const TrainTensor *> ins;
    std::vector<TrainTensor *> outs;
    for (ValueId v : n.inputs)
      ins.push_back(v == kNoValue ? nullptr : &m.sval[v]);
    for (ValueId v : n.outputs)
      outs.push_back(v == kNoValue ? nullptr : &m.sval[v]);
    TrainContext ctx{m.consts[static_cast<size_t>(ni)], &m.static_cache[static_cast<size_t>(ni)]};
    op_def(n.op).train_forward(n, ins, outs, ctx);
  }
}

StepStats TrainEngine::step(const BatchData &b, double beta, double gamma) {
  Impl &m = *impl_;
  HGQC_ASSERT(b.rows > 0 && b.x, "empty batch");
  run_static_nodes();

  const int nt = m.opt.threads;
  const int64_t chunk = (b.rows + nt - 1) / nt, D = sample_size(), C = out_size_;
  const auto inv_rows = static_cast<float>(1.0 / static_cast<double>(b.rows));
  m.pool->run([&](int t) {
    Worker &w = m.workers[static_cast<size_t>(t)];
    w.loss = 0;
    w.correct = 0;
    for (size_t qi = 0; qi < quants_.size(); ++qi) {
      std::fill(w.egrad[qi].begin(), w.egrad[qi].end(), 0.0f);
      std::fill(w.bmin[qi].begin(), w.bmin[qi].end(), std::numeric_limits<float>::infinity());
      std::fill(w.bmax[qi].begin(), w.bmax[qi].end(), -std::numeric_limits<float>::infinity());
    }
    for (ValueId v : m.static_grad_values)
      w.sgrad[v].assign(m.sval[v].shape, 0.0f);
    int64_t r0 = std::min(b.rows, t * chunk), r1 = std::min(b.rows, r0 + chunk), rows = r1 - r0;
    if (rows <= 0)
      return;
    m.forward_rows(g_, quants_, w, b.x + r0 * D, rows, sample_dims_);
    // Gradients are zeroed once per step; the loss seeds its value's, every hook adds.
    for (ValueId v : m.dyn_grad_values)
      w.grad[v].assign(w.val[v].shape, 0.0f);
    std::fill(w.has.begin(), w.has.end(), 0);
    const TrainTensor &y = w.val[m.loss_value];
    TrainTensor &gy = w.grad[m.loss_value];
    w.has[m.loss_value] = 1;
    w.loss += task_loss(m.opt.task, y.data(), rows, C, b.labels ? b.labels + r0 : nullptr,
                        b.targets ? b.targets + r0 * C : nullptr, inv_rows, gy.data(), w.correct);
    m.backward_sweep(g_, quants_, m.dyn_nodes, &w);
  });

  // Reduce the workers' results in a fixed order.
  StepStats st;
  for (Worker &w : m.workers) {
    st.loss += w.loss;
    st.correct += w.correct;
  }
  st.loss /= static_cast<double>(b.rows);
  for (ValueId v : m.static_grad_values) {
    m.sgrad[v].assign(m.sval[v].shape, 0.0f);
    for (Worker &w : m.workers)
      ops::train::add_to(m.sgrad[v].data(), w.sgrad[v].data(), m.sgrad[v].numel());
  }
  std::vector<float> lo, hi;
  for (size_t qi = 0; qi < quants_.size(); ++qi) {
    HgqQuantizer &q = quants_[qi];
    std::fill(m.egrad[qi].begin(), m.egrad[qi].end(), 0.0f);
    if (q.weight)
      continue;
    lo.assign(static_cast<size_t>(q.n), std::numeric_limits<float>::infinity());
    hi.assign(static_cast<size_t>(q.n), -std::numeric_limits<float>::infinity());
    for (Worker &w : m.workers)
      for (int64_t e = 0; e < q.n; ++e) {
        m.egrad[qi][e] += w.egrad[qi][e];
        lo[e] = std::min(lo[e], w.bmin[qi][e]);
        hi[e] = std::max(hi[e], w.bmax[qi][e]);
      }
    hgq_update_range(q, lo.data(), hi.data(), m.opt.range_decay);
  }
  // Backward through the per-model nodes (weight quantizers), on this thread.
  std::fill(m.static_has.begin(), m.static_has.end(), 0);
  for (ValueId v : m.static_grad_values)
    m.static_has[v] = 1;
  m.backward_sweep(g_, quants_, m.static_nodes, nullptr);
  for (size_t p = 0; p < m.param_values.size(); ++p) {
    const TrainTensor &g = m.sgrad[m.param_values[p]];
    if (g.v.size() == m.pgrad[p].v.size())
      m.pgrad[p].v = g.v;
    else
      std::fill(m.pgrad[p].v.begin(), m.pgrad[p].v.end(), 0.0f);
  }
  // Both costs are measured; only the chosen one's gradient goes into egrad.
  const bool luts = m.opt.cost == CostKind::Luts;
  st.ebops = m.cost->add_ebops(g_, quants_, luts ? 0.0 : beta, m.egrad);
  st.tables = m.cost->add_tables(quants_, luts ? 0.0 : beta, m.egrad);
  const std::vector<const TrainTensor *> wq = quantized_weights(g_, quants_, m.sval);
  st.luts = m.cost->add_luts(g_, quants_, wq, luts ? beta : 0.0, m.egrad);
  st.widths = CostModel::fold_widths(quants_, gamma, m.egrad, m.fgrad);
  return st;
}

double TrainEngine::price_luts() {
  Impl &m = *impl_;
  run_static_nodes();
  const std::vector<const TrainTensor *> wq = quantized_weights(g_, quants_, m.sval);
  return m.cost->add_luts(g_, quants_, wq, 0.0, m.egrad);
}

const std::vector<LutLayer> &TrainEngine::lut_layers() const { return impl_->cost->lut_layers(); }

bool TrainEngine::set_lut_scale(int node, double factor) {
  return impl_->cost->set_lut_scale(node, factor);
}

bool TrainEngine::set_lut_scale(const std::string &name, double factor) {
  return impl_->cost->set_lut_scale(name, factor);
}

LutLayer TrainEngine::lut_rest() const { return impl_->cost->lut_rest(); }

void TrainEngine::set_lut_rest_scale(double factor) { impl_->cost->set_lut_rest_scale(factor); }

void TrainEngine::predict(const float *x, int64_t rows, std::vector<float> &out) {
  Impl &m = *impl_;
  run_static_nodes();
  out.resize(static_cast<size_t>(rows * out_size_));
  const int nt = m.opt.threads;
  const int64_t chunk = (rows + nt - 1) / nt, D = sample_size();
  m.pool->run([&](int t) {
    Worker &w = m.workers[static_cast<size_t>(t)];
    int64_t r0 = std::min(rows, t * chunk), r1 = std::min(rows, r0 + chunk);
    if (r1 <= r0)
      return;
    for (size_t qi = 0; qi < quants_.size(); ++qi) {
      std::fill(w.bmin[qi].begin(), w.bmin[qi].end(), 0.0f);
      std::fill(w.bmax[qi].begin(), w.bmax[qi].end(), 0.0f);
    }
    m.forward_rows(g_, quants_, w, x + r0 * D, r1 - r0, sample_dims_);
    const TrainTensor &y = w.val[m.loss_value];
    std::copy(y.v.begin(), y.v.end(), out.begin() + r0 * out_size_);
  });
}

std::vector<ParamView> TrainEngine::params() {
  Impl &m = *impl_;
  std::vector<ParamView> r;
  for (size_t p = 0; p < m.param_values.size(); ++p) {
    TrainTensor &w = m.sval[m.param_values[p]];
    r.push_back({w.data(), m.pgrad[p].data(), w.v.size(), false});
  }
  for (size_t qi = 0; qi < quants_.size(); ++qi)
    r.push_back({quants_[qi].f.data(), m.fgrad[qi].data(), quants_[qi].f.size(), true});
  return r;
}

void TrainEngine::clamp_frac_bits() {
  for (HgqQuantizer &q : quants_)
    for (float &f : q.f)
      f = std::clamp(f, kMinFrac, kMaxFrac);
}

} // namespace hgqc
