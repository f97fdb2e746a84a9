// Pad: pads (or, with negative pads, crops) each dimension of `data`; mode constant (the
// value input, 0 by default), edge or reflect. Import brings every opset's form to one:
// Pad(data, value, pads), the pad value a scalar constant. Fixed point: a copy (pads must be
// constant), the pad value being the element of that constant, exact on its own grid; the
// batch dimension is not padded.
#include "ir/ops/fixed_common.h"

#include <algorithm>
#include <cstdint>

namespace hgqc {
namespace {
const char *const kModes[] = {"constant", "edge", "reflect"};

// Reads pads (attribute before opset 11, input after) and the value (attribute before opset
// 11, optional constant input after), and rewrites the node as Pad(data, value, pads) with
// the attribute mode: the value a scalar constant of data's type, pads int64 (computed by
// the model or a constant; torch computes them from constants, which folding turns into one).
void import(Node &n, ImportContext &ctx) {
  const bool inputs_form = ctx.opset >= 11;
  if (inputs_form)
    check_known_attrs(n, {"mode"});
  else
    check_known_attrs(n, {"mode", "pads", "paddings", "value"});
  std::string mode = attr_string(n, "mode", "constant");
  if (std::find_if(std::begin(kModes), std::end(kModes),
                   [&](const char *m) { return mode == m; }) == std::end(kModes))
    throw UserError("mode '" + mode + "' is not supported (constant, edge or reflect)");
  const DType xdt =
      ctx.graph.values[n.inputs[0]].type.dtype; // a copy: add_constant may move values
  Tensor value(xdt, {});
  ValueId pads, value_id = kNoValue;
  if (inputs_form) {
    if (n.inputs.size() < 2 || n.inputs[1] == kNoValue)
      throw UserError("input 'pads' is missing");
    pads = n.inputs[1];
    if (n.inputs.size() > 2 && n.inputs[2] != kNoValue) {
      const Tensor *v = ops::import_const(ctx, n, 2);
      if (!v)
        throw UserError("input 'constant_value' must be a constant");
      if (v->numel() != 1)
        throw UserError("input 'constant_value' must hold one value, got shape " +
                        dims_str(v->shape()));
      if (v->dtype() != xdt)
        throw UserError("input 'constant_value' has element type " +
                        std::string(dtype_name(v->dtype())) + ", data " + dtype_name(xdt));
      value_id = n.inputs[2];
    }
  } else {
    if (n.attrs.count("paddings") && n.attrs.count("pads"))
      throw UserError("both 'pads' and 'paddings' are given");
    if (!n.attrs.count("pads") && !n.attrs.count("paddings"))
      throw UserError("missing attribute 'pads'");
    std::vector<int64_t> p = attr_ints(n, n.attrs.count("paddings") ? "paddings" : "pads", {});
    pads = ctx.graph.add_constant(n.name + "_pads",
                                  Tensor(DType::Int64, {static_cast<int64_t>(p.size())},
                                         std::vector<double>(p.begin(), p.end())));
    value[0] = round_to_dtype(attr_float(n, "value", 0.0), xdt);
  }
  if (value_id == kNoValue)
    value_id = ctx.graph.add_constant(n.name + "_value", value);
  n.attrs.clear();
  n.attrs["mode"] = mode;
  n.inputs = {n.inputs[0], value_id, pads};
}

// The pads (2 * rank entries, checked) from the pads tensor.
std::vector<int64_t> pads_of(const Tensor &t, size_t rank, const std::string &mode) {
  if (t.rank() != 1)
    throw UserError("input 'pads' must be 1-D, got shape " + dims_str(t.shape()));
  std::vector<int64_t> pads = t.as_int64();
  if (pads.size() != 2 * rank)
    throw UserError("pads has " + std::to_string(pads.size()) + " entries; data of rank " +
                    std::to_string(rank) + " needs " + std::to_string(2 * rank));
  if (mode != "constant" && std::any_of(pads.begin(), pads.end(), [](int64_t p) { return p < 0; }))
    throw UserError("negative pads (cropping) are supported in mode 'constant' only, not '" + mode +
                    "'");
  return pads;
}

// Output dims; UserError when a dimension would be negative or the mode cannot fill it.
Dims out_dims(const std::vector<int64_t> &pads, const std::string &mode, const Dims &d) {
  const size_t rank = d.size();
  Dims r(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t b = pads[i], e = pads[i + rank];
    if (d[i] == kDynamic) { // the batch, or a size known once computed pads are folded
      r[i] = kDynamic;
      continue;
    }
    r[i] = d[i] + b + e;
    if (r[i] < 0)
      throw UserError("pads " + std::to_string(b) + " and " + std::to_string(e) +
                      " remove more than the " + std::to_string(d[i]) + " elements of dimension " +
                      std::to_string(i));
    if ((b > 0 || e > 0) && mode != "constant") {
      int64_t most = mode == "reflect" ? d[i] - 1 : d[i] > 0 ? INT64_MAX : 0;
      if (std::max(b, e) > most)
        throw UserError("mode '" + mode + "' cannot pad dimension " + std::to_string(i) +
                        " of size " + std::to_string(d[i]) + " by " +
                        std::to_string(std::max(b, e)) +
                        " (reflect pads by at most the size - 1, edge needs a non-empty "
                        "dimension)");
    }
  }
  return r;
}

std::vector<ValueType> infer(const Node &n, ops::Ins in, ops::Consts c) {
  ops::require_numeric(in[0]->dtype, "input");
  if (in[2]->dtype != DType::Int64)
    throw UserError("input 'pads' must be int64");
  const Dims &d = in[0]->dims;
  if (!c[2]) // computed pads (folded later): the rank is known, the sizes are not
    return {ValueType{in[0]->dtype, Dims(d.size(), kDynamic)}};
  std::string mode = attr_string(n, "mode", "constant");
  return {ValueType{in[0]->dtype, out_dims(pads_of(*c[2], d.size(), mode), mode, d)}};
}

// The source index along one dimension of size `size` for output index o (shifted by the
// begin pad), or -1 for the constant.
int64_t source_index(int64_t o, int64_t begin, int64_t size, const std::string &mode) {
  int64_t s = o - begin;
  if (s >= 0 && s < size)
    return s;
  if (mode == "constant")
    return -1;
  if (mode == "edge")
    return s < 0 ? 0 : size - 1;
  return s < 0 ? -s : 2 * (size - 1) - s; // reflect
}

std::vector<Tensor> eval(const Node &n, ops::Vals in) {
  const Tensor &x = *in[0];
  const Dims &d = x.shape();
  const size_t rank = d.size();
  std::string mode = attr_string(n, "mode", "constant");
  std::vector<int64_t> pads = pads_of(*in[2], rank, mode);
  Dims od = out_dims(pads, mode, d);
  Tensor y(x.dtype(), od);
  if (y.numel() == 0)
    return {y};
  // Per dimension, the source index of each output index (-1: the pad value).
  std::vector<std::vector<int64_t>> src(rank);
  for (size_t i = 0; i < rank; ++i)
    for (int64_t o = 0; o < od[i]; ++o)
      src[i].push_back(source_index(o, pads[i], d[i], mode));
  std::vector<int64_t> stride(rank, 1), idx(rank, 0);
  for (size_t i = rank; i-- > 1;)
    stride[i - 1] = stride[i] * d[i];
  const double value = (*in[1])[0];
  for (int64_t k = 0; k < y.numel(); ++k) {
    int64_t off = 0;
    bool pad = false;
    for (size_t i = 0; i < rank && !pad; ++i) {
      int64_t s = src[i][static_cast<size_t>(idx[i])];
      pad = s < 0;
      off += s * stride[i];
    }
    y[k] = pad ? value : x[off];
    for (size_t i = rank; i-- > 0;) // next output index, row-major
      if (++idx[i] < od[i])
        break;
      else
        idx[i] = 0;
  }
  return {y};
}

// Opset 13: Pad(data, pads, constant_value).
std::vector<ExportNode> export_form(const Node &n, const ExportContext &) {
  ExportNode e = default_export_node(n);
  e.inputs = {e.inputs[0], e.inputs[2], e.inputs[1]};
  return {e};
}

constexpr OpDef make_pad() {
  OpDef d = ops::with_copy_hooks<&eval, 2>(
      {"Pad", OpDomain::Onnx, 1, 4, 1, 1, true, &import, &infer, &eval});
  d.export_form = &export_form;
  return d;
}
} // namespace

const OpDef op_def_Pad = make_pad();

} // namespace hgqc
