// SPDX-License-Identifier: Apache-2.0
// libFuzzer harness for the io layer (include/fp8/io/): every input is
// parsed as a .npy file, as a .safetensors file and as a JSON value, all
// from memory. Each parse must end in one of two ways: a format_error
// (whose offset lies within the input), or a result that is consistent
// (tensors whose bytes match their shape; safetensors views that lie
// inside the input and tile its data buffer) and that survives a
// write-then-read round trip unchanged, with the rewritten bytes stable.
// Anything else (another exception, a sanitizer report, a broken
// invariant) aborts, which libFuzzer reports as a finding.
//
//   clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude tests/fuzz/fuzz_io.cpp -o fuzz_io
//   ./fuzz_io -dict=tests/fuzz/fuzz_io.dict tests/fuzz/corpus/fuzz_io
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include <fp8/io/json.hpp>
#include <fp8/io/npy.hpp>
#include <fp8/io/safetensors.hpp>

namespace {

namespace io = fp8::io;

void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz_io: invariant broken: %s\n", what);
  std::abort();
}

void check_error(const io::format_error& e, std::size_t size) {
  check(e.source() == "<memory>", "format_error names its source");
  check(e.offset() <= size, "format_error offset inside the input");
  check(!e.reason().empty(), "format_error says what is wrong");
}

void fuzz_npy(const std::uint8_t* data, std::size_t size) {
  io::tensor t;
  try {
    t = io::parse_npy(data, size);
  } catch (const io::format_error& e) {
    check_error(e, size);
    return;
  }
  const auto bytes = io::byte_count(t.type(), t.shape());
  check(bytes && *bytes == t.size(), "npy tensor bytes match its shape");
  check(t.size() <= size, "npy tensor no larger than the file");
  check(t.shape().size() <= io::max_rank, "npy rank within the cap");
  check(io::npy_descr(t.type()) != nullptr, "npy tensor of a NumPy dtype");
  const std::vector<std::uint8_t> file = io::serialize_npy(t.view());
  const io::tensor back = io::parse_npy(file);
  check(back == t, "npy write-then-read is the identity");
  check(io::serialize_npy(back.view()) == file, "npy rewrite is stable");
}

void fuzz_safetensors(const std::uint8_t* data, std::size_t size) {
  io::safetensors_contents c;
  try {
    c = io::parse_safetensors(data, size);
  } catch (const io::format_error& e) {
    check_error(e, size);
    return;
  }
  check(size >= 8, "a parsed file has a size field");
  std::uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<std::uint64_t>(data[i]) << (8 * i);
  const std::uint8_t* buffer = data + 8 + n;
  std::size_t covered = 0;
  for (std::size_t i = 0; i < c.tensors.size(); ++i) {
    const io::tensor_view& v = c.tensors[i].view;
    check(i == 0 || c.tensors[i - 1].name < c.tensors[i].name, "names sorted and unique");
    check(c.tensors[i].name != "__metadata__", "no tensor named __metadata__");
    check(v.shape.size() <= io::max_rank, "rank within the cap");
    const auto bytes = io::byte_count(v.type, v.shape);
    check(bytes && *bytes == v.size, "view bytes match its shape");
    check(v.data >= buffer && v.data <= data + size && v.size <= static_cast<std::size_t>(data + size - v.data),
          "view inside the data buffer");
    check(c.find(c.tensors[i].name) == &v, "find returns the tensor");
    covered += v.size;
  }
  check(covered == static_cast<std::size_t>(data + size - buffer), "views tile the data buffer");
  const std::vector<std::uint8_t> file = io::serialize_safetensors(c.tensors, c.metadata);
  const io::safetensors_contents back = io::parse_safetensors(file);
  check(back.metadata == c.metadata, "metadata round trip");
  check(back.tensors.size() == c.tensors.size(), "tensor count round trip");
  for (std::size_t i = 0; i < c.tensors.size(); ++i) {
    check(back.tensors[i].name == c.tensors[i].name, "name round trip");
    check(io::equal(back.tensors[i].view, c.tensors[i].view), "tensor round trip");
  }
  check(io::serialize_safetensors(back.tensors, back.metadata) == file, "safetensors rewrite is stable");
}

void fuzz_json(const std::uint8_t* data, std::size_t size) {
  try {
    fp8::io::detail::json_reader r(data, size, 0, "<memory>");
    r.skip_value();
    (void)r.at_end();
  } catch (const io::format_error& e) {
    check_error(e, size);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz_npy(data, size);
  fuzz_safetensors(data, size);
  fuzz_json(data, size);
  return 0;
}
