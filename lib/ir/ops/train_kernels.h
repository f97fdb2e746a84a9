// Float32 kernels shared by the ops' training hooks: matrix products (Eigen), im2col and
// broadcast reductions.
#pragma once

#include "ir/train.h"

#include <cstdint>

namespace hgqc::ops {
struct Taps;
}

namespace hgqc::ops::train {

/// C = alpha * op(A) * op(B) + beta * C for row-major A, B, C; op(A) is [M, K] (A stored
/// [K, M] when `ta`), op(B) is [K, N] (B stored [N, K] when `tb`), C is [M, N]. beta = 0
/// ignores C's old contents. Single-threaded (the engine threads over the batch).
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
          const float *b, float beta, float *c);

/// y[i] += x[i] for n elements.
void add_to(float *y, const float *x, int64_t n);

/// im2col of one sample's channel block: col[c * ksz + kidx][p] = x[c * isz + off] for the
/// taps of output position p (zero where a tap falls in the padding); col is
/// [channels * ksz, osz].
void im2col(const Taps &t, int64_t channels, int64_t isz, int64_t ksz, int64_t osz, const float *x,
            float *col);
/// The transpose of im2col: x[c * isz + off] += col[c * ksz + kidx][p].
void col2im(const Taps &t, int64_t channels, int64_t isz, int64_t ksz, int64_t osz,
            const float *col, float *x);

} // namespace hgqc::ops::train
