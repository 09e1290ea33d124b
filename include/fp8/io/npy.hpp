// SPDX-License-Identifier: Apache-2.0
// Reader and writer of NumPy's .npy files (NEP 1, "A simple file format for
// NumPy arrays", as implemented by numpy.lib.format): the magic "\x93NUMPY",
// a version byte pair, a little-endian header length (2 bytes in version
// 1.0, 4 in 2.0 and 3.0), then an ASCII (3.0: UTF-8) Python dict literal
// {'descr': ..., 'fortran_order': ..., 'shape': (...), } padded with spaces
// and ended by '\n', then the raw elements. The reader takes the plain
// numeric descrs only (b1, i1, u1, i2, u2, i4, u4, i8, u8, f2, f4, f8, c8),
// either byte order, C or Fortran order, and always returns a little-endian,
// row-major fp8::io::tensor: a big-endian file is byte-swapped and a Fortran
// one transposed into C order. NumPy has no bfloat16 or FP8 dtype (ml_dtypes
// saves them as anonymous void types, '|V1' / '<V2', which record neither
// the format nor even that they are numbers), so those files are rejected,
// and the writer refuses BF16, FP8 and E8M0 tensors: use .safetensors. The
// writer emits exactly what numpy.save (NumPy 1.24) emits for the same
// C-contiguous little-endian array, including its header padding rule.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../config.hpp"
#include "../error.hpp"
#include "error.hpp"
#include "file.hpp"
#include "tensor.hpp"

FP8_BEGIN_NAMESPACE
namespace io {

// The descr NumPy writes for a dtype ("<f4", "|u1"), or nullptr for the
// dtypes NumPy cannot describe (BF16, the FP8 formats, E8M0).
constexpr const char* npy_descr(dtype t) noexcept {
  switch (t) {
    case dtype::boolean: return "|b1";
    case dtype::u8: return "|u1";
    case dtype::i8: return "|i1";
    case dtype::i16: return "<i2";
    case dtype::u16: return "<u2";
    case dtype::f16: return "<f2";
    case dtype::i32: return "<i4";
    case dtype::u32: return "<u4";
    case dtype::f32: return "<f4";
    case dtype::c64: return "<c8";
    case dtype::f64: return "<f8";
    case dtype::i64: return "<i8";
    case dtype::u64: return "<u8";
    default: return nullptr;
  }
}

namespace detail {

constexpr char npy_magic[] = "\x93NUMPY";
constexpr std::size_t npy_magic_size = 6;
// NumPy aligns the start of the data to this many bytes (numpy.lib.format.ARRAY_ALIGN).
constexpr std::size_t npy_align = 64;
// NumPy leaves room in the header for the growing axis to reach this many
// digits (numpy.lib.format.GROWTH_AXIS_MAX_DIGITS).
constexpr std::size_t npy_growth_digits = 21;

struct npy_type {
  dtype type;
  bool big_endian;
};

// The dtype of a descr string and whether its data are big-endian; fails
// with a message naming what the descr is when it is not supported.
inline npy_type npy_parse_descr(const std::string& d, const std::string& source, std::uint64_t at) {
  auto fail = [&](const std::string& why) { fail_format(source, at, "descr " + quote_name(d) + ": " + why); };
  if (d.size() < 2) fail("not a NumPy type string");
  const char order = d[0];
  if (order != '<' && order != '>' && order != '|' && order != '=')
    fail("unsupported type string (expected a byte order '<', '>' or '|' first)");
  const std::string_view code = std::string_view(d).substr(1);
  const char kind = code[0];
  if (kind == 'V')
    fail("a void type (NumPy has no bfloat16 or FP8 dtype: ml_dtypes saves them as void, losing which format "
         "they are); store such tensors in .safetensors");
  if (kind == 'O') fail("object arrays hold pickled Python objects and are not supported");
  if (kind == 'U' || kind == 'S' || kind == 'a') fail("string arrays are not supported");
  if (kind == 'M' || kind == 'm') fail("datetime arrays are not supported");
  struct entry {
    const char* code;
    dtype type;
  };
  static const entry table[] = {
      {"b1", dtype::boolean}, {"i1", dtype::i8},  {"u1", dtype::u8},  {"i2", dtype::i16}, {"u2", dtype::u16},
      {"i4", dtype::i32},     {"u4", dtype::u32}, {"i8", dtype::i64}, {"u8", dtype::u64}, {"f2", dtype::f16},
      {"f4", dtype::f32},     {"f8", dtype::f64}, {"c8", dtype::c64},
  };
  for (const entry& e : table) {
    if (code != e.code) continue;
    if (order == '=') fail("native byte order '=' does not say what the file holds");
    // One-byte elements have no byte order; NumPy writes '|' but reads any.
    if (dtype_size(e.type) > 1 && order == '|') fail("a multi-byte type needs a byte order '<' or '>'");
    return {e.type, order == '>'};
  }
  fail("unsupported dtype (supported: b1 i1 u1 i2 u2 i4 u4 i8 u8 f2 f4 f8 c8)");
  return {};  // not reached
}

// The Python dict literal of a .npy header, as far as NumPy's writers use
// the language: string keys and values in ' or " quotes without escapes,
// True / False, tuples of non-negative decimal integers (a Python 2 'L'
// suffix allowed), whitespace between tokens, trailing commas.
class npy_header_parser {
 public:
  npy_header_parser(const std::uint8_t* text, std::size_t size, std::uint64_t base, const std::string& source)
      : text_(text), size_(size), base_(base), source_(source) {}

