// SPDX-License-Identifier: Apache-2.0
// Reader and writer of .safetensors files, the format of Hugging Face's
// safetensors library (its README, "Format", and its Rust reference
// implementation): 8 bytes holding the header size N as a little-endian
// unsigned 64-bit integer; N bytes of UTF-8 JSON, an object that maps each
// tensor name to {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin,
// end]} and may hold "__metadata__", an object of string values; then the
// byte buffer, which the tensors' [begin, end) ranges (relative to the
// buffer's start) must cover exactly, in some order, without overlap or
// holes. Data are little-endian and row-major. The reader checks all of
// that, and what the reference checks besides (N at most 100,000,000; the
// header starts with '{'; each tensor's byte range equals its shape times
// its element size), plus: no duplicate names or keys, no unknown keys in
// a tensor entry, at most max_rank dimensions. It returns views into the
// caller's bytes (safetensors_contents) or into a file it loaded
// (safetensors_file). The writer orders tensors as the reference does (by
// decreasing alignment, then by name, so each tensor starts at a multiple
// of its element size), writes "__metadata__" first with its keys sorted,
// and pads the header with spaces to a multiple of 8 bytes.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../config.hpp"
#include "../error.hpp"
#include "error.hpp"
#include "file.hpp"
#include "json.hpp"
#include "tensor.hpp"

FP8_BEGIN_NAMESPACE
namespace io {

// The largest header the reader accepts, the reference's MAX_HEADER_SIZE.
constexpr std::uint64_t safetensors_max_header = 100000000;

using metadata_map = std::map<std::string, std::string>;

struct named_tensor {
  std::string name;
  tensor_view view;
};

// A parsed file: views into the bytes it was parsed from, which must
// outlive it.
struct safetensors_contents {
  metadata_map metadata;
  std::vector<named_tensor> tensors;  // sorted by name

