// Resize (also ONNX Upsample) in mode nearest: output index o of each dimension copies input
// index nearest(transform(o)), clamped to the input. Import brings every form (Upsample
// opset 7 and 9, Resize opset 10, 11 and 13, scales or sizes as constant inputs) to one:
// per-dimension `scales` and `sizes` (0: floor(input size * scale)), the
// coordinate_transformation_mode and the nearest_mode. Fixed point: a copy; the batch
// dimension is not resized.
#include "ir/ops/fixed_common.h"

#include <algorithm>
#include <cmath>

namespace hgqc {
namespace {
const char *const kTransforms[] = {"half_pixel", "pytorch_half_pixel", "align_corners",
                                   "asymmetric", "tf_half_pixel_for_nn"};
const char *const kNearest[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};

bool one_of(const std::string &s, std::span<const char *const> list) {
  return std::any_of(list.begin(), list.end(), [&](const char *m) { return s == m; });
}

// The constant float input i (nullptr when omitted or empty); UserError when computed.
const Tensor *float_input(const ImportContext &ctx, const Node &n, size_t i, const char *what) {
  if (n.inputs.size() <= i || n.inputs[i] == kNoValue)
    return nullptr;
  const Tensor *t = ops::import_const(ctx, n, i);
  if (!t)
    throw UserError(std::string("input '") + what + "' must be a constant");
  return t->numel() == 0 ? nullptr : t;
}

std::vector<double> values_of(const Tensor &t) {
  std::vector<double> v(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i)
    v[static_cast<size_t>(i)] = t[i];
  return v;
}

void import(Node &n, ImportContext &ctx) {
  const bool upsample = n.source_op == "Upsample";
  const bool old_form = upsample || ctx.opset < 11; // Upsample, Resize-10: (X, scales)
  if (old_form)
    check_known_attrs(n, {"mode", "scales"});
  else
    check_known_attrs(n, {"coordinate_transformation_mode", "cubic_coeff_a", "exclude_outside",
                          "extrapolation_value", "mode", "nearest_mode"});
  std::string mode = attr_string(n, "mode", "nearest");
  if (mode != "nearest")
    throw UserError("mode '" + mode + "' is not supported (only 'nearest')");
  const ValueType &xt = ctx.graph.values[n.inputs[0]].type;
  const auto rank = static_cast<int64_t>(xt.dims.size());
  std::string transform = "asymmetric", nearest = "floor"; // Upsample and Resize-10
  std::vector<double> scales;
  std::vector<int64_t> sizes;
  if (old_form) {
    if (n.attrs.count("scales")) { // Upsample-7
      scales = attr_floats(n, "scales", {});
    } else {
      const Tensor *s = float_input(ctx, n, 1, "scales");
      if (!s)
        throw UserError("input 'scales' is missing");
      scales = values_of(*s);
    }
    if (std::any_of(scales.begin(), scales.end(), [](double s) { return s < 1; }))
      throw UserError("scales below 1 are refused in " +
                      std::string(upsample ? "Upsample" : "Resize-10") +
                      ": its nearest rounding for downsampling is not specified "
                      "(runtimes differ); use Resize from opset 11 with a nearest_mode");
  } else {
    transform = attr_string(n, "coordinate_transformation_mode", "half_pixel");
    if (!one_of(transform, kTransforms))
      throw UserError("coordinate_transformation_mode '" + transform +
                      "' is not supported (half_pixel, pytorch_half_pixel, align_corners, "
                      "asymmetric or tf_half_pixel_for_nn)");
    nearest = attr_string(n, "nearest_mode", "round_prefer_floor");
    if (!one_of(nearest, kNearest))
      throw UserError("nearest_mode '" + nearest + "' is not supported");
    const Tensor *s = float_input(ctx, n, 2, "scales");
    const Tensor *z = float_input(ctx, n, 3, "sizes");
    if (!s == !z)
      throw UserError("exactly one of the inputs 'scales' and 'sizes' must be given");
    if (s)
      scales = values_of(*s);
    else
      sizes = z->as_int64();
  }
  if (scales.empty() && sizes.empty())
    throw UserError("scales are missing");
  size_t given = scales.empty() ? sizes.size() : scales.size();
  if (static_cast<int64_t>(given) != rank)
    throw UserError(std::string(scales.empty() ? "sizes" : "scales") + " has " +
                    std::to_string(given) + " entries for data of rank " + std::to_string(rank));
  if (!sizes.empty()) { // as scales out / in, or kept where that is not exact
    scales.assign(static_cast<size_t>(rank), 1.0);
    for (size_t i = 0; i < sizes.size(); ++i) {
      if (xt.dims[i] == kDynamic) {
        if (sizes[i] != ctx.declared_batch)
          throw UserError("sizes entry " + std::to_string(i) + " is " + std::to_string(sizes[i]) +
                          " but dimension " + std::to_string(i) + " has no fixed size (the batch)");
        sizes[i] = 0;
        continue;
      }
      if (sizes[i] <= 0 || xt.dims[i] <= 0)
        throw UserError("sizes entry " + std::to_string(i) + " is " + std::to_string(sizes[i]) +
                        " for a dimension of size " + std::to_string(xt.dims[i]) +
                        " (both must be positive)");
      scales[i] = static_cast<double>(sizes[i]) / static_cast<double>(xt.dims[i]);
      auto f = static_cast<double>(static_cast<float>(scales[i]));
      if (f == scales[i] && static_cast<int64_t>(f * static_cast<double>(xt.dims[i])) == sizes[i])
        sizes[i] = 0; // the scale says it exactly
    }
    if (std::all_of(sizes.begin(), sizes.end(), [](int64_t v) { return v == 0; }))
      sizes.clear();
  }
  for (double s : scales)
    if (!(s > 0) || !std::isfinite(s))
      throw UserError("scales entry " + ops::real_str(s) + " is not a positive number");
  n.attrs.clear();
  n.attrs["scales"] = scales;
  if (!sizes.empty())
    n.attrs["sizes"] = sizes;
  n.attrs["coordinate_transformation_mode"] = transform;
  n.attrs["nearest_mode"] = nearest;
  n.inputs.resize(1);
}

Dims out_dims(const Node &n, const Dims &d) {
  std::vector<double> scales = attr_floats(n, "scales", {});
  std::vector<int64_t> sizes = attr_ints(n, "sizes", {});
  HGQC_ASSERT(scales.size() == d.size(), "Resize with scales of the wrong length");
  Dims r(d.size());
  for (size_t i = 0; i < d.size(); ++i)
    if (!sizes.empty() && sizes[i] > 0)
      r[i] = sizes[i];
    else if (d[i] == kDynamic) // the batch, or a size known once computed pads are folded
      r[i] = kDynamic;
    else
      r[i] = static_cast<int64_t>(scales[i] * static_cast<double>(d[i]));
  return r;
}

std::vector<ValueType> infer(const Node &n, ops::Ins in, ops::Consts) {
  ops::require_numeric(in[0]->dtype, "input");
  return {ValueType{in[0]->dtype, out_dims(n, in[0]->dims)}};
}

// Input index for output index o of a dimension resized from `in` to `out` elements.
int64_t source_index(int64_t o, int64_t in, int64_t out, double scale, const std::string &t,
                     const std::string &nearest) {
  double x = static_cast<double>(o), s = scale;
  double v = t == "half_pixel"           ? (x + 0.5) / s - 0.5
             : t == "pytorch_half_pixel" ? (out > 1 ? (x + 0.5) / s - 0.5 : 0.0)
             : t == "align_corners"
                 ? (out == 1 ? 0.0 : x * static_cast<double>(in - 1) / static_cast<double>(out - 1))
             : t == "asymmetric" ? x / s
                                 : (x + 0.5) / s; // tf_half_pixel_for_nn
  double fl = std::floor(v), frac = v - fl;
  double r = nearest == "floor"                ? fl
             : nearest == "ceil"               ? std::ceil(v)
             : nearest == "round_prefer_floor" ? (frac <= 0.5 ? fl : fl + 1)
                                               : (frac < 0.5 ? fl : fl + 1);
  return std::clamp<int64_t>(static_cast<int64_t>(r), 0, in - 1);
}

std::vector<Tensor> eval(const Node &n, ops::Vals in) {
  const Tensor &x = *in[0];
  const Dims &d = x.shape();
  Dims od = out_dims(n, d);
  std::vector<double> scales = attr_floats(n, "scales", {});
  std::string t = attr_string(n, "coordinate_transformation_mode", "asymmetric");
  std::string nearest = attr_string(n, "nearest_mode", "floor");
  const size_t rank = d.size();
  Tensor y(x.dtype(), od);
  if (y.numel() == 0)
    return {y};
  if (x.numel() == 0)
    throw UserError("cannot resize the empty shape " + dims_str(d) + " to " + dims_str(od));
  std::vector<std::vector<int64_t>> src(rank);
  for (size_t i = 0; i < rank; ++i)
    for (int64_t o = 0; o < od[i]; ++o)
      src[i].push_back(source_index(o, d[i], od[i], scales[i], t, nearest));
  std::vector<int64_t> stride(rank, 1), idx(rank, 0);
  for (size_t i = rank; i-- > 1;)
    stride[i - 1] = stride[i] * d[i];
  for (int64_t k = 0; k < y.numel(); ++k) {
    int64_t off = 0;
    for (size_t i = 0; i < rank; ++i)
      off += src[i][static_cast<size_t>(idx[i])] * stride[i];
    y[k] = x[off];
    for (size_t i = rank; i-- > 0;) // next output index, row-major
      if (++idx[i] < od[i])
        break;
      else
        idx[i] = 0;
  }
  return {y};
}

// Opset 13: Resize(X, roi omitted, scales) or Resize(X, roi, scales omitted, sizes), mode
// nearest; the batch entry of sizes is the declared batch.
std::vector<ExportNode> export_form(const Node &n, const ExportContext &ctx) {
  ExportNode e = default_export_node(n);
  std::vector<double> scales = attr_floats(n, "scales", {});
  std::vector<int64_t> sizes = attr_ints(n, "sizes", {});
  e.attrs.erase("scales");
  e.attrs.erase("sizes");
  e.attrs["mode"] = std::string("nearest");
  const Dims &d = ctx.graph.values[n.inputs[0]].type.dims;
  auto len = static_cast<int64_t>(scales.size());
  if (sizes.empty()) {
    Tensor t(DType::Float32, {len});
    for (int64_t i = 0; i < len; ++i)
      t[i] = scales[static_cast<size_t>(i)];
    e.inputs = {e.inputs[0], ExportRef::of(kNoValue), ExportRef::constant_of(t, "scales")};
    return {e};
  }
  Tensor t(DType::Int64, {len});
  Dims od = out_dims(n, d);
  for (int64_t i = 0; i < len; ++i) {
    if (od[i] == kDynamic && ctx.declared_batch == 0)
      throw UserError("a Resize given by sizes exports only with a declared batch size");
    t[i] = static_cast<double>(od[i] == kDynamic ? ctx.declared_batch : od[i]);
  }
  e.inputs = {e.inputs[0], ExportRef::constant_of(Tensor(DType::Float32, {0}), "roi"),
              ExportRef::of(kNoValue), ExportRef::constant_of(t, "sizes")};
  return {e};
}

constexpr OpDef make_resize() {
  OpDef d = ops::with_copy_hooks<&eval, 1>(
      {"Resize", OpDomain::Onnx, 1, 4, 1, 1, true, &import, &infer, &eval});
  d.export_form = &export_form;
  return d;
}
} // namespace

const OpDef op_def_Resize = make_resize();

} // namespace hgqc
