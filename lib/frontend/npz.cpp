// NumPy .npz archives: a zip reader (stored and deflate members, zip64 records) and a stored-zip
// writer.
#include "frontend/data_io.h"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <set>

namespace hgqc {

namespace {

constexpr uint32_t kEocdSig = 0x06054b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr uint32_t kZip64EocdSig = 0x06064b50;
constexpr uint32_t kCentralSig = 0x02014b50;
constexpr uint32_t kLocalSig = 0x04034b50;

/// Bounds-checked little-endian reads from an in-memory archive.
class Bytes {
public:
  Bytes(std::string_view data, const Location &loc) : d_(data), loc_(loc) {}
  uint64_t size() const { return d_.size(); }
  bool has(uint64_t off, uint64_t n) const { return off <= d_.size() && n <= d_.size() - off; }
  void need(uint64_t off, uint64_t n, const char *what) const {
    if (!has(off, n))
      throw UserError(std::string("corrupt .npz (zip) archive: ") + what +
                          " lies outside the file (offset " + std::to_string(off) + ", " +
                          std::to_string(n) + " bytes, file has " + std::to_string(d_.size()) + ")",
                      loc_);
  }
  uint64_t le(uint64_t off, int n) const {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i)
      v = (v << 8) | static_cast<unsigned char>(d_[off + static_cast<uint64_t>(i)]);
    return v;
  }
  uint16_t u16(uint64_t off) const { return static_cast<uint16_t>(le(off, 2)); }
  uint32_t u32(uint64_t off) const { return static_cast<uint32_t>(le(off, 4)); }
  uint64_t u64(uint64_t off) const { return le(off, 8); }
  std::string_view sub(uint64_t off, uint64_t n) const {
    return d_.substr(static_cast<size_t>(off), static_cast<size_t>(n));
  }

private:
  std::string_view d_;
  const Location &loc_;
};

struct Member {
  std::string name; ///< as stored, e.g. "x.npy"
  uint16_t flags = 0;
  uint16_t method = 0;
  uint32_t crc = 0;
  uint64_t csize = 0, usize = 0, local_off = 0;
  bool is_dir() const { return !name.empty() && name.back() == '/'; }
  std::string array_name() const {
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0)
      return name.substr(0, name.size() - 4);
    return name;
  }
};

[[noreturn]] void corrupt(const std::string &why, const Location &loc) {
  throw UserError("corrupt .npz (zip) archive: " + why, loc);
}

