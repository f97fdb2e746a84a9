// NumPy .npy reading and writing (format versions 1.0, 2.0 and 3.0; little-endian, C order).
#include "frontend/data_io.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>

namespace hgqc {

namespace {

constexpr std::string_view kMagic = "\x93NUMPY";
constexpr const char *kSupported = "float32 '<f4', float64 '<f8', int32 '<i4', int64 '<i8', "
                                   "uint8 '|u1', bool '|b1'";

/// A value of the Python literal subset used by .npy headers.
struct PyValue {
  enum Kind { Str, Int, Bool, None, Tuple, List, Dict } kind = None;
  std::string str;               ///< Str
  int64_t num = 0;               ///< Int
  bool flag = false;             ///< Bool
  std::vector<PyValue> items;    ///< Tuple, List; Dict values
  std::vector<std::string> keys; ///< Dict keys (string keys only)
};

/// Parses the header dict of a .npy file; throws UserError on anything malformed.
class HeaderParser {
public:
  HeaderParser(std::string_view text, const Location &loc) : s_(text), loc_(loc) {}

  PyValue parse() {
    PyValue v = value(0);
    skip_ws();
    if (pos_ != s_.size())
      fail("unexpected text after the header dict");
    return v;
  }

private:
  [[noreturn]] void fail(const std::string &why) const {
    std::string shown(s_.substr(0, 200));
    while (!shown.empty() && (shown.back() == ' ' || shown.back() == '\n'))
      shown.pop_back();
    throw UserError("malformed .npy header (" + why + " at offset " + std::to_string(pos_) +
                        "): " + shown,
                    loc_);
  }
  void skip_ws() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\t' || s_[pos_] == '\r'))
      ++pos_;
  }
  bool eat(char c) {
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool eat_word(std::string_view w) {
    if (s_.substr(pos_, w.size()) == w) {
      pos_ += w.size();
      return true;
    }
    return false;
  }
  /// Parses comma separated values up to `close`; a trailing comma is allowed.
  void sequence(char close, int depth, PyValue &out, bool is_dict) {
    for (;;) {
      if (eat(close))
        return;
      if (is_dict) {
        PyValue k = value(depth + 1);
        if (k.kind != PyValue::Str)
          fail("dict key is not a string");
        if (!eat(':'))
          fail("expected ':'");
        out.keys.push_back(std::move(k.str));
      }
      out.items.push_back(value(depth + 1));
      if (eat(close))
        return;
      if (!eat(','))
        fail(std::string("expected ',' or '") + close + "'");
    }
  }
  PyValue value(int depth) {
    if (depth > 32)
      fail("nested too deeply");
    skip_ws();
    if (pos_ >= s_.size())
      fail("unexpected end");
    PyValue v;
    char c = s_[pos_];
    if (c == '\'' || c == '"') {
      ++pos_;
      v.kind = PyValue::Str;
      while (pos_ < s_.size() && s_[pos_] != c) {
        if (s_[pos_] == '\\')
          fail("escape sequences in strings are not supported");
        v.str += s_[pos_++];
      }
      if (pos_ >= s_.size())
        fail("unterminated string");
      ++pos_;
    } else if (c == '{') {
      ++pos_;
      v.kind = PyValue::Dict;
      sequence('}', depth, v, true);
    } else if (c == '(') {
      ++pos_;
      v.kind = PyValue::Tuple;
      sequence(')', depth, v, false);
    } else if (c == '[') {
      ++pos_;
      v.kind = PyValue::List;
      sequence(']', depth, v, false);
    } else if (c >= '0' && c <= '9') {
      v.kind = PyValue::Int;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
        int digit = s_[pos_++] - '0';
        if (v.num > (std::numeric_limits<int64_t>::max() - digit) / 10)
          fail("integer too large");
        v.num = v.num * 10 + digit;
      }
      if (pos_ < s_.size() && (s_[pos_] == 'L' || s_[pos_] == 'l'))
        ++pos_; // Python 2 long suffix, written by old numpy versions
    } else if (eat_word("True")) {
      v.kind = PyValue::Bool;
      v.flag = true;
    } else if (eat_word("False")) {
      v.kind = PyValue::Bool;
    } else if (eat_word("None")) {
      v.kind = PyValue::None;
    } else if (c == '-') {
      fail("negative number");
    } else {
      fail(std::string("unexpected character '") + c + "'");
    }
    return v;
  }

