// CSV reading: numeric tables with an optional header line, returned as Float32 [rows, cols].
#include "frontend/data_io.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>
#include <system_error>

namespace hgqc {

namespace {

/// Splits one line at commas; a field may be enclosed in double quotes ("" is a literal quote).
/// Surrounding spaces and tabs are removed. Returns false on an unterminated quote.
bool split_fields(std::string_view line, std::vector<std::string> &fields) {
  fields.clear();
  size_t i = 0;
  for (;;) {
    std::string f;
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
      ++i;
    if (i < line.size() && line[i] == '"') {
      ++i;
      for (;;) {
        if (i >= line.size())
          return false;
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            f += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        f += line[i++];
      }
      while (i < line.size() && line[i] != ',')
        f += line[i++]; // text after the closing quote is kept (and makes the field non-numeric)
    } else {
      while (i < line.size() && line[i] != ',')
        f += line[i++];
    }
    while (!f.empty() && (f.back() == ' ' || f.back() == '\t'))
      f.pop_back();
    fields.push_back(std::move(f));
    if (i >= line.size())
      return true;
    ++i; // the comma
  }
}

/// The number in `f`, or nullopt if it is not a complete number. Accepts a leading '+'.
/// Sets out_of_range for numbers beyond the double range.
std::optional<double> parse_number(const std::string &f, bool &out_of_range) {
  out_of_range = false;
  const char *b = f.data(), *e = f.data() + f.size();
  if (b != e && *b == '+')
    ++b;
  if (b == e)
    return std::nullopt;
  double v = 0;
  auto [ptr, ec] = std::from_chars(b, e, v);
  if (ec == std::errc::result_out_of_range && ptr == e) {
    // Overflow is an error; underflow (e.g. 1e-400) just means (nearly) zero.
    double u = std::strtod(f.c_str(), nullptr);
    if (std::isinf(u)) {
      out_of_range = true;
      return std::nullopt;
    }
    return u;
  }
  if (ec != std::errc() || ptr != e)
    return std::nullopt;
  return v;
}

std::string shown(const std::string &f) {
  return f.size() > 40 ? "'" + f.substr(0, 40) + "...'" : "'" + f + "'";
}

} // namespace

Tensor read_csv(const std::string &path) {
  std::string text = read_file(path);
  std::string_view rest = text;
  if (rest.substr(0, 3) == "\xEF\xBB\xBF")
    rest.remove_prefix(3); // UTF-8 byte order mark
  std::vector<double> values;
  std::vector<std::string> fields;
  size_t cols = 0;
  long cols_line = 0; // the line that fixed the column count
  long rows = 0, line_no = 0;
  bool header_checked = false, have_header = false;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos)
      continue; // blank line
    Location loc{path, line_no, {}, {}};
    if (!split_fields(line, fields))
      throw UserError("unterminated quoted field", loc);
    if (!header_checked) {
      header_checked = true;
      bool oor = false;
      for (const std::string &f : fields)
        if (!f.empty() && !parse_number(f, oor) && !oor)
          have_header = true;
      cols = fields.size();
      cols_line = line_no;
      if (have_header)
        continue;
    }
    if (fields.size() != cols)
      throw UserError("ragged row: " + std::to_string(fields.size()) + " fields, but line " +
                          std::to_string(cols_line) + " has " + std::to_string(cols),
                      loc);
    for (size_t c = 0; c < fields.size(); ++c) {
      const std::string &f = fields[c];
      std::string where = "column " + std::to_string(c + 1) + ": ";
      if (f.empty())
        throw UserError(where + "empty field (expected a number)", loc);
      bool oor = false;
      std::optional<double> v = parse_number(f, oor);
      if (oor)
        throw UserError(where + "value " + shown(f) + " is out of range", loc);
      if (!v)
        throw UserError(
            where + "non-numeric field " + shown(f) + " (expected comma separated numbers)", loc);
      if (std::isnan(*v))
        throw UserError(where + "NaN in data (" + shown(f) + ") is not allowed", loc);
      if (std::isinf(*v))
        throw UserError(where + "Inf in data (" + shown(f) + ") is not allowed", loc);
      if (std::fabs(*v) > std::numeric_limits<float>::max())
        throw UserError(where + "value " + shown(f) + " is outside the float32 range", loc);
      values.push_back(static_cast<float>(*v));
      if (values.size() > static_cast<size_t>(kMaxTensorElements))
        check_numel_cap(values.size(), "the table", loc);
    }
    ++rows;
  }
  if (rows == 0) {
    if (have_header)
      throw UserError("no data rows after the header line", Location{path, cols_line, {}, {}});
    throw UserError("empty file: no data rows", Location{path});
  }
  return Tensor(DType::Float32, {rows, static_cast<int64_t>(cols)}, std::move(values));
}

} // namespace hgqc