/// Reads the central directory (via the end-of-central-directory record, zip64 aware).
std::vector<Member> read_directory(const Bytes &b, const Location &loc) {
  if (b.size() < 22) {
    if (b.size() >= 6 && b.sub(0, 6) == "\x93NUMPY")
      throw UserError("not a .npz file: it is a .npy file (rename it to .npy)", loc);
    throw UserError("not a .npz file (too short for a zip archive: " + std::to_string(b.size()) +
                        " bytes)",
                    loc);
  }
  uint64_t eocd = 0;
  bool found = false;
  uint64_t lowest = b.size() >= 22 + 0xffff ? b.size() - 22 - 0xffff : 0;
  for (uint64_t pos = b.size() - 22 + 1; pos-- > lowest;) {
    if (b.u32(pos) == kEocdSig && pos + 22 + b.u16(pos + 20) <= b.size()) {
      eocd = pos;
      found = true;
      break;
    }
  }
  if (!found) {
    if (b.sub(0, 6) == "\x93NUMPY")
      throw UserError("not a .npz file: it is a .npy file (rename it to .npy)", loc);
    throw UserError("not a .npz file (no zip end-of-central-directory record)", loc);
  }
  uint64_t disk = b.u16(eocd + 4), cd_disk = b.u16(eocd + 6);
  uint64_t entries = b.u16(eocd + 10);
  uint64_t cd_size = b.u32(eocd + 12), cd_off = b.u32(eocd + 16);
  if (eocd >= 20 && b.u32(eocd - 20) == kZip64LocatorSig) {
    uint64_t z = b.u64(eocd - 20 + 8);
    b.need(z, 56, "zip64 end-of-central-directory record");
    if (b.u32(z) != kZip64EocdSig)
      corrupt("bad zip64 end-of-central-directory signature", loc);
    disk = b.u32(z + 16);
    cd_disk = b.u32(z + 20);
    entries = b.u64(z + 32);
    cd_size = b.u64(z + 40);
    cd_off = b.u64(z + 48);
  } else if (entries == 0xffff || cd_size == 0xffffffff || cd_off == 0xffffffff) {
    corrupt("zip64 sizes announced but no zip64 end-of-central-directory locator found", loc);
  }
  if (disk != 0 || cd_disk != 0)
    throw UserError("multi-volume zip archives are not supported", loc);
  b.need(cd_off, cd_size, "central directory");
  // Each entry takes at least 46 bytes: bounds the count before reserving.
  if (entries > cd_size / 46)
    corrupt("central directory of " + std::to_string(cd_size) + " bytes cannot hold " +
                std::to_string(entries) + " entries",
            loc);
  std::vector<Member> members;
  members.reserve(static_cast<size_t>(entries));
  uint64_t p = cd_off, end = cd_off + cd_size;
  for (uint64_t i = 0; i < entries; ++i) {
    if (end - p < 46 || b.u32(p) != kCentralSig)
      corrupt("bad central directory entry " + std::to_string(i), loc);
    Member m;
    m.flags = b.u16(p + 8);
    m.method = b.u16(p + 10);
    m.crc = b.u32(p + 16);
    m.csize = b.u32(p + 20);
    m.usize = b.u32(p + 24);
    uint64_t nlen = b.u16(p + 28), xlen = b.u16(p + 30), clen = b.u16(p + 32);
    uint64_t start_disk = b.u16(p + 34);
    m.local_off = b.u32(p + 42);
    if (end - p - 46 < nlen + xlen + clen)
      corrupt("central directory entry " + std::to_string(i) + " overruns the directory", loc);
    m.name = std::string(b.sub(p + 46, nlen));
    // zip64 extended information: the 64-bit values of the fields set to all ones, in order.
    uint64_t x = p + 46 + nlen, xend = x + xlen;
    while (xend - x >= 4) {
      uint16_t id = b.u16(x), len = b.u16(x + 2);
      if (xend - x - 4 < len)
        break;
      if (id == 0x0001) {
        uint64_t q = x + 4, qend = q + len;
        auto take = [&](uint64_t &field, uint64_t sentinel, int width) {
          if (field != sentinel)
            return;
          if (qend - q < static_cast<uint64_t>(width))
            corrupt("short zip64 extra field for '" + m.name + "'", loc);
          field = b.le(q, width);
          q += static_cast<uint64_t>(width);
        };
        take(m.usize, 0xffffffff, 8);
        take(m.csize, 0xffffffff, 8);
        take(m.local_off, 0xffffffff, 8);
        take(start_disk, 0xffff, 4);
      }
      x += 4 + len;
    }
    if (start_disk != 0)
      throw UserError("multi-volume zip archives are not supported", loc);
    members.push_back(std::move(m));
    p += 46 + nlen + xlen + clen;
  }
  // Members may not share bytes: entries pointing at the same data would multiply the work and
  // memory of a small archive.
  // (Offsets and sizes beyond the file are refused later, by extract(); clamped here.)
  std::vector<std::pair<uint64_t, uint64_t>> spans; // [local header, end of data), at least
  for (const Member &m : members)
    if (!m.is_dir()) {
      uint64_t off = std::min(m.local_off, b.size());
      spans.emplace_back(off, off + 30 + std::min(m.csize, b.size()));
    }
  std::sort(spans.begin(), spans.end());
  for (size_t i = 1; i < spans.size(); ++i)
    if (spans[i].first < spans[i - 1].second)
      corrupt("two members overlap (at offsets " + std::to_string(spans[i - 1].first) + " and " +
                  std::to_string(spans[i].first) + ")",
              loc);
  return members;
}

