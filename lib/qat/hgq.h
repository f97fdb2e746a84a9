// HGQ quantizers (method.md §2): per-element trainable fractional bits, integer bits from the
// values (weights) or from running ranges (activations), the -ln2 (x_q - x) surrogate gradient
// and pruning at width <= 0.
#pragma once

#include "ir/fixed.h"
#include "ir/train.h"

#include <cmath>
#include <cstdint>
#include <vector>

namespace hgqc {

/// The top integer of an activation range whose maximum is `top` (on the grid, before
/// rounding) and rounds to `hi`: hi - 1 when hi is a power of two 2^k that only rounding
/// reached (top < 2^k), so that 2^k saturates and the format needs one bit less; else hi.
inline int64_t saturate_round_up(int64_t hi, double top) {
  return hi > 0 && (hi & (hi - 1)) == 0 && static_cast<double>(hi) > top ? hi - 1 : hi;
}

/// The straight-through rounding of fractional bits: round(f), halves up.
inline float round_f(float f) { return std::floor(f + 0.5f); }

/// The surrogate derivative d x_q / d f of method.md §2: -ln(2) * (x_q - x).
inline float surrogate_df(float xq, float x) { return -0.69314718056f * (xq - x); }

/// One HGQ quantizer: a FixedQuant node of the training graph with trainable fractional bits.
struct HgqQuantizer {
  int node = -1;       ///< index of its FixedQuant node in the training graph
  bool weight = false; ///< true: reads a trainable constant; false: an activation
  Dims dims;           ///< element dims: the weight's shape, or an activation's dims, batch 1
  int64_t n = 0;       ///< number of elements
  /// Element -> index into f when fractional bits are shared along axes; empty: one each.
  std::vector<int64_t> fmap;
  std::vector<float> f; ///< trainable fractional bits

  // Activations: the running range of the input (rmin <= 0 <= rmax), decaying slowly.
  std::vector<float> rmin, rmax;
  bool seen = false; ///< the range has seen data (before: no pruning, no cost)

  // Per-step tables, by element: 2^round(f), 2^-round(f), 1 (kept) or 0 (pruned), width, and
  // (activations) the integer where a rounded-up maximum saturates (else infinity).
  std::vector<float> scale, inv, live, width, top;

  /// Index into f of element e.
  int64_t fi(int64_t e) const { return fmap.empty() ? e : fmap[static_cast<size_t>(e)]; }
};

/// Makes a quantizer with all fractional bits `f0` (shared along `share_axes` of `dims`).
HgqQuantizer make_quantizer(int node, bool weight, const Dims &dims, float f0,
                            const std::vector<int64_t> &share_axes = {});

/// Recomputes an activation quantizer's tables from f and its running range.
void hgq_act_tables(HgqQuantizer &q);
/// Activation forward on rows of x ([rows, n] in memory): y = round(x 2^f) 2^-f, zero where
/// pruned; min and max of x per element are folded into bmin, bmax.
void hgq_act_forward(const HgqQuantizer &q, const TrainTensor &x, TrainTensor &y, float *bmin,
                     float *bmax);
/// Activation backward: dx += dy where kept (null: not wanted); egrad[e] += dy * d x_q / d f.
void hgq_act_backward(const HgqQuantizer &q, const TrainTensor &x, const TrainTensor &y,
                      const TrainTensor &dy, TrainTensor *dx, float *egrad);
/// Folds a step's per-element min/max into the running range; the old range shrinks by the
/// factor (1 - decay) first.
void hgq_update_range(HgqQuantizer &q, const float *bmin, const float *bmax, float decay);

/// Weight forward: wq = round(w 2^f) 2^-f; fills the tables (width from the integer itself,
/// so weights never overflow; zero weights are pruned).
void hgq_weight_forward(HgqQuantizer &q, const TrainTensor &w, TrainTensor &wq);
/// Weight backward: dw += dwq (straight through); egrad[e] += dwq * d wq / d f.
void hgq_weight_backward(const HgqQuantizer &q, const TrainTensor &w, const TrainTensor &wq,
                         const TrainTensor &dwq, TrainTensor &dw, float *egrad);

/// The exported format of weight element e with value w: the minimal format of its quantized
/// integer at round(f) (k = i = f = 0 when it is pruned).
FixedFormat hgq_weight_format(const HgqQuantizer &q, int64_t e, float w);
/// The exported format of activation element e covering the integers [lo, hi] at round(f)
/// (k = i = f = 0 for [0, 0] or a pruned element).
FixedFormat hgq_act_format(const HgqQuantizer &q, int64_t e, int64_t lo, int64_t hi);
/// The integer interval an activation element's running range, widened by `cover`, covers
/// at round(f). Integer bits come from the range itself, not from its rounded maximum: when
/// rounding the maximum up reaches a power of two 2^k that the range does not (0.996 at f = 2
/// rounds to 4), the top is 2^k - 1 and the values rounding to 2^k saturate, saving a bit.
void hgq_act_interval(const HgqQuantizer &q, int64_t e, int64_t &lo, int64_t &hi,
                      double cover = 1.0);

/// Fractional bits are kept within [kMinFrac, kMaxFrac] after every update.
inline constexpr float kMinFrac = -12, kMaxFrac = 20;

} // namespace hgqc
