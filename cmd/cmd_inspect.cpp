// `hgqc inspect` and `hgqc ops`: print the imported graph, or the supported ops.
#include "commands.h"
#include "frontend/onnx_import.h"
#include "ir/passes/passes.h"

#include <spdlog/spdlog.h>

#include <iostream>

namespace hgqc::cli {

void add_inspect(CLI::App &app, Action &action) {
  auto *cmd = app.add_subcommand("inspect", "Import a model and print its graph IR");
  auto model = std::make_shared<std::string>();
  auto raw = std::make_shared<bool>(false);
  cmd->add_option("model", *model, "ONNX or QONNX model file")->required();
  cmd->add_flag("--raw", *raw, "Print the graph as imported, before the normalisation passes");
  cmd->callback([&action, model, raw] {
    action = [model, raw] {
      Graph g = import_onnx(*model);
      size_t before = g.nodes.size();
      if (!*raw) {
        normalize(g);
        spdlog::debug("normalisation: {} nodes -> {}", before, g.nodes.size());
      }
      std::cout << dump(g);
    };
  });
}

void add_ops(CLI::App &app, Action &action) {
  auto *cmd = app.add_subcommand("ops", "List the ops hgqc imports");
  cmd->callback([&action] { action = [] { std::cout << supported_ops_list() << "\n"; }; });
}

} // namespace hgqc::cli