/// Returns the uncompressed bytes of a member, checking sizes and CRC: a view into the archive
/// for a stored member (no copy), else into `out`, which holds the inflated bytes.
std::string_view extract(const Bytes &b, const Member &m, const Location &loc, std::string &out) {
  std::string who = "member '" + m.name + "'";
  if (m.flags & 1)
    throw UserError(who + ": encrypted zip members are not supported", loc);
  if (m.method != 0 && m.method != 8)
    throw UserError(who + ": zip compression method " + std::to_string(m.method) +
                        " is not supported (only 0 stored and 8 deflate)",
                    loc);
  b.need(m.local_off, 30, "local header");
  if (b.u32(m.local_off) != kLocalSig)
    corrupt(who + ": bad local header signature", loc);
  uint64_t data = m.local_off + 30 + b.u16(m.local_off + 26) + b.u16(m.local_off + 28);
  b.need(data, m.csize, "member data");
  std::string_view in = b.sub(data, m.csize);
  std::string_view result = in;
  if (m.method == 0) {
    if (m.csize != m.usize)
      corrupt(who + ": stored member with different compressed (" + std::to_string(m.csize) +
                  ") and uncompressed (" + std::to_string(m.usize) + ") sizes",
              loc);
  } else {
    // deflate cannot expand more than ~1032:1; refuse to allocate for implausible sizes.
    if (m.usize / 1032 > m.csize + 64)
      corrupt(who + ": implausible uncompressed size " + std::to_string(m.usize) + " for " +
                  std::to_string(m.csize) + " compressed bytes",
              loc);
    z_stream zs{};
    unsigned char dummy = 0; // zlib rejects a null next_out even when nothing is to be written
    zs.next_out = &dummy;
    if (inflateInit2(&zs, -MAX_WBITS) != Z_OK)
      throw UserError(who + ": zlib inflateInit2 failed", loc);
    const uInt kMaxChunk = 1u << 30;
    size_t in_pos = 0, out_pos = 0;
    int rc = Z_OK;
    // First only the .npy header: the size it implies is checked against the declared one before
    // the whole member is allocated (a deflate bomb declares gigabytes in a small archive).
    constexpr uint64_t kHeaderPeek = 1 << 18;
    bool peeking = m.usize > kHeaderPeek;
    out.resize(static_cast<size_t>(peeking ? kHeaderPeek : m.usize));
    while (rc == Z_OK) {
      if (peeking && zs.avail_out == 0 && out_pos == out.size()) {
        peeking = false;
        std::optional<uint64_t> need;
        try {
          need = npy_size(out, loc.file);
        } catch (const UserError &e) {
          inflateEnd(&zs);
          throw UserError(who + ": " + e.bare_message(), loc);
        }
        if (!need || *need < m.usize) {
          inflateEnd(&zs);
          corrupt(who + ": declares " + std::to_string(m.usize) + " uncompressed bytes, " +
                      (need ? "its array needs " + std::to_string(*need)
                            : std::string("its .npy header is longer than 256 KiB")),
                  loc);
        }
        out.resize(static_cast<size_t>(m.usize));
      }
      if (zs.avail_in == 0 && in_pos < in.size()) {
        zs.avail_in = static_cast<uInt>(std::min<size_t>(in.size() - in_pos, kMaxChunk));
        zs.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(in.data() + in_pos));
        in_pos += zs.avail_in;
      }
      if (zs.avail_out == 0 && out_pos < out.size()) {
        zs.avail_out = static_cast<uInt>(std::min<size_t>(out.size() - out_pos, kMaxChunk));
        zs.next_out = reinterpret_cast<Bytef *>(out.data() + out_pos);
        out_pos += zs.avail_out;
      }
      uInt before_in = zs.avail_in, before_out = zs.avail_out;
      rc = inflate(&zs, Z_NO_FLUSH);
      if (rc == Z_OK && zs.avail_in == before_in && zs.avail_out == before_out)
        rc = Z_BUF_ERROR; // no progress: input exhausted or output full
    }
    uint64_t produced = out_pos - zs.avail_out;
    std::string zmsg = zs.msg ? zs.msg : "zlib error " + std::to_string(rc);
    inflateEnd(&zs);
    if (rc != Z_STREAM_END || produced != m.usize) {
      std::string why;
      if (rc == Z_STREAM_END)
        why = "stream ends after " + std::to_string(produced) + " of " + std::to_string(m.usize) +
              " bytes";
      else if (rc == Z_BUF_ERROR)
        why = "truncated, or longer than the declared " + std::to_string(m.usize) + " bytes";
      else
        why = zmsg;
      corrupt(who + ": bad deflate data (" + why + ")", loc);
    }
    result = out;
  }
  uLong crc = crc32_z(0L, reinterpret_cast<const Bytef *>(result.data()), result.size());
  if (static_cast<uint32_t>(crc) != m.crc)
    corrupt(who + ": CRC-32 mismatch (data is damaged)", loc);
  return result;
}

Tensor parse_member(const Bytes &b, const Member &m, const std::string &path) {
  std::string inflated;
  std::string_view bytes = extract(b, m, Location{path}, inflated);
  try {
    return parse_npy(bytes, path);
  } catch (const UserError &e) {
    throw UserError("member '" + m.name + "': " + e.bare_message(), e.location());
  }
}

void put(std::string &out, uint64_t v, int n) {
  for (int i = 0; i < n; ++i)
    out += static_cast<char>((v >> (8 * i)) & 0xff);
}

} // namespace

