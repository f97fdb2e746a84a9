// Formatting of user-error locations and internal assertion failures.
#include "ir/error.h"

#include <cstdint>
#include <sstream>

namespace hgqc {

std::string Location::prefix() const {
  // (An ostringstream, not string +=: g++ 12 gives a false -Wrestrict warning on the latter.)
  std::ostringstream s;
  if (!file.empty()) {
    s << file;
    if (line > 0)
      s << ':' << line;
    s << ": ";
  }
  if (!node.empty() || !op_type.empty()) {
    s << "node '" << node << "'";
    if (!op_type.empty())
      s << " (" << op_type << ")";
    s << ": ";
  }
  return s.str();
}

std::string printable(std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size());
  auto escape = [&](unsigned char c) {
    out += "\\x";
    out += kHex[c >> 4];
    out += kHex[c & 15];
  };
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = byte(i);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f)
        escape(c);
      else
        out += static_cast<char>(c);
      ++i;
      continue;
    }
    // Length and smallest code point of the sequence a lead byte starts (0: not a lead byte).
    size_t len = c >= 0xc2 && c <= 0xdf   ? 2
                 : (c & 0xf0) == 0xe0     ? 3
                 : c >= 0xf0 && c <= 0xf4 ? 4
                                          : 0;
    uint32_t cp = len == 2 ? c & 0x1fu : len == 3 ? c & 0x0fu : c & 0x07u;
    bool ok = len != 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) {
      ok = (byte(i + k) & 0xc0) == 0x80;
      cp = (cp << 6) | (byte(i + k) & 0x3fu);
    }
    // Overlong forms, UTF-16 surrogates, code points above U+10FFFF and C1 controls are escaped.
    ok = ok && !(len == 3 && cp < 0x800) && !(len == 4 && (cp < 0x10000 || cp > 0x10ffff)) &&
         !(cp >= 0xd800 && cp <= 0xdfff) && !(cp >= 0x80 && cp < 0xa0);
    if (!ok) {
      escape(c);
      ++i;
      continue;
    }
    out.append(s.substr(i, len));
    i += len;
  }
  return out;
}

UserError UserError::with_location(const Location &outer) const {
  Location l = loc_;
  if (l.file.empty()) {
    l.file = outer.file;
    if (l.line == 0)
      l.line = outer.line;
  }
  if (l.node.empty())
    l.node = outer.node;
  if (l.op_type.empty())
    l.op_type = outer.op_type;
  return UserError(bare_, l);
}

void assert_fail(const char *expr, const char *file, int line, const std::string &msg) {
  std::string s = std::string("internal error: assertion `") + expr + "` failed at " + file + ":" +
                  std::to_string(line);
  if (!msg.empty())
    s += ": " + msg;
  throw InternalError(printable(s));
}

} // namespace hgqc
