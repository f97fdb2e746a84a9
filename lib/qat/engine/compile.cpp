// The training engine's compile phase: checks that a quantized graph can be trained, sorts its
// values into kinds and its nodes into per-model and per-sample lists, and sets up the cost
// model and the workers (method.md §2).
#include "qat/engine/impl.h"

#include "ir/op.h"

#include <algorithm>
#include <cmath>

namespace hgqc {

namespace {
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

} // namespace hgqc
