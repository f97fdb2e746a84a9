// `hgqc run`: evaluates a model in double precision on inputs from data files.
#include "commands.h"
#include "frontend/data_io.h"
#include "frontend/onnx_import.h"
#include "ir/eval.h"
#include "ir/passes/passes.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <iostream>

namespace hgqc::cli {

namespace {
struct RunOptions {
  std::string model;
  std::vector<std::string> inputs;
  std::string output, compare;
  double rtol = 1e-5, atol = 1e-6;
  bool raw = false;
};

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
          r.push_back(t);
          found = true;
        }
      if (!found)
        throw UserError("has no array named '" + nm + "' (the model's input)", {files[0]});
    }
    return r;
  }
  if (files.size() != g.inputs.size())
    throw UserError("the model has " + std::to_string(g.inputs.size()) + " input(s) but " +
                    std::to_string(files.size()) +
                    " --input file(s) were given (give them in the model's input order, or one "
                    ".npz with arrays named after the inputs)");
  for (const std::string &f : files)
    r.push_back(read_array(f));
  return r;
}

void print_tensor(const std::string &name, const Tensor &t) {
  std::cout << name << ": " << dtype_name(t.dtype()) << dims_str(t.shape()) << "\n";
  int64_t row = t.rank() >= 1 && t.shape().back() > 0 ? t.shape().back() : 1;
  for (int64_t i = 0; i < t.numel(); ++i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.8g", t[i]);
    std::cout << (i % row == 0 ? "  " : " ") << buf << ((i + 1) % row == 0 ? "\n" : "");
  }
}

void run(const RunOptions &o) {
  Graph g = import_onnx(o.model);
  if (!o.raw)
    normalize(g);
  std::vector<Tensor> in = load_inputs(g, o.inputs);
  std::vector<Tensor> out = evaluate(g, std::move(in));
  // Outputs take the model's declared element type (the evaluator computes in double).
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = out[i].cast(g.values[g.outputs[i]].type.dtype);

  if (!o.output.empty()) {
    if (o.output.ends_with(".npz")) {
      std::vector<std::pair<std::string, Tensor>> named;
      for (size_t i = 0; i < out.size(); ++i)
        named.emplace_back(g.values[g.outputs[i]].name, out[i]);
      write_npz(o.output, named);
    } else if (o.output.ends_with(".npy")) {
      if (out.size() != 1)
        throw UserError("the model has " + std::to_string(out.size()) +
                        " outputs; write them to a .npz file");
      write_npy(o.output, out[0]);
    } else {
      throw UserError("output file must end in .npy or .npz", {o.output});
    }
    spdlog::info("wrote {} output(s) to {}", out.size(), o.output);
  } else if (o.compare.empty()) {
    for (size_t i = 0; i < out.size(); ++i)
      print_tensor(g.values[g.outputs[i]].name, out[i]);
  }

  if (!o.compare.empty()) {
    std::vector<Tensor> ref;
    if (o.compare.ends_with(".npz")) {
      for (auto &[k, t] : read_npz(o.compare))
        ref.push_back(t);
    } else {
      ref.push_back(read_array(o.compare));
    }
    if (ref.size() != out.size())
      throw UserError("has " + std::to_string(ref.size()) + " arrays, the model has " +
                          std::to_string(out.size()) + " outputs",
                      {o.compare});
    bool ok = true;
    for (size_t i = 0; i < out.size(); ++i) {
      const std::string &nm = g.values[g.outputs[i]].name;
      TensorDiff d = compare(out[i], ref[i], o.rtol, o.atol);
      if (!d.same_shape)
        throw UserError("reference for output '" + nm + "' has shape " + dims_str(ref[i].shape()) +
                            ", the output has " + dims_str(out[i].shape()),
                        {o.compare});
      std::cout << "output " << nm << ": max abs diff " << d.max_abs << ", max rel diff "
                << d.max_rel << ", " << d.mismatches << " of " << out[i].numel() << " outside rtol "
                << o.rtol << " atol " << o.atol << "\n";
      ok &= d.mismatches == 0;
    }
    if (!ok)
      throw CheckFailed("outputs differ from the reference " + o.compare);
    std::cout << "match: all outputs agree with " << o.compare << "\n";
  }
}
} // namespace

void add_run(CLI::App &app, Action &action) {
  auto *cmd = app.add_subcommand("run", "Evaluate a model (float reference, double precision)");
  auto o = std::make_shared<RunOptions>();
  cmd->add_option("model", o->model, "ONNX or QONNX model file")->required();
  cmd->add_option("-i,--input", o->inputs,
                  "Input data (.npy, .npz, .csv, IDX[.gz]); one per model input, in order, or "
                  "one .npz with arrays named after the inputs")
      ->required();
  cmd->add_option("-o,--output", o->output,
                  "Write the outputs to a .npy (one output) or .npz (named) file; "
                  "printed as text when neither this nor --compare is given");
  cmd->add_option("--compare", o->compare,
                  "Reference outputs (.npy, or .npz in output order); exit 3 when they differ");
  cmd->add_option("--rtol", o->rtol, "Relative tolerance for --compare")->capture_default_str();
  cmd->add_option("--atol", o->atol, "Absolute tolerance for --compare")->capture_default_str();
  cmd->add_flag("--raw", o->raw, "Skip the normalisation passes");
  cmd->callback([&action, o] { action = [o] { run(*o); }; });
}

} // namespace hgqc::cli
