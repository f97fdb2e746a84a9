// Dense tensors of the float reference evaluator, element types and shape helpers.
#include "ir/tensor.h"

#include "ir/error.h"

#include <cmath>

namespace hgqc {

const char *dtype_name(DType t) {
  switch (t) {
  case DType::Float32:
    return "float32";
  case DType::Float64:
    return "float64";
  case DType::Int64:
    return "int64";
  case DType::Int32:
    return "int32";
  case DType::UInt8:
    return "uint8";
  case DType::Bool:
    return "bool";
  }
  return "?";
}

bool is_float(DType t) { return t == DType::Float32 || t == DType::Float64; }

std::string dims_str(const Dims &d) {
  std::string s = "[";
  for (size_t i = 0; i < d.size() && i < 16; ++i) {
    if (i)
      s += ",";
    s += d[i] == kDynamic ? std::string("N") : std::to_string(d[i]);
  }
  if (d.size() > 16)
    s += ",... (" + std::to_string(d.size()) + " dimensions)";
  return s + "]";
}

void check_numel_cap(uint64_t n, const std::string &what, const Location &loc) {
  if (n > static_cast<uint64_t>(kMaxTensorElements))
    throw UserError(what + " has " + std::to_string(n) + " elements, more than the " +
                        std::to_string(kMaxTensorElements) + " hgqc allows in one tensor",
                    loc);
}

int64_t dims_numel(const Dims &d) {
  for (int64_t x : d)
    if (x < 0)
      throw UserError("shape " + dims_str(d) +
                      (x == kDynamic ? " has an unknown dimension where a known one is needed"
                                     : " has a negative dimension"));
  // With a zero dimension the product is 0 however large the others are.
  for (int64_t x : d)
    if (x == 0)
      return 0;
  int64_t n = 1;
  for (int64_t x : d) {
    if (n > kMaxTensorElements / x)
      throw UserError("shape " + dims_str(d) + " has more than the " +
                      std::to_string(kMaxTensorElements) + " elements hgqc allows in one tensor");
    n *= x;
  }
  return n;
}

std::vector<int64_t> dims_strides(const Dims &d) {
  std::vector<int64_t> s(d.size(), 1);
  for (int64_t i = static_cast<int64_t>(d.size()) - 2; i >= 0; --i)
    s[i] = s[i + 1] * d[i + 1];
  return s;
}

Tensor::Tensor(DType dtype, Dims shape)
    : dtype_(dtype), shape_(std::move(shape)), data_(static_cast<size_t>(dims_numel(shape_)), 0.0) {
}

Tensor::Tensor(DType dtype, Dims shape, std::vector<double> values)
    : dtype_(dtype), shape_(std::move(shape)), data_(std::move(values)) {
  HGQC_ASSERT(static_cast<int64_t>(data_.size()) == dims_numel(shape_),
              "tensor of shape " + dims_str(shape_) + " given " + std::to_string(data_.size()) +
                  " values");
}

Tensor Tensor::scalar(DType dtype, double v) { return Tensor(dtype, {}, {v}); }

Tensor Tensor::reshaped(Dims shape) const {
  HGQC_ASSERT(dims_numel(shape) == numel(),
              "reshape " + dims_str(shape_) + " to " + dims_str(shape));
  return Tensor(dtype_, std::move(shape), data_);
}

double round_to_dtype(double v, DType t) {
  switch (t) {
  case DType::Float32:
    return static_cast<double>(static_cast<float>(v));
  case DType::Float64:
    return v;
  case DType::Bool:
    return v != 0.0 ? 1.0 : 0.0;
  default:
    return std::trunc(v);
  }
}

Tensor Tensor::cast(DType to) const {
  // Rounds even when the type does not change: the evaluator keeps double precision in
  // tensors typed float32, and this is where results take their declared precision.
  Tensor r(to, shape_, data_);
  for (double &v : r.data_)
    v = round_to_dtype(v, to);
  return r;
}

std::vector<int64_t> Tensor::as_int64() const {
  std::vector<int64_t> r(data_.size());
  for (size_t i = 0; i < data_.size(); ++i)
    r[i] = saturate_cast<int64_t>(data_[i]);
  return r;
}

bool broadcast_dims(const Dims &a, const Dims &b, Dims &out) {
  size_t n = std::max(a.size(), b.size());
  Dims r(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t x = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t y = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (x == y || y == 1)
      r[i] = x;
    else if (x == 1)
      r[i] = y;
    else if (x == kDynamic)
      r[i] = y;
    else if (y == kDynamic)
      r[i] = x;
    else
      return false;
  }
  out = std::move(r);
  return true;
}

std::vector<int64_t> broadcast_strides(const Dims &in, const Dims &out) {
  HGQC_ASSERT(in.size() <= out.size());
  std::vector<int64_t> s(out.size(), 0);
  auto is = dims_strides(in);
  size_t off = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i)
    s[off + i] = in[i] == 1 ? 0 : is[i];
  return s;
}

bool normalize_axis(int64_t &axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return false;
  if (axis < 0)
    axis += rank;
  return true;
}

} // namespace hgqc

namespace hgqc {

TensorDiff compare(const Tensor &a, const Tensor &e, double rtol, double atol) {
  TensorDiff d;
  if (a.shape() != e.shape()) {
    d.same_shape = false;
    return d;
  }
  double worst_excess = -1;
  for (int64_t i = 0; i < a.numel(); ++i) {
    double x = a[i], y = e[i];
    if (std::isnan(x) || std::isnan(y)) {
      if (std::isnan(x) != std::isnan(y)) {
        ++d.mismatches;
        d.worst = i;
        worst_excess = INFINITY;
      }
      continue;
    }
    double diff = x == y ? 0.0 : std::fabs(x - y); // equal infinities agree
    d.max_abs = std::max(d.max_abs, diff);
    if (y != 0)
      d.max_rel = std::max(d.max_rel, diff / std::fabs(y));
    double excess = diff - (atol + rtol * std::fabs(y));
    if (excess > 0)
      ++d.mismatches;
    if (excess > worst_excess) {
      worst_excess = excess;
      d.worst = i;
    }
  }
  return d;
}

} // namespace hgqc
