// `hgqc run`: evaluates a model in double precision on inputs from data files.
#include "cli_common.h"
#include "commands.h"
#include "frontend/data_io.h"
#include "frontend/onnx_import.h"
#include "ir/eval.h"
#include "ir/fixed_eval.h"
#include "ir/passes/passes.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <iostream>
#include <optional>

namespace hgqc::cli {

namespace {
struct RunOptions {
  std::string model;
  std::vector<std::string> inputs;
  std::string output, compare;
  double rtol = 1e-5, atol = 1e-6;
  bool raw = false;
  bool fixed = false, trace_overflow = false;
  std::string labels;
  ToFixedOptions fx;
  std::string input_format, input_round, input_overflow;
};

void print_tensor(const std::string &name, const Tensor &t) {
  std::cout << name << ": " << dtype_name(t.dtype()) << dims_str(t.shape()) << "\n";
  int64_t row = t.rank() >= 1 && t.shape().back() > 0 ? t.shape().back() : 1;
  for (int64_t i = 0; i < t.numel(); ++i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.8g", t[i]);
    std::cout << (i % row == 0 ? "  " : " ") << buf << ((i + 1) % row == 0 ? "\n" : "");
  }
}

// Prints, per quantizer, how many elements overflowed their format.
void print_overflow(const Graph &g, const FixedRun &r) {
  std::cout << "overflow per quantizer (elements outside their format on this data):\n";
  int64_t total = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (g.nodes[i].op != OpKind::FixedQuant || r.quantized[i] == 0)
      continue;
    total += r.overflows[i];
    char pct[32];
    std::snprintf(pct, sizeof pct, "%.4g%%", 100.0 * r.overflows[i] / r.quantized[i]);
    std::cout << "  " << g.nodes[i].name << ": " << r.overflows[i] << " of " << r.quantized[i]
              << " (" << pct << ")\n";
  }
  std::cout << "  total: " << total << " overflowed element(s)\n";
}

// The reference outputs of --compare, in output order.
std::vector<Tensor> read_reference(const std::string &path) {
  std::vector<Tensor> ref;
  if (path.ends_with(".npz")) {
    for (auto &[k, t] : read_npz(path))
      ref.push_back(std::move(t));
  } else {
    ref.push_back(read_array(path));
  }
  return ref;
}

void run(const RunOptions &o) {
  // Every option and input file is checked, and every output computed, before anything is
  // written: a run that fails leaves no -o file behind.
  if (o.trace_overflow && !o.fixed)
    throw UserError("--trace-overflow needs --fixed");
  if (!o.output.empty() && !o.output.ends_with(".npz") && !o.output.ends_with(".npy"))
    throw UserError("output file must end in .npy or .npz", {o.output});
  std::vector<Tensor> ref;
  if (!o.compare.empty())
    ref = read_reference(o.compare);
  Graph g;
  std::vector<Tensor> out;
  std::optional<FixedRun> fixed_run;
  if (o.fixed) {
    g = load_fixed_model(o.model, o.fx);
    RangeAnalysis ra = analyze_model_ranges(g, o.model);
    fixed_run = evaluate_fixed(g, ra, load_inputs(g, o.inputs));
    for (size_t i = 0; i < fixed_run->outputs.size(); ++i)
      out.push_back(fixed_to_tensor(fixed_run->outputs[i], *ra.ranges[g.outputs[i]]));
  } else {
    g = import_onnx(o.model);
    if (!o.raw)
      normalize(g);
    out = evaluate(g, load_inputs(g, o.inputs));
    // Outputs take the model's declared element type (the evaluator computes in double).
    for (size_t i = 0; i < out.size(); ++i)
      out[i] = out[i].cast(g.values[g.outputs[i]].type.dtype);
  }
  if (o.output.ends_with(".npy") && out.size() != 1)
    throw UserError("the model has " + std::to_string(out.size()) +
                    " outputs; write them to a .npz file");
  std::vector<TensorDiff> diffs;
  if (!o.compare.empty()) {
    if (ref.size() != out.size())
      throw UserError("has " + std::to_string(ref.size()) + " arrays, the model has " +
                          std::to_string(out.size()) + " outputs",
                      {o.compare});
    for (size_t i = 0; i < out.size(); ++i) {
      diffs.push_back(compare(out[i], ref[i], o.rtol, o.atol));
      if (!diffs.back().same_shape)
        throw UserError("reference for output '" + g.values[g.outputs[i]].name + "' has shape " +
                            dims_str(ref[i].shape()) + ", the output has " +
                            dims_str(out[i].shape()),
                        {o.compare});
    }
  }
  if (fixed_run && o.trace_overflow)
    print_overflow(g, *fixed_run);
  if (!o.labels.empty())
    print_accuracy(out[0], o.labels);

  bool ok = true;
  for (size_t i = 0; i < diffs.size(); ++i) {
    const TensorDiff &d = diffs[i];
    std::cout << "output " << g.values[g.outputs[i]].name << ": max abs diff " << d.max_abs
              << ", max rel diff " << d.max_rel << ", " << d.mismatches << " of " << out[i].numel()
              << " outside rtol " << o.rtol << " atol " << o.atol << "\n";
    ok &= d.mismatches == 0;
  }
  if (!ok)
    throw CheckFailed("outputs differ from the reference " + o.compare +
                      (o.output.empty() ? "" : " (" + o.output + " not written)"));

  if (!o.output.empty()) {
    if (o.output.ends_with(".npz")) {
      std::vector<std::pair<std::string, Tensor>> named;
      for (size_t i = 0; i < out.size(); ++i)
        named.emplace_back(g.values[g.outputs[i]].name, out[i]);
      write_npz(o.output, named);
    } else {
      write_npy(o.output, out[0]);
    }
    spdlog::info("wrote {} output(s) to {}", out.size(), o.output);
  } else if (o.compare.empty() && o.labels.empty()) {
    for (size_t i = 0; i < out.size(); ++i)
      print_tensor(g.values[g.outputs[i]].name, out[i]);
  }
  if (!o.compare.empty())
    std::cout << "match: all outputs agree with " << o.compare << "\n";
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
  cmd->add_flag("--fixed", o->fixed,
                "Run the exact integer emulator of the quantized model (QONNX or hgqc format)");
  cmd->add_flag("--trace-overflow", o->trace_overflow,
                "With --fixed: report per quantizer how many elements overflowed");
  cmd->add_option("--labels", o->labels,
                  "Integer class labels (.npy, .csv, IDX): print the top-1 accuracy of output 0");
  add_fixed_options(cmd, o->fx, o->input_format, o->input_round, o->input_overflow);
  cmd->callback([&action, o] {
    action = [o] {
      finish_fixed_options(o->fx, o->input_format, o->input_round, o->input_overflow);
      run(*o);
    };
  });
}

} // namespace hgqc::cli