  // The tensor called `name`, or nullptr.
  const tensor_view* find(std::string_view name) const noexcept {
    const auto it = std::lower_bound(tensors.begin(), tensors.end(), name,
                                     [](const named_tensor& t, std::string_view n) { return t.name < n; });
    return it != tensors.end() && it->name == name ? &it->view : nullptr;
  }
};

namespace detail {

struct st_entry {
  std::string name;
  std::size_t key_at = 0;  // where its key starts in the header
  dtype type = dtype::u8;
  shape_type shape;
  std::uint64_t begin = 0, end = 0;
};

inline std::string shape_text(const shape_type& s) {
  std::string t = "[";
  for (std::size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
  return t + "]";
}

inline std::string range_text(std::uint64_t b, std::uint64_t e) {
  return "[" + std::to_string(b) + ", " + std::to_string(e) + "]";
}

// Reads one tensor entry, {"dtype": ..., "shape": [...], "data_offsets": [b, e]}.
inline st_entry st_read_entry(json_reader& r, std::string name) {
  st_entry e;
  e.name = std::move(name);
  e.key_at = r.key_position();
  const std::string who = "tensor " + quote_name(e.name);
  bool have_dtype = false, have_shape = false, have_offsets = false;
  auto once = [&](bool& seen, const std::string& key) {
    if (seen) r.fail_at(r.key_position(), who + ": duplicate key " + quote_name(key));
    seen = true;
  };
  if (r.peek() != '{') r.fail(who + ": the entry is not a JSON object");
  r.begin_object();
  bool first = true;
  std::string key;
  while (r.next_member(first, key)) {
    if (key == "dtype") {
      once(have_dtype, key);
      if (r.peek() != '"') r.fail(who + ": dtype is not a string");
      const std::size_t at = r.position();
      const std::string d = r.read_string();
      const auto t = dtype_from_name(d);
      if (!t)
        r.fail_at(at, who + ": unknown or unsupported dtype " + quote_name(d) +
                          " (supported: BOOL U8 I8 F8_E5M2 F8_E4M3 F8_E8M0 F8_E4M3FNUZ F8_E5M2FNUZ I16 U16 F16 BF16 "
                          "I32 U32 F32 C64 F64 I64 U64)");
      e.type = *t;
    } else if (key == "shape") {
      once(have_shape, key);
      if (r.peek() != '[') r.fail(who + ": shape is not an array");
      r.begin_array();
      bool f = true;
      while (r.next_element(f)) {
        if (e.shape.size() == max_rank)
          r.fail(who + ": a shape of more than " + std::to_string(max_rank) + " dimensions");
        e.shape.push_back(r.read_uint64());
      }
    } else if (key == "data_offsets") {
      once(have_offsets, key);
      if (r.peek() != '[') r.fail(who + ": data_offsets is not an array");
      const std::size_t at = r.position();
      r.begin_array();
      bool f = true;
      std::uint64_t v[2] = {0, 0};
      std::size_t n = 0;
      while (r.next_element(f)) {
        if (n == 2) r.fail_at(at, who + ": data_offsets has more than 2 elements");
        v[n++] = r.read_uint64();
      }
      if (n != 2) r.fail_at(at, who + ": data_offsets has " + std::to_string(n) + " elements, not 2");
      e.begin = v[0];
      e.end = v[1];
    } else {
      r.fail_at(r.key_position(),
                who + ": unexpected key " + quote_name(key) + " (an entry has dtype, shape and data_offsets)");
    }
  }
  if (!have_dtype) r.fail_at(e.key_at, who + " has no dtype");
  if (!have_shape) r.fail_at(e.key_at, who + " has no shape");
  if (!have_offsets) r.fail_at(e.key_at, who + " has no data_offsets");
  return e;
}

inline void st_read_metadata(json_reader& r, metadata_map& out) {
  if (r.peek() != '{') r.fail("__metadata__ is not a JSON object");
  r.begin_object();
  bool first = true;
  std::string key;
  while (r.next_member(first, key)) {
    if (r.peek() != '"') r.fail("__metadata__ value of " + quote_name(key) + " is not a string");
    std::string value = r.read_string();
    if (!out.emplace(key, std::move(value)).second)
      r.fail_at(r.key_position(), "duplicate __metadata__ key " + quote_name(key));
  }
}

}  // namespace detail

// Parses a whole .safetensors file held in data[0, size), which must outlive
// the result (its views point into it). `source` names it in errors.
// Throws format_error for anything malformed (see docs/io.md).
inline safetensors_contents parse_safetensors(const std::uint8_t* data, std::size_t size,
                                              const std::string& source = "<memory>") {
  FP8_REQUIRE_ARG(data != nullptr || size == 0, "fp8::io::parse_safetensors", "data", "is null with a non-zero size");
  using detail::fail_format;
  using detail::quote_name;
  if (size < 8)
    fail_format(source, 0,
                "truncated: the file is " + std::to_string(size) +
                    " bytes, less than the 8-byte header size that starts a .safetensors file");
  const std::uint64_t n = detail::load_le(data, 8);
  if (n > safetensors_max_header)
    fail_format(source, 0,
                "header size " + std::to_string(n) + " is over the limit of " + std::to_string(safetensors_max_header) +
                    " bytes");
  if (n > size - 8)
    fail_format(source, 0,
                "header size " + std::to_string(n) + " runs past the end of the file (" + std::to_string(size - 8) +
                    " bytes follow the size field)");
  const std::size_t header_size = static_cast<std::size_t>(n);
  const std::uint8_t* header = data + 8;
  if (header_size == 0 || header[0] != '{')
    fail_format(source, 8, "the header does not begin with '{' (it must be a JSON object)");

  safetensors_contents out;
  std::vector<detail::st_entry> entries;
  detail::json_reader r(header, header_size, 8, source);
  r.begin_object();
  bool first = true, have_metadata = false;
  std::string key;
  while (r.next_member(first, key)) {
    if (key == "__metadata__") {
      if (have_metadata) r.fail_at(r.key_position(), "duplicate key '__metadata__'");
      have_metadata = true;
      detail::st_read_metadata(r, out.metadata);
    } else {
      entries.push_back(detail::st_read_entry(r, std::move(key)));
      key.clear();
    }
  }
  if (!r.at_end()) r.fail("unexpected bytes after the JSON header object (only spaces may pad it)");

  // Names: sorted copies of the indices find the duplicates.
  std::vector<std::size_t> order(entries.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return entries[a].name != entries[b].name ? entries[a].name < entries[b].name : a < b;
  });
  for (std::size_t i = 1; i < order.size(); ++i)
    if (entries[order[i]].name == entries[order[i - 1]].name)
      r.fail_at(entries[order[i]].key_at, "duplicate tensor name " + quote_name(entries[order[i]].name));

  // Each entry on its own: the shape's bytes, and a range inside the buffer of that length.
  const std::uint64_t buffer = size - 8 - n;
  const std::uint64_t buffer_at = 8 + n;
  for (const detail::st_entry& e : entries) {
    const std::string who = "tensor " + quote_name(e.name);
    const auto bytes = byte_count(e.type, e.shape);
    if (!bytes) r.fail_at(e.key_at, who + ": shape " + detail::shape_text(e.shape) + " overflows the byte count");
    if (e.begin > e.end) r.fail_at(e.key_at, who + ": data_offsets " + detail::range_text(e.begin, e.end) + " are reversed");
    if (e.end > buffer)
      r.fail_at(e.key_at, who + ": data_offsets " + detail::range_text(e.begin, e.end) +
                              " run past the end of the data buffer (" + std::to_string(buffer) + " bytes)");
    if (e.end - e.begin != *bytes)
      r.fail_at(e.key_at, who + ": shape " + detail::shape_text(e.shape) + " of " + dtype_name(e.type) + " needs " +
                              std::to_string(*bytes) + " bytes but data_offsets " +
                              detail::range_text(e.begin, e.end) + " hold " + std::to_string(e.end - e.begin));
  }

