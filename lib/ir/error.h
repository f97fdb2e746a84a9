// Error values for user and input errors, and the assert macro for internal invariants.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace hgqc {

/// Where a user error came from: any of the fields may be empty.
struct Location {
  /// Any trailing fields may be left out: Location{path}, Location{path, line}.
  Location(std::string file_ = {}, long line_ = 0, std::string node_ = {},
           std::string op_type_ = {})
      : file(std::move(file_)), line(line_), node(std::move(node_)), op_type(std::move(op_type_)) {}
  std::string file;    ///< input file (model, data, CSV)
  long line = 0;       ///< 1-based line in `file`, 0 if not applicable
  std::string node;    ///< ONNX node name
  std::string op_type; ///< ONNX op type (with domain when not the default one)
  /// "file:line: node 'n' (Op): " prefix, or "" when nothing is known.
  std::string prefix() const;
};

/// `s` made printable on one line: valid UTF-8 sequences other than control characters are
/// kept, and every other byte (C0 controls, DEL, C1 controls, bytes of invalid or overlong UTF-8)
/// is written as \xNN. Applied to every UserError message, since node names, op types, tensor
/// names and file contents come from untrusted files.
std::string printable(std::string_view s);

/// An error caused by the user's input (model, data, flags). main() prints its
/// message on one line and exits with status 2. The library never exits itself.
/// what() is the location prefix and the message, passed through printable().
class UserError : public std::runtime_error {
public:
  explicit UserError(const std::string &msg, Location loc = {})
      : std::runtime_error(printable(loc.prefix() + msg)), loc_(std::move(loc)), bare_(msg) {}
  /// Where the error came from.
  const Location &location() const { return loc_; }
  /// The message without the location prefix, not escaped (escaping happens in what()).
  const std::string &bare_message() const { return bare_; }
  /// A copy with location fields filled in where they are still empty.
  UserError with_location(const Location &outer) const;

private:
  Location loc_;
  std::string bare_;
};

/// A check the user asked for did not pass (e.g. outputs differ from a reference).
/// main() prints its message and exits with status 3.
class CheckFailed : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// A broken internal invariant: a bug in hgqc. main() prints it and exits 1.
class InternalError : public std::logic_error {
public:
  using std::logic_error::logic_error;
};

[[noreturn]] void assert_fail(const char *expr, const char *file, int line, const std::string &msg);

} // namespace hgqc

/// Checks an internal invariant; throws hgqc::InternalError when it fails.
#define HGQC_ASSERT(cond, ...)                                                                     \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      ::hgqc::assert_fail(#cond, __FILE__, __LINE__, std::string{__VA_ARGS__});                    \
  } while (0)
