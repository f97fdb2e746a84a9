// Sliding-window geometry shared by Conv, MaxPool and AveragePool.
#include "ir/ops/pool_common.h"

#include <algorithm>

namespace hgqc::ops {

void import_window(Node &n, const Dims &x, const Dims *w, bool allow_dilations, bool allow_ceil) {
  if (x.size() < 3)
    throw UserError("input must have rank >= 3 (N, C, spatial...), got " + dims_str(x));
  size_t r = x.size() - 2;
  std::vector<int64_t> ks = attr_ints(n, "kernel_shape", {});
  if (w) {
    Dims wk(w->begin() + 2, w->end());
    if (ks.empty())
      ks = wk;
    else if (ks != wk)
      throw UserError("kernel_shape " + dims_str(ks) + " disagrees with weight shape " +
                      dims_str(*w));
  }
  if (ks.size() != r)
    throw UserError("kernel_shape must have " + std::to_string(r) + " entries");
  // Entries are bounded by the tensor cap, so that no window arithmetic can overflow.
  auto too_large = [](const char *name) {
    return UserError(std::string(name) + " entries must be at most " +
                     std::to_string(kMaxTensorElements));
  };
  for (int64_t k : ks) {
    if (k < 1)
      throw UserError("kernel_shape entries must be positive");
    if (k > kMaxTensorElements)
      throw too_large("kernel_shape");
  }
  auto get = [&](const char *name, size_t len, int64_t def, int64_t min) {
    std::vector<int64_t> v = attr_ints(n, name, std::vector<int64_t>(len, def));
    if (v.size() != len)
      throw UserError(std::string(name) + " must have " + std::to_string(len) + " entries");
    for (int64_t e : v) {
      if (e < min)
        throw UserError(std::string(name) + " entries must be >= " + std::to_string(min));
      if (e > kMaxTensorElements)
        throw too_large(name);
    }
    return v;
  };
  n.attrs["kernel_shape"] = ks;
  n.attrs["strides"] = get("strides", r, 1, 1);
  n.attrs["pads"] = get("pads", 2 * r, 0, 0);
  auto dil = get("dilations", r, 1, 1);
  if (!allow_dilations && dil != std::vector<int64_t>(r, 1))
    throw UserError("dilations are not supported by this op");
  n.attrs["dilations"] = dil;
  std::string ap = attr_string(n, "auto_pad", "NOTSET");
  if (ap != "NOTSET" && ap != "VALID" && ap != "SAME_UPPER" && ap != "SAME_LOWER")
    throw UserError("auto_pad '" + ap + "' is not supported");
  n.attrs["auto_pad"] = ap;
  int64_t ceil = attr_int(n, "ceil_mode", 0);
  if (ceil && !allow_ceil)
    throw UserError("ceil_mode is not supported by this op");
  if (allow_ceil)
    n.attrs["ceil_mode"] = ceil;
}

ExportNode export_window(const Node &n, bool has_dilations) {
  ExportNode e = default_export_node(n);
  if (attr_string(n, "auto_pad", "NOTSET") != "NOTSET")
    e.attrs.erase("pads");
  if (!has_dilations) {
    std::vector<int64_t> dil = attr_ints(n, "dilations", {});
    if (std::any_of(dil.begin(), dil.end(), [](int64_t d) { return d != 1; }))
      throw UserError("dilations other than 1 cannot be written at opset " +
                      std::to_string(kExportOpset));
    e.attrs.erase("dilations");
  }
  return e;
}

Window window_of(const Node &n, const Dims &x) {
  Window w;
  size_t r = x.size() - 2;
  w.in.assign(x.begin() + 2, x.end());
  w.kernel = attr_ints(n, "kernel_shape", {});
  w.strides = attr_ints(n, "strides", {});
  w.dilations = attr_ints(n, "dilations", std::vector<int64_t>(r, 1));
  std::vector<int64_t> pads = attr_ints(n, "pads", std::vector<int64_t>(2 * r, 0));
  HGQC_ASSERT(w.kernel.size() == r && w.strides.size() == r && pads.size() == 2 * r,
              "window attributes not canonical");
  std::string ap = attr_string(n, "auto_pad", "NOTSET");
  bool ceil = attr_int(n, "ceil_mode", 0);
  w.pad_begin.assign(pads.begin(), pads.begin() + r);
  w.pad_end.assign(pads.begin() + r, pads.end());
  w.out.resize(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t ext = (w.kernel[i] - 1) * w.dilations[i] + 1, s = w.strides[i], in = w.in[i];
    if (in == kDynamic) {
      w.out[i] = kDynamic;
      continue;
    }
    check_numel_cap(static_cast<uint64_t>(in), "spatial dimension " + std::to_string(i));
    if (ap == "SAME_UPPER" || ap == "SAME_LOWER") {
      int64_t o = (in + s - 1) / s;
      int64_t total = std::max<int64_t>((o - 1) * s + ext - in, 0);
      w.pad_begin[i] = ap == "SAME_UPPER" ? total / 2 : total - total / 2;
      w.pad_end[i] = total - w.pad_begin[i];
      w.out[i] = o;
      continue;
    }
    if (ap == "VALID")
      w.pad_begin[i] = w.pad_end[i] = 0;
    int64_t span = in + w.pad_begin[i] + w.pad_end[i] - ext;
    if (span < 0)
      throw UserError("window of extent " + std::to_string(ext) + " does not fit spatial size " +
                      std::to_string(in) + " with its padding");
    int64_t o = (ceil ? (span + s - 1) / s : span / s) + 1;
    // In ceil mode the last window must start inside the input or its leading pad.
    if (ceil && (o - 1) * s >= in + w.pad_begin[i])
      --o;
    w.out[i] = o;
  }
  return w;
}

} // namespace hgqc::ops