  // Together: in order of position the ranges must tile [0, buffer).
  std::vector<std::size_t> by_offset(entries.size());
  for (std::size_t i = 0; i < by_offset.size(); ++i) by_offset[i] = i;
  std::sort(by_offset.begin(), by_offset.end(), [&](std::size_t a, std::size_t b) {
    if (entries[a].begin != entries[b].begin) return entries[a].begin < entries[b].begin;
    if (entries[a].end != entries[b].end) return entries[a].end < entries[b].end;
    return a < b;
  });
  std::uint64_t covered = 0;
  const detail::st_entry* last = nullptr;  // the entry whose end is `covered`
  for (const std::size_t i : by_offset) {
    const detail::st_entry& e = entries[i];
    if (e.begin > covered)
      fail_format(source, buffer_at + covered,
                  "bytes [" + std::to_string(covered) + ", " + std::to_string(e.begin) +
                      ") of the data buffer belong to no tensor (a hole before tensor " + quote_name(e.name) + ")");
    if (e.begin < covered)
      r.fail_at(e.key_at, "tensor " + quote_name(e.name) + ": data_offsets " + detail::range_text(e.begin, e.end) +
                              " overlap those of tensor " + quote_name(last->name) + " " +
                              detail::range_text(last->begin, last->end));
    if (e.end > covered || last == nullptr) {
      covered = e.end;
      last = &e;
    }
  }
  if (covered != buffer)
    fail_format(source, buffer_at + covered,
                std::to_string(buffer - covered) + " bytes at the end of the data buffer belong to no tensor");

  out.tensors.reserve(entries.size());
  for (const std::size_t i : order) {
    detail::st_entry& e = entries[i];
    const std::size_t bytes = static_cast<std::size_t>(e.end - e.begin);
    out.tensors.push_back(
        named_tensor{std::move(e.name), tensor_view{e.type, std::move(e.shape),
                                                    data + buffer_at + e.begin, bytes}});
  }
  return out;
}

inline safetensors_contents parse_safetensors(const std::vector<std::uint8_t>& bytes,
                                              const std::string& source = "<memory>") {
  return parse_safetensors(bytes.data(), bytes.size(), source);
}
// The views would point into a temporary.
safetensors_contents parse_safetensors(std::vector<std::uint8_t>&&, const std::string& = "<memory>") = delete;

// A .safetensors file loaded into memory: its bytes and the views into them.
// Move-only (a move keeps the buffer, so the views stay valid).
class safetensors_file {
 public:
  safetensors_file() = default;
  safetensors_file(const safetensors_file&) = delete;
  safetensors_file& operator=(const safetensors_file&) = delete;
  safetensors_file(safetensors_file&&) = default;
  safetensors_file& operator=(safetensors_file&&) = default;

  const metadata_map& metadata() const noexcept { return contents_.metadata; }
  const std::vector<named_tensor>& tensors() const noexcept { return contents_.tensors; }
  const tensor_view* find(std::string_view name) const noexcept { return contents_.find(name); }
  const safetensors_contents& contents() const noexcept { return contents_; }
  const std::vector<std::uint8_t>& bytes() const noexcept { return bytes_; }

 private:
  friend safetensors_file read_safetensors(const std::string& path, const read_options& options);
  std::vector<std::uint8_t> bytes_;
  safetensors_contents contents_;
};

// Reads and parses the .safetensors file at `path` (see read_options for the size limit).
inline safetensors_file read_safetensors(const std::string& path, const read_options& options = {}) {
  safetensors_file f;
  f.bytes_ = detail::read_file(path, options.max_file_bytes);
  f.contents_ = parse_safetensors(f.bytes_.data(), f.bytes_.size(), path);
  return f;
}

namespace detail {

// The header (size field, JSON, padding) of a file holding `tensors` and
// `metadata`, and the order in which their data follow it. Checks every
// argument first: consistent views, names and metadata valid UTF-8, names
// unique and not "__metadata__", a header within safetensors_max_header.
struct st_plan {
  std::vector<std::uint8_t> prefix;
  std::vector<std::size_t> order;
};

inline st_plan st_prepare(const char* function, const std::vector<named_tensor>& tensors,
                          const metadata_map& metadata) {
  using ::fp8::detail::fail_argument;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const std::string which = "[" + std::to_string(i) + "] " + quote_name(tensors[i].name) + " ";
    check_view(function, "tensors", tensors[i].view, which);
    if (!valid_utf8(tensors[i].name)) fail_argument(function, "tensors", which + "has a name that is not valid UTF-8");
    if (tensors[i].name == "__metadata__")
      fail_argument(function, "tensors", which + "is named __metadata__, the key reserved for metadata");
  }
  for (const auto& kv : metadata)
    if (!valid_utf8(kv.first) || !valid_utf8(kv.second))
      fail_argument(function, "metadata", "entry " + quote_name(kv.first) + " is not valid UTF-8");

