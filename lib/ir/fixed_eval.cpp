// The exact interval analysis and the integer emulator of a quantized graph.
#include "ir/fixed_eval.h"

#include "ir/ops/common.h"

namespace hgqc {

namespace {
std::string fixed_ops_list() {
  std::string s;
  for (const OpDef *d : all_ops())
    if (d->range && d->eval_fixed)
      s += (s.empty() ? "" : ", ") + std::string(d->name);
  return s;
}

// The exact range of a constant: each element at its own minimal exponent.
ValueRange constant_range(const Value &v) {
  const Tensor &t = *v.constant;
  ValueRange r{t.shape(), std::vector<Interval>(static_cast<size_t>(t.numel()))};
  for (int64_t j = 0; j < t.numel(); ++j) {
    auto iv = constant_interval(t[j]);
    if (!iv)
      throw UserError("constant '" + v.name + "' element " + std::to_string(j) + " (" +
                      std::to_string(t[j]) + ") is not a fixed-point number with at most " +
                      std::to_string(kMaxFixedExp) + " fractional bits");
    r.el[j] = *iv;
  }
  return r;
}

FixedTensor constant_fixed(const Tensor &t, const ValueRange &r) {
  FixedTensor ft{t.shape(), std::vector<int64_t>(static_cast<size_t>(t.numel()))};
  for (int64_t j = 0; j < t.numel(); ++j)
    ft.q[j] = static_cast<int64_t>(std::ldexp(t[j], r.el[j].f));
  return ft;
}

bool is_quant(const Node &n) { return n.op == OpKind::FixedQuant; }

// UserError when value v has more than kMaxFixedElements per sample (checked before its
// ranges are built, so that a huge tensor is refused at once).
void check_fixed_size(const Graph &g, ValueId v) {
  check_fixed_elements("value '" + g.values[v].name + "'", range_dims(g.values[v].type.dims));
}
} // namespace

bool is_quantized(const Graph &g) {
  for (const Node &n : g.nodes)
    if (is_quant(n))
      return true;
  return false;
}

RangeAnalysis analyze_ranges(const Graph &g) {
  RangeAnalysis ra;
  ra.ranges.resize(g.values.size());
  for (ValueId v = 0; v < static_cast<ValueId>(g.values.size()); ++v)
    if (g.values[v].constant)
      ra.ranges[v] = constant_range(g.values[v]);
  for (const Node &n : g.nodes) {
    const OpDef &d = op_def(n.op);
    try {
      if (!d.range || !d.eval_fixed)
        throw UserError("op has no fixed-point form (ops with one: " + fixed_ops_list() + ")");
      std::vector<const ValueRange *> in;
      std::vector<const Tensor *> consts;
      std::vector<ValueRange> placeholders(n.inputs.size());
      for (size_t j = 0; j < n.inputs.size(); ++j) {
        ValueId v = n.inputs[j];
        consts.push_back(v != kNoValue && g.values[v].constant ? &*g.values[v].constant : nullptr);
        if (v == kNoValue) {
          in.push_back(nullptr);
        } else if (ra.ranges[v]) {
          in.push_back(&*ra.ranges[v]);
        } else {
          if (!(is_quant(n) && j == 0 && is_float(g.values[v].type.dtype)))
            throw UserError("input '" + g.values[v].name +
                            "' is not quantized: in fixed point a graph input may only feed a "
                            "FixedQuant (quantize the model first)");
          const Dims &dims = g.values[v].type.dims;
          // One range per element stands for every batch row, so only the batch (first)
          // dimension may be unknown: another unknown one would change the per-row shape.
          for (size_t a = 1; a < dims.size(); ++a)
            if (dims[a] == kDynamic)
              throw UserError("input '" + g.values[v].name + "' has shape " + dims_str(dims) +
                              ": in fixed point only its first (batch) dimension may be unknown");
          check_fixed_size(g, v);
          placeholders[j].dims = range_dims(dims);
          in.push_back(&placeholders[j]);
        }
      }
      for (ValueId v : n.outputs)
        if (v != kNoValue)
          check_fixed_size(g, v);
      std::vector<ValueRange> out = d.range(n, in, consts);
      HGQC_ASSERT(out.size() >= n.outputs.size(), n.name + ": range returned too few outputs");
      for (size_t k = 0; k < n.outputs.size(); ++k) {
        ValueId v = n.outputs[k];
        if (v == kNoValue)
          continue;
        Dims want = range_dims(g.values[v].type.dims);
        HGQC_ASSERT(
            out[k].dims == want && out[k].el.size() == static_cast<size_t>(dims_numel(want)),
            n.name + ": range of " + dims_str(out[k].dims) + ", expected " + dims_str(want));
        for (size_t e = 0; e < out[k].el.size(); ++e) {
          int w = out[k].el[e].width();
          if (w > kMaxFixedWidth)
            throw UserError("value '" + g.values[v].name + "' needs " + std::to_string(w) +
                            " bits at element " + std::to_string(e) + " (range " +
                            out[k].el[e].str() + "); at most " + std::to_string(kMaxFixedWidth) +
                            " are supported: narrow the quantizers before this node");
        }
        ra.ranges[v] = std::move(out[k]);
      }
    } catch (const UserError &e) {
      throw e.with_location(n.loc());
    }
  }
  return ra;
}

FixedRun evaluate_fixed(const Graph &g, const RangeAnalysis &ra, std::vector<Tensor> inputs) {
  if (inputs.size() != g.inputs.size())
    throw UserError("the model has " + std::to_string(g.inputs.size()) + " input(s), " +
                    std::to_string(inputs.size()) + " given");
  std::vector<std::optional<Tensor>> real(g.values.size());
  std::vector<std::optional<FixedTensor>> vals(g.values.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Value &v = g.values[g.inputs[i]];
    if (!ops::shape_matches(inputs[i].shape(), v.type.dims))
      throw UserError("input '" + v.name + "' has shape " + dims_str(inputs[i].shape()) +
                      ", the model expects " + dims_str(v.type.dims) + " (N: any batch size)");
    for (double x : inputs[i].data())
      if (!std::isfinite(x))
        throw UserError("input '" + v.name + "' holds NaN or infinite values");
    real[g.inputs[i]] = std::move(inputs[i]);
  }
  std::vector<int> uses = g.use_counts();
  FixedRun run;
  run.overflows.assign(g.nodes.size(), 0);
  run.quantized.assign(g.nodes.size(), 0);
  auto get = [&](ValueId v) -> const FixedTensor * {
    if (v == kNoValue || real[v])
      return nullptr;
    if (!vals[v]) {
      HGQC_ASSERT(g.values[v].constant && ra.ranges[v], "value " + g.values[v].name + " missing");
      vals[v] = constant_fixed(*g.values[v].constant, *ra.ranges[v]);
    }
    return &*vals[v];
  };
  for (size_t ni = 0; ni < g.nodes.size(); ++ni) {
    const Node &n = g.nodes[ni];
    const OpDef &d = op_def(n.op);
    std::vector<const FixedTensor *> in;
    std::vector<const ValueRange *> irng, orng;
    std::vector<const Tensor *> rin;
    for (ValueId v : n.inputs) {
      in.push_back(get(v));
      irng.push_back(v == kNoValue || !ra.ranges[v] ? nullptr : &*ra.ranges[v]);
      rin.push_back(v != kNoValue && real[v] ? &*real[v] : nullptr);
    }
    for (ValueId v : n.outputs)
      orng.push_back(v == kNoValue ? nullptr : &*ra.ranges[v]);
    FixedContext ctx{irng, orng, rin, &run.overflows[ni]};
    std::vector<FixedTensor> out;
    try {
      out = d.eval_fixed(n, in, ctx);
    } catch (const UserError &e) {
      throw e.with_location(n.loc()).with_location(Location{g.source});
    }
    HGQC_ASSERT(out.size() >= n.outputs.size(), n.name + ": too few outputs");
    for (size_t k = 0; k < n.outputs.size(); ++k) {
      ValueId v = n.outputs[k];
      if (v == kNoValue)
        continue;
      const ValueRange &r = *ra.ranges[v];
      FixedTensor &t = out[k];
      HGQC_ASSERT(ops::shape_matches(t.shape, g.values[v].type.dims) &&
                      t.q.size() == static_cast<size_t>(dims_numel(t.shape)),
                  n.name + ": output shape " + dims_str(t.shape));
      // The contract of the range analysis: no value leaves its interval.
      RangeMap idx(r.dims, t.shape);
      for (size_t j = 0; j < t.q.size(); ++j) {
        const Interval &iv = r.el[idx[static_cast<int64_t>(j)]];
        HGQC_ASSERT(t.q[j] >= iv.lo && t.q[j] <= iv.hi, n.name + ": element " + std::to_string(j) +
                                                            " = " + std::to_string(t.q[j]) +
                                                            " outside its range " + iv.str());
      }
      if (is_quant(n))
        run.quantized[ni] += static_cast<int64_t>(t.q.size());
      vals[v] = std::move(t);
    }
    for (ValueId v : n.inputs)
      if (v != kNoValue && --uses[v] == 0) {
        vals[v].reset();
        real[v].reset();
      }
  }
  for (ValueId v : g.outputs) {
    const FixedTensor *t = get(v);
    HGQC_ASSERT(t, "graph output " + g.values[v].name + " is a float input");
    run.outputs.push_back(*t);
  }
  return run;
}

std::vector<double> node_ebops(const Graph &g, const RangeAnalysis &ra) {
  std::vector<double> r(g.nodes.size(), 0.0);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node &n = g.nodes[i];
    const OpDef &d = op_def(n.op);
    if (!d.ebops)
      continue;
    std::vector<const ValueRange *> in;
    for (ValueId v : n.inputs)
      in.push_back(v == kNoValue || !ra.ranges[v] ? nullptr : &*ra.ranges[v]);
    r[i] = d.ebops(n, in);
  }
  return r;
}

Tensor fixed_to_tensor(const FixedTensor &t, const ValueRange &r) {
  Tensor out(DType::Float64, t.shape);
  RangeMap idx(r.dims, t.shape);
  for (size_t j = 0; j < t.q.size(); ++j)
    out[static_cast<int64_t>(j)] = fixed_to_double(t.q[j], r.el[idx[static_cast<int64_t>(j)]].f);
  return out;
}

} // namespace hgqc
