// Shared shape inference and evaluation skeleton of the windowed pooling ops.
#pragma once

#include "ir/ops/window.h"

namespace hgqc::ops {

/// Output type of a pooling op over input type x.
ValueType pool_infer(const Node &n, const ValueType &x);

/// Runs reduce(begin, end, padded) over the taps of every output position of every
/// (batch, channel) plane: `vals` holds the input values of the taps of one window.
template <class Reduce> Tensor pool_eval(const Node &n, const Tensor &x, Reduce reduce) {
  ValueType ty = pool_infer(n, ValueType{x.dtype(), x.shape()});
  Window win = window_of(n, x.shape());
  Taps taps = window_taps(win);
  int64_t planes = x.shape()[0] * x.shape()[1];
  int64_t isz = dims_numel(win.in), osz = dims_numel(win.out);
  Tensor y(x.dtype(), ty.dims);
  std::vector<double> vals;
  for (int64_t pl = 0; pl < planes; ++pl) {
    const double *xp = x.data().data() + pl * isz;
    for (int64_t p = 0; p < osz; ++p) {
      vals.clear();
      for (int64_t t = taps.begin[p]; t < taps.begin[p + 1]; ++t)
        vals.push_back(xp[taps.off[t]]);
      y[pl * osz + p] = reduce(vals, taps.padded[p]);
    }
  }
  return y;
}

} // namespace hgqc::ops