  st_plan plan;
  plan.order.resize(tensors.size());
  for (std::size_t i = 0; i < tensors.size(); ++i) plan.order[i] = i;
  // The reference's order: decreasing dtype (its enum is in increasing
  // alignment, and so is ours), then name.
  std::sort(plan.order.begin(), plan.order.end(), [&](std::size_t a, std::size_t b) {
    const named_tensor &x = tensors[a], &y = tensors[b];
    if (x.view.type != y.view.type) return x.view.type > y.view.type;
    return x.name < y.name;
  });
  for (std::size_t i = 1; i < plan.order.size(); ++i)
    if (tensors[plan.order[i]].name == tensors[plan.order[i - 1]].name)
      fail_argument(function, "tensors", "has two tensors named " + quote_name(tensors[plan.order[i]].name));

  // serde_json's compact form, as the reference writes it.
  std::string json = "{";
  if (!metadata.empty()) {
    json += "\"__metadata__\":{";
    bool first = true;
    for (const auto& kv : metadata) {
      if (!first) json += ',';
      first = false;
      append_json_string(json, kv.first);
      json += ':';
      append_json_string(json, kv.second);
    }
    json += '}';
    if (!tensors.empty()) json += ',';
  }
  std::uint64_t offset = 0;
  for (std::size_t k = 0; k < plan.order.size(); ++k) {
    const named_tensor& t = tensors[plan.order[k]];
    if (k != 0) json += ',';
    append_json_string(json, t.name);
    json += ":{\"dtype\":\"";
    json += dtype_name(t.view.type);
    json += "\",\"shape\":[";
    for (std::size_t d = 0; d < t.view.shape.size(); ++d) {
      if (d != 0) json += ',';
      json += std::to_string(t.view.shape[d]);
    }
    json += "],\"data_offsets\":[";
    json += std::to_string(offset);
    json += ',';
    offset += t.view.size;
    json += std::to_string(offset);
    json += "]}";
  }
  json += '}';
  json.append((8 - json.size() % 8) % 8, ' ');
  if (json.size() > safetensors_max_header)
    fail_argument(function, "tensors",
                  "need a header of " + std::to_string(json.size()) + " bytes, over the " +
                      std::to_string(safetensors_max_header) + "-byte limit that readers enforce");
  plan.prefix.reserve(8 + json.size());
  for (unsigned i = 0; i < 8; ++i)
    plan.prefix.push_back(static_cast<std::uint8_t>((static_cast<std::uint64_t>(json.size()) >> (8 * i)) & 0xFF));
  plan.prefix.insert(plan.prefix.end(), json.begin(), json.end());
  return plan;
}

}  // namespace detail

// The .safetensors file holding `tensors` (names unique, not "__metadata__")
// and `metadata` (omitted from the header when empty). Throws
// fp8::invalid_argument before producing anything if an argument is bad.
inline std::vector<std::uint8_t> serialize_safetensors(const std::vector<named_tensor>& tensors,
                                                       const metadata_map& metadata = {}) {
  detail::st_plan plan = detail::st_prepare("fp8::io::serialize_safetensors", tensors, metadata);
  std::size_t total = plan.prefix.size();
  for (const named_tensor& t : tensors) {
    // Views may share memory, so the sum is not bounded by what exists.
    FP8_REQUIRE_ARG(t.view.size <= SIZE_MAX - total, "fp8::io::serialize_safetensors", "tensors",
                    "hold more bytes in all than size_t counts");
    total += t.view.size;
  }
  std::vector<std::uint8_t> out = std::move(plan.prefix);
  out.reserve(total);
  for (const std::size_t i : plan.order) out.insert(out.end(), tensors[i].view.data, tensors[i].view.data + tensors[i].view.size);
  return out;
}

// As serialize_safetensors, streamed to `path`; nothing is created when an
// argument is bad, and a failed write removes the file (io_error).
inline void write_safetensors(const std::string& path, const std::vector<named_tensor>& tensors,
                              const metadata_map& metadata = {}) {
  const detail::st_plan plan = detail::st_prepare("fp8::io::write_safetensors", tensors, metadata);
  detail::file_writer out(path);
  out.write(plan.prefix.data(), plan.prefix.size());
  for (const std::size_t i : plan.order) out.write(tensors[i].view.data, tensors[i].view.size);
  out.commit();
}

}  // namespace io
FP8_END_NAMESPACE
