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

/// A pooling window over a range (per-sample dims [B, C, D1, ...]): output element
/// e = plane * osz + position, plane = b * C + c.
struct PoolRangeGeom {
  Dims out;                             ///< output range dims
  int64_t planes = 0, isz = 0, osz = 0; ///< planes, input and output plane sizes
  Taps taps;                            ///< window taps of each output position
  /// Calls emit(x element) for every tap of output element e.
  template <class Emit> void for_taps(int64_t e, Emit &&emit) const {
    int64_t p = e % osz, base = e / osz * isz;
    for (int64_t t = taps.begin[p]; t < taps.begin[p + 1]; ++t)
      emit(base + taps.off[t]);
  }
};

/// The window of pooling node n over an input range of dims x.
PoolRangeGeom pool_range_geom(const Node &n, const Dims &x);

/// OpDef::addend_counts of a pooling op: the windows each element of x enters.
void pool_addend_counts(const Node &n, const Dims &x, std::vector<float> &counts);
/// OpDef::ebops of a pooling op: every tap of every window costs its element's width (the
/// adders of an average, the comparators of a max).
double pool_ebops(const Node &n, std::span<const ValueRange *const> in);

} // namespace hgqc::ops
