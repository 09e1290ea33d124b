// SPDX-License-Identifier: Apache-2.0
// The io layer (include/fp8/io/): .npy and .safetensors readers and writers.
// Expected values come from outside the library: the .npy files under
// tests/data/npy/ were written by NumPy (tests/data/make_npy.py), and the
// tests compare what the reader returns with values written out here, and
// what the writer produces with NumPy's own bytes. The .safetensors files
// are assembled here by hand from the format's description (size field,
// JSON text, data bytes), four of them the byte sequences that the
// safetensors reference implementation's own tests expect its writer to
// produce. Malformed files come in two tables, one per format, each case a
// variant of a valid file that must fail with a format_error naming the
// problem; the suite runs under ASan/UBSan in the sanitize preset.
#include <catch2/catch.hpp>

#include <chrono>
#include <complex>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <fp8/io/npy.hpp>
#include <fp8/io/safetensors.hpp>

#ifndef FP8_TEST_DATA_DIR
#error "the build defines FP8_TEST_DATA_DIR, the path of tests/data"
#endif

namespace {

namespace io = fp8::io;
using bytes = std::vector<std::uint8_t>;

bytes load_abs(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  return bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
bytes load(const std::string& relative) { return load_abs(std::string(FP8_TEST_DATA_DIR) + "/" + relative); }
bytes npy_file(const std::string& name) { return load("npy/" + name + ".npy"); }

bytes text(const std::string& s) { return bytes(s.begin(), s.end()); }
bytes cat(bytes a, const bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}
bytes le64(std::uint64_t v) {
  bytes b(8);
  for (int i = 0; i < 8; ++i) b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (8 * i));
  return b;
}
// A .safetensors file: the size field (the header's length unless given), the header, the buffer.
bytes st_file(const std::string& header, const bytes& data = {}, std::optional<std::uint64_t> n = std::nullopt) {
  return cat(cat(le64(n ? *n : header.size()), text(header)), data);
}
// A .npy file: magic, version, the header's length (2 bytes for 1.x, else 4), header, data.
bytes npy_raw(unsigned major, unsigned minor, const std::string& header, const bytes& data = {},
              std::optional<std::uint64_t> hlen = std::nullopt) {
  bytes b = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<std::uint8_t>(major), static_cast<std::uint8_t>(minor)};
  const std::uint64_t n = hlen ? *hlen : header.size();
  const int width = major == 1 ? 2 : 4;
  for (int i = 0; i < width; ++i) b.push_back(static_cast<std::uint8_t>(n >> (8 * i)));
  return cat(cat(b, text(header)), data);
}
// A version 1.0 file whose header is `dict` followed by a newline.
bytes npy_v1(const std::string& dict, const bytes& data = {}) { return npy_raw(1, 0, dict + "\n", data); }

// Parses for the error only (the views of the result would outlive `b`).
void parse_st(const bytes& b, const std::string& source = "<memory>") { io::parse_safetensors(b, source); }

std::uint32_t bits_of(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, 4);
  return u;
}
std::uint64_t bits_of(double x) {
  std::uint64_t u;
  std::memcpy(&u, &x, 8);
  return u;
}
template <class T>
bytes le_bytes(const std::vector<T>& v) {  // the test hosts are little-endian (x86-64)
  bytes b(v.size() * sizeof(T));
  if (!b.empty()) std::memcpy(b.data(), v.data(), b.size());
  return b;
}

// Runs f, which must throw format_error whose message contains `what`
// (and names the source); returns the error's offset.
template <class F>
std::uint64_t format_error_of(F&& f, const std::string& what, const std::string& source = "<memory>") {
  try {
    f();
  } catch (const io::format_error& e) {
    INFO("message: " << e.what());
    CHECK_THAT(std::string(e.what()), Catch::Contains(what));
    CHECK(e.source() == source);
    CHECK_THAT(std::string(e.what()), Catch::StartsWith(source + ": byte "));
    return e.offset();
  } catch (const std::exception& e) {
    FAIL("expected fp8::io::format_error, got: " << e.what());
  }
  FAIL("expected fp8::io::format_error containing '" << what << "', nothing was thrown");
  return 0;
}

template <class F>
std::string invalid_argument_of(F&& f) {
  try {
    f();
  } catch (const fp8::invalid_argument& e) {
    return e.what();
  } catch (const std::exception& e) {
    FAIL("expected fp8::invalid_argument, got: " << e.what());
  }
  FAIL("expected fp8::invalid_argument, nothing was thrown");
  return {};
}

// A fresh directory for the file tests, removed when the program ends.
struct temp_dir {
  std::string path;
  temp_dir() {
    const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    path = (std::filesystem::temp_directory_path() / ("fp8_io_test_" + std::to_string(stamp))).string();
    std::filesystem::create_directories(path);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};
std::string temp_path(const std::string& name) {
  static const temp_dir dir;
  return dir.path + "/" + name;
}

}  // namespace

// ---------------------------------------------------------------- dtypes and tensors

TEST_CASE("io: dtype names and sizes are the safetensors list", "[io]") {
  struct row {
    io::dtype t;
    const char* name;
    std::size_t size;
  };
  const row rows[] = {
      {io::dtype::boolean, "BOOL", 1},    {io::dtype::u8, "U8", 1},
      {io::dtype::i8, "I8", 1},           {io::dtype::f8_e5m2, "F8_E5M2", 1},
      {io::dtype::f8_e4m3, "F8_E4M3", 1}, {io::dtype::f8_e8m0, "F8_E8M0", 1},
      {io::dtype::f8_e4m3fnuz, "F8_E4M3FNUZ", 1}, {io::dtype::f8_e5m2fnuz, "F8_E5M2FNUZ", 1},
      {io::dtype::i16, "I16", 2},         {io::dtype::u16, "U16", 2},
      {io::dtype::f16, "F16", 2},         {io::dtype::bf16, "BF16", 2},
      {io::dtype::i32, "I32", 4},         {io::dtype::u32, "U32", 4},
      {io::dtype::f32, "F32", 4},         {io::dtype::c64, "C64", 8},
      {io::dtype::f64, "F64", 8},         {io::dtype::i64, "I64", 8},
      {io::dtype::u64, "U64", 8},
  };
  for (const row& r : rows) {
    CHECK(std::string(io::dtype_name(r.t)) == r.name);
    CHECK(io::dtype_size(r.t) == r.size);
    CHECK(io::dtype_from_name(r.name) == r.t);
  }
  // Increasing alignment, as the writer's ordering assumes.
  for (std::size_t i = 1; i < sizeof rows / sizeof rows[0]; ++i) CHECK(rows[i - 1].size <= rows[i].size);
  CHECK_FALSE(io::dtype_from_name("F4"));
  CHECK_FALSE(io::dtype_from_name("f32"));
  CHECK_FALSE(io::dtype_from_name(""));
  CHECK(io::dtype_size(static_cast<io::dtype>(200)) == 0);
  CHECK(std::string(io::dtype_name(static_cast<io::dtype>(200))) == "?");
  STATIC_REQUIRE(io::dtype_of<fp8::e4m3_t>::value == io::dtype::f8_e4m3);
  STATIC_REQUIRE(io::dtype_of<fp8::e5m2_t>::value == io::dtype::f8_e5m2);
  STATIC_REQUIRE(io::dtype_of<fp8::bfloat16>::value == io::dtype::bf16);
  STATIC_REQUIRE(io::dtype_of<float>::value == io::dtype::f32);
}

TEST_CASE("io: element and byte counts reject overflow wherever the zero is", "[io]") {
  CHECK(io::element_count({}) == 1u);
  CHECK(io::element_count({2, 3}) == 6u);
  CHECK(io::element_count({0, 5}) == 0u);
  CHECK(io::element_count({1u << 31, 1u << 31, 3}) == 3 * (std::uint64_t{1} << 62));
  CHECK_FALSE(io::element_count({std::uint64_t{1} << 32, std::uint64_t{1} << 32}));
  CHECK_FALSE(io::element_count({0, std::uint64_t{1} << 40, std::uint64_t{1} << 40}));
  CHECK_FALSE(io::element_count({std::uint64_t{1} << 40, std::uint64_t{1} << 40, 0}));
  CHECK(io::byte_count(io::dtype::f32, {2, 3}) == 24u);
  CHECK(io::byte_count(io::dtype::f32, {}) == 4u);
  CHECK(io::byte_count(io::dtype::f32, {7, 0}) == 0u);
  CHECK_FALSE(io::byte_count(io::dtype::f32, {std::uint64_t{1} << 62}));
  CHECK(io::byte_count(io::dtype::u8, {std::uint64_t{1} << 62}) == (std::size_t{1} << 62));
  CHECK_FALSE(io::byte_count(static_cast<io::dtype>(99), {1}));
}

