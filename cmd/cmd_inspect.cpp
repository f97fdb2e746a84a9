// `hgqc inspect` and `hgqc ops`: print the imported graph, or the supported ops.
#include "cli_common.h"
#include "commands.h"
#include "frontend/onnx_import.h"
#include "ir/fixed_eval.h"
#include "ir/op.h"
#include "ir/passes/passes.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <iostream>

namespace hgqc::cli {

namespace {
struct InspectOptions {
  std::string model;
  bool raw = false;
  ToFixedOptions fx;
  std::string input_format, input_round, input_overflow;
};

// Per node of the fixed-point form: output widths from the range analysis and EBOPs.
void print_fixed_summary(const InspectOptions &o) {
  Graph g = load_fixed_model(o.model, o.fx);
  RangeAnalysis ra = analyze_model_ranges(g, o.model);
  std::vector<double> eb = node_ebops(g, ra);
  std::cout << "\nfixed point (exact ranges of each node's output; EBOPs per layer):\n";
  std::vector<std::array<std::string, 5>> rows{{"node", "op", "output", "width", "EBOPs"}};
  double total = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node &n = g.nodes[i];
    const ValueRange &r = *ra.ranges[n.outputs[0]];
    int lo = 1 << 30, hi = 0, pruned = 0;
    for (const Interval &iv : r.el) {
      int w = iv.width();
      pruned += w == 0;
      lo = std::min(lo, w);
      hi = std::max(hi, w);
    }
    std::string width = r.el.empty() ? "-" : std::to_string(lo) + ".." + std::to_string(hi);
    if (pruned > 0)
      width += " (" + std::to_string(pruned) + " zero)";
    std::string eps = eb[i] > 0 ? std::to_string(static_cast<int64_t>(eb[i])) : "";
    rows.push_back(
        {n.name, std::string(op_def(n.op).name), g.values[n.outputs[0]].name, width, eps});
    total += eb[i];
  }
  std::array<size_t, 5> w{};
  for (const auto &row : rows)
    for (size_t c = 0; c < 5; ++c)
      w[c] = std::max(w[c], row[c].size());
  for (const auto &row : rows) {
    std::string line = " ";
    for (size_t c = 0; c < 5; ++c)
      line += " " + row[c] + (c < 4 ? std::string(w[c] - row[c].size(), ' ') : "");
    std::cout << line << "\n";
  }
  std::cout << "total EBOPs: " << static_cast<int64_t>(total) << "\n";
}
} // namespace

void add_inspect(CLI::App &app, Action &action) {
  auto *cmd = app.add_subcommand(
      "inspect", "Import a model and print its graph IR (and, for a quantized model, its "
                 "fixed-point ranges and EBOPs)");
  auto o = std::make_shared<InspectOptions>();
  cmd->add_option("model", o->model, "ONNX or QONNX model file")->required();
  cmd->add_flag("--raw", o->raw, "Print the graph as imported, before the normalisation passes");
  add_fixed_options(cmd, o->fx, o->input_format, o->input_round, o->input_overflow);
  cmd->callback([&action, o] {
    action = [o] {
      finish_fixed_options(o->fx, o->input_format, o->input_round, o->input_overflow);
      Graph g = import_onnx(o->model);
      size_t before = g.nodes.size();
      if (!o->raw) {
        normalize(g);
        spdlog::debug("normalisation: {} nodes -> {}", before, g.nodes.size());
      }
      std::cout << dump(g);
      bool quantized = false;
      for (const Node &n : g.nodes)
        quantized |= n.op == OpKind::Quant || n.op == OpKind::FixedQuant;
      if (quantized && !o->raw) {
        // The graph is shown either way; a model without a fixed-point form says why.
        try {
          print_fixed_summary(*o);
        } catch (const UserError &e) {
          std::cout << "\nfixed point: not available: " << e.what() << "\n";
        }
      }
    };
  });
}

void add_ops(CLI::App &app, Action &action) {
  auto *cmd = app.add_subcommand("ops", "List the ops hgqc imports");
  cmd->callback([&action] { action = [] { std::cout << supported_ops_list() << "\n"; }; });
}

} // namespace hgqc::cli
