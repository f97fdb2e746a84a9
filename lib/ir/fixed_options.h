// The user's text for fixed-point formats and the input quantizer (the --input-* options).
#pragma once

#include "ir/fixed.h"
#include "ir/passes/passes.h"

#include <string>

namespace hgqc {

/// Parses "k,i,f" (or "fixed<k,i,f>") into a format; throws UserError naming the flag.
FixedFormat parse_format(const std::string &s, const std::string &flag);

/// Applies the --input-format, --input-round and --input-overflow strings (each may be
/// empty: keep the default) to `opt`; throws UserError naming the option.
void finish_fixed_options(ToFixedOptions &opt, const std::string &input_format,
                          const std::string &input_round, const std::string &input_overflow);

} // namespace hgqc
