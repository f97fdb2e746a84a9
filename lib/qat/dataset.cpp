// Training and validation data of `hgqc train`: loading, checks against the model, splitting.
#include "qat/dataset.h"

#include "frontend/data_io.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>

namespace hgqc {

namespace {
std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.9g", v);
  return b;
}
} // namespace

Dataset load_dataset(const DataSource &src, const std::string &input_name, const Dims &sample,
                     int64_t outputs, std::optional<TaskKind> &task) {
  Tensor x, y;
  std::string xfile, yfile;
  if (src.files.size() == 1 && src.targets.empty()) {
    xfile = yfile = src.files[0];
    if (!xfile.ends_with(".npz"))
      throw UserError("give the targets too (--targets FILE), or one .npz with arrays x and y",
                      {xfile});
    bool hx = false, hy = false;
    for (auto &[k, t] : read_npz(xfile)) {
      if (!hx && (k == "x" || k == input_name)) {
        x = std::move(t);
        hx = true;
      } else if (!hy && k == "y") {
        y = std::move(t);
        hy = true;
      }
    }
    if (!hx || !hy)
      throw UserError(std::string("has no array named ") + (hx ? "'y' (the targets)" : "'x'") +
                          " (a .npz needs x and y)",
                      {xfile});
  } else if (src.files.size() == 1) {
    xfile = src.files[0];
    yfile = src.targets;
    x = read_array(xfile);
    y = read_array(yfile);
  } else {
    throw UserError("give one data file (and --targets), or one .npz with arrays x and y; got " +
                    std::to_string(src.files.size()) + " files");
  }
  check_finite(x, Location{xfile}, "x");
  check_finite(y, Location{yfile}, "y");
  const int64_t per = dims_numel(sample);
  Dims want{kDynamic};
  want.insert(want.end(), sample.begin(), sample.end());
  if (x.rank() < 1 || x.shape()[0] == 0 || x.numel() != x.shape()[0] * per)
    throw UserError("data of shape " + dims_str(x.shape()) + " does not match the model input " +
                        dims_str(want) + " (" + std::to_string(per) + " values per sample)",
                    {xfile});
  Dataset d;
  d.n = x.shape()[0];
  Dims xd{d.n};
  xd.insert(xd.end(), sample.begin(), sample.end());
  d.x = x.reshaped(xd);
  d.xf.resize(static_cast<size_t>(d.x.numel()));
  for (int64_t j = 0; j < d.x.numel(); ++j)
    d.xf[static_cast<size_t>(j)] = static_cast<float>(d.x[j]);

  if (!task) // one value per sample for several outputs can only be a class label
    task = y.numel() == d.n && outputs > 1 ? TaskKind::Classify : TaskKind::Regress;
  if (*task == TaskKind::Classify) {
    if (y.numel() != d.n)
      throw UserError("has " + std::to_string(y.numel()) + " labels for " + std::to_string(d.n) +
                          " samples (classification needs one integer label per sample)",
                      {yfile});
    d.labels.resize(static_cast<size_t>(d.n));
    for (int64_t r = 0; r < d.n; ++r) {
      double l = y[r];
      if (l != std::floor(l) || l < 0 || l >= static_cast<double>(outputs))
        throw UserError("label " + num(l) + " of sample " + std::to_string(r) +
                            (l != std::floor(l)
                                 ? " is not an integer"
                                 : " is out of range: the model has " + std::to_string(outputs) +
                                       " classes (labels 0 to " + std::to_string(outputs - 1) +
                                       ")"),
                        {yfile});
      d.labels[static_cast<size_t>(r)] = static_cast<int32_t>(l);
    }
  } else {
    if (y.numel() != d.n * outputs)
      throw UserError("targets of shape " + dims_str(y.shape()) + " do not match " +
                          std::to_string(d.n) + " samples of " + std::to_string(outputs) +
                          " outputs",
                      {yfile});
    d.targets.resize(static_cast<size_t>(y.numel()));
    for (int64_t j = 0; j < y.numel(); ++j)
      d.targets[static_cast<size_t>(j)] = static_cast<float>(y[j]);
  }
  return d;
}

void split_dataset(Dataset &d, double fraction, uint64_t seed, Dataset &val) {
  auto nv = static_cast<int64_t>(std::llround(fraction * static_cast<double>(d.n)));
  if (nv < 1 || nv >= d.n)
    throw UserError("--val-split " + num(fraction) + " of " + std::to_string(d.n) +
                    " samples leaves no training or no validation data");
  std::vector<int64_t> idx(static_cast<size_t>(d.n));
  std::iota(idx.begin(), idx.end(), 0);
  std::mt19937_64 rng(seed ^ 0x5eed5eedULL);
  std::shuffle(idx.begin(), idx.end(), rng);
  std::vector<int64_t> vi(idx.begin(), idx.begin() + nv), ti(idx.begin() + nv, idx.end());
  std::sort(vi.begin(), vi.end());
  std::sort(ti.begin(), ti.end());
  const int64_t per = d.x.numel() / d.n,
                outs = d.targets.empty() ? 0 : static_cast<int64_t>(d.targets.size()) / d.n;
  auto take = [&](const std::vector<int64_t> &rows) {
    Dataset s;
    s.n = static_cast<int64_t>(rows.size());
    Dims dims = d.x.shape();
    dims[0] = s.n;
    s.x = Tensor(d.x.dtype(), dims);
    s.xf.resize(static_cast<size_t>(s.n * per));
    for (int64_t r = 0; r < s.n; ++r)
      for (int64_t j = 0; j < per; ++j) {
        s.x[r * per + j] = d.x[rows[r] * per + j];
        s.xf[static_cast<size_t>(r * per + j)] = d.xf[static_cast<size_t>(rows[r] * per + j)];
      }
    if (!d.labels.empty())
      for (int64_t r : rows)
        s.labels.push_back(d.labels[static_cast<size_t>(r)]);
    for (int64_t r : rows)
      for (int64_t j = 0; j < outs; ++j)
        s.targets.push_back(d.targets[static_cast<size_t>(r * outs + j)]);
    return s;
  };
  val = take(vi);
  d = take(ti);
}

void gather_rows(const Dataset &d, const std::vector<int64_t> &idx, int64_t begin, int64_t end,
                 int64_t out_size, std::vector<float> &x, std::vector<int32_t> &labels,
                 std::vector<float> &targets) {
  const int64_t per = d.x.numel() / d.n, rows = end - begin;
  x.resize(static_cast<size_t>(rows * per));
  labels.clear();
  targets.clear();
  for (int64_t r = 0; r < rows; ++r) {
    int64_t s = idx[static_cast<size_t>(begin + r)];
    std::copy_n(d.xf.begin() + s * per, per, x.begin() + r * per);
    if (!d.labels.empty())
      labels.push_back(d.labels[static_cast<size_t>(s)]);
    if (!d.targets.empty())
      targets.insert(targets.end(), d.targets.begin() + s * out_size,
                     d.targets.begin() + (s + 1) * out_size);
  }
}

int data_frac_bits(const Dataset &d, int cap) {
  int f = 0;
  for (float v : d.xf)
    while (f < cap && std::ldexp(v, f) != std::floor(std::ldexp(v, f)))
      ++f;
  return f;
}

} // namespace hgqc
