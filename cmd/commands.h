// The hgqc subcommands: each registers itself on the CLI11 app.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <stdexcept>

namespace hgqc::cli {

/// What a parsed subcommand will do; set by its CLI11 callback.
using Action = std::function<void()>;

/// `hgqc inspect MODEL`: prints the imported graph.
void add_inspect(CLI::App &app, Action &action);
/// `hgqc run MODEL --input X`: runs the float reference evaluator.
void add_run(CLI::App &app, Action &action);
/// `hgqc quantize MODEL --data X --bits W,A`: uniform post-training quantization.
void add_quantize(CLI::App &app, Action &action);
/// `hgqc convert MODEL -o OUT`: a quantized model to hgqc's quantized model file.
void add_convert(CLI::App &app, Action &action);
/// `hgqc emit-verilog MODEL -o DIR`: pipelined Verilog and report.json.
void add_emit_verilog(CLI::App &app, Action &action);
/// `hgqc verify DIR --model MODEL`: Verilator co-simulation against the emulator.
void add_verify(CLI::App &app, Action &action);
/// `hgqc synth DIR`: Yosys synthesis of an emitted design, resources into report.json.
void add_synth(CLI::App &app, Action &action);
/// `hgqc ops`: lists the supported ops.
void add_ops(CLI::App &app, Action &action);
/// `hgqc train MODEL --data D -o DIR`: HGQ training to a Pareto front of quantized models.
void add_train(CLI::App &app, Action &action);

/// Thrown when the user stopped a command (Ctrl-C) after it left its outputs consistent;
/// main exits 130.
struct Interrupted : std::runtime_error {
  using std::runtime_error::runtime_error;
};

} // namespace hgqc::cli
