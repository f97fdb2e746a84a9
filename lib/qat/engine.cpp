// The HGQ training engine: a quantized graph compiled into per-model and per-sample nodes, run
// forward and backward in float32 over a batch split across the worker pool (method.md §2).
#include "qat/engine.h"

#include "qat/cost.h"
#include "qat/pool.h"
#include "qat/ptq.h"

#include "ir/op.h"
#include "ir/ops/train_kernels.h"
#include "ir/passes/passes.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>

namespace hgqc {

namespace {
enum class Kind : uint8_t { Input, Const, Param, Static, Dynamic, Unused };

std::string trainable_ops_list() {
  std::string s;
  for (const OpDef *d : all_ops())
    if (d->train_forward && d->backward)
      s += (s.empty() ? "" : ", ") + std::string(d->name);
  return s;
}

TrainTensor to_train(const Tensor &t) {
  TrainTensor r;
  r.resize(t.shape());
  for (int64_t j = 0; j < t.numel(); ++j)
    r.v[static_cast<size_t>(j)] = static_cast<float>(t[j]);
  return r;
}

} // namespace

// Per-thread state: the values and gradients of its rows of the batch.
struct Worker {
  std::vector<TrainTensor> val, grad, sgrad;
  std::vector<char> has; // by value: a gradient reached it in this step's sweep
  std::vector<std::any> cache;
  std::vector<std::vector<float>> egrad, bmin, bmax; // by quantizer (activations)
  double loss = 0;
  int64_t correct = 0;
};

struct TrainEngine::Impl {
  EngineOptions opt;
  std::vector<Kind> kind;
  std::vector<char> needs_grad;
  std::vector<TrainTensor> sval, sgrad; // constants, parameters and per-model (static) values
  std::vector<int> quant_of;            // by node: quantizer index or -1
  std::vector<int> static_nodes, dyn_nodes;
  std::vector<std::any> static_cache;
  std::vector<ValueId> param_values, static_grad_values;
  std::vector<ValueId> dyn_grad_values; // per-sample values whose gradients a step zeroes
  std::vector<char> static_has;         // by value: the static sweep's `has`
  std::vector<TrainTensor> pgrad;
  std::vector<std::vector<float>> fgrad, egrad;
  std::unique_ptr<CostModel> cost;
  std::vector<std::vector<const Tensor *>> consts;
  std::vector<Worker> workers;
  std::unique_ptr<Pool> pool;
  ValueId input = kNoValue, loss_value = kNoValue;
  int skip_node = -1;

