// Softmax: exp(x) / sum(exp(x)) along `axis`. Canonical attributes: `axis`
// (normalised) and `coerce_2d` = 1 for opsets before 13, where the input is
// viewed as 2-D [prod(dims[:axis]), prod(dims[axis:])] and normalised per row. Backward:
// y * (dy - sum(dy * y)) along the same view (training fuses an output Softmax into the loss).
#include "ir/ops/common.h"

namespace hgqc {
namespace {
void import(Node &n, ImportContext &ctx) {
  check_known_attrs(n, {"axis"});
  bool legacy = ctx.opset > 0 && ctx.opset < 13;
  const Value &x = ctx.graph.values[n.inputs[0]];
  auto rank = static_cast<int64_t>(x.type.dims.size());
  n.attrs["axis"] = ops::checked_axis(attr_int(n, "axis", legacy ? 1 : -1), rank);
  n.attrs["coerce_2d"] = int64_t{legacy ? 1 : 0};
}

std::vector<ValueType> infer(const Node &n, ops::Ins in, ops::Consts) {
  ops::require_float(in[0]->dtype, "input");
  ops::checked_axis(attr_int(n, "axis", -1), static_cast<int64_t>(in[0]->dims.size()));
  return {*in[0]};
}

std::vector<Tensor> eval(const Node &n, ops::Vals in) {
  const Tensor &x = *in[0];
  const Dims &d = x.shape();
  int64_t axis = ops::checked_axis(attr_int(n, "axis", -1), x.rank());
  // View as [outer, len, inner] and normalise along the middle.
  int64_t outer = 1, len = 1, inner = 1;
  for (int64_t i = 0; i < x.rank(); ++i)
    (i < axis ? outer : (i == axis || attr_int(n, "coerce_2d", 0) ? len : inner)) *= d[i];
  Tensor r(x.dtype(), d);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < inner; ++k) {
      int64_t base = o * len * inner + k;
      double mx = -INFINITY;
      for (int64_t j = 0; j < len; ++j)
        mx = std::max(mx, x[base + j * inner]);
      double s = 0;
      for (int64_t j = 0; j < len; ++j)
        s += (r[base + j * inner] = std::exp(x[base + j * inner] - mx));
      for (int64_t j = 0; j < len; ++j)
        r[base + j * inner] /= s;
    }
  return {r};
}

// Opset 13 normalises along `axis` alone. The 2-D view of earlier opsets (coerce_2d) is the
// same when the dimensions after `axis` are all 1; otherwise it is written as a reshape to
// 2-D, a Softmax over the rows and a reshape back to the input's shape.
std::vector<ExportNode> export_form(const Node &n, const ExportContext &ctx) {
  ExportNode e = default_export_node(n);
  e.attrs.erase("coerce_2d");
  if (!attr_int(n, "coerce_2d", 0))
    return {e};
  const Dims &d = ctx.graph.values[n.inputs[0]].type.dims;
  int64_t axis = attr_int(n, "axis", -1), rank = static_cast<int64_t>(d.size());
  HGQC_ASSERT(axis >= 0 && axis < rank, "Softmax axis not canonical");
  bool trailing_ones = true;
  for (int64_t i = axis + 1; i < rank; ++i)
    trailing_ones &= d[i] == 1;
  if (trailing_ones)
    return {e};
  using R = ExportRef;
  R x = R::of(n.inputs[0]), flat = R::temp_of(0, "2d"), soft = R::temp_of(1, "2d_softmax");
  std::vector<ExportNode> r;
  if (axis == 0) // (a Flatten with axis 0 may be read back as axis 1 when the batch is 1)
    r.push_back({"Reshape",
                 OpDomain::Onnx,
                 "_to_2d",
                 {},
                 {x, R::constant_of(Tensor(DType::Int64, {2}, {1, -1}), "2d_shape")},
                 {flat}});
  else
    r.push_back({"Flatten", OpDomain::Onnx, "_to_2d", {{"axis", axis}}, {x}, {flat}});
  r.push_back({"Softmax", OpDomain::Onnx, "", {{"axis", int64_t{1}}}, {flat}, {soft}});
  R shape = R::temp_of(2, "shape");
  if (std::count(d.begin(), d.end(), kDynamic) <= 1 && std::count(d.begin(), d.end(), 0) == 0) {
    std::vector<double> s(d.begin(), d.end()); // the unknown dimension, if any, is -1
    shape = R::constant_of(Tensor(DType::Int64, {rank}, s), "shape");
  } else {
    r.push_back({"Shape", OpDomain::Onnx, "_shape", {}, {x}, {shape}});
  }
  r.push_back({"Reshape", OpDomain::Onnx, "_restore", {}, {soft, shape}, {R::of(n.outputs[0])}});
  return r;
}

// ---- Training --------------------------------------------------------------------------

// The [outer, len, inner] view of eval: normalised along the middle.
struct View {
  int64_t outer = 1, len = 1, inner = 1;
};
View view_of(const Node &n, const Dims &d) {
  auto rank = static_cast<int64_t>(d.size());
  int64_t axis = ops::checked_axis(attr_int(n, "axis", -1), rank);
  View v;
  for (int64_t i = 0; i < rank; ++i)
    (i < axis ? v.outer : (i == axis || attr_int(n, "coerce_2d", 0) ? v.len : v.inner)) *= d[i];
  return v;
}

void train_forward(const Node &n, TrainIns in, TrainOuts out, TrainContext &) {
  const TrainTensor &x = *in[0];
  TrainTensor &y = *out[0];
  y.resize(x.shape);
  View v = view_of(n, x.shape);
  for (int64_t o = 0; o < v.outer; ++o)
    for (int64_t k = 0; k < v.inner; ++k) {
      int64_t base = o * v.len * v.inner + k;
      float mx = -INFINITY;
      for (int64_t j = 0; j < v.len; ++j)
        mx = std::max(mx, x.v[base + j * v.inner]);
      double s = 0;
      for (int64_t j = 0; j < v.len; ++j)
        s += (y.v[base + j * v.inner] = std::exp(x.v[base + j * v.inner] - mx));
      for (int64_t j = 0; j < v.len; ++j)
        y.v[base + j * v.inner] = static_cast<float>(y.v[base + j * v.inner] / s);
    }
}

// dx += y * (dy - sum(dy * y)) along the normalised axis.
void backward(const Node &n, TrainIns in, TrainIns out, TrainIns dout, TrainOuts din,
              TrainContext &) {
  if (!din[0])
    return;
  const TrainTensor &y = *out[0], &dy = *dout[0];
  grad_target(*din[0], in[0]->shape);
  View v = view_of(n, y.shape);
  for (int64_t o = 0; o < v.outer; ++o)
    for (int64_t k = 0; k < v.inner; ++k) {
      int64_t base = o * v.len * v.inner + k;
      double dot = 0;
      for (int64_t j = 0; j < v.len; ++j)
        dot += static_cast<double>(dy.v[base + j * v.inner]) * y.v[base + j * v.inner];
      for (int64_t j = 0; j < v.len; ++j) {
        int64_t e = base + j * v.inner;
        din[0]->v[e] += static_cast<float>(y.v[e] * (dy.v[e] - dot));
      }
    }
}

constexpr OpDef make_softmax() {
  OpDef d{"Softmax", OpDomain::Onnx, 1, 1, 1, 1, true, &import, &infer, &eval};
  d.export_form = &export_form;
  d.train_forward = &train_forward;
  d.backward = &backward;
  return d;
}
} // namespace

const OpDef op_def_Softmax = make_softmax();

} // namespace hgqc