  struct result {
    std::string descr;
    std::uint64_t descr_at = 0;
    bool fortran_order = false;
    shape_type shape;
  };

  result parse() {
    result r;
    bool have_descr = false, have_order = false, have_shape = false;
    skip_ws();
    expect('{', "the header is not a Python dict literal (expected '{')");
    for (;;) {
      skip_ws();
      if (peek() == '}') break;
      const std::size_t key_at = pos_;
      const std::string key = read_string("a dict key");
      skip_ws();
      expect(':', "expected ':' after a dict key");
      skip_ws();
      auto once = [&](bool& seen) {
        if (seen) fail_at(key_at, "duplicate key " + quote_name(key));
        seen = true;
      };
      if (key == "descr") {
        once(have_descr);
        if (peek() == '[') fail("structured dtypes (a list descr) are not supported");
        r.descr_at = base_ + pos_;
        r.descr = read_string("the descr");
      } else if (key == "fortran_order") {
        once(have_order);
        r.fortran_order = read_bool();
      } else if (key == "shape") {
        once(have_shape);
        r.shape = read_tuple();
      } else {
        fail_at(key_at, "unexpected key " + quote_name(key) + " (a .npy header has 'descr', 'fortran_order' and 'shape')");
      }
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == '}') break;
      fail("expected ',' or '}' in the header dict");
    }
    ++pos_;  // '}'
    skip_ws();
    if (pos_ != size_) fail("unexpected text after the header dict");
    if (!have_descr) fail_at(0, "the header has no 'descr'");
    if (!have_order) fail_at(0, "the header has no 'fortran_order'");
    if (!have_shape) fail_at(0, "the header has no 'shape'");
    return r;
  }

 private:
  [[noreturn]] void fail_at(std::size_t pos, const std::string& why) const {
    fail_format(source_, base_ + pos, "bad .npy header: " + why);
  }
  [[noreturn]] void fail(const std::string& why) const { fail_at(pos_, why); }

