// SPDX-License-Identifier: Apache-2.0
// A small strict JSON (RFC 8259) pull parser and the string writer that the
// safetensors header needs. The parser reads a byte range with explicit
// bounds and never allocates more than the strings it returns: the caller
// walks the document (begin_object / next_member / read_string /
// read_uint64 ...), so it can check the schema as it goes and no DOM is
// built whose size a hostile document could blow up. It accepts exactly
// RFC 8259: whitespace is space, tab, LF and CR; strings are valid UTF-8
// (shortest form, no surrogate code points, at most U+10FFFF) with control
// characters escaped and \u escapes paired correctly for surrogates;
// numbers follow the JSON grammar (read_uint64 takes the non-negative
// integers only: no sign, fraction, exponent or leading zero). Nesting is
// capped at json_max_depth levels, so skip_value's recursion is bounded.
// Every error is an fp8::io::format_error at the byte where it was found.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "../config.hpp"
#include "error.hpp"

FP8_BEGIN_NAMESPACE
namespace io {
namespace detail {

// Deepest nesting of objects and arrays the parser enters.
constexpr std::size_t json_max_depth = 64;

// The length (1 to 4) of the well-formed UTF-8 sequence at p, of which
// `avail` bytes may be read, or 0 when it is not one (a stray continuation
// byte, an overlong form, a surrogate, a code point past U+10FFFF, or a
// sequence cut short). The table is RFC 3629's, section 4.
inline std::size_t utf8_length(const std::uint8_t* p, std::size_t avail) noexcept {
  if (avail == 0) return 0;
  const unsigned b0 = p[0];
  if (b0 < 0x80) return 1;
  auto cont = [&](std::size_t i, unsigned lo, unsigned hi) { return i < avail && p[i] >= lo && p[i] <= hi; };
  if (b0 >= 0xC2 && b0 <= 0xDF) return cont(1, 0x80, 0xBF) ? 2 : 0;
  if (b0 == 0xE0) return cont(1, 0xA0, 0xBF) && cont(2, 0x80, 0xBF) ? 3 : 0;
  if ((b0 >= 0xE1 && b0 <= 0xEC) || b0 == 0xEE || b0 == 0xEF) return cont(1, 0x80, 0xBF) && cont(2, 0x80, 0xBF) ? 3 : 0;
  if (b0 == 0xED) return cont(1, 0x80, 0x9F) && cont(2, 0x80, 0xBF) ? 3 : 0;  // not D800-DFFF
  if (b0 == 0xF0) return cont(1, 0x90, 0xBF) && cont(2, 0x80, 0xBF) && cont(3, 0x80, 0xBF) ? 4 : 0;
  if (b0 >= 0xF1 && b0 <= 0xF3) return cont(1, 0x80, 0xBF) && cont(2, 0x80, 0xBF) && cont(3, 0x80, 0xBF) ? 4 : 0;
  if (b0 == 0xF4) return cont(1, 0x80, 0x8F) && cont(2, 0x80, 0xBF) && cont(3, 0x80, 0xBF) ? 4 : 0;
  return 0;
}

inline bool valid_utf8(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const std::uint8_t*>(s.data());
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8_length(p + i, s.size() - i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

inline void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Appends s (valid UTF-8) as a JSON string literal. Escapes what JSON
// requires, as serde_json (the safetensors reference) does: \" \\ \b \f \n
// \r \t, other control characters as \u00xx; everything else verbatim.
inline void append_json_string(std::string& out, std::string_view s) {
  static const char hex[] = "0123456789abcdef";
  out += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

class json_reader {
 public:
  // text[0, size) is the document; `file_offset` is where text[0] sits in
  // the file, so that errors carry file offsets.
  json_reader(const std::uint8_t* text, std::size_t size, std::uint64_t file_offset, std::string source)
      : text_(text), size_(size), base_(file_offset), source_(std::move(source)) {}

  std::size_t position() const noexcept { return pos_; }
  std::uint64_t file_offset(std::size_t pos) const noexcept { return base_ + pos; }
  const std::string& source() const noexcept { return source_; }
  [[noreturn]] void fail_at(std::size_t pos, const std::string& why) const { fail_format(source_, base_ + pos, why); }
  [[noreturn]] void fail(const std::string& why) const { fail_at(pos_, why); }

  void skip_whitespace() noexcept {
    while (pos_ < size_ && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }
  // True when only whitespace is left.
  bool at_end() noexcept {
    skip_whitespace();
    return pos_ == size_;
  }
  // The next byte that is not whitespace, not consumed.
  std::uint8_t peek() {
    skip_whitespace();
    if (pos_ == size_) fail("the JSON text ends too early");
    return text_[pos_];
  }

  void begin_object() {
    if (peek() != '{') fail("expected a JSON object, found " + describe_byte(text_[pos_]));
    enter();
  }
  // Steps to the next member of the object begun last: reads its key into
  // `key` and the ':' after it, and returns true; or reads the closing '}'
  // and returns false. `first` is true before the first call (it is set to
  // false here). A trailing comma is an error, as JSON says.
  bool next_member(bool& first, std::string& key) {
    std::uint8_t c = peek();
    if (c == '}') {
      ++pos_;
      leave();
      return false;
    }
    if (!first) {
      if (c != ',') fail("expected ',' or '}' after an object member, found " + describe_byte(c));
      ++pos_;
      c = peek();
    }
    if (c != '"') fail("expected a string key, found " + describe_byte(c));
    first = false;
    key_pos_ = pos_;
    key = read_string();
    c = peek();
    if (c != ':') fail("expected ':' after an object key, found " + describe_byte(c));
    ++pos_;
    return true;
  }
  // Where the key that next_member read last begins.
  std::size_t key_position() const noexcept { return key_pos_; }

  void begin_array() {
    if (peek() != '[') fail("expected a JSON array, found " + describe_byte(text_[pos_]));
    enter();
  }
  // True when another element follows (its value is next), false after
  // the closing ']'.
  bool next_element(bool& first) {
    const std::uint8_t c = peek();
    if (c == ']') {
      ++pos_;
      leave();
      return false;
    }
    if (!first) {
      if (c != ',') fail("expected ',' or ']' after an array element, found " + describe_byte(c));
      ++pos_;
      if (peek() == ']') fail("a trailing ',' before ']'");
    }
    first = false;
    return true;
  }

  std::string read_string() {
    if (peek() != '"') fail("expected a string, found " + describe_byte(text_[pos_]));
    const std::size_t start = pos_++;
    std::string out;
    for (;;) {
      if (pos_ == size_) fail_at(start, "unterminated string");
      const std::uint8_t c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c == '\\') {
        read_escape(start, out);
      } else if (c < 0x20) {
        fail("control character " + describe_byte(c) + " inside a string (JSON requires it escaped)");
      } else if (c < 0x80) {
        out += static_cast<char>(c);
        ++pos_;
      } else {
        const std::size_t n = utf8_length(text_ + pos_, size_ - pos_);
        if (n == 0) fail("invalid UTF-8 in a string");
        out.append(reinterpret_cast<const char*>(text_ + pos_), n);
        pos_ += n;
      }
    }
  }

  std::uint64_t read_uint64() {
    const std::uint8_t c = peek();
    const std::size_t start = pos_;
    if (c == '-') fail("expected a non-negative integer, found a negative number");
    if (c < '0' || c > '9') fail("expected a non-negative integer, found " + describe_byte(c));
    std::uint64_t v = 0;
    while (pos_ < size_ && text_[pos_] >= '0' && text_[pos_] <= '9') {
      const auto d = static_cast<unsigned>(text_[pos_] - '0');
      if (pos_ > start && v == 0) fail_at(start, "a number with a leading zero");
      if (v > (UINT64_MAX - d) / 10) fail_at(start, "an integer that does not fit 64 bits");
      v = v * 10 + d;
      ++pos_;
    }
    if (pos_ < size_ && (text_[pos_] == '.' || text_[pos_] == 'e' || text_[pos_] == 'E'))
      fail_at(start, "expected an integer, found a fraction or exponent");
    return v;
  }

  // Reads and discards one value of any kind, checking its syntax.
  void skip_value() {
    const std::uint8_t c = peek();
    if (c == '{') {
      begin_object();
      bool first = true;
      std::string key;
      while (next_member(first, key)) skip_value();
    } else if (c == '[') {
      begin_array();
      bool first = true;
      while (next_element(first)) skip_value();
    } else if (c == '"') {
      read_string();
    } else if (c == 't') {
      literal("true");
    } else if (c == 'f') {
      literal("false");
    } else if (c == 'n') {
      literal("null");
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      skip_number();
    } else {
      fail("expected a JSON value, found " + describe_byte(c));
    }
  }

 private:
  void enter() {
    if (depth_ == json_max_depth) fail("JSON nested deeper than " + std::to_string(json_max_depth) + " levels");
    ++depth_;
    ++pos_;
  }
  void leave() noexcept { --depth_; }

  static int hex_digit(std::uint8_t c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  // The 4 hex digits of a \u escape whose backslash is at text_[at].
  std::uint32_t read_u_escape(std::size_t at, std::size_t string_start) {
    if (size_ - at < 6) fail_at(string_start, "unterminated string (a \\u escape is cut short)");
    std::uint32_t v = 0;
    for (std::size_t i = at + 2; i < at + 6; ++i) {
      const int d = hex_digit(text_[i]);
      if (d < 0) fail_at(at, "a \\u escape needs 4 hex digits");
      v = v * 16 + static_cast<std::uint32_t>(d);
    }
    return v;
  }
  void read_escape(std::size_t string_start, std::string& out) {
    const std::size_t at = pos_;
    if (size_ - at < 2) fail_at(string_start, "unterminated string");
    const std::uint8_t e = text_[at + 1];
    pos_ += 2;
    switch (e) {
      case '"': out += '"'; return;
      case '\\': out += '\\'; return;
      case '/': out += '/'; return;
      case 'b': out += '\b'; return;
      case 'f': out += '\f'; return;
      case 'n': out += '\n'; return;
      case 'r': out += '\r'; return;
      case 't': out += '\t'; return;
      case 'u': break;
      default: fail_at(at, "invalid escape \\" + std::string(1, static_cast<char>(e >= 0x20 && e < 0x7F ? e : '?')));
    }
    std::uint32_t cp = read_u_escape(at, string_start);
    pos_ = at + 6;
    if (cp >= 0xDC00 && cp <= 0xDFFF) fail_at(at, "a \\u escape of a lone low surrogate");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      // UTF-16 surrogate pair: the low half must follow as a second \u escape.
      if (size_ - pos_ < 2 || text_[pos_] != '\\' || text_[pos_ + 1] != 'u')
        fail_at(at, "a \\u escape of a lone high surrogate");
      const std::uint32_t low = read_u_escape(pos_, string_start);
      if (low < 0xDC00 || low > 0xDFFF) fail_at(at, "a \\u escape of a lone high surrogate");
      pos_ += 6;
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    append_utf8(out, cp);
  }

  void literal(const char* word) {
    const std::string_view w(word);
    if (size_ - pos_ < w.size() || std::string_view(reinterpret_cast<const char*>(text_ + pos_), w.size()) != w)
      fail("invalid literal (expected " + std::string(w) + ")");
    pos_ += w.size();
  }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  void skip_number() {
    const std::size_t start = pos_;
    auto digit = [&] { return pos_ < size_ && text_[pos_] >= '0' && text_[pos_] <= '9'; };
    if (text_[pos_] == '-') ++pos_;
    if (!digit()) fail_at(start, "a number without digits");
    if (text_[pos_] == '0') {
      ++pos_;
      if (digit()) fail_at(start, "a number with a leading zero");
    } else {
      while (digit()) ++pos_;
    }
    if (pos_ < size_ && text_[pos_] == '.') {
      ++pos_;
      if (!digit()) fail_at(start, "a number with no digits after '.'");
      while (digit()) ++pos_;
    }
    if (pos_ < size_ && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < size_ && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (!digit()) fail_at(start, "a number with no digits in its exponent");
      while (digit()) ++pos_;
    }
  }

  const std::uint8_t* text_;
  std::size_t size_;
  std::uint64_t base_;
  std::string source_;
  std::size_t pos_ = 0;
  std::size_t depth_ = 0;
  std::size_t key_pos_ = 0;
};

}  // namespace detail
}  // namespace io
FP8_END_NAMESPACE