std::vector<std::pair<std::string, Tensor>> read_npz(const std::string &path) {
  Location loc{path};
  std::string data = read_file(path);
  Bytes b(data, loc);
  std::vector<std::pair<std::string, Tensor>> out;
  for (const Member &m : read_directory(b, loc))
    if (!m.is_dir())
      out.emplace_back(m.array_name(), parse_member(b, m, path));
  return out;
}

Tensor read_npz_member(const std::string &path, const std::string &key) {
  Location loc{path};
  std::string data = read_file(path);
  Bytes b(data, loc);
  std::vector<Member> members = read_directory(b, loc);
  std::erase_if(members, [](const Member &m) { return m.is_dir(); });
  std::string names;
  for (const Member &m : members)
    names += (names.empty() ? "'" : ", '") + m.array_name() + "'";
  if (members.empty())
    throw UserError("archive holds no arrays", loc);
  if (key.empty()) {
    if (members.size() != 1)
      throw UserError("archive holds " + std::to_string(members.size()) + " arrays (" + names +
                          "); name the one to use",
                      loc);
    return parse_member(b, members.front(), path);
  }
  for (const Member &m : members)
    if (m.array_name() == key)
      return parse_member(b, m, path);
  throw UserError("no array named '" + key + "' in archive (it holds " + names + ")", loc);
}

void write_npz(const std::string &path, const std::vector<std::pair<std::string, Tensor>> &arrays) {
  Location loc{path};
  constexpr uint64_t kLimit = 0xffffffff;
  if (arrays.size() >= 0xffff)
    throw UserError(
        "too many arrays for a .npz (" + std::to_string(arrays.size()) + "; at most 65534)", loc);
  std::set<std::string> seen;
  std::string out, central;
  for (const auto &[name, t] : arrays) {
    if (name.empty())
      throw UserError("cannot write an array with an empty name to a .npz", loc);
    if (!seen.insert(name).second)
      throw UserError("two arrays named '" + name + "' in one .npz", loc);
    std::string member = name + ".npy";
    if (member.size() > 0xffff)
      throw UserError("array name too long for a .npz: '" + name.substr(0, 64) + "...'", loc);
    std::string npy = serialize_npy(t);
    if (npy.size() >= kLimit || out.size() >= kLimit)
      throw UserError("array '" + name + "' does not fit a .npz without zip64 (4 GiB limit)", loc);
    uint32_t crc =
        static_cast<uint32_t>(crc32_z(0L, reinterpret_cast<const Bytef *>(npy.data()), npy.size()));
    bool utf8 = std::any_of(member.begin(), member.end(),
                            [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
    uint16_t flags = utf8 ? 0x800 : 0;
    uint64_t local_off = out.size();
    // Local file header.
    put(out, kLocalSig, 4);
    put(out, 20, 2);    // version needed
    put(out, flags, 2); // flags
    put(out, 0, 2);     // method: stored
    put(out, 0, 2);     // time 00:00:00
    put(out, 0x21, 2);  // date 1980-01-01
    put(out, crc, 4);
    put(out, npy.size(), 4);
    put(out, npy.size(), 4);
    put(out, member.size(), 2);
    put(out, 0, 2); // extra length
    out += member;
    out += npy;
    // Central directory entry.
    put(central, kCentralSig, 4);
    put(central, 20, 2); // version made by
    put(central, 20, 2); // version needed
    put(central, flags, 2);
    put(central, 0, 2);
    put(central, 0, 2);
    put(central, 0x21, 2);
    put(central, crc, 4);
    put(central, npy.size(), 4);
    put(central, npy.size(), 4);
    put(central, member.size(), 2);
    put(central, 0, 2); // extra length
    put(central, 0, 2); // comment length
    put(central, 0, 2); // disk number start
    put(central, 0, 2); // internal attributes
    put(central, 0, 4); // external attributes
    put(central, local_off, 4);
    central += member;
  }
  if (out.size() + central.size() >= kLimit)
    throw UserError("arrays do not fit a .npz without zip64 (4 GiB limit)", loc);
  uint64_t cd_off = out.size();
  out += central;
  put(out, kEocdSig, 4);
  put(out, 0, 2);
  put(out, 0, 2);
  put(out, arrays.size(), 2);
  put(out, arrays.size(), 2);
  put(out, central.size(), 4);
  put(out, cd_off, 4);
  put(out, 0, 2); // comment length
  write_file_atomic(path, out);
}

} // namespace hgqc
