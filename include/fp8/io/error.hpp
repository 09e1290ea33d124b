// SPDX-License-Identifier: Apache-2.0
// How the io layer (npy.hpp, safetensors.hpp) reports trouble. Files are
// untrusted input, so what is wrong with a file's CONTENTS is not an
// argument error: it is an fp8::io::format_error, which names the file (or
// "<memory>" for a byte buffer), the byte offset in it where the problem
// was found, and what is wrong. An operating-system failure (cannot open,
// read or write) is an fp8::io::io_error. Misuse of the API itself (a null
// pointer with a non-zero size, a tensor whose bytes do not match its shape,
// a dtype NumPy cannot represent) stays fp8::invalid_argument, as everywhere
// in the library (README, "Errors and the argument contract"). Built without
// exceptions, each failure prints its message and calls std::abort().
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <utility>

#include "../config.hpp"
#include "../error.hpp"

FP8_BEGIN_NAMESPACE
namespace io {

class format_error : public std::runtime_error {
 public:
  // what() is "<source>: byte <offset>: <reason>".
  format_error(std::string source, std::uint64_t offset, std::string reason)
      : std::runtime_error(source + ": byte " + std::to_string(offset) + ": " + reason),
        source_(std::move(source)),
        offset_(offset),
        reason_(std::move(reason)) {}
  // The path given to the reader, or "<memory>" (or the caller's name) for a buffer.
  const std::string& source() const noexcept { return source_; }
  // Where in the file the reader found the problem (0 for the file as a whole).
  std::uint64_t offset() const noexcept { return offset_; }
  // What is wrong, without the source and offset.
  const std::string& reason() const noexcept { return reason_; }

 private:
  std::string source_;
  std::uint64_t offset_;
  std::string reason_;
};

class io_error : public std::runtime_error {
 public:
  // what() is "<path>: <reason>".
  io_error(std::string path, const std::string& reason)
      : std::runtime_error(path + ": " + reason), path_(std::move(path)) {}
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
};

namespace detail {

// A name from a file, made safe to print: quoted, bytes outside printable
// ASCII shown as \xNN, and cut after 80 bytes, so that an error message
// cannot carry terminal escapes or megabytes of a hostile key.
inline std::string quote_name(const std::string& s) {
  static const char hex[] = "0123456789abcdef";
  std::string out = "'";
  const std::size_t shown = s.size() < 80 ? s.size() : 80;
  for (std::size_t i = 0; i < shown; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F && c != '\\' && c != '\'') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  if (shown < s.size()) out += "...";
  return out + "'";
}

// How an unexpected byte reads in a message: 'x' or byte 0xNN.
inline std::string describe_byte(std::uint8_t c) {
  if (c >= 0x21 && c < 0x7F) return std::string("'") + static_cast<char>(c) + "'";
  static const char hex[] = "0123456789abcdef";
  return std::string("byte 0x") + hex[c >> 4] + hex[c & 15];
}

[[noreturn]] inline void fail_format(const std::string& source, std::uint64_t offset, const std::string& reason) {
#if defined(FP8_NO_EXCEPTIONS)
  std::fprintf(stderr, "%s: byte %llu: %s\n", source.c_str(), static_cast<unsigned long long>(offset), reason.c_str());
  std::abort();
#else
  throw format_error(source, offset, reason);
#endif
}

[[noreturn]] inline void fail_io(const std::string& path, const std::string& reason) {
#if defined(FP8_NO_EXCEPTIONS)
  std::fprintf(stderr, "%s: %s\n", path.c_str(), reason.c_str());
  std::abort();
#else
  throw io_error(path, reason);
#endif
}

}  // namespace detail
}  // namespace io
FP8_END_NAMESPACE
