// Helpers shared by the CLI commands: input data, fixed-point model loading and options.
#include "cli_common.h"

#include "frontend/data_io.h"
#include "frontend/fixed_model.h"

#include "frontend/onnx_import.h"
#include "ir/eval.h"
#include "ir/fixed_eval.h"
#include "ir/op.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>

namespace hgqc::cli {

namespace {
// Reshapes `t` to `want` (batch free) when only the per-sample shape differs.
Tensor fit_shape(const Tensor &t, const Dims &want) {
  if (want.empty() || want[0] != kDynamic || t.rank() < 1 || t.shape() == want)
    return t;
  Dims rest(want.begin() + 1, want.end());
  for (int64_t d : rest)
    if (d == kDynamic)
      return t;
  int64_t per = dims_numel(rest), n = t.shape()[0];
  if (n * per != t.numel())
    return t;
  Dims d{n};
  d.insert(d.end(), rest.begin(), rest.end());
  return t.reshaped(d);
}

// One tensor per graph input: from one file each, or from one .npz holding them by name.
std::vector<Tensor> read_inputs(const Graph &g, const std::vector<std::string> &files) {
  std::vector<Tensor> r;
  if (files.size() == 1 && files[0].ends_with(".npz") && g.inputs.size() > 1) {
    auto arrays = read_npz(files[0]);
    for (ValueId v : g.inputs) {
      const std::string &nm = g.values[v].name;
      bool found = false;
      for (auto &[k, t] : arrays)
        if (k == nm) {
          r.push_back(fit_shape(t, g.values[v].type.dims));
          found = true;
        }
      if (!found)
        throw UserError("has no array named '" + nm + "' (the model's input)", {files[0]});
    }
    return r;
  }
  if (files.size() == 1 && files[0].ends_with(".npz") && g.inputs.size() == 1) {
    auto arrays = read_npz(files[0]);
    for (auto &[k, t] : arrays)
      if (k == g.values[g.inputs[0]].name || k == "x")
        return {fit_shape(t, g.values[g.inputs[0]].type.dims)};
    if (arrays.size() == 1)
      return {fit_shape(arrays[0].second, g.values[g.inputs[0]].type.dims)};
    throw UserError("has no array named 'x' or '" + g.values[g.inputs[0]].name + "'", {files[0]});
  }
  if (files.size() != g.inputs.size())
    throw UserError("the model has " + std::to_string(g.inputs.size()) + " input(s) but " +
                    std::to_string(files.size()) +
                    " --input file(s) were given (give them in the model's input order, or one "
                    ".npz with arrays named after the inputs)");
  for (size_t i = 0; i < files.size(); ++i)
    r.push_back(fit_shape(read_array(files[i]), g.values[g.inputs[i]].type.dims));
  return r;
}
} // namespace

// The inputs, each checked against its graph input here, where errors can name the file.
std::vector<Tensor> load_inputs(const Graph &g, const std::vector<std::string> &files) {
  std::vector<Tensor> r = read_inputs(g, files);
  for (size_t i = 0; i < r.size(); ++i)
    check_input(g, i, r[i], files.size() == r.size() ? files[i] : files[0]);
  return r;
}

void print_accuracy(const Tensor &out, const std::string &labels_file) {
  Tensor lab = read_array(labels_file);
  if (out.rank() != 2 || lab.numel() != out.shape()[0])
    throw UserError("has " + std::to_string(lab.numel()) + " labels for an output of shape " +
                        dims_str(out.shape()) + " (need one label per row)",
                    {labels_file});
  int64_t rows = out.shape()[0], cols = out.shape()[1], correct = 0;
  for (int64_t r = 0; r < rows; ++r) {
    int64_t best = 0;
    for (int64_t c = 1; c < cols; ++c)
      if (out[r * cols + c] > out[r * cols + best])
        best = c;
    correct += best == static_cast<int64_t>(lab[r]);
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4f", static_cast<double>(correct) / static_cast<double>(rows));
  std::cout << "accuracy: " << buf << " (" << correct << " of " << rows << ")\n";
}

Graph load_fixed_model(const std::string &path, const ToFixedOptions &opt) {
  std::vector<std::string> notes;
  Graph g = read_fixed_model(path, opt, &notes);
  for (const std::string &n : notes)
    spdlog::info("{}", n);
  return g;
}

Graph load_fixed_design(const std::string &path, const ToFixedOptions &opt) {
  Graph g = load_fixed_model(path, opt);
  prepare_fixed_design(g, path);
  return g;
}

RangeAnalysis analyze_model_ranges(const Graph &g, const std::string &path) {
  try {
    return analyze_ranges(g);
  } catch (const UserError &e) {
    throw e.with_location(Location{path});
  }
}

OutputGuard::OutputGuard(std::string path) : path_(std::move(path)) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path p = fs::absolute(fs::path(path_), ec);
  if (ec || path_.empty())
    return;
  p = p.lexically_normal();
  if (fs::exists(fs::symlink_status(p, ec))) {
    if (fs::is_directory(p, ec))
      for (fs::directory_iterator it(p, ec), end; !ec && it != end; it.increment(ec))
        before_.push_back(it->path().filename().string());
    std::sort(before_.begin(), before_.end());
    return;
  }
  // The topmost missing ancestor: everything below it is this run's.
  fs::path top = p;
  for (fs::path q = p.parent_path(); !q.empty() && q != q.root_path(); q = q.parent_path()) {
    if (fs::exists(fs::symlink_status(q, ec)))
      break;
    top = q;
  }
  created_ = top.string();
}

OutputGuard::~OutputGuard() {
  namespace fs = std::filesystem;
  if (keep_ || path_.empty())
    return;
  std::error_code ec;
  if (!created_.empty()) {
    fs::remove_all(created_, ec);
    return;
  }
  if (!fs::is_directory(path_, ec))
    return; // an existing file is only ever replaced by a complete one (write_file_atomic)
  std::vector<fs::path> fresh;
  for (fs::directory_iterator it(path_, ec), end; !ec && it != end; it.increment(ec))
    if (!std::binary_search(before_.begin(), before_.end(), it->path().filename().string()))
      fresh.push_back(it->path());
  for (const fs::path &f : fresh)
    fs::remove_all(f, ec);
}

void add_fixed_options(CLI::App *cmd, ToFixedOptions &, std::string &input_format,
                       std::string &input_round, std::string &input_overflow) {
  cmd->add_option("--input-format", input_format,
                  "Format k,i,f of the quantizer added to model inputs that have none "
                  "(default 1,5,10: ap_fixed<16,6>)");
  cmd->add_option("--input-round", input_round, "Its rounding: TRN (default), RND, RND_CONV");
  cmd->add_option("--input-overflow", input_overflow,
                  "Its overflow handling: SAT (default), WRAP, SAT_SYM");
}

} // namespace hgqc::cli
