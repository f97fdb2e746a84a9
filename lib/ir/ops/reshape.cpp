// Reshape: gives `data` the shape in input `shape` (0 copies the input dimension
// unless allowzero = 1, -1 is inferred). A constant target whose first entry is
// the model's declared batch size (and the rest matches the input) is rewritten at
// import to infer that entry, so
// a fixed batch in the exported model does not fix the batch at run time.
// Fixed point: a copy (the target must be constant and keep the batch leading).
#include "ir/ops/fixed_common.h"

namespace hgqc {
namespace {
Dims out_dims(const Dims &d, const std::vector<int64_t> &target, bool allowzero) {
  Dims r(target.size());
  int neg = -1;
  for (size_t i = 0; i < target.size(); ++i) {
    int64_t t = target[i];
    if (t == 0 && !allowzero) {
      if (i >= d.size())
        throw UserError("shape entry " + std::to_string(i) + " is 0 (copy) but the input " +
                        dims_str(d) + " has no such dimension");
      r[i] = d[i];
    } else if (t == -1) {
      if (neg >= 0)
        throw UserError("shape has more than one -1");
      neg = static_cast<int>(i);
    } else if (t < 0) {
      throw UserError("shape entry " + std::to_string(t) + " is invalid");
    } else {
      r[i] = t;
    }
  }
  auto known = [](const Dims &x, int skip, int &dyn) {
    int64_t p = 1;
    dyn = 0;
    for (size_t i = 0; i < x.size(); ++i)
      if (static_cast<int>(i) == skip)
        continue;
      else if (x[i] == kDynamic)
        ++dyn;
      else if (__builtin_mul_overflow(p, x[i], &p) || p > kMaxTensorElements)
        throw UserError("shape " + dims_str(x) + " has more than " +
                        std::to_string(kMaxTensorElements) + " elements");
    return p;
  };
  int dyn_in, dyn_out;
  int64_t pin = known(d, -1, dyn_in), pout = known(r, neg, dyn_out);
  if (neg >= 0) {
    if (dyn_in > dyn_out)
      r[neg] = kDynamic;
    else if (pout == 0 || pin % pout != 0)
      throw UserError("cannot reshape " + dims_str(d) + " to " + dims_str(Dims(target)));
    else
      r[neg] = pin / pout;
  } else if (dyn_in == 0 && dyn_out == 0 && pin != pout) {
    throw UserError("cannot reshape " + dims_str(d) + " (" + std::to_string(pin) +
                    " elements) to " + dims_str(r));
  }
  return r;
}

void import(Node &n, ImportContext &ctx) {
  check_known_attrs(n, {"allowzero", "shape"});
  if (n.attrs.count("shape")) // opset < 5 carried the shape as an attribute
    throw UserError("Reshape with a 'shape' attribute (opset < 5) is not supported");
  n.attrs["allowzero"] = attr_int(n, "allowzero", 0);
  const Tensor *t = ops::import_const(ctx, n, 1);
  const Dims &d = ctx.graph.values[n.inputs[0]].type.dims;
  if (!t || d.empty() || d[0] != kDynamic || t->numel() < 1)
    return;
  // Declared batch in the target: [B, rest...] with no -1 and rest matching the input.
  std::vector<int64_t> s = t->as_int64();
  int64_t rest = 1, drest = 1;
  for (size_t i = 1; i < s.size(); ++i) {
    if (s[i] <= 0)
      return;
    rest *= s[i];
  }
  for (size_t i = 1; i < d.size(); ++i) {
    if (d[i] == kDynamic)
      return;
    drest *= d[i];
  }
  if (s[0] != ctx.declared_batch || rest != drest)
    return;
  s[0] = -1;
  std::vector<double> vals(s.begin(), s.end());
  Graph &g = ctx.graph;
  std::string nm = g.fresh_value_name(g.values[n.inputs[1]].name + "_batch_free");
  n.inputs[1] =
      g.add_value(nm, ValueType{DType::Int64, t->shape()}, Tensor(DType::Int64, t->shape(), vals));
}

std::vector<ValueType> infer(const Node &n, ops::Ins in, ops::Consts c) {
  if (in[1]->dtype != DType::Int64)
    throw UserError("input 'shape' must be int64");
  if (in[1]->dims.size() != 1 || in[1]->dims[0] == kDynamic)
    throw UserError("input 'shape' must be a 1-D tensor of known length");
  if (!c[1])
    return {ValueType{in[0]->dtype, Dims(static_cast<size_t>(in[1]->dims[0]), kDynamic)}};
  return {ValueType{in[0]->dtype,
                    out_dims(in[0]->dims, c[1]->as_int64(), attr_int(n, "allowzero", 0))}};
}

std::vector<Tensor> eval(const Node &n, ops::Vals in) {
  Dims od = out_dims(in[0]->shape(), in[1]->as_int64(), attr_int(n, "allowzero", 0));
  if (dims_numel(od) != in[0]->numel())
    throw UserError("cannot reshape " + dims_str(in[0]->shape()) + " to " + dims_str(od));
  return {in[0]->reshaped(od)};
}

// Reshape-13 has no allowzero: allowzero = 1 is written only where it changes nothing (a
// constant target without zeros). A constant target that import would rewrite to leave
// the batch free (see import) is written rewritten, so that the file reads back as written.
std::vector<ExportNode> export_form(const Node &n, const ExportContext &ctx) {
  ExportNode e = default_export_node(n);
  e.attrs.clear();
  const Value &target = ctx.graph.values[n.inputs[1]];
  std::vector<int64_t> s;
  if (target.constant)
    s = target.constant->as_int64();
  if (attr_int(n, "allowzero", 0) &&
      (!target.constant || std::count(s.begin(), s.end(), int64_t{0}) > 0))
    throw UserError("allowzero = 1 with a target that has or may have zero entries cannot be "
                    "written at opset " +
                    std::to_string(kExportOpset));
  const Dims &d = ctx.graph.values[n.inputs[0]].type.dims;
  if (!target.constant || d.empty() || d[0] != kDynamic || s.empty() || s[0] != ctx.declared_batch)
    return {e};
  int64_t rest = 1, drest = 1;
  for (size_t i = 1; i < s.size(); ++i) {
    if (s[i] <= 0)
      return {e};
    rest *= s[i];
  }
  for (size_t i = 1; i < d.size(); ++i) {
    if (d[i] == kDynamic)
      return {e};
    drest *= d[i];
  }
  if (rest != drest)
    return {e};
  s[0] = -1;
  e.inputs[1] = ExportRef::constant_of(
      Tensor(DType::Int64, target.constant->shape(), std::vector<double>(s.begin(), s.end())),
      "shape");
  return {e};
}
constexpr OpDef make_reshape() {
  OpDef d = ops::with_copy_hooks<&eval, 1>(
      {"Reshape", OpDomain::Onnx, 2, 2, 1, 1, true, &import, &infer, &eval});
  d.export_form = &export_form;
  return d;
}
} // namespace

const OpDef op_def_Reshape = make_reshape();

} // namespace hgqc
