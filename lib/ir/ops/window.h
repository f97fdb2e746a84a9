// Sliding-window geometry shared by Conv, MaxPool and AveragePool.
#pragma once

#include "ir/ops/common.h"

#include <any>

namespace hgqc::ops {

/// Geometry of a window over the spatial dimensions of an [N, C, D1, ...] tensor.
struct Window {
  Dims in, kernel, strides, dilations, pad_begin, pad_end, out;
  /// Number of spatial dimensions.
  size_t rank() const { return kernel.size(); }
};

/// Canonicalises window attributes at import: fills kernel_shape (from `weight_dims`
/// when given, i.e. for Conv), strides, dilations and pads; keeps auto_pad
/// (NOTSET/VALID/SAME_UPPER/SAME_LOWER) for run-time resolution; rejects other values.
/// `allow_ceil` admits ceil_mode.
void import_window(Node &n, const Dims &x_dims, const Dims *weight_dims, bool allow_dilations,
                   bool allow_ceil);

/// The window of node `n` over input dims `x` (kDynamic spatial dims give kDynamic outputs).
Window window_of(const Node &n, const Dims &x);

/// Export form of Conv, MaxPool and AveragePool: the canonical attributes, without `pads`
/// when auto_pad computes them (ONNX forbids both) and, unless `has_dilations`, without
/// `dilations` (which must then be all 1: AveragePool has none at opset 13).
ExportNode export_window(const Node &n, bool has_dilations);

} // namespace hgqc::ops

namespace hgqc::ops {

/// For every output position of a window (row-major over the spatial output), the
/// taps that fall inside the input: kernel index (row-major over the kernel) and
/// flat spatial offset in the input; `padded` counts the taps inside input + pads.
struct Taps {
  std::vector<int64_t> begin;  ///< CSR row starts, size out positions + 1
  std::vector<int64_t> kidx;   ///< kernel index of each tap
  std::vector<int64_t> off;    ///< flat input offset of each tap
  std::vector<int64_t> padded; ///< per output position: taps inside input or explicit pads
};

/// Computes the taps of a window with fully known spatial dimensions.
Taps window_taps(const Window &w);

/// A window with its taps, as the training hooks cache it per node (by input dims).
struct WindowCache {
  Dims x;
  Window win;
  Taps taps;
};
/// The cached window of node `n` for input dims `x` (recomputed when they change).
const WindowCache &window_cache(const Node &n, const Dims &x, std::any &cache);

} // namespace hgqc::ops
