// `hgqc convert`: a QONNX (or hgqc) quantized model to an hgqc quantized model file.
#include "cli_common.h"
#include "commands.h"
#include "frontend/onnx_export.h"
#include "ir/fixed_eval.h"

#include <iostream>

namespace hgqc::cli {

namespace {
struct ConvertOptions {
  std::string model, output;
  ToFixedOptions fx;
  std::string input_format, input_round, input_overflow;
};
} // namespace

void add_convert(CLI::App &app, Action &action) {
  auto *cmd = app.add_subcommand(
      "convert", "Convert a quantized model (QONNX Quant with power-of-two scales, or hgqc) "
                 "to hgqc's quantized model file");
  auto o = std::make_shared<ConvertOptions>();
  cmd->add_option("model", o->model, "Quantized ONNX model")->required();
  cmd->add_option("-o,--output", o->output, "Output .onnx file")->required();
  add_fixed_options(cmd, o->fx, o->input_format, o->input_round, o->input_overflow);
  cmd->callback([&action, o] {
    action = [o] {
      finish_fixed_options(o->fx, o->input_format, o->input_round, o->input_overflow);
      if (!o->output.ends_with(".onnx"))
        throw UserError("output file must end in .onnx", {o->output});
      Graph g = load_fixed_model(o->model, o->fx);
      analyze_model_ranges(
          g, o->model); // refuses what the emulator cannot hold before anything is written
      export_onnx(g, o->output);
      std::cout << "wrote " << o->output << "\n";
    };
  });
}

} // namespace hgqc::cli
