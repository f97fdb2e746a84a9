// Dense tensors of the float reference evaluator, element types and shape helpers.
#pragma once

#include "ir/error.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

namespace hgqc {

/// Element types hgqc knows. Float32/Float64 carry activations and weights;
/// the integer types carry shapes and indices.
enum class DType { Float32, Float64, Int64, Int32, UInt8, Bool };

/// Lower-case name ("float32", "int64", ...).
const char *dtype_name(DType t);
/// True for Float32 and Float64.
bool is_float(DType t);

/// A shape; in static (import-time) shapes a dimension may be kDynamic.
using Dims = std::vector<int64_t>;
/// A dimension not known until run time: the batch dimension of graph inputs.
inline constexpr int64_t kDynamic = -1;

/// "[N,1,28,28]" style text ("N" for kDynamic).
std::string dims_str(const Dims &d);
/// The most elements one tensor may have: 2^28 (268,435,456; 2 GiB as the evaluator's doubles).
/// Every declared size (ONNX initializers and Constants, .npy/.npz/IDX/CSV data, inferred
/// shapes) is checked against it before anything is allocated.
inline constexpr int64_t kMaxTensorElements = int64_t{1} << 28;

/// Product of the dimensions (1 for a scalar). UserError when a dimension is unknown (kDynamic)
/// or negative, or when the product exceeds kMaxTensorElements (no overflow for any input).
int64_t dims_numel(const Dims &d);
/// Throws UserError at `loc` ("`what` has n elements, more than ...") when n > kMaxTensorElements.
void check_numel_cap(uint64_t n, const std::string &what, const Location &loc = {});
/// Row-major strides of a shape.
std::vector<int64_t> dims_strides(const Dims &d);

/// A dense row-major tensor. Values of every element type are held as double:
/// the reference evaluator computes in double precision, integers up to 2^53
/// are exact (larger int64 values lose their low bits), and results are rounded
/// to the declared type only on output.
class Tensor {
public:
  Tensor() = default;
  /// Zero-filled tensor of the given type and (fully known) shape.
  Tensor(DType dtype, Dims shape);
  /// Tensor with the given values; values.size() must match the shape.
  Tensor(DType dtype, Dims shape, std::vector<double> values);
  /// Rank-0 tensor.
  static Tensor scalar(DType dtype, double v);

  DType dtype() const { return dtype_; }
  const Dims &shape() const { return shape_; }
  int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
  int64_t numel() const { return static_cast<int64_t>(data_.size()); }
  std::span<const double> data() const { return data_; }
  std::span<double> data() { return data_; }
  double operator[](int64_t i) const { return data_[static_cast<size_t>(i)]; }
  double &operator[](int64_t i) { return data_[static_cast<size_t>(i)]; }
  /// Same values, new shape of equal element count.
  Tensor reshaped(Dims shape) const;
  /// The values rounded to element type `to` (float32 precision, or truncation toward
  /// zero for integer types), also when `to` is already the tensor's type.
  Tensor cast(DType to) const;
  /// The values as int64 (for shape and index tensors), truncated toward zero and
  /// saturated to the int64 range (NaN gives 0).
  std::vector<int64_t> as_int64() const;

private:
  DType dtype_ = DType::Float32;
  Dims shape_;
  std::vector<double> data_;
};

/// v truncated toward zero and clamped to the range of integer type I (NaN gives 0).
template <class I> I saturate_cast(double v) {
  if (std::isnan(v))
    return 0;
  v = std::trunc(v);
  if (v <= static_cast<double>(std::numeric_limits<I>::min()))
    return std::numeric_limits<I>::min();
  if (v >= static_cast<double>(std::numeric_limits<I>::max()))
    return std::numeric_limits<I>::max();
  return static_cast<I>(v);
}

/// Rounds v to the precision of the element type (float32 rounding, integer truncation).
double round_to_dtype(double v, DType t);

/// The numpy-style broadcast of two shapes; kDynamic broadcasts with anything
/// but 1. Returns false (and leaves out unchanged) when they do not broadcast.
bool broadcast_dims(const Dims &a, const Dims &b, Dims &out);

/// For an output index space of shape `out`, the strides to read an input of
/// shape `in` broadcast to it (0 on broadcast dimensions, aligned to the right).
std::vector<int64_t> broadcast_strides(const Dims &in, const Dims &out);

/// Normalises a possibly negative axis into [0, rank); false if out of range.
bool normalize_axis(int64_t &axis, int64_t rank);

} // namespace hgqc

namespace hgqc {

/// Result of comparing a tensor against a reference.
struct TensorDiff {
  bool same_shape = true; ///< false: nothing else is meaningful
  int64_t mismatches = 0; ///< elements with |a - e| > atol + rtol * |e| (or NaN on one side)
  double max_abs = 0;     ///< largest |a - e|
  double max_rel = 0;     ///< largest |a - e| / |e| over elements with e != 0
  int64_t worst = -1;     ///< index of the element furthest outside its tolerance
};

/// Compares `actual` against `expected` element by element (numpy.isclose rule).
TensorDiff compare(const Tensor &actual, const Tensor &expected, double rtol, double atol);

} // namespace hgqc