  void skip_ws() noexcept {
    while (pos_ < size_ && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }
  // The next byte, or 0 at the end (0 matches nothing the grammar expects).
  std::uint8_t peek() const noexcept { return pos_ < size_ ? text_[pos_] : 0; }
  void expect(char c, const char* why) {
    if (peek() != static_cast<std::uint8_t>(c)) fail(why);
    ++pos_;
  }
  std::string read_string(const char* what) {
    const std::uint8_t q = peek();
    if (q != '\'' && q != '"') fail(std::string("expected a quoted string as ") + what);
    const std::size_t start = pos_++;
    std::string s;
    for (;;) {
      if (pos_ == size_) fail_at(start, "unterminated string");
      const std::uint8_t c = text_[pos_++];
      if (c == q) return s;
      if (c == '\\') fail_at(pos_ - 1, "escape sequences are not supported in header strings");
      // A Python string literal cannot span lines.
      if (c == '\n') fail_at(start, "unterminated string");
      if (c < 0x20 || c > 0x7E) fail_at(pos_ - 1, "a string holds " + describe_byte(c));
      s += static_cast<char>(c);
    }
  }
  bool ident_char_at(std::size_t p) const noexcept {
    if (p >= size_) return false;
    const std::uint8_t c = text_[p];
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  }
  bool word(std::string_view w) {
    if (size_ - pos_ < w.size() || std::memcmp(text_ + pos_, w.data(), w.size()) != 0 ||
        ident_char_at(pos_ + w.size()))
      return false;
    pos_ += w.size();
    return true;
  }
  bool read_bool() {
    if (word("True")) return true;
    if (word("False")) return false;
    fail("fortran_order must be True or False");
  }
  std::uint64_t read_int() {
    const std::size_t start = pos_;
    if (peek() == '-') fail("a negative dimension");
    if (peek() < '0' || peek() > '9') fail("expected a dimension (a non-negative integer)");
    std::uint64_t v = 0;
    while (peek() >= '0' && peek() <= '9') {
      const auto d = static_cast<unsigned>(text_[pos_] - '0');
      // Python 3 reads "0", "00", ... as zero but "01" as a syntax error.
      if (v == 0 && pos_ > start && d != 0) fail_at(start, "a dimension with a leading zero");
      if (v > (UINT64_MAX - d) / 10) fail_at(start, "a dimension that does not fit 64 bits");
      v = v * 10 + d;
      ++pos_;
    }
    if (peek() == 'L' || peek() == 'l') ++pos_;  // a Python 2 long, which numpy.lib.format still accepts
    if (ident_char_at(pos_) || peek() == '.') fail_at(start, "a dimension that is not a decimal integer");
    return v;
  }
  shape_type read_tuple() {
    if (peek() == '[') fail("shape must be a tuple, not a list");
    expect('(', "shape must be a tuple");
    shape_type shape;
    bool comma = false;
    for (;;) {
      skip_ws();
      if (peek() == ')') break;
      if (shape.size() == max_rank) fail("a shape of more than " + std::to_string(max_rank) + " dimensions");
      shape.push_back(read_int());
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        comma = true;
        continue;
      }
      if (peek() == ')') break;
      fail("expected ',' or ')' in the shape");
    }
    // "(3)" is the integer 3 in parentheses, not a tuple: NumPy rejects it.
    if (shape.size() == 1 && !comma) fail("shape (n) is not a tuple; a 1-tuple is written (n,)");
    ++pos_;  // ')'
    return shape;
  }

  const std::uint8_t* text_;
  std::size_t size_;
  std::uint64_t base_;
  const std::string& source_;
  std::size_t pos_ = 0;
};

// Copies a Fortran-order (column-major) array into C order. `count` is the
// element count (> 0) of `shape`, `size` the element size.
inline void fortran_to_c(const std::uint8_t* src, std::uint8_t* dst, const shape_type& shape, std::uint64_t count,
                         std::size_t size) {
  const std::size_t rank = shape.size();
  std::vector<std::uint64_t> stride(rank), index(rank, 0);
  std::uint64_t s = 1;
  for (std::size_t k = 0; k < rank; ++k) {
    stride[k] = s;
    s *= shape[k];
  }
  // Walk the destination in C order (last index fastest) and keep the
  // source's column-major element index in step.
  std::uint64_t from = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    std::memcpy(dst + i * size, src + from * size, size);
    for (std::size_t k = rank; k-- > 0;) {
      if (++index[k] < shape[k]) {
        from += stride[k];
        break;
      }
      from -= (shape[k] - 1) * stride[k];
      index[k] = 0;
    }
  }
}

