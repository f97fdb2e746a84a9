// Writing output files atomically: a temporary file renamed over the target.
#pragma once

#include <string>
#include <string_view>

namespace hgqc {

/// Writes `bytes` to `path` atomically (temp file "<path>.tmp.<pid>" + rename). Used by every
/// writer in hgqc. On failure the temp file is removed, the target is left as it was, and a
/// UserError with Location.file = path is thrown.
void write_file_atomic(const std::string &path, std::string_view bytes);

} // namespace hgqc
