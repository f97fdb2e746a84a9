// BatchNormalization (inference): y = (x - mean) / sqrt(var + epsilon) * scale + B,
// per channel (dimension 1). Training mode is rejected. Folded into a preceding
// Gemm/MatMul/Conv by the fold_batchnorm pass where possible. Training keeps the inference
// form: mean and var stay constants, scale and B (and, if asked, the statistics) get gradients.
#include "ir/ops/common.h"

#include <algorithm>

namespace hgqc {
namespace {
// ONNX's default epsilon, an attribute of type float: 1e-5 rounded to float32.
constexpr double kDefaultEpsilon = static_cast<float>(1e-5);

void import(Node &n, ImportContext &ctx) {
  check_known_attrs(
      n, {"epsilon", "momentum", "spatial", "training_mode", "is_test", "consumed_inputs"});
  if (attr_int(n, "training_mode", 0) != 0)
    throw UserError("training_mode = 1 is not supported (inference only)");
  // Before opset 7 the default was training mode (is_test = 0).
  if ((n.attrs.count("is_test") || ctx.opset < 7) && attr_int(n, "is_test", 0) == 0)
    throw UserError("is_test = 0 (training mode) is not supported");
  if (attr_int(n, "spatial", 1) != 1)
    throw UserError("spatial = 0 is not supported");
  if (n.outputs.size() > 1)
    throw UserError("the training outputs (running mean/variance) are not supported");
  double eps = attr_float(n, "epsilon", kDefaultEpsilon);
  n.attrs.clear();
  n.attrs["epsilon"] = eps;
}

std::vector<ValueType> infer(const Node &, ops::Ins in, ops::Consts) {
  const Dims &d = in[0]->dims;
  ops::require_float(in[0]->dtype, "input X");
  if (d.size() < 2)
    throw UserError("input X must have rank >= 2 (N, C, ...), got " + dims_str(d));
  const char *names[] = {"", "scale", "B", "mean", "var"};
  for (int i = 1; i < 5; ++i)
    if (in[i]->dims.size() != 1 || !ops::dims_compatible(in[i]->dims[0], d[1]))
      throw UserError(std::string("input '") + names[i] + "' has shape " + dims_str(in[i]->dims) +
                      " but X " + dims_str(d) + " has " +
                      (d[1] == kDynamic ? std::string("N") : std::to_string(d[1])) + " channels");
  return {*in[0]};
}

std::vector<Tensor> eval(const Node &n, ops::Vals in) {
  const Tensor &x = *in[0];
  const ValueType t0{x.dtype(), x.shape()};
  std::vector<ValueType> ts{t0};
  std::vector<const ValueType *> tp{&t0};
  for (int i = 1; i < 5; ++i) {
    ts.push_back(ValueType{in[i]->dtype(), in[i]->shape()});
  }
  for (int i = 1; i < 5; ++i)
    tp.push_back(&ts[i]);
  infer(n, tp, {});
  double eps = attr_float(n, "epsilon", kDefaultEpsilon);
  int64_t nb = x.shape()[0], c = x.shape()[1], inner = x.numel() / std::max<int64_t>(nb * c, 1);
  Tensor r(x.dtype(), x.shape());
  for (int64_t ch = 0; ch < c; ++ch) {
    double a = (*in[1])[ch] / std::sqrt((*in[4])[ch] + eps);
    double b = (*in[2])[ch] - (*in[3])[ch] * a;
    for (int64_t b0 = 0; b0 < nb; ++b0)
      for (int64_t i = 0; i < inner; ++i) {
        int64_t k = (b0 * c + ch) * inner + i;
        r[k] = x[k] * a + b;
      }
  }
  return {r};
}

// ---- Training (inference form: the statistics are constants, not batch statistics) -----

struct Geom {
  int64_t nb, c, inner;
};
Geom geom(const TrainTensor &x) {
  int64_t nb = x.shape[0], c = x.shape[1];
  return {nb, c, x.numel() / std::max<int64_t>(nb * c, 1)};
}

void train_forward(const Node &n, TrainIns in, TrainOuts out, TrainContext &) {
  const TrainTensor &x = *in[0];
  double eps = attr_float(n, "epsilon", kDefaultEpsilon);
  Geom g = geom(x);
  TrainTensor &y = *out[0];
  y.resize(x.shape);
  for (int64_t ch = 0; ch < g.c; ++ch) {
    double a = in[1]->v[ch] / std::sqrt(in[4]->v[ch] + eps);
    auto af = static_cast<float>(a), bf = static_cast<float>(in[2]->v[ch] - in[3]->v[ch] * a);
    for (int64_t b = 0; b < g.nb; ++b)
      for (int64_t i = 0; i < g.inner; ++i) {
        int64_t k = (b * g.c + ch) * g.inner + i;
        y.v[k] = x.v[k] * af + bf;
      }
  }
}

// With s = 1 / sqrt(var + eps) and xh = (x - mean) * s: dx = dy * scale * s,
// dscale = sum dy * xh, dB = sum dy, dmean = -sum dy * scale * s,
// dvar = sum dy * (x - mean) * scale * (-s^3 / 2).
void backward(const Node &n, TrainIns in, TrainIns, TrainIns dout, TrainOuts din, TrainContext &) {
  const TrainTensor &x = *in[0], &dy = *dout[0];
  double eps = attr_float(n, "epsilon", kDefaultEpsilon);
  Geom g = geom(x);
  for (int j = 0; j < 5; ++j)
    if (din[j])
      grad_target(*din[j], in[j]->shape);
  for (int64_t ch = 0; ch < g.c; ++ch) {
    double s = 1.0 / std::sqrt(in[4]->v[ch] + eps), sc = in[1]->v[ch], mu = in[3]->v[ch];
    double sum_dy = 0, sum_dyxc = 0;
    for (int64_t b = 0; b < g.nb; ++b)
      for (int64_t i = 0; i < g.inner; ++i) {
        int64_t k = (b * g.c + ch) * g.inner + i;
        sum_dy += dy.v[k];
        sum_dyxc += dy.v[k] * (x.v[k] - mu);
        if (din[0])
          din[0]->v[k] += static_cast<float>(dy.v[k] * sc * s);
      }
    if (din[1])
      din[1]->v[ch] += static_cast<float>(sum_dyxc * s);
    if (din[2])
      din[2]->v[ch] += static_cast<float>(sum_dy);
    if (din[3])
      din[3]->v[ch] += static_cast<float>(-sum_dy * sc * s);
    if (din[4])
      din[4]->v[ch] += static_cast<float>(sum_dyxc * sc * (-0.5 * s * s * s));
  }
}

constexpr OpDef make_batchnorm() {
  OpDef d{"BatchNormalization", OpDomain::Onnx, 5, 5, 1, 3, true, &import, &infer, &eval};
  d.train_forward = &train_forward;
  d.backward = &backward;
  return d;
}
} // namespace

const OpDef op_def_BatchNormalization = make_batchnorm();

} // namespace hgqc