// The header text NumPy 1.24's _write_array_header builds for a C-order
// array: keys sorted, repr() of each value, then spare room for the first
// axis to grow to npy_growth_digits digits.
inline std::string npy_header_text(const char* descr, const shape_type& shape) {
  std::string h = "{'descr': '";
  h += descr;
  h += "', 'fortran_order': False, 'shape': (";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i != 0) h += ", ";
    h += std::to_string(shape[i]);
  }
  if (shape.size() == 1) h += ',';
  h += "), }";
  if (!shape.empty()) h.append(npy_growth_digits - std::to_string(shape[0]).size(), ' ');
  return h;
}

// Everything before the data: magic, version, header length, header, and
// the padding of NumPy's _wrap_header: spaces and a final '\n' that bring
// the data to a multiple of npy_align. Like NumPy, a header that would end
// exactly on the boundary still gets a full npy_align bytes of padding.
// Version 1.0 while the header length fits 16 bits, else 2.0.
inline std::vector<std::uint8_t> npy_prefix(const std::string& header) {
  const std::size_t hlen = header.size() + 1;  // with the '\n'
  std::size_t length_bytes = 2;
  std::size_t pad = npy_align - (npy_magic_size + 2 + length_bytes + hlen) % npy_align;
  if (hlen + pad > 0xFFFF) {
    length_bytes = 4;
    pad = npy_align - (npy_magic_size + 2 + length_bytes + hlen) % npy_align;
  }
  const std::size_t field = hlen + pad;
  // Sized once and filled by index (GCC 12 at -O3 misreads a reserve
  // followed by inserts as an overflow).
  std::vector<std::uint8_t> out(npy_magic_size + 2 + length_bytes + field, static_cast<std::uint8_t>(' '));
  std::size_t at = 0;
  for (std::size_t i = 0; i < npy_magic_size; ++i) out[at++] = static_cast<std::uint8_t>(npy_magic[i]);
  out[at++] = length_bytes == 2 ? 1 : 2;
  out[at++] = 0;
  for (std::size_t i = 0; i < length_bytes; ++i) out[at++] = static_cast<std::uint8_t>((field >> (8 * i)) & 0xFF);
  for (char c : header) out[at++] = static_cast<std::uint8_t>(c);
  out.back() = static_cast<std::uint8_t>('\n');  // the spaces of the padding are already there
  return out;
}

inline std::vector<std::uint8_t> npy_prefix_for(const char* function, const tensor_view& t) {
  check_view(function, "t", t);
  const char* descr = npy_descr(t.type);
  if (descr == nullptr)
    ::fp8::detail::fail_argument(function, "t",
                                 std::string("has dtype ") + dtype_name(t.type) +
                                     ", which the .npy format cannot describe (NumPy has no such dtype); "
                                     "write it to .safetensors");
  return npy_prefix(npy_header_text(descr, t.shape));
}

}  // namespace detail

