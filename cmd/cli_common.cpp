// Helpers shared by the CLI commands: input data, fixed-point model loading and options.
#include "cli_common.h"

#include "frontend/data_io.h"

#include "frontend/onnx_import.h"
#include "ir/fixed_eval.h"
#include "ir/op.h"

#include <spdlog/spdlog.h>

#include <cstdio>
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
} // namespace

// One tensor per graph input: from one file each, or from one .npz holding them by name.
std::vector<Tensor> load_inputs(const Graph &g, const std::vector<std::string> &files) {
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
  Graph g = import_onnx(path);
  normalize(g);
  bool any = false;
  for (const Node &n : g.nodes)
    any |= n.op == OpKind::Quant || n.op == OpKind::FixedQuant || n.op == OpKind::BipolarQuant;
  if (!any)
    throw UserError("the model has no quantizers: quantize it first (hgqc quantize)", {path});
  std::vector<std::string> notes;
  try {
    notes = to_fixed(g, opt);
  } catch (const UserError &e) {
    throw e.with_location(Location{path});
  }
  for (const std::string &n : notes)
    spdlog::info("{}", n);
  return g;
}

RangeAnalysis analyze_model_ranges(const Graph &g, const std::string &path) {
  try {
    return analyze_ranges(g);
  } catch (const UserError &e) {
    throw e.with_location(Location{path});
  }
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
