// The Softmax family (Softmax, LogSoftmax): normalisation along `axis` with every hook but the
// final step written once. Canonical attributes: `axis` (normalised) and `coerce_2d` = 1 for
// opsets before 13, where the input is viewed as 2-D [prod(dims[:axis]), prod(dims[axis:])]
// and normalised per row. No fixed-point form: drop_output_softmax removes either at a graph
// output (the circuit outputs the logits, same argmax), and training fuses an output one into
// the loss.
#pragma once

#include "ir/ops/common.h"

#include <cmath>

namespace hgqc::ops::softmax {

inline void import(Node &n, ImportContext &ctx) {
  check_known_attrs(n, {"axis"});
  bool legacy = ctx.opset > 0 && ctx.opset < 13;
  const Value &x = ctx.graph.values[n.inputs[0]];
  auto rank = static_cast<int64_t>(x.type.dims.size());
  n.attrs["axis"] = ops::checked_axis(attr_int(n, "axis", legacy ? 1 : -1), rank);
  n.attrs["coerce_2d"] = int64_t{legacy ? 1 : 0};
}

inline std::vector<ValueType> infer(const Node &n, ops::Ins in, ops::Consts) {
  ops::require_float(in[0]->dtype, "input");
  ops::checked_axis(attr_int(n, "axis", -1), static_cast<int64_t>(in[0]->dims.size()));
  return {*in[0]};
}

/// The [outer, len, inner] view of the input: normalised along the middle.
struct View {
  int64_t outer = 1, len = 1, inner = 1;
};
inline View view_of(const Node &n, const Dims &d) {
  auto rank = static_cast<int64_t>(d.size());
  int64_t axis = ops::checked_axis(attr_int(n, "axis", -1), rank);
  View v;
  for (int64_t i = 0; i < rank; ++i)
    (i < axis ? v.outer : (i == axis || attr_int(n, "coerce_2d", 0) ? v.len : v.inner)) *= d[i];
  return v;
}

/// Writes along one line (`len` elements `stride` apart from x and y) softmax(x), or with
/// Log its logarithm x - max - log(sum(exp(x - max))).
template <bool Log, class In, class Out>
void normalise_line(const In *x, Out *y, int64_t len, int64_t stride) {
  double mx = -INFINITY;
  for (int64_t j = 0; j < len; ++j)
    mx = std::max(mx, static_cast<double>(x[j * stride]));
  // One exp per element: Softmax keeps it in y and divides it by the sum afterwards.
  double s = 0;
  for (int64_t j = 0; j < len; ++j) {
    double e = std::exp(static_cast<double>(x[j * stride]) - mx);
    s += e;
    if constexpr (!Log)
      y[j * stride] = static_cast<Out>(e);
  }
  if constexpr (Log) {
    const double ls = std::log(s);
    for (int64_t j = 0; j < len; ++j)
      y[j * stride] = static_cast<Out>(static_cast<double>(x[j * stride]) - mx - ls);
  } else {
    for (int64_t j = 0; j < len; ++j)
      y[j * stride] = static_cast<Out>(static_cast<double>(y[j * stride]) / s);
  }
}

template <bool Log> std::vector<Tensor> eval(const Node &n, ops::Vals in) {
  const Tensor &x = *in[0];
  View v = view_of(n, x.shape());
  Tensor r(x.dtype(), x.shape());
  for (int64_t o = 0; o < v.outer; ++o)
    for (int64_t k = 0; k < v.inner; ++k) {
      int64_t base = o * v.len * v.inner + k;
      normalise_line<Log>(x.data().data() + base, r.data().data() + base, v.len, v.inner);
    }
  return {r};
}

/// Opset 13 normalises along `axis` alone. The 2-D view of earlier opsets (coerce_2d) is the
/// same when the dimensions after `axis` are all 1; otherwise it is written as a reshape to
/// 2-D, the op over the rows and a reshape back to the input's shape.
std::vector<ExportNode> export_form(const Node &n, const ExportContext &ctx, const char *op);

template <bool Log> void train_forward(const Node &n, TrainIns in, TrainOuts out, TrainContext &) {
  const TrainTensor &x = *in[0];
  TrainTensor &y = *out[0];
  y.resize(x.shape);
  View v = view_of(n, x.shape);
  for (int64_t o = 0; o < v.outer; ++o)
    for (int64_t k = 0; k < v.inner; ++k) {
      int64_t base = o * v.len * v.inner + k;
      normalise_line<Log>(x.v.data() + base, y.v.data() + base, v.len, v.inner);
    }
}

/// Softmax: dx += y * (dy - sum(dy * y)); LogSoftmax: dx += dy - exp(y) * sum(dy), along the
/// normalised axis.
template <bool Log>
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
      for (int64_t j = 0; j < v.len; ++j) {
        int64_t e = base + j * v.inner;
        dot += Log ? static_cast<double>(dy.v[e]) : static_cast<double>(dy.v[e]) * y.v[e];
      }
      for (int64_t j = 0; j < v.len; ++j) {
        int64_t e = base + j * v.inner;
        din[0]->v[e] +=
            static_cast<float>(Log ? dy.v[e] - std::exp(y.v[e]) * dot : y.v[e] * (dy.v[e] - dot));
      }
    }
}

template <bool Log>
std::vector<ExportNode> export_form_of(const Node &n, const ExportContext &ctx) {
  return export_form(n, ctx, Log ? "LogSoftmax" : "Softmax");
}

/// The OpDef of Softmax (Log = false) or LogSoftmax.
template <bool Log> constexpr OpDef make_op() {
  OpDef d{Log ? "LogSoftmax" : "Softmax",
          OpDomain::Onnx,
          1,
          1,
          1,
          1,
          true,
          &import,
          &infer,
          &eval<Log>};
  d.export_form = &export_form_of<Log>;
  d.train_forward = &train_forward<Log>;
  d.backward = &backward<Log>;
  return d;
}

} // namespace hgqc::ops::softmax