// Parses a whole .npy file held in data[0, size). `source` names it in
// errors. Throws format_error for anything malformed (see docs/io.md).
inline tensor parse_npy(const std::uint8_t* data, std::size_t size, const std::string& source = "<memory>") {
  FP8_REQUIRE_ARG(data != nullptr || size == 0, "fp8::io::parse_npy", "data", "is null with a non-zero size");
  using detail::fail_format;
  const std::size_t have = size < detail::npy_magic_size ? size : detail::npy_magic_size;
  if (have == 0 || std::memcmp(data, detail::npy_magic, have) != 0)
    fail_format(source, 0, "not a .npy file (it does not start with \"\\x93NUMPY\")");
  if (size < detail::npy_magic_size + 2) fail_format(source, size, "truncated: the file ends inside the magic and version");
  const unsigned major = data[6], minor = data[7];
  if ((major != 1 && major != 2 && major != 3) || minor != 0)
    fail_format(source, 6,
                "unsupported .npy format version " + std::to_string(major) + "." + std::to_string(minor) +
                    " (1.0, 2.0 and 3.0 are known)");
  const std::size_t length_bytes = major == 1 ? 2 : 4;
  const std::size_t header_at = 8 + length_bytes;
  if (size < header_at) fail_format(source, size, "truncated: the file ends inside the header length");
  const std::uint64_t hlen = detail::load_le(data + 8, length_bytes);
  if (hlen > size - header_at)
    fail_format(source, 8,
                "header length " + std::to_string(hlen) + " runs past the end of the file (" +
                    std::to_string(size - header_at) + " bytes follow the length field)");
  const std::size_t data_at = header_at + static_cast<std::size_t>(hlen);
  // NEP 1: the header "is terminated by a newline (\n) and padded with spaces".
  if (hlen == 0 || data[data_at - 1] != '\n')
    fail_format(source, hlen == 0 ? header_at : data_at - 1, "bad .npy header: it does not end with a newline");

  detail::npy_header_parser parser(data + header_at, static_cast<std::size_t>(hlen), header_at, source);
  const auto h = parser.parse();
  const detail::npy_type type = detail::npy_parse_descr(h.descr, source, h.descr_at);
  const auto count = element_count(h.shape);
  const auto bytes = byte_count(type.type, h.shape);
  if (!count || !bytes) fail_format(source, header_at, "the shape's element or byte count overflows");
  const std::size_t remaining = size - data_at;
  if (*bytes > remaining)
    fail_format(source, size,
                "truncated: the shape and dtype need " + std::to_string(*bytes) + " bytes of data, the file has " +
                    std::to_string(remaining) + " after the header");
  if (*bytes < remaining)
    fail_format(source, data_at + *bytes,
                std::to_string(remaining - *bytes) + " unexpected bytes after the array data");

  tensor t(type.type, h.shape);
  if (*bytes == 0) return t;
  const std::size_t elem = dtype_size(type.type);
  std::size_t long_axes = 0;
  for (const std::uint64_t d : h.shape) long_axes += d > 1 ? 1 : 0;
  // With at most one axis longer than 1, Fortran and C order coincide.
  if (h.fortran_order && long_axes > 1)
    detail::fortran_to_c(data + data_at, t.data(), h.shape, *count, elem);
  else
    std::memcpy(t.data(), data + data_at, *bytes);
  if (type.big_endian) detail::reverse_units(t.data(), *bytes, detail::swap_unit(type.type));
  return t;
}

inline tensor parse_npy(const std::vector<std::uint8_t>& bytes, const std::string& source = "<memory>") {
  return parse_npy(bytes.data(), bytes.size(), source);
}

// Reads and parses the .npy file at `path` (see read_options for the size limit).
inline tensor read_npy(const std::string& path, const read_options& options = {}) {
  const std::vector<std::uint8_t> bytes = detail::read_file(path, options.max_file_bytes);
  return parse_npy(bytes.data(), bytes.size(), path);
}

// The .npy file of `t`: version 1.0 (2.0 if the header needed more than
// 65535 bytes, which no shape of at most max_rank dimensions does), the
// data at a multiple of 64 bytes, little-endian, C order. Throws
// fp8::invalid_argument for an inconsistent view or a dtype without a
// NumPy descr (npy_descr returns nullptr).
inline std::vector<std::uint8_t> serialize_npy(const tensor_view& t) {
  std::vector<std::uint8_t> out = detail::npy_prefix_for("fp8::io::serialize_npy", t);
  out.insert(out.end(), t.data, t.data + t.size);
  return out;
}

inline void write_npy(const std::string& path, const tensor_view& t) {
  const std::vector<std::uint8_t> prefix = detail::npy_prefix_for("fp8::io::write_npy", t);
  detail::file_writer out(path);
  out.write(prefix.data(), prefix.size());
  out.write(t.data, t.size);
  out.commit();
}

}  // namespace io
FP8_END_NAMESPACE
