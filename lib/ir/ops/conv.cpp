// Conv: N-d convolution (1-D and 2-D in practice) with pads, strides, dilations,
// auto_pad and groups (group = 1, depthwise, or any divisor of the channels).
#include "ir/ops/window.h"

namespace hgqc {
namespace {
void import(Node &n, ImportContext &ctx) {
  check_known_attrs(n, {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"});
  const Dims &x = ctx.graph.values[n.inputs[0]].type.dims;
  const Dims &w = ctx.graph.values[n.inputs[1]].type.dims;
  if (w.size() != x.size())
    throw UserError("weight " + dims_str(w) + " and input " + dims_str(x) + " differ in rank");
  ops::import_window(n, x, &w, true, false);
  n.attrs["group"] = attr_int(n, "group", 1);
}

std::vector<ValueType> infer(const Node &n, ops::Ins in, ops::Consts) {
  const Dims &x = in[0]->dims, &w = in[1]->dims;
  ops::require_float(in[0]->dtype, "input X");
  ops::require_float(in[1]->dtype, "weight W");
  if (w.size() != x.size() || x.size() < 3)
    throw UserError("input " + dims_str(x) + " and weight " + dims_str(w) +
                    " must have the same rank >= 3");
  int64_t g = attr_int(n, "group", 1);
  if (g < 1 || w[0] % g != 0)
    throw UserError("group " + std::to_string(g) + " does not divide the " + std::to_string(w[0]) +
                    " output channels");
  if (x[1] != kDynamic && x[1] != w[1] * g)
    throw UserError("input has " + std::to_string(x[1]) + " channels; weight " + dims_str(w) +
                    " with group " + std::to_string(g) + " expects " + std::to_string(w[1] * g));
  if (in.size() > 2 && in[2] && (in[2]->dims.size() != 1 || in[2]->dims[0] != w[0]))
    throw UserError("bias of shape " + dims_str(in[2]->dims) + " does not match " +
                    std::to_string(w[0]) + " output channels");
  for (size_t i = 2; i < w.size(); ++i)
    if (w[i] == kDynamic)
      throw UserError("kernel size unknown");
  ops::Window win = ops::window_of(n, x);
  Dims out{x[0], w[0]};
  out.insert(out.end(), win.out.begin(), win.out.end());
  return {ValueType{in[0]->dtype, out}};
}

std::vector<Tensor> eval(const Node &n, ops::Vals in) {
  ValueType tx{in[0]->dtype(), in[0]->shape()}, tw{in[1]->dtype(), in[1]->shape()}, tb;
  std::vector<const ValueType *> ts{&tx, &tw};
  if (in.size() > 2 && in[2]) {
    tb = {in[2]->dtype(), in[2]->shape()};
    ts.push_back(&tb);
  }
  ValueType ty = infer(n, ts, {})[0];
  const Tensor &x = *in[0], &w = *in[1];
  ops::Window win = ops::window_of(n, x.shape());
  ops::Taps taps = ops::window_taps(win);
  int64_t nb = x.shape()[0], cin = x.shape()[1], m = w.shape()[0], g = attr_int(n, "group", 1);
  int64_t cpg = cin / g, mpg = m / g;
  int64_t isz = dims_numel(win.in), osz = dims_numel(win.out), ksz = dims_numel(win.kernel);
  Tensor y(x.dtype(), ty.dims);
  for (int64_t b = 0; b < nb; ++b)
    for (int64_t oc = 0; oc < m; ++oc) {
      int64_t grp = oc / mpg;
      double bias = in.size() > 2 && in[2] ? (*in[2])[oc] : 0.0;
      for (int64_t p = 0; p < osz; ++p) {
        double acc = bias;
        for (int64_t c = 0; c < cpg; ++c) {
          const double *xp = x.data().data() + (b * cin + grp * cpg + c) * isz;
          const double *wp = w.data().data() + (oc * cpg + c) * ksz;
          for (int64_t t = taps.begin[p]; t < taps.begin[p + 1]; ++t)
            acc += xp[taps.off[t]] * wp[taps.kidx[t]];
        }
        y[(b * m + oc) * osz + p] = acc;
      }
    }
  return {y};
}
} // namespace

const OpDef op_def_Conv = {"Conv", OpDomain::Onnx, 2, 3, 1, 1, true, &import, &infer, &eval};

} // namespace hgqc
