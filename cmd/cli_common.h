// Loading a model in its fixed-point form for the CLI commands (run --fixed, inspect, convert).
#pragma once

#include "ir/graph.h"
#include "ir/passes/passes.h"

#include <CLI/CLI.hpp>

#include <string>

namespace hgqc::cli {

/// Parses "k,i,f" (or "fixed<k,i,f>") into a format; throws UserError naming the flag.
FixedFormat parse_format(const std::string &s, const std::string &flag);

/// Imports `path`, normalises it and lowers it to fixed point (to_fixed). Refuses a model
/// with no quantizer. Notes of the lowering are logged at info level.
Graph load_fixed_model(const std::string &path, const ToFixedOptions &opt);

/// Adds --input-format, --input-round and --input-overflow to `cmd`, filling `opt`.
void add_fixed_options(CLI::App *cmd, ToFixedOptions &opt, std::string &input_format,
                       std::string &input_round, std::string &input_overflow);
/// Applies the strings of add_fixed_options to `opt` (after parsing).
void finish_fixed_options(ToFixedOptions &opt, const std::string &input_format,
                          const std::string &input_round, const std::string &input_overflow);

} // namespace hgqc::cli
