// `hgqc quantize`: uniform post-training quantization to an hgqc quantized model file.
#include "cli_common.h"
#include "commands.h"
#include "frontend/data_io.h"
#include "frontend/onnx_export.h"
#include "frontend/onnx_import.h"
#include "ir/fixed_eval.h"
#include "ir/passes/passes.h"
#include "qat/ptq.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <iostream>

namespace hgqc::cli {

namespace {
struct QuantizeOptions {
  std::string model, output, bits = "8,8", labels;
  std::vector<std::string> data;
  double cover = 1.0;
};

void quantize(const QuantizeOptions &o) {
  PtqOptions p;
  {
    size_t c = o.bits.find(',');
    try {
      if (c == std::string::npos)
        throw std::invalid_argument(o.bits);
      size_t u1 = 0, u2 = 0;
      p.weight_bits = std::stoi(o.bits.substr(0, c), &u1);
      p.act_bits = std::stoi(o.bits.substr(c + 1), &u2);
      if (u1 != c || u2 != o.bits.size() - c - 1)
        throw std::invalid_argument(o.bits);
    } catch (const std::exception &) {
      throw UserError("--bits '" + o.bits + "' is not of the form W,A (e.g. 8,8)");
    }
  }
  p.cover_factor = o.cover;
  std::string out = o.output;
  if (out.empty()) {
    std::filesystem::path m(o.model);
    out = (m.parent_path() / (m.stem().string() + "_w" + std::to_string(p.weight_bits) + "a" +
                              std::to_string(p.act_bits) + ".onnx"))
              .string();
  }
  if (!out.ends_with(".onnx"))
    throw UserError("output file must end in .onnx", {out});

  Graph g = import_onnx(o.model);
  normalize(g);
  std::vector<Tensor> calib = load_inputs(g, o.data);
  PtqReport rep;
  try {
    rep = quantize_uniform(g, calib, p);
  } catch (const UserError &e) {
    throw e.with_location(Location{o.model});
  }
  for (const std::string &l : rep.lines)
    spdlog::debug("{}", l);
  for (const std::string &n : to_fixed(g))
    spdlog::info("{}", n);
  RangeAnalysis ra = analyze_model_ranges(g, o.model);
  double total = 0;
  for (double e : node_ebops(g, ra))
    total += e;
  std::cout << "quantized " << o.model << ": " << rep.weight_quantizers << " weight/bias and "
            << rep.act_quantizers << " activation quantizers (" << p.weight_bits << "-bit weights, "
            << p.act_bits << "-bit activations), EBOPs " << static_cast<int64_t>(total) << "\n";
  if (!o.labels.empty()) {
    FixedRun r = evaluate_fixed(g, ra, calib);
    Tensor y = fixed_to_tensor(r.outputs[0], *ra.ranges[g.outputs[0]]);
    print_accuracy(y, o.labels);
  }
  export_onnx(g, out);
  std::cout << "wrote " << out << "\n";
}
} // namespace

void add_quantize(CLI::App &app, Action &action) {
  auto *cmd = app.add_subcommand(
      "quantize", "Uniform post-training quantization with integer bits from calibration data");
  auto o = std::make_shared<QuantizeOptions>();
  cmd->add_option("model", o->model, "Float ONNX model")->required();
  cmd->add_option("--data", o->data,
                  "Calibration inputs (.npy, .npz, .csv, IDX[.gz]), as for `run --input`")
      ->required();
  cmd->add_option("--bits", o->bits, "Weight and activation widths W,A")->capture_default_str();
  cmd->add_option("--cover-factor", o->cover,
                  "Widen the calibrated activation ranges by this factor (>= 1)")
      ->capture_default_str();
  cmd->add_option("-o,--output", o->output,
                  "Quantized model file (.onnx; default MODEL_wWaA.onnx next to the model)");
  cmd->add_option("--labels", o->labels,
                  "Integer labels of the calibration data: print the emulator's top-1 accuracy");
  cmd->callback([&action, o] { action = [o] { quantize(*o); }; });
}

} // namespace hgqc::cli