  // The backward sweep: `nodes` in reverse, each whose outputs a gradient reached adding its
  // inputs' gradients (every hook adds, so a value read twice sums its readers'
  // contributions). With a worker: its per-sample nodes on its rows, the activation
  // quantizers' f gradients into its egrad; without: the per-model nodes, weight quantizers.
  void backward_sweep(const Graph &g, std::vector<HgqQuantizer> &quants,
                      const std::vector<int> &nodes, Worker *w);
  // Forward of the dynamic nodes on `rows` rows of x into worker w.
  void forward_rows(const Graph &g, std::vector<HgqQuantizer> &quants, Worker &w, const float *x,
                    int64_t rows, const Dims &sample);
};

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

TrainEngine::TrainEngine(Graph g, const EngineOptions &opt)
    : impl_(std::make_unique<Impl>()), g_(std::move(g)) {
  Impl &m = *impl_;
  m.opt = opt;
  if (opt.threads < 1)
    throw UserError("the thread count must be at least 1");
  if (g_.inputs.size() != 1)
    throw UserError("training supports models with one input; this one has " +
                    std::to_string(g_.inputs.size()));
  if (g_.outputs.size() != 1)
    throw UserError("training supports models with one output; this one has " +
                    std::to_string(g_.outputs.size()));
  m.input = g_.inputs[0];
  const Value &in = g_.values[m.input];
  if (!is_float(in.type.dtype) || in.type.dims.empty() || in.type.dims[0] != kDynamic)
    throw UserError("input '" + in.name + "' of type " + dtype_name(in.type.dtype) +
                    dims_str(in.type.dims) +
                    ": training needs a float input with a free batch dimension first");
  sample_dims_.assign(in.type.dims.begin() + 1, in.type.dims.end());
  for (int64_t d : sample_dims_)
    if (d == kDynamic)
      throw UserError("input '" + in.name + "' has shape " + dims_str(in.type.dims) +
                      ": training needs every dimension but the batch known");

  // The loss reads the output, or, for classification, the logits of an output Softmax or
  // LogSoftmax (softmax of either is softmax of the logits).
  std::vector<int> prod = g_.producers();
  m.loss_value = g_.outputs[0];
  if (opt.task == TaskKind::Classify && prod[m.loss_value] >= 0) {
    const Node &s = g_.nodes[static_cast<size_t>(prod[m.loss_value])];
    auto rank = static_cast<int64_t>(g_.values[m.loss_value].type.dims.size());
    if ((s.op == OpKind::Softmax || s.op == OpKind::LogSoftmax) &&
        attr_int(s, "axis", -1) == rank - 1) {
      m.skip_node = prod[m.loss_value];
      m.loss_value = s.inputs[0];
    }
  }
  const Dims &od = g_.values[m.loss_value].type.dims;
  if (od.size() < 2 || od[0] != kDynamic)
    throw UserError("output '" + g_.values[m.loss_value].name + "' has shape " + dims_str(od) +
                    ": training needs the batch first and at least one more dimension");
  out_size_ = dims_numel(Dims(od.begin() + 1, od.end()));
  if (opt.task == TaskKind::Classify && od.size() != 2)
    throw UserError("classification needs an output of shape [N, classes], not " + dims_str(od));

  // Kinds of values; trainable constants are those read by a quantizer and the affine
  // parameters of BatchNormalization.
  size_t nv = g_.values.size(), nn = g_.nodes.size();
  m.kind.assign(nv, Kind::Unused);
  for (ValueId v = 0; v < static_cast<ValueId>(nv); ++v)
    if (g_.values[v].constant)
      m.kind[v] = Kind::Const;
  m.kind[m.input] = Kind::Input;
  for (const Node &n : g_.nodes) {
    auto mark = [&](size_t j) {
      if (j < n.inputs.size() && n.inputs[j] != kNoValue && g_.values[n.inputs[j]].constant &&
          is_float(g_.values[n.inputs[j]].type.dtype))
        m.kind[n.inputs[j]] = Kind::Param;
    };
    if (n.op == OpKind::FixedQuant)
      mark(0);
    if (n.op == OpKind::BatchNormalization) {
      mark(1);
      mark(2);
    }
  }
  m.quant_of.assign(nn, -1);
  m.consts.resize(nn);
  for (size_t ni = 0; ni < nn; ++ni) {
    const Node &n = g_.nodes[ni];
    if (static_cast<int>(ni) == m.skip_node)
      continue;
    try {
      const OpDef &d = op_def(n.op);
      if (n.op != OpKind::FixedQuant) {
        if (!d.train_forward || !d.backward)
          throw UserError("op has no backward, so it cannot be trained through (ops with one: " +
                          trainable_ops_list() + ")");
        if (!d.range || !d.eval_fixed)
          throw UserError("op has no fixed-point form, so a trained model could not be saved");
      }
      bool dyn = false;
      for (ValueId v : n.inputs)
        dyn |= v != kNoValue && (m.kind[v] == Kind::Input || m.kind[v] == Kind::Dynamic);
      for (ValueId v : n.inputs) {
        m.consts[ni].push_back(v != kNoValue && g_.values[v].constant ? &*g_.values[v].constant
                                                                      : nullptr);
        if (v != kNoValue && m.kind[v] == Kind::Unused)
          throw InternalError("value " + g_.values[v].name + " read before it is computed");
      }
      for (ValueId v : n.outputs) {
        if (v == kNoValue)
          continue;
        m.kind[v] = dyn ? Kind::Dynamic : Kind::Static;
        const Dims &dd = g_.values[v].type.dims;
        bool known = true;
        for (size_t a = dyn ? 1 : 0; a < dd.size(); ++a)
          known &= dd[a] != kDynamic;
        if (dyn && (dd.empty() || dd[0] != kDynamic || !known))
          throw UserError("output '" + g_.values[v].name + "' has shape " + dims_str(dd) +
                          ": training needs the batch first and every other dimension known");
        if (!dyn && !known)
          throw UserError("value '" + g_.values[v].name + "' has unknown shape " + dims_str(dd));
      }
      (dyn ? m.dyn_nodes : m.static_nodes).push_back(static_cast<int>(ni));
      if (n.op == OpKind::FixedQuant) {
        ValueId x = n.inputs[0];
        bool weight = m.kind[x] == Kind::Param;
        if (!weight && !dyn)
          throw UserError("quantizer of a value that is neither a weight nor computed per sample");
        Dims dims = weight ? g_.values[x].constant->shape() : range_dims(g_.values[x].type.dims);
        float f0 = weight ? opt.init_f_weight : opt.init_f_act;
        if (!weight && x == g_.inputs[0] && opt.init_f_input < f0)
          f0 = opt.init_f_input;
        if (std::isnan(f0)) { // 8 bits with the sign, covering the largest magnitude
          double mx = 0;
          for (double v : g_.values[x].constant->data())
            mx = std::max(mx, std::fabs(v));
          int i = mx > 0 ? static_cast<int>(std::floor(std::log2(mx))) + 1 : 0;
          f0 = std::clamp(static_cast<float>(7 - i), kMinFrac, kMaxFrac);
        }
        m.quant_of[ni] = static_cast<int>(quants_.size());
        quants_.push_back(make_quantizer(static_cast<int>(ni), weight, dims, f0,
                                         weight ? std::vector<int64_t>{} : opt.act_share_axes));
      }
    } catch (const UserError &e) {
      throw e.with_location(n.loc());
    }
  }
  if (m.kind[m.loss_value] != Kind::Dynamic)
    throw UserError("the output does not depend on the input");

  // Which values carry gradients.
  m.needs_grad.assign(nv, 0);
  for (ValueId v = 0; v < static_cast<ValueId>(nv); ++v)
    m.needs_grad[v] = m.kind[v] == Kind::Param;
  for (size_t ni = 0; ni < nn; ++ni) {
    if (static_cast<int>(ni) == m.skip_node)
      continue;
    const Node &n = g_.nodes[ni];
    bool ng = n.op == OpKind::FixedQuant;
    for (ValueId v : n.inputs)
      ng |= v != kNoValue && m.needs_grad[v];
    for (ValueId v : n.outputs)
      if (v != kNoValue)
        m.needs_grad[v] = ng;
  }
  m.sval.resize(nv);
  m.sgrad.resize(nv);
  for (ValueId v = 0; v < static_cast<ValueId>(nv); ++v) {
    if (m.kind[v] == Kind::Const || m.kind[v] == Kind::Param)
      m.sval[v] = to_train(*g_.values[v].constant);
    if ((m.kind[v] == Kind::Param || m.kind[v] == Kind::Static) && m.needs_grad[v])
      m.static_grad_values.push_back(v);
    if (m.kind[v] == Kind::Param) {
      m.param_values.push_back(v);
      TrainTensor z;
      z.assign(m.sval[v].shape, 0.0f);
      m.pgrad.push_back(z);
    }
  }
  m.static_cache.resize(nn);
  m.static_has.assign(nv, 0);
  for (ValueId v = 0; v < static_cast<ValueId>(nv); ++v)
    if ((m.kind[v] == Kind::Dynamic && m.needs_grad[v]) || v == m.loss_value)
      m.dyn_grad_values.push_back(v);
  for (const HgqQuantizer &q : quants_) {
    m.fgrad.emplace_back(q.f.size(), 0.0f);
    m.egrad.emplace_back(static_cast<size_t>(q.n), 0.0f);
  }
  m.cost = std::make_unique<CostModel>(
      g_, quants_, m.quant_of, [&](ValueId v) { return m.kind[v] == Kind::Const; }, m.skip_node);
  m.workers.resize(static_cast<size_t>(opt.threads));
  for (Worker &w : m.workers) {
    w.val.resize(nv);
    w.grad.resize(nv);
    w.sgrad.resize(nv);
    w.has.assign(nv, 0);
    w.cache.resize(nn);
    for (const HgqQuantizer &q : quants_) {
      size_t n = q.weight ? 0 : static_cast<size_t>(q.n);
      w.egrad.emplace_back(n, 0.0f);
      w.bmin.emplace_back(n, 0.0f);
      w.bmax.emplace_back(n, 0.0f);
    }
  }
  m.pool = std::make_unique<Pool>(opt.threads);
}

TrainEngine::~TrainEngine() = default;

int64_t TrainEngine::weight_count() const {
  int64_t n = 0;
  for (ValueId v : impl_->param_values)
    n += impl_->sval[v].numel();
  return n;
}

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
  std::vector<const TrainTensor *> wq(quants_.size(), nullptr);
  for (size_t qi = 0; qi < quants_.size(); ++qi)
    if (quants_[qi].weight)
      wq[qi] = &m.sval[g_.nodes[static_cast<size_t>(quants_[qi].node)].outputs[0]];
  st.luts = m.cost->add_luts(g_, quants_, wq, luts ? beta : 0.0, m.egrad);
  st.widths = CostModel::fold_widths(quants_, gamma, m.egrad, m.fgrad);
  return st;
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
