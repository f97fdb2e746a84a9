// Reading and writing array data files (.npy, .npz, IDX, CSV); writes are atomic
// (support/file_io.h).
#pragma once

#include "ir/error.h"
#include "ir/tensor.h"
#include "support/file_io.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hgqc {

/// Reads a NumPy .npy file (float32/float64/int32/int64/uint8, also bool, little-endian, C order;
/// header versions 1.0, 2.0 and 3.0). Fortran order, big-endian, object/other dtypes -> UserError
/// naming file and dtype. Float data containing NaN/Inf is a UserError.
Tensor read_npy(const std::string &path);

/// Parses .npy bytes (for npz members); `what` names the source in errors (it becomes
/// Location.file). Same rules as read_npy.
Tensor parse_npy(std::string_view bytes, const std::string &what);

/// The total size in bytes (preamble, header and data) of the .npy whose first bytes are `prefix`,
/// or nullopt when `prefix` ends before the header does. UserError (as parse_npy) for a malformed
/// header or a shape over kMaxTensorElements. Lets the .npz reader check a member's declared
/// size before it inflates the member.
std::optional<uint64_t> npy_size(std::string_view prefix, const std::string &what);

/// Reads all arrays of a .npz (zip; members stored or deflate-compressed as np.savez /
/// np.savez_compressed write them; zip64 records are understood), in archive order; names
/// without the ".npy" suffix. Directory entries are skipped; every other member must be a
/// valid .npy.
std::vector<std::pair<std::string, Tensor>> read_npz(const std::string &path);

/// Reads one array of a .npz: the member named `key` (without ".npy"), or, when `key` is empty,
/// the only array. Other members are not decoded. UserError listing the archive's arrays when
/// `key` is not there, or when `key` is empty and there is not exactly one array.
Tensor read_npz_member(const std::string &path, const std::string &key);

/// Reads an IDX file (MNIST / Fashion-MNIST format), plain or gzip-compressed (as the .gz
/// distribution files are; compression is detected from the content, not the name). Types 0x08
/// ubyte, 0x09 sbyte, 0x0B short, 0x0C int, 0x0D float, 0x0E double (big-endian). Result dtype:
/// UInt8 for 0x08, Float32 for 0x0D, Float64 for 0x0E, Int32 otherwise. The data must be exactly as
/// long as the header says.
Tensor read_idx(const std::string &path);

/// Reads a CSV of numbers: optional header line (detected when the first line has a non-empty,
/// non-numeric field), comma separated (fields may be double-quoted), all rows the same number of
/// columns, blank lines ignored; result Float32 [rows, cols]. Errors carry file and line number
/// (Location.file/.line): non-numeric field, ragged row, NaN/Inf values, values outside the
/// float32 range, empty file, header without data.
Tensor read_csv(const std::string &path);

/// Dispatch by extension (case-insensitive): .npy, .npz (requires exactly one array, or `key`
/// selects a member), .idx/.idx3-ubyte/.idx1-ubyte/-ubyte/.gz (IDX), .csv. Unknown extension ->
/// UserError listing the supported ones; a `key` for anything but .npz is a UserError too.
Tensor read_array(const std::string &path, const std::string &key = "");

/// The bytes of a .npy file holding `t` (version 1.0 header unless the shape needs 2.0, padded
/// to 64 bytes exactly as numpy 1.24 does). Dtypes: '<f4' Float32, '<f8' Float64, '<i8' Int64,
/// '<i4' Int32, '|u1' UInt8, '|b1' Bool. Integer values are truncated and saturated to the
/// range of the type (NaN -> 0); Bool stores value != 0.
std::string serialize_npy(const Tensor &t);

/// Writes a .npy (as serialize_npy). Atomic: write to "<path>.tmp.<pid>" then rename(); on
/// failure remove the temp file and throw UserError; never leave a half-written output.
void write_npy(const std::string &path, const Tensor &t);

/// Writes a .npz (stored, no compression) with the given named arrays (member "<name>.npy" each),
/// atomically as above. Empty or duplicate names, more than 65535 arrays or a member or archive
/// of 4 GiB or more (which would need zip64) are UserErrors.
void write_npz(const std::string &path, const std::vector<std::pair<std::string, Tensor>> &arrays);

/// Reads a whole file into memory; UserError "cannot open ..." (with the OS reason) if it cannot
/// be opened or read.
std::string read_file(const std::string &path);

/// Throws UserError at `loc` ("contains NaN at index i (element [..])", likewise Inf) if a
/// float tensor holds a non-finite value; `what` (may be empty) prefixes the message, e.g.
/// "member 'x'". Non-float tensors always pass.
void check_finite(const Tensor &t, const Location &loc, const std::string &what = "");

} // namespace hgqc
