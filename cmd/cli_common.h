// Helpers shared by the CLI commands: input data, fixed-point model loading and options.
#pragma once

#include "ir/fixed_eval.h"
#include "ir/fixed_options.h"
#include "ir/graph.h"
#include "ir/passes/passes.h"

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace hgqc::cli {

/// One tensor per graph input: from one file each (in input order), or from one .npz
/// holding them by name (or a single input from an .npz's array `x`). A tensor whose
/// per-sample size matches the input's but not its shape (e.g. IDX images [N,28,28] for
/// an input [N,784]) is reshaped. Throws UserError naming the file.
std::vector<Tensor> load_inputs(const Graph &g, const std::vector<std::string> &files);

/// Prints the top-1 accuracy of `out` ([rows, classes]) against integer labels read from
/// `labels_file`; throws UserError when the counts differ.
void print_accuracy(const Tensor &out, const std::string &labels_file);

/// Imports `path`, normalises it and lowers it to fixed point (to_fixed). Refuses a model
/// with no quantizer. Notes of the lowering are logged at info level.
Graph load_fixed_model(const std::string &path, const ToFixedOptions &opt);

/// load_fixed_model, then prepare_fixed_design (frontend/fixed_model.h): the graph that
/// emit-verilog builds and verify checks.
Graph load_fixed_design(const std::string &path, const ToFixedOptions &opt);

/// analyze_ranges(g) with errors located in the model file `path`.
RangeAnalysis analyze_model_ranges(const Graph &g, const std::string &path);

/// What a command writes at one path (a file, or a directory and what it creates inside),
/// removed again unless the command succeeds: construct it before the first write, call
/// keep() once everything is written. On destruction without keep() it deletes the path if
/// it did not exist before (from the topmost directory this run created), or else the
/// directory entries that appeared since. So a command that fails leaves nothing behind.
class OutputGuard {
public:
  explicit OutputGuard(std::string path);
  OutputGuard(const OutputGuard &) = delete;
  OutputGuard &operator=(const OutputGuard &) = delete;
  ~OutputGuard();
  /// The outputs are complete: leave them in place.
  void keep() { keep_ = true; }

private:
  std::string path_;    ///< as given
  std::string created_; ///< topmost path component that did not exist; empty if path_ existed
  std::vector<std::string> before_; ///< entries of path_ (a directory) that existed, sorted
  bool keep_ = false;
};

/// Adds --input-format, --input-round and --input-overflow to `cmd`, filling `opt`.
void add_fixed_options(CLI::App *cmd, ToFixedOptions &opt, std::string &input_format,
                       std::string &input_round, std::string &input_overflow);
} // namespace hgqc::cli