TEST_CASE("io: tensor values go in and out through memcpy, checked", "[io]") {
  const std::vector<float> f = {1.0f, -0.0f, 3.5f, 1e-40f, std::numeric_limits<float>::infinity(), 2.0f};
  const io::tensor t = io::tensor::from_values<float>({2, 3}, f);
  CHECK(t.type() == io::dtype::f32);
  CHECK(t.shape() == io::shape_type{2, 3});
  CHECK(t.elements() == 6u);
  CHECK(t.size() == 24u);
  CHECK(t.bytes() == le_bytes(f));
  const auto back = t.to_vector<float>();
  REQUIRE(back.size() == 6);
  for (std::size_t i = 0; i < 6; ++i) CHECK(bits_of(back[i]) == bits_of(f[i]));

  const std::vector<fp8::e4m3_t> q = {fp8::e4m3_t::from_bits(0x38), fp8::e4m3_t::from_bits(0xFF)};
  const io::tensor tq = io::tensor::from_values<fp8::e4m3_t>({2}, q);
  CHECK(tq.type() == io::dtype::f8_e4m3);
  CHECK(tq.bytes() == bytes{0x38, 0xFF});

  // BOOL bytes other than 0/1 read as true, never as an invalid bool.
  const io::tensor b(io::dtype::boolean, {3}, bytes{0, 1, 7});
  CHECK(b.to_vector<bool>() == std::vector<bool>{false, true, true});
  CHECK(io::tensor::from_values<bool>({2}, std::vector<bool>{true, false}).bytes() == bytes{1, 0});

  const io::tensor c = io::tensor::from_values<std::complex<float>>({1}, {std::complex<float>(1.0f, -2.0f)});
  CHECK(c.bytes() == le_bytes(std::vector<float>{1.0f, -2.0f}));

  // Zero-filled construction, empty tensors, copies of views.
  CHECK(io::tensor(io::dtype::bf16, {4}).bytes() == bytes(8, 0));
  CHECK(io::tensor(io::dtype::f64, {0, 9}).size() == 0u);
  CHECK(io::tensor().size() == 0u);
  CHECK(io::tensor(t.view()) == t);
  CHECK(io::equal(t.view(), io::tensor(t.view()).view()));

  // Misuse is fp8::invalid_argument, naming the argument.
  CHECK_THAT(invalid_argument_of([&] { t.to_vector<double>(); }), Catch::Contains("holds F32 elements, not F64"));
  CHECK_THAT(invalid_argument_of([&] { io::tensor::from_values<float>({4}, f.data(), 3); }),
             Catch::Contains("'count'"));
  CHECK_THAT(invalid_argument_of([&] { io::tensor(io::dtype::f32, {2}, bytes(7)); }), Catch::Contains("'bytes'"));
  CHECK_THAT(invalid_argument_of([&] { io::tensor(static_cast<io::dtype>(40), {2}); }), Catch::Contains("'type'"));
  CHECK_THAT(invalid_argument_of([&] { io::tensor(io::dtype::f32, {std::uint64_t{1} << 62}); }),
             Catch::Contains("overflows"));
  CHECK_THAT(invalid_argument_of([&] { io::tensor(io::dtype::u8, io::shape_type(65, 1)); }),
             Catch::Contains("65 dimensions"));
  io::tensor_view bad{io::dtype::f32, {2}, nullptr, 8};
  CHECK_THAT(invalid_argument_of([&] { io::to_vector<float>(bad); }), Catch::Contains("null data"));
  float out[6];
  CHECK_THAT(invalid_argument_of([&] { io::copy_values(t.view(), out, 5); }), Catch::Contains("'count'"));
}

// ---------------------------------------------------------------- .npy written by NumPy

