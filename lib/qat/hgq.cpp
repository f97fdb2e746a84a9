// HGQ quantizers (method.md §2): forward, surrogate backward, tables and exported formats.
#include "qat/hgq.h"

#include "ir/error.h"

#include <algorithm>
#include <limits>

namespace hgqc {

namespace {
// round(x) as an integer, clamped so that products and widths stay meaningful.
int64_t round_int(double x) {
  double r = std::floor(x + 0.5);
  constexpr double lim = 0x1p60;
  return static_cast<int64_t>(std::clamp(r, -lim, lim));
}
} // namespace

HgqQuantizer make_quantizer(int node, bool weight, const Dims &dims, float f0,
                            const std::vector<int64_t> &share_axes) {
  HgqQuantizer q;
  q.node = node;
  q.weight = weight;
  q.dims = dims;
  q.n = dims_numel(dims);
  Dims fd = dims;
  for (int64_t a : share_axes)
    fd[static_cast<size_t>(a)] = 1;
  if (fd != dims)
    q.fmap = range_index(fd, dims);
  q.f.assign(static_cast<size_t>(dims_numel(fd)), f0);
  q.scale.assign(static_cast<size_t>(q.n), 1.0f);
  q.inv.assign(static_cast<size_t>(q.n), 1.0f);
  q.live.assign(static_cast<size_t>(q.n), 1.0f);
  q.width.assign(static_cast<size_t>(q.n), 0.0f);
  if (!weight) {
    q.rmin.assign(static_cast<size_t>(q.n), 0.0f);
    q.rmax.assign(static_cast<size_t>(q.n), 0.0f);
    q.top.assign(static_cast<size_t>(q.n), std::numeric_limits<float>::infinity());
  }
  return q;
}

void hgq_act_interval(const HgqQuantizer &q, int64_t e, int64_t &lo, int64_t &hi, double cover) {
  double s = std::ldexp(cover, static_cast<int>(round_f(q.f[q.fi(e)])));
  lo = round_int(q.rmin[e] * s);
  const double top = q.rmax[e] * s;
  hi = saturate_round_up(round_int(top), top);
}

void hgq_act_tables(HgqQuantizer &q) {
  for (int64_t e = 0; e < q.n; ++e) {
    int fr = static_cast<int>(round_f(q.f[q.fi(e)]));
    q.scale[e] = std::ldexp(1.0f, fr);
    q.inv[e] = std::ldexp(1.0f, -fr);
    if (!q.seen) {
      q.live[e] = 1.0f;
      q.width[e] = 0.0f;
      q.top[e] = std::numeric_limits<float>::infinity();
      continue;
    }
    int64_t lo, hi;
    hgq_act_interval(q, e, lo, hi);
    int w = int_width(lo, hi);
    // Where the rounded-up maximum saturates, the forward saturates too (as the exported
    // format does); elsewhere values beyond the running range pass, as they always did.
    q.top[e] = hi < round_int(static_cast<double>(q.rmax[e]) * q.scale[e])
                   ? static_cast<float>(hi)
                   : std::numeric_limits<float>::infinity();
    q.width[e] = static_cast<float>(w);
    q.live[e] = w > 0 ? 1.0f : 0.0f;
  }
}

namespace {
// floor(t) without a libm call, so that the loop vectorises with SSE2: below 2^23 in magnitude
// truncation to int32 and a correction for negative fractions; from 2^23 on (and NaN) a float
// is already an integer. The same bits as std::floor on every x86-64, but for t = -0, which
// gives +0 (the caller's t = x 2^f + 0.5 is never -0).
inline float floor_fast(float t) {
  constexpr float kInt = 8388608.0f; // 2^23
  // Clamped first, so that the conversion is defined for every t (NaN becomes -2^23).
  float c = std::max(-kInt, std::min(t, kInt));
  float a = std::fabs(t) < kInt ? static_cast<float>(static_cast<int32_t>(c)) : t;
  return a > t ? a - 1.0f : a;
}

// One row of hgq_act_forward. Restrict-qualified parameters (GCC ignores restrict on locals), so
// that the loop vectorises without run-time alias checks.
void act_forward_row(const float *__restrict x, float *__restrict y, const float *__restrict s,
                     const float *__restrict inv, const float *__restrict live,
                     const float *__restrict top, float *__restrict lo, float *__restrict hi,
                     int64_t n) {
  for (int64_t e = 0; e < n; ++e) {
    float v = x[e];
    y[e] = std::min(floor_fast(v * s[e] + 0.5f), top[e]) * inv[e] * live[e];
    lo[e] = std::min(lo[e], v);
    hi[e] = std::max(hi[e], v);
  }
}
} // namespace

void hgq_act_forward(const HgqQuantizer &q, const TrainTensor &x, TrainTensor &y, float *bmin,
                     float *bmax) {
  y.resize(x.shape);
  const int64_t n = q.n, rows = x.numel() / std::max<int64_t>(n, 1);
  for (int64_t r = 0; r < rows; ++r)
    act_forward_row(x.data() + r * n, y.data() + r * n, q.scale.data(), q.inv.data(), q.live.data(),
                    q.top.data(), bmin, bmax, n);
}

void hgq_act_backward(const HgqQuantizer &q, const TrainTensor &x, const TrainTensor &y,
                      const TrainTensor &dy, TrainTensor *dx, float *egrad) {
  const int64_t n = q.n, rows = x.numel() / std::max<int64_t>(n, 1);
  const float *live = q.live.data();
  if (dx)
    grad_target(*dx, x.shape);
  for (int64_t r = 0; r < rows; ++r) {
    const float *xr = x.data() + r * n, *yr = y.data() + r * n, *gr = dy.data() + r * n;
    float *dr = dx ? dx->data() + r * n : nullptr;
    for (int64_t e = 0; e < n; ++e) {
      egrad[e] += gr[e] * surrogate_df(yr[e], xr[e]);
      if (dr)
        dr[e] += gr[e] * live[e];
    }
  }
}

void hgq_update_range(HgqQuantizer &q, const float *bmin, const float *bmax, float decay) {
  float keep = q.seen ? 1.0f - decay : 0.0f;
  for (int64_t e = 0; e < q.n; ++e) {
    q.rmin[e] = std::min({q.rmin[e] * keep, bmin[e], 0.0f});
    q.rmax[e] = std::max({q.rmax[e] * keep, bmax[e], 0.0f});
  }
  q.seen = true;
}

void hgq_weight_forward(HgqQuantizer &q, const TrainTensor &w, TrainTensor &wq) {
  wq.resize(w.shape);
  for (int64_t e = 0; e < q.n; ++e) {
    int fr = static_cast<int>(round_f(q.f[q.fi(e)]));
    float s = std::ldexp(1.0f, fr), inv = std::ldexp(1.0f, -fr);
    q.scale[e] = s;
    q.inv[e] = inv;
    int64_t iq = round_int(static_cast<double>(w.v[e]) * s);
    wq.v[e] = static_cast<float>(iq) * inv;
    int wd = int_width(iq, iq);
    q.width[e] = static_cast<float>(wd);
    q.live[e] = wd > 0 ? 1.0f : 0.0f;
  }
}

void hgq_weight_backward(const HgqQuantizer &q, const TrainTensor &w, const TrainTensor &wq,
                         const TrainTensor &dwq, TrainTensor &dw, float *egrad) {
  grad_target(dw, w.shape);
  for (int64_t e = 0; e < q.n; ++e) {
    dw.v[e] += dwq.v[e];
    egrad[e] += dwq.v[e] * surrogate_df(wq.v[e], w.v[e]);
  }
}

FixedFormat hgq_weight_format(const HgqQuantizer &q, int64_t e, float w) {
  int fr = static_cast<int>(round_f(q.f[q.fi(e)]));
  int64_t iq = round_int(std::ldexp(static_cast<double>(w), fr));
  return hgq_act_format(q, e, iq, iq);
}

FixedFormat hgq_act_format(const HgqQuantizer &q, int64_t e, int64_t lo, int64_t hi) {
  if ((lo == 0 && hi == 0) || (!q.weight && q.seen && q.live[e] == 0.0f))
    return FixedFormat{0, 0, 0};
  int fr = static_cast<int>(round_f(q.f[q.fi(e)]));
  return Interval{lo, hi, fr}.min_format();
}

} // namespace hgqc