namespace hgqc::ops {

Taps window_taps(const Window &w) {
  size_t r = w.rank();
  int64_t nout = dims_numel(w.out), nk = dims_numel(w.kernel);
  auto in_strides = dims_strides(w.in);
  Taps t;
  t.begin.reserve(nout + 1);
  std::vector<int64_t> o(r, 0), k(r);
  for (int64_t p = 0; p < nout; ++p) {
    t.begin.push_back(static_cast<int64_t>(t.off.size()));
    int64_t padded = 0;
    std::fill(k.begin(), k.end(), 0);
    for (int64_t q = 0; q < nk; ++q) {
      bool inside = true, in_pad = true;
      int64_t off = 0;
      for (size_t i = 0; i < r; ++i) {
        int64_t c = o[i] * w.strides[i] - w.pad_begin[i] + k[i] * w.dilations[i];
        inside &= c >= 0 && c < w.in[i];
        in_pad &= c >= -w.pad_begin[i] && c < w.in[i] + w.pad_end[i];
        off += c * in_strides[i];
      }
      padded += in_pad;
      if (inside) {
        t.kidx.push_back(q);
        t.off.push_back(off);
      }
      for (size_t i = r; i-- > 0;) {
        if (++k[i] < w.kernel[i])
          break;
        k[i] = 0;
      }
    }
    t.padded.push_back(padded);
    for (size_t i = r; i-- > 0;) {
      if (++o[i] < w.out[i])
        break;
      o[i] = 0;
    }
  }
  t.begin.push_back(static_cast<int64_t>(t.off.size()));
  return t;
}

} // namespace hgqc::ops

namespace hgqc::ops {
ValueType pool_infer(const Node &n, const ValueType &x) {
  require_float(x.dtype, "input X");
  if (x.dims.size() < 3)
    throw UserError("input must have rank >= 3 (N, C, spatial...), got " + dims_str(x.dims));
  Window w = window_of(n, x.dims);
  Dims out{x.dims[0], x.dims[1]};
  out.insert(out.end(), w.out.begin(), w.out.end());
  return {x.dtype, out};
}

PoolRangeGeom pool_range_geom(const Node &n, const Dims &x) {
  HGQC_ASSERT(x.size() >= 3, "pooling input range of rank < 3");
  Window w = window_of(n, x);
  PoolRangeGeom g;
  g.taps = window_taps(w);
  g.planes = x[0] * x[1];
  g.isz = dims_numel(w.in);
  g.osz = dims_numel(w.out);
  g.out = {x[0], x[1]};
  g.out.insert(g.out.end(), w.out.begin(), w.out.end());
  return g;
}
void pool_addend_counts(const Node &n, const Dims &x, std::vector<float> &counts) {
  PoolRangeGeom g = pool_range_geom(n, x);
  counts.assign(static_cast<size_t>(dims_numel(x)), 0.0f);
  for (int64_t e = 0; e < g.planes * g.osz; ++e)
    g.for_taps(e, [&](int64_t xe) { counts[static_cast<size_t>(xe)] += 1.0f; });
}

double pool_ebops(const Node &n, std::span<const ValueRange *const> in) {
  if (!in[0])
    return 0;
  const ValueRange &x = *in[0];
  std::vector<float> counts;
  pool_addend_counts(n, x.dims, counts);
  HGQC_ASSERT(counts.size() == x.el.size(), "pooling input range of the wrong size");
  double sum = 0;
  for (size_t i = 0; i < counts.size(); ++i)
    sum += static_cast<double>(counts[i]) * x.el[i].width();
  return sum;
}

const WindowCache &window_cache(const Node &n, const Dims &x, std::any &cache) {
  auto *c = std::any_cast<WindowCache>(&cache);
  if (!c || c->x != x) {
    WindowCache w{x, window_of(n, x), {}};
    w.taps = window_taps(w.win);
    cache = std::move(w);
    c = std::any_cast<WindowCache>(&cache);
  }
  return *c;
}

} // namespace hgqc::ops
