// Float32 kernels shared by the ops' training hooks: matrix products (Eigen), im2col and
// broadcast reductions.
#include "ir/ops/train_kernels.h"

#include "ir/ops/window.h"

#include <Eigen/Core>

#include <algorithm>

namespace hgqc::ops::train {

namespace {
using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using CMap = Eigen::Map<const Mat>;
using MMap = Eigen::Map<Mat>;

template <class A, class B> void product(MMap &c, const A &a, const B &b, float alpha, float beta) {
  if (beta == 0.0f)
    c.noalias() = alpha * (a * b);
  else {
    if (beta != 1.0f)
      c *= beta;
    c.noalias() += alpha * (a * b);
  }
}
} // namespace

void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
          const float *b, float beta, float *c) {
  MMap cm(c, m, n);
  if (m == 0 || n == 0)
    return;
  if (k == 0) {
    if (beta == 0.0f)
      cm.setZero();
    else
      cm *= beta;
    return;
  }
  CMap am(a, ta ? k : m, ta ? m : k), bm(b, tb ? n : k, tb ? k : n);
  if (!ta && !tb)
    product(cm, am, bm, alpha, beta);
  else if (!ta && tb)
    product(cm, am, bm.transpose(), alpha, beta);
  else if (ta && !tb)
    product(cm, am.transpose(), bm, alpha, beta);
  else
    product(cm, am.transpose(), bm.transpose(), alpha, beta);
}

void add_to(float *y, const float *x, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    y[i] += x[i];
}

void im2col(const Taps &t, int64_t channels, int64_t isz, int64_t ksz, int64_t osz, const float *x,
            float *col) {
  std::fill(col, col + channels * ksz * osz, 0.0f);
  for (int64_t c = 0; c < channels; ++c) {
    const float *xc = x + c * isz;
    float *cc = col + c * ksz * osz;
    for (int64_t p = 0; p < osz; ++p)
      for (int64_t j = t.begin[p]; j < t.begin[p + 1]; ++j)
        cc[t.kidx[j] * osz + p] = xc[t.off[j]];
  }
}

void col2im(const Taps &t, int64_t channels, int64_t isz, int64_t ksz, int64_t osz,
            const float *col, float *x) {
  for (int64_t c = 0; c < channels; ++c) {
    float *xc = x + c * isz;
    const float *cc = col + c * ksz * osz;
    for (int64_t p = 0; p < osz; ++p)
      for (int64_t j = t.begin[p]; j < t.begin[p + 1]; ++j)
        xc[t.off[j]] += cc[t.kidx[j] * osz + p];
  }
}

} // namespace hgqc::ops::train