  std::string_view s_;
  size_t pos_ = 0;
  const Location &loc_;
};

struct NpyType {
  DType dtype;
  int size;
  char kind; ///< 'f', 'i', 'u' or 'b'
};

NpyType parse_descr(const std::string &descr, const Location &loc) {
  std::string d = descr;
  char order = '=';
  if (!d.empty() && (d[0] == '<' || d[0] == '>' || d[0] == '|' || d[0] == '='))
    order = d[0], d = d.substr(1);
  std::optional<NpyType> t;
  if (d == "f4")
    t = NpyType{DType::Float32, 4, 'f'};
  else if (d == "f8")
    t = NpyType{DType::Float64, 8, 'f'};
  else if (d == "i4")
    t = NpyType{DType::Int32, 4, 'i'};
  else if (d == "i8")
    t = NpyType{DType::Int64, 8, 'i'};
  else if (d == "u1")
    t = NpyType{DType::UInt8, 1, 'u'};
  else if (d == "b1" || d == "?")
    t = NpyType{DType::Bool, 1, 'b'};
  if (!t) {
    if (!d.empty() && d[0] == 'O')
      throw UserError(
          "unsupported dtype '" + descr +
              "': object arrays (pickled Python objects) cannot be read; supported: " + kSupported,
          loc);
    throw UserError("unsupported dtype '" + descr + "'; supported: " + kSupported, loc);
  }
  if (order == '>' && t->size > 1)
    throw UserError("unsupported dtype '" + descr +
                        "': big-endian data is not supported (convert with .astype('<" + d +
                        "')); supported: " + kSupported,
                    loc);
  return *t;
}

uint64_t load_le(const unsigned char *p, int size) {
  uint64_t v = 0;
  for (int i = size - 1; i >= 0; --i)
    v = (v << 8) | p[i];
  return v;
}

void store_le(std::string &out, uint64_t v, int size) {
  for (int i = 0; i < size; ++i)
    out += static_cast<char>((v >> (8 * i)) & 0xff);
}

const char *descr_of(DType t) {
  switch (t) {
  case DType::Float32:
    return "<f4";
  case DType::Float64:
    return "<f8";
  case DType::Int64:
    return "<i8";
  case DType::Int32:
    return "<i4";
  case DType::UInt8:
    return "|u1";
  case DType::Bool:
    return "|b1";
  }
  HGQC_ASSERT(false, "unknown dtype");
  return "";
}

/// The parsed preamble and header of a .npy.
struct NpyHeader {
  NpyType type;
  Dims dims;
  int64_t numel = 0;
  int64_t nbytes = 0; ///< numel * item size
  size_t data_off = 0;
};

/// Parses the preamble and header; `bytes` must hold at least both (else "truncated").
NpyHeader parse_header(std::string_view bytes, const Location &loc) {
  if (bytes.size() < kMagic.size() || bytes.substr(0, kMagic.size()) != kMagic)
    throw UserError("not a .npy file (bad magic; expected \\x93NUMPY)", loc);
  if (bytes.size() < 10)
    throw UserError("truncated: .npy file of " + std::to_string(bytes.size()) +
                        " bytes ends inside its preamble",
                    loc);
  auto *u = reinterpret_cast<const unsigned char *>(bytes.data());
  int major = u[6], minor = u[7];
  if (!((major == 1 || major == 2 || major == 3) && minor == 0))
    throw UserError("unsupported .npy format version " + std::to_string(major) + "." +
                        std::to_string(minor) + " (supported: 1.0, 2.0, 3.0)",
                    loc);
  size_t prefix = major == 1 ? 10 : 12;
  if (bytes.size() < prefix)
    throw UserError("truncated: .npy file of " + std::to_string(bytes.size()) +
                        " bytes ends inside its preamble",
                    loc);
  uint64_t hlen = load_le(u + 8, major == 1 ? 2 : 4);
  if (hlen > bytes.size() - prefix)
    throw UserError("truncated: preamble says the header has " + std::to_string(hlen) +
                        " bytes, file has " + std::to_string(bytes.size() - prefix),
                    loc);
  std::string_view header = bytes.substr(prefix, hlen);
  size_t data_off = prefix + hlen;

  PyValue dict = HeaderParser(header, loc).parse();
  if (dict.kind != PyValue::Dict)
    throw UserError("malformed .npy header (not a dict): " + std::string(header.substr(0, 200)),
                    loc);
  const PyValue *descr = nullptr, *fortran = nullptr, *shape = nullptr;
  for (size_t i = 0; i < dict.keys.size(); ++i) {
    if (dict.keys[i] == "descr")
      descr = &dict.items[i];
    else if (dict.keys[i] == "fortran_order")
      fortran = &dict.items[i];
    else if (dict.keys[i] == "shape")
      shape = &dict.items[i];
  }
  if (!descr || !fortran || !shape)
    throw UserError(std::string("malformed .npy header: missing key '") +
                        (!descr     ? "descr"
                         : !fortran ? "fortran_order"
                                    : "shape") +
                        "'",
                    loc);
  if (descr->kind != PyValue::Str)
    throw UserError("unsupported dtype: structured (record) arrays cannot be read; supported: " +
                        std::string(kSupported),
                    loc);
  NpyType type = parse_descr(descr->str, loc);
  if (fortran->kind != PyValue::Bool)
    throw UserError("malformed .npy header: 'fortran_order' is not True/False", loc);
  if (fortran->flag)
    throw UserError("Fortran-order arrays are not supported (dtype '" + descr->str +
                        "'); save a C-order array, e.g. np.save(f, np.ascontiguousarray(a))",
                    loc);
  if (shape->kind != PyValue::Tuple)
    throw UserError("malformed .npy header: 'shape' is not a tuple", loc);

  Dims dims;
  bool has_zero = false;
  int64_t nonzero_product = 1; // must not overflow even when a zero dim makes the array empty
  for (const PyValue &d : shape->items) {
    if (d.kind != PyValue::Int)
      throw UserError("malformed .npy header: 'shape' holds a non-integer", loc);
    dims.push_back(d.num);
    has_zero |= d.num == 0;
    if (d.num != 0 && __builtin_mul_overflow(nonzero_product, d.num, &nonzero_product))
      throw UserError("shape " + dims_str(dims) + "... is too large", loc);
  }
  int64_t numel = has_zero ? 0 : nonzero_product;
  int64_t nbytes = 0;
  if (__builtin_mul_overflow(numel, static_cast<int64_t>(type.size), &nbytes))
    throw UserError("shape " + dims_str(dims) + " is too large", loc);
  return NpyHeader{type, std::move(dims), numel, nbytes, data_off};
}

} // namespace