TEST_CASE("io: npy files written by NumPy read as the values NumPy was given", "[io][npy]") {
  SECTION("<f4 (2, 3)") {
    const io::tensor t = io::parse_npy(npy_file("f4_2x3"));
    CHECK(t.type() == io::dtype::f32);
    CHECK(t.shape() == io::shape_type{2, 3});
    CHECK(t.bytes() == le_bytes(std::vector<float>{1.5f, -2.0f, 0.0f, 3.25f, 1e-3f, -0.0f}));
  }
  SECTION("<f8 with inf and NaN") {
    const auto v = io::parse_npy(npy_file("f8_4")).to_vector<double>();
    REQUIRE(v.size() == 4);
    CHECK(v[0] == 0.1);
    CHECK(v[1] == -1e300);
    CHECK(bits_of(v[2]) == 0x7FF0000000000000u);
    CHECK(bits_of(v[3]) == 0x7FF8000000000000u);  // NumPy's np.nan
  }
  SECTION("<f2 as fp8::half bits") {
    const io::tensor t = io::parse_npy(npy_file("f2_6"));
    CHECK(t.type() == io::dtype::f16);
    // 1, -2.5, 65504 (max), 6e-8 -> 2^-24 (min subnormal), inf, -0
    CHECK(t.bytes() == le_bytes(std::vector<std::uint16_t>{0x3C00, 0xC100, 0x7BFF, 0x0001, 0x7C00, 0x8000}));
    const auto h = t.to_vector<fp8::half>();
    CHECK(static_cast<float>(h[1]) == -2.5f);
    CHECK(static_cast<float>(h[3]) == 0x1p-24f);
  }
  SECTION("<c8") {
    const auto v = io::parse_npy(npy_file("c8_2")).to_vector<std::complex<float>>();
    CHECK(v == std::vector<std::complex<float>>{{1.0f, 2.0f}, {-0.5f, -4.0f}});
  }
  SECTION("integers and bool") {
    CHECK(io::parse_npy(npy_file("i1_4")).to_vector<std::int8_t>() == std::vector<std::int8_t>{-128, -1, 0, 127});
    CHECK(io::parse_npy(npy_file("u1_3")).to_vector<std::uint8_t>() == std::vector<std::uint8_t>{0, 1, 255});
    CHECK(io::parse_npy(npy_file("i2_3")).to_vector<std::int16_t>() == std::vector<std::int16_t>{-32768, -2, 32767});
    CHECK(io::parse_npy(npy_file("u2_2")).to_vector<std::uint16_t>() == std::vector<std::uint16_t>{0, 65535});
    CHECK(io::parse_npy(npy_file("i4_3")).to_vector<std::int32_t>() ==
          std::vector<std::int32_t>{INT32_MIN, 7, INT32_MAX});
    CHECK(io::parse_npy(npy_file("u4_2")).to_vector<std::uint32_t>() == std::vector<std::uint32_t>{0, UINT32_MAX});
    CHECK(io::parse_npy(npy_file("i8_2")).to_vector<std::int64_t>() == std::vector<std::int64_t>{INT64_MIN, INT64_MAX});
    CHECK(io::parse_npy(npy_file("u8_2")).to_vector<std::uint64_t>() == std::vector<std::uint64_t>{1, UINT64_MAX});
    const io::tensor b = io::parse_npy(npy_file("b1_3"));
    CHECK(b.type() == io::dtype::boolean);
    CHECK(b.bytes() == bytes{1, 0, 1});
  }
  SECTION("0-d, empty and 4-d shapes") {
    const io::tensor s = io::parse_npy(npy_file("f4_scalar"));
    CHECK(s.shape().empty());
    CHECK(s.to_vector<float>() == std::vector<float>{3.5f});
    const io::tensor e = io::parse_npy(npy_file("f4_0x3"));
    CHECK(e.shape() == io::shape_type{0, 3});
    CHECK(e.size() == 0u);
    const io::tensor r4 = io::parse_npy(npy_file("i2_2x1x3x2"));
    CHECK(r4.shape() == io::shape_type{2, 1, 3, 2});
    CHECK(r4.to_vector<std::int16_t>() == std::vector<std::int16_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
    const io::tensor z = io::parse_npy(npy_file("u1_pad64"));
    CHECK(z.shape() == io::shape_type{0, 0, 0, 0, 0, 0, 0, 0, 100000000000000000u});
  }
  SECTION("format versions 2.0 and 3.0") {
    CHECK(npy_file("f4_v2")[6] == 2);
    CHECK(npy_file("f4_v3")[6] == 3);
    CHECK(io::parse_npy(npy_file("f4_v2")).to_vector<float>() == std::vector<float>{1.0f, 2.0f});
    CHECK(io::parse_npy(npy_file("f4_v3")).to_vector<float>() == std::vector<float>{1.0f, 2.0f});
  }
}

TEST_CASE("io: Fortran-order and big-endian npy files come back row-major and little-endian", "[io][npy]") {
  SECTION("Fortran order, 3-d") {
    const io::tensor t = io::parse_npy(npy_file("i4_2x3x4_fortran"));
    CHECK(t.shape() == io::shape_type{2, 3, 4});
    std::vector<std::int32_t> iota(24);
    for (std::size_t i = 0; i < 24; ++i) iota[i] = static_cast<std::int32_t>(i);
    CHECK(t.to_vector<std::int32_t>() == iota);  // np.arange(24).reshape(2, 3, 4)
    CHECK(t == io::parse_npy(npy_file("i4_2x3x4_fortran_c")));
  }
  SECTION("a transpose, which np.save stores in Fortran order") {
    const io::tensor t = io::parse_npy(npy_file("f4_2x3_transposed"));
    CHECK(t.shape() == io::shape_type{2, 3});
    CHECK(t.to_vector<float>() == std::vector<float>{0, 2, 4, 1, 3, 5});  // np.arange(6).reshape(3, 2).T
    CHECK(t == io::parse_npy(npy_file("f4_2x3_transposed_c")));
  }
  SECTION("big-endian") {
    CHECK(io::parse_npy(npy_file("f4_be")).to_vector<float>() == std::vector<float>{1.5f, -2.0f, 1e-3f});
    CHECK(io::parse_npy(npy_file("i8_be")).to_vector<std::int64_t>() ==
          std::vector<std::int64_t>{-2, std::int64_t{1} << 40});
    CHECK(io::parse_npy(npy_file("u2_be")).to_vector<std::uint16_t>() == std::vector<std::uint16_t>{0x1234, 0xFF00});
    CHECK(io::parse_npy(npy_file("c8_be")).to_vector<std::complex<float>>() ==
          std::vector<std::complex<float>>{{1.0f, 2.0f}});  // each part swapped on its own
    const io::tensor h = io::parse_npy(npy_file("f2_2x2_be_fortran"));
    CHECK(h.bytes() == le_bytes(std::vector<std::uint16_t>{0x3C00, 0x4000, 0x4200, 0xB800}));  // [[1, 2], [3, -0.5]]
    for (const char* name : {"f4_be", "i8_be", "u2_be", "c8_be", "f2_2x2_be_fortran"})
      CHECK(io::parse_npy(npy_file(name)) == io::parse_npy(npy_file(std::string(name) + "_le")));
  }
}

TEST_CASE("io: serialize_npy writes NumPy's bytes exactly", "[io][npy]") {
  // Every little-endian C-order file NumPy wrote, u1_pad64 included (its
  // header ends on the 64-byte boundary, where NumPy pads 64 more bytes).
  for (const char* name : {"f4_2x3", "f8_4", "f2_6", "c8_2", "i1_4", "u1_3", "i2_3", "u2_2", "i4_3", "u4_2", "i8_2",
                           "u8_2", "b1_3", "f4_scalar", "f4_0x3", "i2_2x1x3x2", "u1_pad64", "i4_2x3x4_fortran_c",
                           "f4_2x3_transposed_c", "f4_be_le", "i8_be_le", "u2_be_le", "c8_be_le",
                           "f2_2x2_be_fortran_le"}) {
    INFO(name);
    const bytes file = npy_file(name);
    CHECK(file.size() % 64 == io::parse_npy(file).size() % 64);
    CHECK(io::serialize_npy(io::parse_npy(file).view()) == file);
  }
  // Converted files are rewritten as NumPy writes their converted twins.
  for (const char* name : {"i4_2x3x4_fortran", "f4_2x3_transposed"})
    CHECK(io::serialize_npy(io::parse_npy(npy_file(name)).view()) == npy_file(std::string(name) + "_c"));
  for (const char* name : {"f4_be", "i8_be", "u2_be", "c8_be", "f2_2x2_be_fortran"})
    CHECK(io::serialize_npy(io::parse_npy(npy_file(name)).view()) == npy_file(std::string(name) + "_le"));
}

TEST_CASE("io: npy round trips every NumPy dtype and refuses the others", "[io][npy]") {
  std::mt19937_64 rng(7);
  const io::shape_type shapes[] = {{}, {0}, {5}, {3, 0, 2}, {2, 3, 4}, io::shape_type(64, 1), {1000}};
  for (unsigned ti = 0; ti <= static_cast<unsigned>(io::dtype::u64); ++ti) {
    const auto type = static_cast<io::dtype>(ti);
    for (const io::shape_type& shape : shapes) {
      io::tensor t(type, shape);
      for (std::size_t i = 0; i < t.size(); ++i) t.data()[i] = static_cast<std::uint8_t>(rng());
      if (io::npy_descr(type) == nullptr) {
        CHECK_THAT(invalid_argument_of([&] { io::serialize_npy(t.view()); }),
                   Catch::Contains("cannot describe") && Catch::Contains(io::dtype_name(type)));
        continue;
      }
      const bytes file = io::serialize_npy(t.view());
      CHECK(file.size() - t.size() >= 64);
      CHECK((file.size() - t.size()) % 64 == 0);
      CHECK(io::parse_npy(file) == t);
    }
  }
  CHECK(io::npy_descr(io::dtype::bf16) == nullptr);
  CHECK(io::npy_descr(io::dtype::f8_e4m3) == nullptr);
  CHECK(io::npy_descr(io::dtype::f8_e5m2) == nullptr);
  CHECK(io::npy_descr(io::dtype::f8_e8m0) == nullptr);
}

TEST_CASE("io: an npy header too long for 16 bits takes version 2.0", "[io][npy]") {
  const std::string header = fp8::io::detail::npy_header_text("<f4", {2}) + std::string(70000, ' ');
  const bytes prefix = fp8::io::detail::npy_prefix(header);
  CHECK(prefix[6] == 2);
  CHECK(prefix[7] == 0);
  CHECK(prefix.size() % 64 == 0);
  std::uint32_t hlen = 0;
  for (std::size_t i = 0; i < 4; ++i) hlen |= static_cast<std::uint32_t>(prefix[8 + i]) << (8 * i);
  CHECK(hlen + 12 == prefix.size());
  CHECK(prefix.back() == '\n');
  const io::tensor t = io::parse_npy(cat(prefix, le_bytes(std::vector<float>{1.0f, -1.0f})));
  CHECK(t.to_vector<float>() == std::vector<float>{1.0f, -1.0f});
  // The longest header a real shape produces stays in version 1.0.
  CHECK(io::serialize_npy(io::tensor(io::dtype::u8, io::shape_type(64, 1)).view())[6] == 1);
}

TEST_CASE("io: npy files NumPy writes but the reader rejects", "[io][npy]") {
  struct row {
    const char* file;
    const char* what;
  };
  for (const row& r : {row{"void_v2", "a void type"}, row{"object", "object arrays"},
                       row{"structured", "structured dtypes"}, row{"unicode", "string arrays"},
                       row{"f16_longdouble", "descr '<f16': unsupported dtype"},
                       row{"datetime", "datetime arrays"}}) {
    INFO(r.file);
    format_error_of([&] { io::parse_npy(npy_file(r.file)); }, r.what);
  }
}

TEST_CASE("io: malformed npy files are format errors", "[io][npy]") {
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
  const bytes two = le_bytes(std::vector<float>{1.0f, 2.0f});
  auto with_shape = [](const std::string& shape) {
    return "{'descr': '<u1', 'fortran_order': False, 'shape': " + shape + ", }";
  };
  auto with_descr = [](const std::string& descr) {
    return "{'descr': " + descr + ", 'fortran_order': False, 'shape': (1,), }";
  };
  std::string rank65 = "(";
  for (int i = 0; i < 65; ++i) rank65 += "1, ";
  rank65 += ")";
  std::string huge_header(70000, ' ');

  struct row {
    const char* name;
    bytes file;
    const char* what;
  };
  const row rows[] = {
      {"empty", {}, "not a .npy file"},
      {"bad magic", text("\x93NUMPX\x01\x00"), "not a .npy file"},
      {"text file", text("hello world, not numpy"), "not a .npy file"},
      {"magic only", text("\x93NUMPY"), "truncated"},
      {"magic cut", text("\x93NUM"), "truncated"},
      {"version 4.0", npy_raw(4, 0, dict + "\n", two), "unsupported .npy format version 4.0"},
      {"version 1.1", npy_raw(1, 1, dict + "\n", two), "version 1.1"},
      {"version 0.0", npy_raw(0, 0, dict + "\n", two), "version 0.0"},
      {"v1 length cut", bytes{0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 10}, "inside the header length"},
      {"v2 length cut", bytes{0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 10, 0, 0}, "inside the header length"},
      {"header length past the end", npy_raw(1, 0, dict + "\n", {}, 5000), "runs past the end"},
      {"v2 header length 2^32-1", npy_raw(2, 0, dict + "\n", {}, 0xFFFFFFFFu), "runs past the end"},
      {"header length 0", npy_raw(1, 0, "", two, 0), "does not end with a newline"},
      {"no newline", npy_raw(1, 0, dict + " ", two), "does not end with a newline"},
      {"not a dict", npy_v1("[1, 2]", two), "not a Python dict"},
      {"dict not closed", npy_v1("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), ", two),
       "expected a quoted string"},
      {"text after the dict", npy_v1(dict + " x", two), "unexpected text after the header dict"},
      {"two dicts", npy_v1(dict + dict, two), "unexpected text after"},
      {"missing shape", npy_v1("{'descr': '<f4', 'fortran_order': False}", two), "has no 'shape'"},
      {"missing descr", npy_v1("{'fortran_order': False, 'shape': (2,)}", two), "has no 'descr'"},
      {"missing fortran_order", npy_v1("{'descr': '<f4', 'shape': (2,)}", two), "has no 'fortran_order'"},
      {"extra key", npy_v1("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", two),
       "unexpected key 'x'"},
      {"duplicate key", npy_v1("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", two),
       "duplicate key 'descr'"},
      {"missing colon", npy_v1("{'descr' '<f4', 'fortran_order': False, 'shape': (2,)}", two), "expected ':'"},
      {"missing comma", npy_v1("{'descr': '<f4' 'fortran_order': False, 'shape': (2,)}", two), "expected ','"},
      {"unquoted key", npy_v1("{descr: '<f4', 'fortran_order': False, 'shape': (2,)}", two), "quoted string"},
      {"unterminated string", npy_v1("{'descr': '<f4", two), "unterminated string"},
      {"escape in a string", npy_v1(with_descr("'<f\\x34'"), bytes(1)), "escape sequences"},
      {"non-ASCII in a string", npy_v1(with_descr("'<f\xc3\xa9'"), bytes(1)), "byte 0xc3"},
      {"structured descr", npy_v1("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}", two),
       "structured dtypes"},
      {"descr a number", npy_v1(with_descr("4"), bytes(1)), "quoted string as the descr"},
      {"descr without order", npy_v1(with_descr("'f4'"), bytes(4)), "byte order"},
      {"descr '|f4'", npy_v1(with_descr("'|f4'"), bytes(4)), "needs a byte order"},
      {"descr '=f4'", npy_v1(with_descr("'=f4'"), bytes(4)), "native byte order"},
      {"descr '<f16'", npy_v1(with_descr("'<f16'"), bytes(16)), "unsupported dtype"},
      {"descr '<f3'", npy_v1(with_descr("'<f3'"), bytes(3)), "unsupported dtype"},
      {"descr '|V2' (ml_dtypes bfloat16)", npy_v1(with_descr("'|V2'"), bytes(2)), "ml_dtypes"},
      {"descr '|V1' (ml_dtypes float8)", npy_v1(with_descr("'|V1'"), bytes(1)), "store such tensors in .safetensors"},
      {"descr '|O'", npy_v1(with_descr("'|O'"), bytes(8)), "pickled"},
      {"descr '<U1'", npy_v1(with_descr("'<U1'"), bytes(4)), "string arrays"},
      {"descr empty", npy_v1(with_descr("''"), bytes(1)), "not a NumPy type string"},
      {"fortran_order 1", npy_v1("{'descr': '<f4', 'fortran_order': 1, 'shape': (2,)}", two), "True or False"},
      {"fortran_order Truer", npy_v1("{'descr': '<f4', 'fortran_order': Truer, 'shape': (2,)}", two),
       "True or False"},
      {"fortran_order 'True'", npy_v1("{'descr': '<f4', 'fortran_order': 'True', 'shape': (2,)}", two),
       "True or False"},
      {"shape a list", npy_v1(with_shape("[2]"), two), "not a list"},
      {"shape an int", npy_v1(with_shape("2"), two), "shape must be a tuple"},
      {"shape (2) is an int", npy_v1(with_shape("(2)"), bytes(2)), "is not a tuple"},
      {"shape negative", npy_v1(with_shape("(-1,)"), {}), "negative dimension"},
      {"shape float", npy_v1(with_shape("(1.5,)"), bytes(1)), "not a decimal integer"},
      {"shape hex", npy_v1(with_shape("(0x10,)"), bytes(16)), "not a decimal integer"},
      {"shape underscore", npy_v1(with_shape("(1_0,)"), bytes(10)), "not a decimal integer"},
      {"shape leading zero", npy_v1(with_shape("(01,)"), bytes(1)), "leading zero"},
      {"shape 2^64", npy_v1(with_shape("(18446744073709551616,)"), {}), "does not fit 64 bits"},
      {"shape (,)", npy_v1(with_shape("(,)"), {}), "expected a dimension"},
      {"shape (1,,)", npy_v1(with_shape("(1,,)"), {}), "expected a dimension"},
      {"shape (1 2)", npy_v1(with_shape("(1 2)"), {}), "expected ',' or ')'"},
      {"shape unterminated", npy_v1(with_shape("(1,"), {}), "expected"},
      {"shape rank 65", npy_v1(with_shape(rank65), bytes(1)), "more than 64 dimensions"},
      {"shape overflows", npy_v1(with_shape("(4294967296, 4294967296)"), {}), "overflows"},
      {"shape overflows past a zero", npy_v1(with_shape("(0, 4294967296, 4294967296)"), {}), "overflows"},
      {"bytes overflow", npy_v1("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904,)}", {}),
       "overflows"},
      {"data truncated", npy_v1(dict, bytes(7)), "truncated: the shape and dtype need 8 bytes"},
      {"data missing", npy_v1(dict), "need 8 bytes of data, the file has 0"},
      {"huge shape, little data", npy_v1(with_shape("(1000000000000,)"), bytes(3)), "truncated"},
      {"trailing bytes", npy_v1(dict, cat(two, bytes{0, 0, 0, 0})), "4 unexpected bytes after the array data"},
      {"v2 trailing bytes", npy_raw(2, 0, dict + "\n", cat(two, bytes{1})), "1 unexpected bytes"},
      {"NUL in the header", npy_v1(std::string("{'descr'\0: '<f4'}", 17), two), "expected ':'"},
      {"huge header of spaces only", npy_raw(2, 0, huge_header + "\n"), "not a Python dict"},
  };
  for (const row& r : rows) {
    INFO("case: " << r.name);
    format_error_of([&] { io::parse_npy(r.file); }, r.what);
  }
  // The offset points at the problem.
  CHECK(format_error_of([&] { io::parse_npy(npy_v1(dict, bytes(7))); }, "truncated") == 10 + dict.size() + 1 + 7);
  CHECK(format_error_of([&] { io::parse_npy(npy_v1(dict, cat(two, bytes(3)))); }, "unexpected bytes") ==
        10 + dict.size() + 1 + 8);
  CHECK(format_error_of([&] { io::parse_npy(npy_v1(with_descr("'<f3'"), bytes(3))); }, "descr") == 10 + 10);
  CHECK(format_error_of([&] { io::parse_npy(npy_raw(7, 0, dict + "\n", two)); }, "version") == 6);
}

// ---------------------------------------------------------------- .safetensors by hand

TEST_CASE("io: safetensors byte sequences of the reference implementation's tests", "[io][safetensors]") {
  SECTION("no tensors: '{}' padded with spaces to 8 bytes") {
    const bytes file = st_file("{}      ");
    CHECK(file == bytes{8, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' ', ' ', ' ', ' ', ' '});
    const auto c = io::parse_safetensors(file);
    CHECK(c.tensors.empty());
    CHECK(c.metadata.empty());
    CHECK(io::serialize_safetensors({}) == file);
  }
  SECTION("metadata only") {
    const bytes file = st_file("{\"__metadata__\":{\"framework\":\"pt\"}}     ");
    CHECK(file.size() == 48);
    const auto c = io::parse_safetensors(file);
    CHECK(c.metadata == io::metadata_map{{"framework", "pt"}});
    CHECK(io::serialize_safetensors({}, {{"framework", "pt"}}) == file);
  }
  const bytes data = le_bytes(std::vector<float>{0, 1, 2, 3, 4, 5});
  SECTION("one F32 tensor, header of 64 bytes: no padding") {
    const bytes file = st_file("{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}", data);
    CHECK(file[0] == 64);
    const auto c = io::parse_safetensors(file);
    REQUIRE(c.tensors.size() == 1);
    CHECK(c.tensors[0].name == "attn.0");
    CHECK(c.tensors[0].view.shape == io::shape_type{1, 2, 3});
    CHECK(io::to_vector<float>(c.tensors[0].view) == std::vector<float>{0, 1, 2, 3, 4, 5});
    CHECK(io::serialize_safetensors({{"attn.0", c.tensors[0].view}}) == file);
  }
  SECTION("one F32 tensor, header of 65 bytes: 7 spaces") {
    const bytes file =
        st_file("{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}       ", data);
    CHECK(file[0] == 72);
    const auto c = io::parse_safetensors(file);
    const io::tensor t = io::tensor::from_values<float>({1, 1, 2, 3}, std::vector<float>{0, 1, 2, 3, 4, 5});
    CHECK(io::equal(*c.find("attn0"), t.view()));
    CHECK(io::serialize_safetensors({{"attn0", t.view()}}) == file);
  }
}

TEST_CASE("io: an FP8 checkpoint in the hub's layout, assembled by hand", "[io][safetensors]") {
  // <name> as F8_E4M3 codes plus <name>_scale, a BF16 bias, and metadata.
  // The header lists metadata first, then the tensors in decreasing
  // alignment (F32, BF16, F8_E4M3), padded with 6 spaces to 264 bytes.
  const std::string header =
      "{\"__metadata__\":{\"format\":\"pt\",\"quant_method\":\"fp8\"},"
      "\"layer.weight_scale\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
      "\"layer.bias\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[4,10]},"
      "\"layer.weight\":{\"dtype\":\"F8_E4M3\",\"shape\":[2,3],\"data_offsets\":[10,16]}}"
      "      ";
  REQUIRE(header.size() == 264);
  const bytes data = {
      0x00, 0x00, 0x80, 0x3E,              // 0.25f
      0x80, 0x3F, 0x00, 0xC0, 0x00, 0x3F,  // bfloat16 1.0, -2.0, 0.5
      0x38, 0xC0, 0x7E, 0x01, 0x7F, 0x80,  // E4M3 1.0, -2.0, 448, 2^-9, NaN, -0
  };
  const bytes file = st_file(header, data);

  const auto c = io::parse_safetensors(file);
  CHECK(c.metadata == io::metadata_map{{"format", "pt"}, {"quant_method", "fp8"}});
  REQUIRE(c.tensors.size() == 3);
  CHECK(c.tensors[0].name == "layer.bias");  // sorted by name
  CHECK(c.tensors[1].name == "layer.weight");
  CHECK(c.tensors[2].name == "layer.weight_scale");
  const io::tensor_view* w = c.find("layer.weight");
  REQUIRE(w != nullptr);
  CHECK(w->type == io::dtype::f8_e4m3);
  CHECK(w->shape == io::shape_type{2, 3});
  CHECK(w->data == file.data() + 8 + 264 + 10);  // a view into the file
  const auto q = io::to_vector<fp8::e4m3_t>(*w);
  CHECK(static_cast<float>(q[0]) == 1.0f);
  CHECK(static_cast<float>(q[1]) == -2.0f);
  CHECK(static_cast<float>(q[2]) == 448.0f);
  CHECK(static_cast<float>(q[3]) == 0x1p-9f);
  CHECK(q[4].is_nan());
  CHECK(q[5].bits() == 0x80);
  CHECK(io::to_vector<float>(*c.find("layer.weight_scale")) == std::vector<float>{0.25f});
  const auto bias = io::to_vector<fp8::bfloat16>(*c.find("layer.bias"));
  CHECK(static_cast<float>(bias[0]) == 1.0f);
  CHECK(static_cast<float>(bias[1]) == -2.0f);
  CHECK(static_cast<float>(bias[2]) == 0.5f);
  CHECK(c.find("layer.weight_scale_inv") == nullptr);
  CHECK(c.find("") == nullptr);

  // The writer reproduces the file from the tensors, whatever their order.
  CHECK(io::serialize_safetensors({c.tensors[1], c.tensors[0], c.tensors[2]}, c.metadata) == file);

  // Quantize anew with the library's E4M3 type and write the same layout.
  const std::vector<float> weight = {0.5f, -1.0f, 224.0f, 0x1p-10f, 3.0f, -0.0f};
  const float scale = 2.0f;
  std::vector<fp8::e4m3_t> codes;
  for (const float x : weight) codes.push_back(fp8::e4m3_t(x / (1.0f / scale)));
  const io::tensor tw = io::tensor::from_values<fp8::e4m3_t>({2, 3}, codes);
  const io::tensor ts = io::tensor::from_values<float>({}, std::vector<float>{1.0f / scale});
  const bytes mine = io::serialize_safetensors({{"w", tw.view()}, {"w_scale", ts.view()}});
  const auto back = io::parse_safetensors(mine);
  CHECK(io::tensor(*back.find("w")) == tw);
  CHECK(io::tensor(*back.find("w_scale")) == ts);
  CHECK(io::to_vector<fp8::e4m3_t>(*back.find("w"))[1].bits() == 0xC0);  // -1 / 0.5 = -2
}

TEST_CASE("io: safetensors headers in other valid spellings", "[io][safetensors]") {
  SECTION("whitespace, member order, offsets out of name order, unpadded header") {
    const std::string header =
        "{\n  \"b\" : { \"data_offsets\" : [ 0 , 2 ] ,\t\"shape\":[1],\r\n\"dtype\":\"U16\"},\n"
        "  \"a\": {\"shape\": [2, 1], \"dtype\": \"I8\", \"data_offsets\": [2, 4]},\n"
        "  \"__metadata__\": {}\n} ";
    const bytes file = st_file(header, bytes{0x34, 0x12, 0xFF, 0x01});
    const auto c = io::parse_safetensors(file);
    REQUIRE(c.tensors.size() == 2);
    CHECK(c.metadata.empty());
    CHECK(io::to_vector<std::uint16_t>(*c.find("b")) == std::vector<std::uint16_t>{0x1234});
    CHECK(io::to_vector<std::int8_t>(*c.find("a")) == std::vector<std::int8_t>{-1, 1});
    CHECK(c.find("a")->shape == io::shape_type{2, 1});
  }
  SECTION("escapes and UTF-8 in names and metadata") {
    const std::string header =
        "{\"caf\\u00e9\\n\\\"q\\\"\\\\\\/\\b\\f\\r\\t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
        "\"\xe6\x97\xa5\xf0\x9f\x98\x80\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]},"
        "\"\\ud83d\\ude00\\u0000\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[2,3]},"
        "\"__metadata__\":{\"k\\u0001\":\"\\u20AC\"}}";
    const bytes file = st_file(header, bytes{1, 2, 3});
    const auto c = io::parse_safetensors(file);
    REQUIRE(c.tensors.size() == 3);
    const std::string cafe = "caf\xc3\xa9\n\"q\"\\/\b\f\r\t";
    const std::string cjk = "\xe6\x97\xa5\xf0\x9f\x98\x80";
    const std::string emoji_nul = std::string("\xf0\x9f\x98\x80\0", 5);
    REQUIRE(c.find(cafe) != nullptr);
    CHECK(c.find(cafe)->data[0] == 1);
    CHECK(c.find(cjk)->data[0] == 2);
    CHECK(c.find(emoji_nul)->data[0] == 3);
    CHECK(c.metadata == io::metadata_map{{"k\x01", "\xe2\x82\xac"}});
    // Written back with serde_json's escapes, and read back the same.
    const bytes again = io::serialize_safetensors(c.tensors, c.metadata);
    const std::string json(again.begin() + 8, again.end() - 3);
    CHECK_THAT(json, Catch::Contains("\"caf\xc3\xa9\\n\\\"q\\\"\\\\/\\b\\f\\r\\t\""));
    CHECK_THAT(json, Catch::Contains("\"\xf0\x9f\x98\x80\\u0000\""));
    CHECK_THAT(json, Catch::Contains("\"k\\u0001\":\"\xe2\x82\xac\""));
    const auto c2 = io::parse_safetensors(again);
    CHECK(c2.metadata == c.metadata);
    REQUIRE(c2.tensors.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
      CHECK(c2.tensors[i].name == c.tensors[i].name);
      CHECK(io::equal(c2.tensors[i].view, c.tensors[i].view));
    }
  }
  SECTION("empty tensors, scalars, an empty name, and empty tensors at the buffer's ends") {
    const std::string header =
        "{\"z0\":{\"dtype\":\"F64\",\"shape\":[0],\"data_offsets\":[0,0]},"
        "\"\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
        "\"z1\":{\"dtype\":\"BF16\",\"shape\":[3,0,2],\"data_offsets\":[4,4]},"
        "\"s\":{\"dtype\":\"BOOL\",\"shape\":[1,1],\"data_offsets\":[4,5]},"
        "\"z2\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[5,5]}}";
    const bytes file = st_file(header, bytes{0, 0, 0xC0, 0x3F, 1});
    const auto c = io::parse_safetensors(file);
    REQUIRE(c.tensors.size() == 5);
    CHECK(io::to_vector<float>(*c.find("")) == std::vector<float>{1.5f});
    CHECK(c.find("z1")->shape == io::shape_type{3, 0, 2});
    CHECK(c.find("z1")->size == 0u);
    CHECK(io::to_vector<bool>(*c.find("s")) == std::vector<bool>{true});
    const bytes again = io::serialize_safetensors(c.tensors);
    const auto c2 = io::parse_safetensors(again);
    CHECK(io::serialize_safetensors(c2.tensors) == again);
  }
  SECTION("every dtype, written in decreasing alignment so each offset is a multiple of its size") {
    std::vector<io::tensor> owned;
    std::vector<io::named_tensor> list;
    for (unsigned ti = 0; ti <= static_cast<unsigned>(io::dtype::u64); ++ti) {
      io::tensor t(static_cast<io::dtype>(ti), {ti % 3 + 1});
      for (std::size_t i = 0; i < t.size(); ++i) t.data()[i] = static_cast<std::uint8_t>(ti * 16 + i);
      owned.push_back(t);
    }
    for (unsigned ti = 0; ti < owned.size(); ++ti)
      list.push_back({std::string("t") + io::dtype_name(owned[ti].type()), owned[ti].view()});
    const bytes file = io::serialize_safetensors(list, {{"a", "1"}, {"b", "2"}});
    std::uint64_t n = 0;
    for (std::size_t i = 0; i < 8; ++i) n |= static_cast<std::uint64_t>(file[i]) << (8 * i);
    CHECK(n % 8 == 0);
    const auto c = io::parse_safetensors(file);
    REQUIRE(c.tensors.size() == owned.size());
    for (const io::named_tensor& t : c.tensors) {
      const auto offset = static_cast<std::size_t>(t.view.data - (file.data() + 8 + n));
      CHECK(offset % io::dtype_size(t.view.type) == 0);
      CHECK(io::equal(t.view, owned[static_cast<unsigned>(t.view.type)].view()));
    }
    CHECK(io::serialize_safetensors(c.tensors, c.metadata) == file);
  }
}

TEST_CASE("io: malformed safetensors files are format errors", "[io][safetensors]") {
  const std::string f32x2 = "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";
  const bytes eight(8, 0);
  // One tensor "a" whose entry is `entry`, with `data` as the buffer.
  auto one = [](const std::string& entry, const bytes& data) { return st_file("{\"a\":" + entry + "}", data); };
  auto entry = [](const std::string& dtype, const std::string& shape, const std::string& offsets) {
    return "{\"dtype\":" + dtype + ",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
  };
  std::string deep_array, deep_object;
  for (int i = 0; i < 100; ++i) deep_array += "[";
  for (int i = 0; i < 100; ++i) deep_array += "]";
  for (int i = 0; i < 100; ++i) deep_object += "{\"k\":";
  deep_object += "1";
  for (int i = 0; i < 100; ++i) deep_object += "}";
  std::string rank65 = "[";
  for (int i = 0; i < 65; ++i) rank65 += i ? ",1" : "1";
  rank65 += "]";

  struct row {
    const char* name;
    bytes file;
    const char* what;
  };
  const row rows[] = {
      // The size field and the header's extent.
      {"empty file", {}, "less than the 8-byte header size"},
      {"7 bytes", bytes(7, 0), "truncated"},
      {"N = 2^64 - 1", st_file("{}", {}, UINT64_MAX), "over the limit of 100000000"},
      {"N = 100000001", st_file("{}", {}, 100000001), "over the limit"},
      {"N past the end", st_file("{}", {}, 3), "runs past the end of the file"},
      {"N = 10^8 past the end", st_file("{}", {}, 100000000), "runs past the end"},
      {"N = 0", st_file(""), "does not begin with '{'"},
      {"header a JSON array", st_file("[]"), "does not begin with '{'"},
      {"header a string", st_file("\"a\""), "does not begin with '{'"},
      {"header starts with a space", st_file(" {}"), "does not begin with '{'"},
      {"header starts with a BOM", st_file("\xef\xbb\xbf{}"), "does not begin with '{'"},
      {"header deeply nested arrays", st_file(deep_array), "does not begin with '{'"},
      // Truncated or bad JSON.
      {"header '{'", st_file("{"), "ends too early"},
      {"header cut after a key", st_file("{\"a\":"), "ends too early"},
      {"header cut inside an entry", st_file("{\"a\":{\"dtype\":\"F32\""), "ends too early"},
      {"unterminated key", st_file("{\"a"), "unterminated string"},
      {"unterminated value", st_file("{\"__metadata__\":{\"k\":\"v}}"), "unterminated string"},
      {"key ends in a backslash", st_file("{\"a\\"), "unterminated string"},
      {"\\u cut short", st_file("{\"\\u00"), "cut short"},
      {"bad escape \\x", st_file("{\"\\x41\":1}"), "invalid escape \\x"},
      {"bad escape \\'", st_file("{\"\\'\":1}"), "invalid escape"},
      {"\\u with a non-hex digit", st_file("{\"\\u12G4\":1}"), "4 hex digits"},
      {"lone high surrogate", st_file("{\"\\ud800\":1}"), "lone high surrogate"},
      {"high surrogate then a letter", st_file("{\"\\ud800x\":1}"), "lone high surrogate"},
      {"two high surrogates", st_file("{\"\\ud800\\ud800\":1}"), "lone high surrogate"},
      {"lone low surrogate", st_file("{\"\\udc00\":1}"), "lone low surrogate"},
      {"raw control character", st_file("{\"a\nb\":1}"), "control character"},
      {"raw tab in a string", st_file("{\"a\tb\":1}"), "control character"},
      {"invalid UTF-8 byte 0xFF", st_file("{\"\xff\":1}"), "invalid UTF-8"},
      {"overlong UTF-8 NUL", st_file("{\"\xc0\x80\":1}"), "invalid UTF-8"},
      {"UTF-8 surrogate", st_file("{\"\xed\xa0\x80\":1}"), "invalid UTF-8"},
      {"UTF-8 past U+10FFFF", st_file("{\"\xf4\x90\x80\x80\":1}"), "invalid UTF-8"},
      {"UTF-8 cut at the end", st_file("{\"\xe6\x97"), "invalid UTF-8"},
      {"stray continuation byte", st_file("{\"\x80\":1}"), "invalid UTF-8"},
      {"single-quoted key", st_file("{'a':1}"), "expected a string key"},
      {"missing colon", st_file("{\"a\" 1}"), "expected ':'"},
      {"trailing comma in the object", one(f32x2 + ",", eight), "expected a string key"},
      {"missing comma", st_file("{\"a\":" + f32x2 + "\"b\":" + f32x2 + "}", eight), "expected ',' or '}'"},
      {"trailing comma in shape", one(entry("\"F32\"", "[2,]", "[0,8]"), eight), "trailing ','"},
      {"missing comma in shape", one(entry("\"F32\"", "[2 1]", "[0,8]"), eight), "expected ',' or ']'"},
      {"bytes after the object", st_file("{} x"), "unexpected bytes after the JSON header"},
      {"NUL padding", st_file(std::string("{}\0\0\0\0\0\0", 8)), "unexpected bytes after"},
      {"a second object", st_file("{}{}"), "unexpected bytes after"},
      // Schema.
      {"entry not an object", one("1", {}), "the entry is not a JSON object"},
      {"entry an array", one("[]", {}), "not a JSON object"},
      {"entry deeply nested", one(deep_array, {}), "not a JSON object"},
      {"metadata deeply nested", st_file("{\"__metadata__\":" + deep_object + "}"), "is not a string"},
      {"metadata not an object", st_file("{\"__metadata__\":\"x\"}"), "__metadata__ is not a JSON object"},
      {"metadata null", st_file("{\"__metadata__\":null}"), "__metadata__ is not a JSON object"},
      {"metadata value a number", st_file("{\"__metadata__\":{\"k\":1}}"), "value of 'k' is not a string"},
      {"metadata value null", st_file("{\"__metadata__\":{\"k\":null}}"), "is not a string"},
      {"metadata value an object", st_file("{\"__metadata__\":{\"k\":{}}}"), "is not a string"},
      {"a tensor entry named __metadata__", st_file("{\"__metadata__\":" + f32x2 + "}", eight), "is not a string"},
      {"missing dtype", one("{\"shape\":[2],\"data_offsets\":[0,8]}", eight), "tensor 'a' has no dtype"},
      {"missing shape", one("{\"dtype\":\"F32\",\"data_offsets\":[0,8]}", eight), "has no shape"},
      {"missing data_offsets", one("{\"dtype\":\"F32\",\"shape\":[2]}", eight), "has no data_offsets"},
      {"unknown key", one("{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}", eight),
       "unexpected key 'x'"},
      {"key 'offsets' (an old spelling)", one("{\"dtype\":\"F32\",\"shape\":[2],\"offsets\":[0,8]}", eight),
       "unexpected key 'offsets'"},
      {"duplicate dtype key", one("{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}", eight),
       "duplicate key 'dtype'"},
      {"duplicate tensor name", st_file("{\"a\":" + f32x2 + ",\"a\":" + f32x2 + "}", eight),
       "duplicate tensor name 'a'"},
      {"duplicate __metadata__", st_file("{\"__metadata__\":{},\"__metadata__\":{}}"), "duplicate key '__metadata__'"},
      {"duplicate metadata key", st_file("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}"),
       "duplicate __metadata__ key 'k'"},
      // dtype and shape.
      {"unknown dtype F4", one(entry("\"F4\"", "[2]", "[0,1]"), bytes(1)), "unsupported dtype 'F4'"},
      {"unknown dtype F6_E2M3", one(entry("\"F6_E2M3\"", "[2]", "[0,2]"), bytes(2)), "unsupported dtype"},
      {"lower-case dtype", one(entry("\"f32\"", "[2]", "[0,8]"), eight), "unknown or unsupported dtype 'f32'"},
      {"NumPy dtype name", one(entry("\"float32\"", "[2]", "[0,8]"), eight), "unsupported dtype 'float32'"},
      {"dtype a number", one(entry("4", "[2]", "[0,8]"), eight), "dtype is not a string"},
      {"shape not an array", one(entry("\"F32\"", "2", "[0,8]"), eight), "shape is not an array"},
      {"shape negative", one(entry("\"F32\"", "[-2]", "[0,8]"), eight), "negative"},
      {"shape with a fraction", one(entry("\"F32\"", "[2.0]", "[0,8]"), eight), "fraction or exponent"},
      {"shape with an exponent", one(entry("\"F32\"", "[2e0]", "[0,8]"), eight), "fraction or exponent"},
      {"shape with a leading zero", one(entry("\"F32\"", "[02]", "[0,8]"), eight), "leading zero"},
      {"shape with a plus sign", one(entry("\"F32\"", "[+2]", "[0,8]"), eight), "non-negative integer"},
      {"shape a string", one(entry("\"F32\"", "[\"2\"]", "[0,8]"), eight), "non-negative integer"},
      {"shape null", one(entry("\"F32\"", "[null]", "[0,8]"), eight), "non-negative integer"},
      {"shape nested", one(entry("\"F32\"", "[[2]]", "[0,8]"), eight), "non-negative integer"},
      {"shape 2^64", one(entry("\"U8\"", "[18446744073709551616]", "[0,0]"), {}), "does not fit 64 bits"},
      {"shape rank 65", one(entry("\"U8\"", rank65, "[0,1]"), bytes(1)), "more than 64 dimensions"},
      {"shape product overflows", one(entry("\"U8\"", "[4294967296,4294967296]", "[0,0]"), {}), "overflows"},
      {"shape product overflows past a zero", one(entry("\"U8\"", "[0,4294967296,4294967296]", "[0,0]"), {}),
       "overflows"},
      {"byte count overflows", one(entry("\"F64\"", "[2305843009213693952]", "[0,0]"), {}), "overflows"},
      // data_offsets.
      {"data_offsets not an array", one(entry("\"F32\"", "[2]", "0"), eight), "data_offsets is not an array"},
      {"data_offsets of 1", one(entry("\"F32\"", "[2]", "[8]"), eight), "has 1 elements, not 2"},
      {"data_offsets of 0", one(entry("\"F32\"", "[2]", "[]"), eight), "has 0 elements"},
      {"data_offsets of 3", one(entry("\"F32\"", "[2]", "[0,8,8]"), eight), "more than 2"},
      {"data_offsets negative", one(entry("\"F32\"", "[2]", "[-8,0]"), eight), "negative"},
      {"data_offsets 2^64", one(entry("\"F32\"", "[2]", "[0,18446744073709551616]"), eight), "64 bits"},
      {"data_offsets reversed", one(entry("\"F32\"", "[2]", "[8,0]"), eight), "data_offsets [8, 0] are reversed"},
      {"data_offsets past the end", one(entry("\"F32\"", "[2]", "[0,8]"), bytes(4)), "run past the end"},
      {"data_offsets far past the end", one(entry("\"U8\"", "[1]", "[18446744073709551614,18446744073709551615]"),
                                            bytes(1)),
       "run past the end"},
      {"size mismatch", one(entry("\"F32\"", "[2]", "[0,4]"), bytes(4)), "needs 8 bytes but data_offsets [0, 4] hold 4"},
      {"size mismatch, empty shape", one(entry("\"F32\"", "[0]", "[0,4]"), bytes(4)), "needs 0 bytes"},
      {"scalar with no bytes", one(entry("\"F32\"", "[]", "[0,0]"), {}), "needs 4 bytes"},
      {"overlap", st_file("{\"a\":" + entry("\"F32\"", "[2]", "[0,8]") + ",\"b\":" + entry("\"F32\"", "[2]", "[4,12]") + "}",
                          bytes(12)),
       "tensor 'b': data_offsets [4, 12] overlap those of tensor 'a'"},
      {"same range twice", st_file("{\"a\":" + f32x2 + ",\"b\":" + f32x2 + "}", eight), "overlap"},
      {"empty tensor inside another", st_file("{\"a\":" + f32x2 + ",\"z\":" + entry("\"U8\"", "[0]", "[4,4]") + "}", eight),
       "tensor 'z': data_offsets [4, 4] overlap"},
      {"hole between tensors",
       st_file("{\"a\":" + entry("\"F32\"", "[1]", "[0,4]") + ",\"b\":" + entry("\"F32\"", "[1]", "[8,12]") + "}",
               bytes(12)),
       "bytes [4, 8) of the data buffer belong to no tensor (a hole before tensor 'b')"},
      {"hole at the start", one(entry("\"F32\"", "[1]", "[4,8]"), eight), "bytes [0, 4)"},
      {"empty tensor past the data", st_file("{\"a\":" + f32x2 + ",\"z\":" + entry("\"U8\"", "[0]", "[9,9]") + "}", eight),
       "run past the end"},
      {"trailing bytes", one(entry("\"F32\"", "[1]", "[0,4]"), eight), "4 bytes at the end of the data buffer belong to no tensor"},
      {"bytes but no tensors", st_file("{}", bytes(3)), "3 bytes at the end"},
      {"bytes with metadata only", st_file("{\"__metadata__\":{}}", bytes(1)), "belong to no tensor"},
  };
  for (const row& r : rows) {
    INFO("case: " << r.name);
    format_error_of([&] { io::parse_safetensors(r.file); }, r.what);
  }

  // Offsets: in the size field, in the header, and in the buffer.
  CHECK(format_error_of([&] { parse_st(st_file("{}", {}, 99)); }, "runs past") == 0);
  CHECK(format_error_of([&] { parse_st(st_file("{\"a\":1}")); }, "not a JSON object") == 8 + 5);
  CHECK(format_error_of([&] { parse_st(st_file("{\"\\ud800\":1}")); }, "surrogate") == 8 + 2);
  CHECK(format_error_of([&] { parse_st(one(entry("\"F32\"", "[2]", "[8,0]"), eight)); }, "reversed") ==
        8 + 1);
  const std::string hole = "{\"a\":" + entry("\"F32\"", "[1]", "[0,4]") + ",\"b\":" + entry("\"F32\"", "[1]", "[8,12]") + "}";
  CHECK(format_error_of([&] { parse_st(st_file(hole, bytes(12))); }, "hole") == 8 + hole.size() + 4);
  // A file's name goes into the message.
  format_error_of([&] { parse_st(bytes(3), "model.safetensors"); }, "truncated", "model.safetensors");
}

TEST_CASE("io: the JSON reader caps nesting and rejects what JSON does not allow", "[io][json]") {
  auto skip = [](const std::string& s) {
    fp8::io::detail::json_reader r(reinterpret_cast<const std::uint8_t*>(s.data()), s.size(), 0, "<json>");
    r.skip_value();
    if (!r.at_end()) r.fail("trailing");
  };
  std::string ok64, deep65;
  for (int i = 0; i < 64; ++i) ok64 += "[";
  for (int i = 0; i < 64; ++i) ok64 += "]";
  for (int i = 0; i < 65; ++i) deep65 += "[";
  skip(ok64);
  skip("{\"a\": [1, -2.5e+3, 0.0, -0, true, false, null, \"\\u00e9\"], \"b\": {}}");
  format_error_of([&] { skip(deep65); }, "nested deeper than 64 levels", "<json>");
  std::string objects;
  for (int i = 0; i < 65; ++i) objects += "{\"k\":";
  format_error_of([&] { skip(objects); }, "nested deeper", "<json>");
  // A million open brackets stop at the 65th: no recursion past the cap.
  format_error_of([&] { skip(std::string(1000000, '[')); }, "nested deeper", "<json>");
  for (const char* bad : {"01", "-", "1.", ".5", "1e", "1e+", "+1", "tru", "nul", "True", "[1,]", "{\"a\":1,}", "[1 2]",
                          "{\"a\" 1}", "{1:2}", "\"\\u12\"", "'a'", "NaN", "Infinity", "-Infinity"}) {
    INFO(bad);
    CHECK_THROWS_AS(skip(bad), io::format_error);
  }
  // The string writer escapes what the reader needs escaped.
  std::string all;
  for (int c = 1; c < 128; ++c) all += static_cast<char>(c);
  all += "\xc3\xa9\xf0\x9f\x98\x80";
  std::string json;
  fp8::io::detail::append_json_string(json, all);
  fp8::io::detail::json_reader r(reinterpret_cast<const std::uint8_t*>(json.data()), json.size(), 0, "<json>");
  CHECK(r.read_string() == all);
  CHECK(r.at_end());
  CHECK(fp8::io::detail::valid_utf8("\xf4\x8f\xbf\xbf"));
  CHECK_FALSE(fp8::io::detail::valid_utf8("\xf4\x90\x80\x80"));
  CHECK_FALSE(fp8::io::detail::valid_utf8("\xe0\x9f\xbf"));  // overlong 3-byte
}

TEST_CASE("io: writers reject bad arguments before writing anything", "[io][safetensors]") {
  const io::tensor t = io::tensor::from_values<float>({2}, std::vector<float>{1, 2});
  auto check = [&](const std::vector<io::named_tensor>& list, const io::metadata_map& m, const char* what) {
    INFO(what);
    CHECK_THAT(invalid_argument_of([&] { io::serialize_safetensors(list, m); }), Catch::Contains(what));
    const std::string path = temp_path("rejected.safetensors");
    CHECK_THAT(invalid_argument_of([&] { io::write_safetensors(path, list, m); }), Catch::Contains(what));
    CHECK_FALSE(std::filesystem::exists(path));
  };
  check({{"a", t.view()}, {"a", t.view()}}, {}, "two tensors named 'a'");
  check({{"__metadata__", t.view()}}, {}, "reserved for metadata");
  check({{"\xff", t.view()}}, {}, "not valid UTF-8");
  check({{"a", t.view()}}, {{"k", "\xc0\x80"}}, "not valid UTF-8");
  check({{"a", io::tensor_view{io::dtype::f32, {3}, t.data(), 8}}}, {}, "need 12 bytes");
  check({{"a", io::tensor_view{io::dtype::f32, {2}, nullptr, 8}}}, {}, "null data");
  check({{"a", io::tensor_view{static_cast<io::dtype>(77), {2}, t.data(), 8}}}, {}, "not an fp8::io::dtype");
  check({{"a", io::tensor_view{io::dtype::u8, io::shape_type(65, 1), t.data(), 1}}}, {}, "65 dimensions");
  check({{"ok", t.view()}, {"b", io::tensor_view{io::dtype::f32, {3}, t.data(), 8}}}, {}, "[1] 'b'");
  CHECK_THAT(invalid_argument_of([] { io::parse_safetensors(nullptr, 8); }), Catch::Contains("'data'"));
  CHECK_THAT(invalid_argument_of([] { io::parse_npy(nullptr, 1); }), Catch::Contains("'data'"));
  format_error_of([] { io::parse_safetensors(nullptr, 0, "x"); }, "less than the 8-byte header size", "x");
}

TEST_CASE("io: files on disk", "[io]") {
  const io::tensor w = io::tensor::from_values<fp8::e4m3_t>({3}, std::vector<fp8::e4m3_t>{fp8::e4m3_t(1.0f),
                                                                                           fp8::e4m3_t(-0.5f),
                                                                                           fp8::e4m3_t(300.0f)});
  const io::tensor s = io::tensor::from_values<float>({}, std::vector<float>{0.125f});
  const std::string st = temp_path("model.safetensors");
  io::write_safetensors(st, {{"w", w.view()}, {"w_scale", s.view()}}, {{"format", "pt"}});
  CHECK(std::filesystem::file_size(st) ==
        io::serialize_safetensors({{"w", w.view()}, {"w_scale", s.view()}}, {{"format", "pt"}}).size());
  io::safetensors_file f = io::read_safetensors(st);
  CHECK(f.metadata() == io::metadata_map{{"format", "pt"}});
  REQUIRE(f.find("w") != nullptr);
  CHECK(io::tensor(*f.find("w")) == w);
  io::safetensors_file moved = std::move(f);  // the views follow the buffer
  CHECK(io::tensor(*moved.find("w_scale")) == s);
  CHECK(moved.find("w")->data >= moved.bytes().data());
  CHECK(moved.find("w")->data + 3 <= moved.bytes().data() + moved.bytes().size());

  const std::string np = temp_path("x.npy");
  const io::tensor x = io::tensor::from_values<double>({2, 2}, std::vector<double>{1, 2, 3, 4});
  io::write_npy(np, x.view());
  CHECK(io::read_npy(np) == x);
  CHECK(load_abs(np) == io::serialize_npy(x.view()));

  // The size limit comes before any allocation; the error names the file.
  format_error_of([&] { io::read_safetensors(st, io::read_options{16}); }, "more than the limit of 16", st);
  format_error_of([&] { io::read_npy(np, io::read_options{10}); }, "read_options::max_file_bytes", np);
  // A malformed file names itself.
  {
    std::ofstream(temp_path("bad.npy"), std::ios::binary) << "not npy";
  }
  format_error_of([&] { io::read_npy(temp_path("bad.npy")); }, "not a .npy file", temp_path("bad.npy"));
  // Operating-system failures are io_error.
  CHECK_THROWS_AS(io::read_npy(temp_path("missing.npy")), io::io_error);
  CHECK_THROWS_AS(io::read_safetensors(std::filesystem::temp_directory_path().string()), io::io_error);
  CHECK_THROWS_AS(io::write_npy(temp_path("no/such/dir/x.npy"), x.view()), io::io_error);
  // A dtype NumPy cannot hold is refused before the file is created.
  CHECK_THROWS_AS(io::write_npy(temp_path("w.npy"), w.view()), fp8::invalid_argument);
  CHECK_FALSE(std::filesystem::exists(temp_path("w.npy")));
}

TEST_CASE("io: write then read is the identity on random tensor sets", "[io]") {
  std::mt19937_64 rng(2024);
  for (int round = 0; round < 200; ++round) {
    std::vector<io::tensor> owned;
    std::vector<io::named_tensor> list;
    io::metadata_map meta;
    const int count = static_cast<int>(rng() % 6);
    for (int i = 0; i < count; ++i) {
      const auto type = static_cast<io::dtype>(rng() % (static_cast<unsigned>(io::dtype::u64) + 1));
      io::shape_type shape(rng() % 4);
      for (auto& d : shape) d = rng() % 4;
      io::tensor t(type, shape);
      for (std::size_t k = 0; k < t.size(); ++k) t.data()[k] = static_cast<std::uint8_t>(rng());
      owned.push_back(std::move(t));
    }
    for (int i = 0; i < count; ++i) {
      std::string name;
      const int len = static_cast<int>(rng() % 5);
      static const char* const pieces[] = {"a", "b", "\"", "\\", "\n", "\x01", "\xc3\xa9", ".", "\xe6\x97\xa5"};
      for (int k = 0; k < len; ++k) name += pieces[rng() % 9];
      name += std::to_string(i);  // unique
      list.push_back({name, owned[static_cast<std::size_t>(i)].view()});
    }
    if (rng() % 2) meta["k" + std::to_string(rng() % 3)] = std::string(rng() % 3, '"');
    const bytes file = io::serialize_safetensors(list, meta);
    const auto c = io::parse_safetensors(file);
    CHECK(c.metadata == meta);
    REQUIRE(c.tensors.size() == list.size());
    for (const io::named_tensor& t : list) {
      const io::tensor_view* v = c.find(t.name);
      REQUIRE(v != nullptr);
      CHECK(io::equal(*v, t.view));
    }
    CHECK(io::serialize_safetensors(c.tensors, c.metadata) == file);
    for (const io::tensor& t : owned)
      if (io::npy_descr(t.type()) != nullptr) CHECK(io::parse_npy(io::serialize_npy(t.view())) == t);
  }
}
