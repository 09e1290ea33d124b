// SPDX-License-Identifier: Apache-2.0
// Whole-file reading and writing for the io layer's readers and writers.
// A reader loads a file into memory after checking that it is a regular
// file no larger than read_options::max_file_bytes (default 64 GiB), and
// then parses the bytes with explicit bounds; the allocation is therefore
// never larger than the file itself nor than the caller's limit. A writer
// checks its arguments before it creates the file, writes through one
// stream, and removes the file again if any write fails, so that a failed
// write does not leave a truncated checkpoint behind.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#include "../config.hpp"
#include "error.hpp"

FP8_BEGIN_NAMESPACE
namespace io {

// 64 GiB: more than any single checkpoint shard on the hub (they are cut at
// 5 to 10 GB) and less than would exhaust a large host by accident. Raise it
// through read_options for bigger files.
constexpr std::uint64_t default_max_file_bytes = std::uint64_t{64} << 30;

struct read_options {
  // A larger file is a format_error (at offset 0) before anything is allocated.
  std::uint64_t max_file_bytes = default_max_file_bytes;
};

namespace detail {

// Reads in pieces of at most 1 GiB: some stream implementations take the
// count of one read as a 32-bit quantity.
constexpr std::size_t file_chunk = std::size_t{1} << 30;

inline std::vector<std::uint8_t> read_file(const std::string& path, std::uint64_t max_bytes) {
  std::error_code ec;
  const std::filesystem::file_status st = std::filesystem::status(path, ec);
  if (ec) fail_io(path, "cannot open: " + ec.message());
  if (!std::filesystem::is_regular_file(st)) fail_io(path, "is not a regular file");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail_io(path, "cannot open for reading");
  in.seekg(0, std::ios::end);
  const std::streamoff end = in.tellg();
  if (!in || end < 0) fail_io(path, "cannot determine the file size");
  const auto size = static_cast<std::uint64_t>(end);
  if (size > max_bytes)
    fail_format(path, 0,
                "the file is " + std::to_string(size) + " bytes, more than the limit of " + std::to_string(max_bytes) +
                    " (read_options::max_file_bytes)");
  if (size > SIZE_MAX) fail_format(path, 0, "the file is too large to hold in memory");
  in.seekg(0, std::ios::beg);
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
  for (std::size_t done = 0; done < bytes.size();) {
    const std::size_t n = bytes.size() - done < file_chunk ? bytes.size() - done : file_chunk;
    in.read(reinterpret_cast<char*>(bytes.data() + done), static_cast<std::streamsize>(n));
    if (static_cast<std::size_t>(in.gcount()) != n) fail_io(path, "read failed (did the file shrink?)");
    done += n;
  }
  // The size was taken before reading: a file that grew meanwhile would be
  // parsed cut short, so say so instead.
  if (in.peek() != std::ifstream::traits_type::eof()) fail_io(path, "the file grew while it was read");
  return bytes;
}

// Creates (or truncates) `path`; the destructor removes the file again
// unless commit() succeeded, so an exception leaves no partial file.
class file_writer {
 public:
  explicit file_writer(const std::string& path) : path_(path), out_(path, std::ios::binary | std::ios::trunc) {
    if (!out_) fail_io(path_, "cannot open for writing");
  }
  file_writer(const file_writer&) = delete;
  file_writer& operator=(const file_writer&) = delete;
  ~file_writer() {
    if (!committed_) {
      out_.close();
      std::remove(path_.c_str());
    }
  }
  void write(const void* p, std::size_t n) {
    const char* c = static_cast<const char*>(p);
    for (std::size_t done = 0; done < n;) {
      const std::size_t k = n - done < file_chunk ? n - done : file_chunk;
      out_.write(c + done, static_cast<std::streamsize>(k));
      if (!out_) fail_io(path_, "write failed");
      done += k;
    }
  }
  void commit() {
    out_.close();
    if (!out_) fail_io(path_, "write failed on close");
    committed_ = true;
  }

 private:
  std::string path_;
  std::ofstream out_;
  bool committed_ = false;
};

}  // namespace detail
}  // namespace io
FP8_END_NAMESPACE
