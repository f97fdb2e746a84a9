// Formatting of user-error locations and internal assertion failures.
#include "ir/error.h"

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
  throw InternalError(s);
}

} // namespace hgqc