std::optional<uint64_t> npy_size(std::string_view prefix, const std::string &what) {
  if (prefix.size() < 12 || prefix.substr(0, kMagic.size()) != kMagic) {
    parse_header(prefix, Location{what}); // throws: not a .npy, or ends inside the preamble
    return std::nullopt;
  }
  auto *u = reinterpret_cast<const unsigned char *>(prefix.data());
  int major = u[6];
  uint64_t hlen = load_le(u + 8, major == 1 ? 2 : 4);
  if (hlen > prefix.size() - (major == 1 ? 10 : 12))
    return std::nullopt;
  NpyHeader h = parse_header(prefix, Location{what});
  check_numel_cap(static_cast<uint64_t>(h.numel), "shape " + dims_str(h.dims), Location{what});
  return h.data_off + static_cast<uint64_t>(h.nbytes);
}

Tensor parse_npy(std::string_view bytes, const std::string &what) {
  Location loc{what};
  NpyHeader h = parse_header(bytes, loc);
  uint64_t have = bytes.size() - h.data_off;
  if (static_cast<uint64_t>(h.nbytes) > have)
    throw UserError("truncated: header says " + std::to_string(h.nbytes) +
                        " bytes of data, file has " + std::to_string(have),
                    loc);
  check_numel_cap(static_cast<uint64_t>(h.numel), "shape " + dims_str(h.dims), loc);
  const NpyType &type = h.type;
  auto *u = reinterpret_cast<const unsigned char *>(bytes.data());
  std::vector<double> values(static_cast<size_t>(h.numel));
  const unsigned char *p = u + h.data_off;
  for (size_t i = 0; i < values.size(); ++i, p += type.size) {
    uint64_t raw = load_le(p, type.size);
    double v = 0;
    switch (type.dtype) {
    case DType::Float32:
      v = std::bit_cast<float>(static_cast<uint32_t>(raw));
      break;
    case DType::Float64:
      v = std::bit_cast<double>(raw);
      break;
    case DType::Int32:
      v = static_cast<int32_t>(static_cast<uint32_t>(raw));
      break;
    case DType::Int64:
      v = static_cast<double>(static_cast<int64_t>(raw));
      break;
    case DType::UInt8:
      v = static_cast<double>(raw);
      break;
    case DType::Bool:
      v = raw != 0 ? 1.0 : 0.0;
      break;
    }
    values[i] = v;
  }
  Tensor t(type.dtype, std::move(h.dims), std::move(values));
  check_finite(t, loc);
  return t;
}

