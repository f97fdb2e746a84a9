// Training and validation data of `hgqc train`: loading, checks against the model, splitting.
#pragma once

#include "ir/tensor.h"
#include "qat/engine.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hgqc {

/// Samples with their labels or targets.
struct Dataset {
  Tensor x;                    ///< [n, sample dims] as read (double, the emulator's input)
  std::vector<float> xf;       ///< the same as float32 rows (the training engine's input)
  std::vector<int32_t> labels; ///< classification
  std::vector<float> targets;  ///< regression: [n, output size]
  int64_t n = 0;
};

/// Where the data comes from: `files` is one .npz (arrays x and y, or the model input's name
/// and y) or one data file followed by the targets in `targets`.
struct DataSource {
  std::vector<std::string> files;
  std::string targets;
};

/// Loads and checks a data set for a model with per-sample input dims `sample` and `outputs`
/// outputs per sample: shapes must match (a tensor with the right per-sample size is
/// reshaped), values must be finite, labels integers in [0, outputs). When `task` is empty it
/// is decided here and set: one value per sample and more than one output give classification
/// (the values must then be integer labels), anything else regression. Throws UserError naming the
/// file (and row).
Dataset load_dataset(const DataSource &src, const std::string &input_name, const Dims &sample,
                     int64_t outputs, std::optional<TaskKind> &task);

/// Splits `d` into (train, validation): a seeded random `fraction` of the rows is held out.
void split_dataset(Dataset &d, double fraction, uint64_t seed, Dataset &val);

/// Rows `idx` of `d` gathered into a contiguous float buffer (and labels/targets).
void gather_rows(const Dataset &d, const std::vector<int64_t> &idx, int64_t begin, int64_t end,
                 int64_t out_size, std::vector<float> &x, std::vector<int32_t> &labels,
                 std::vector<float> &targets);

/// The fewest fractional bits, 0 to `cap`, that hold every input value of `d` exactly: 0
/// for integers (raw pixels), 8 for pixels / 256; `cap` when the values lie on no coarser
/// grid. Training starts the input quantizer there when that is below --init-f.
int data_frac_bits(const Dataset &d, int cap);

} // namespace hgqc
