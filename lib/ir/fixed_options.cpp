// The user's text for fixed-point formats and the input quantizer (the --input-* options).
#include "ir/fixed_options.h"

#include "ir/error.h"

#include <cstdint>
#include <stdexcept>

namespace hgqc {

FixedFormat parse_format(const std::string &s0, const std::string &flag) {
  std::string s = s0;
  if (s.starts_with("fixed<") && s.ends_with(">"))
    s = s.substr(6, s.size() - 7);
  int v[3];
  size_t pos = 0;
  for (int j = 0; j < 3; ++j) {
    size_t end = s.find(',', pos);
    std::string part = s.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    try {
      size_t used = 0;
      v[j] = std::stoi(part, &used);
      if (used != part.size())
        throw std::invalid_argument(part);
    } catch (const std::exception &) {
      throw UserError(flag + " '" + s0 + "' is not of the form k,i,f (e.g. 1,5,10)");
    }
    if ((j < 2) != (end != std::string::npos))
      throw UserError(flag + " '" + s0 + "' is not of the form k,i,f (e.g. 1,5,10)");
    pos = end + 1;
  }
  FixedFormat f{v[0], v[1], v[2]};
  // The width in 64 bits: k + i + f of ints near INT_MAX would overflow an int.
  int64_t width = int64_t{f.k} + f.i + f.f;
  if ((f.k != 0 && f.k != 1) || width < 1 || width > kMaxFixedWidth)
    throw UserError(flag + " " + f.str() + ": k must be 0 or 1 and the width 1.." +
                    std::to_string(kMaxFixedWidth));
  return f;
}

void finish_fixed_options(ToFixedOptions &opt, const std::string &input_format,
                          const std::string &input_round, const std::string &input_overflow) {
  if (!input_format.empty())
    opt.input.format = parse_format(input_format, "--input-format");
  if (!input_round.empty()) {
    auto r = parse_round_mode(input_round);
    if (!r)
      throw UserError("--input-round '" + input_round + "' is not TRN, RND or RND_CONV");
    opt.input.round = *r;
  }
  if (!input_overflow.empty()) {
    auto o = parse_overflow_mode(input_overflow);
    if (!o)
      throw UserError("--input-overflow '" + input_overflow + "' is not WRAP, SAT or SAT_SYM");
    opt.input.overflow = *o;
  }
}

} // namespace hgqc