Tensor read_npy(const std::string &path) { return parse_npy(read_file(path), path); }

std::string serialize_npy(const Tensor &t) {
  std::string shape = "(";
  for (size_t i = 0; i < t.shape().size(); ++i)
    shape += (i ? ", " : "") + std::to_string(t.shape()[i]);
  shape += t.shape().size() == 1 ? ",)" : ")";
  std::string header = std::string("{'descr': '") + descr_of(t.dtype()) +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  // numpy 1.24 leaves room for the first dimension to grow to 21 digits.
  if (t.rank() > 0)
    header.append(21 - std::to_string(t.shape()[0]).size(), ' ');
  size_t hlen = header.size() + 1; // + '\n'
  size_t prefix = 10;
  size_t pad = 64 - (prefix + hlen) % 64;
  if (hlen + pad > 0xffff) {
    prefix = 12;
    pad = 64 - (prefix + hlen) % 64;
  }
  std::string out(kMagic);
  out += static_cast<char>(prefix == 10 ? 1 : 2);
  out += '\0';
  store_le(out, hlen + pad, prefix == 10 ? 2 : 4);
  out += header;
  out.append(pad, ' ');
  out += '\n';

  int size = t.dtype() == DType::Float64 || t.dtype() == DType::Int64   ? 8
             : t.dtype() == DType::Float32 || t.dtype() == DType::Int32 ? 4
                                                                        : 1;
  out.reserve(out.size() + static_cast<size_t>(t.numel()) * static_cast<size_t>(size));
  for (double v : t.data()) {
    uint64_t raw = 0;
    switch (t.dtype()) {
    case DType::Float32:
      raw = std::bit_cast<uint32_t>(static_cast<float>(v));
      break;
    case DType::Float64:
      raw = std::bit_cast<uint64_t>(v);
      break;
    case DType::Int32:
      raw = static_cast<uint32_t>(saturate_cast<int32_t>(v));
      break;
    case DType::Int64:
      raw = static_cast<uint64_t>(saturate_cast<int64_t>(v));
      break;
    case DType::UInt8:
      raw = saturate_cast<uint8_t>(v);
      break;
    case DType::Bool:
      raw = v != 0.0 ? 1 : 0;
      break;
    }
    store_le(out, raw, size);
  }
  return out;
}

void write_npy(const std::string &path, const Tensor &t) {
  write_file_atomic(path, serialize_npy(t));
}

} // namespace hgqc
