// SPDX-License-Identifier: Apache-2.0
// The in-memory tensor that the .npy and .safetensors readers produce and
// the writers consume: an element type (fp8::io::dtype, the safetensors
// dtype list minus its sub-byte F4/F6 types), a shape (row-major, one
// std::uint64_t per dimension, at most max_rank of them) and the elements'
// bytes, always little-endian and in C (row-major) order, which is what
// both file formats store. tensor_view points at bytes it does not own (a
// safetensors file held in memory); tensor owns them. Elements are read
// and written through memcpy (to_vector, from_values), never through a
// reinterpreted pointer, so a buffer of any alignment is fine.
#pragma once

#include <complex>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "../config.hpp"
#include "../error.hpp"
#include "../types/e8m0.hpp"
#include "../types/float16.hpp"
#include "../types/fp8.hpp"
#include "error.hpp"

FP8_BEGIN_NAMESPACE
namespace io {

// Element types, in the order of safetensors' own Dtype enum (increasing
// alignment), which the safetensors writer uses to order tensors so that
// every tensor's offset is a multiple of its element size.
enum class dtype : std::uint8_t {
  boolean,      // BOOL: one byte, 0 or 1 (other bytes are kept as they are; to_vector<bool> maps non-zero to true)
  u8,           // U8
  i8,           // I8
  f8_e5m2,      // F8_E5M2: fp8::e5m2_t codes
  f8_e4m3,      // F8_E4M3: fp8::e4m3_t codes (E4M3FN: no infinity, NaN 0x7F/0xFF)
  f8_e8m0,      // F8_E8M0: fp8::E8M0 codes (MX scales)
  f8_e4m3fnuz,  // F8_E4M3FNUZ: fp8::e4m3fnuz_t codes
  f8_e5m2fnuz,  // F8_E5M2FNUZ: fp8::e5m2fnuz_t codes
  i16,          // I16
  u16,          // U16
  f16,          // F16: fp8::half
  bf16,         // BF16: fp8::bfloat16
  i32,          // I32
  u32,          // U32
  f32,          // F32: float
  c64,          // C64: std::complex<float>, real part first
  f64,          // F64: double
  i64,          // I64
  u64,          // U64
};

// The most dimensions a shape may have. NumPy 2 allows 64 (NumPy 1 allowed
// 32); safetensors sets no limit, but a rank cap keeps a hostile header
// from making the reader hold millions of dimensions.
constexpr std::size_t max_rank = 64;

using shape_type = std::vector<std::uint64_t>;

constexpr bool is_dtype(dtype t) noexcept { return static_cast<unsigned>(t) <= static_cast<unsigned>(dtype::u64); }

// Bytes per element; 0 for a value that is not an enumerator.
constexpr std::size_t dtype_size(dtype t) noexcept {
  switch (t) {
    case dtype::boolean:
    case dtype::u8:
    case dtype::i8:
    case dtype::f8_e5m2:
    case dtype::f8_e4m3:
    case dtype::f8_e8m0:
    case dtype::f8_e4m3fnuz:
    case dtype::f8_e5m2fnuz:
      return 1;
    case dtype::i16:
    case dtype::u16:
    case dtype::f16:
    case dtype::bf16:
      return 2;
    case dtype::i32:
    case dtype::u32:
    case dtype::f32:
      return 4;
    case dtype::c64:
    case dtype::f64:
    case dtype::i64:
    case dtype::u64:
      return 8;
  }
  return 0;
}

// The safetensors spelling ("F8_E4M3"); "?" for a value that is not an enumerator.
constexpr const char* dtype_name(dtype t) noexcept {
  switch (t) {
    case dtype::boolean: return "BOOL";
    case dtype::u8: return "U8";
    case dtype::i8: return "I8";
    case dtype::f8_e5m2: return "F8_E5M2";
    case dtype::f8_e4m3: return "F8_E4M3";
    case dtype::f8_e8m0: return "F8_E8M0";
    case dtype::f8_e4m3fnuz: return "F8_E4M3FNUZ";
    case dtype::f8_e5m2fnuz: return "F8_E5M2FNUZ";
    case dtype::i16: return "I16";
    case dtype::u16: return "U16";
    case dtype::f16: return "F16";
    case dtype::bf16: return "BF16";
    case dtype::i32: return "I32";
    case dtype::u32: return "U32";
    case dtype::f32: return "F32";
    case dtype::c64: return "C64";
    case dtype::f64: return "F64";
    case dtype::i64: return "I64";
    case dtype::u64: return "U64";
  }
  return "?";
}

// The dtype whose safetensors spelling is `name` (case-sensitive), if any.
inline std::optional<dtype> dtype_from_name(std::string_view name) noexcept {
  for (unsigned i = 0; i <= static_cast<unsigned>(dtype::u64); ++i) {
    const auto t = static_cast<dtype>(i);
    if (name == dtype_name(t)) return t;
  }
  return std::nullopt;
}

// The C++ element type of each dtype: dtype_of<float>::value == dtype::f32.
template <class T>
struct dtype_of;
#define FP8_IO_DTYPE_OF(T, D) \
  template <>                 \
  struct dtype_of<T> : std::integral_constant<dtype, dtype::D> {}
FP8_IO_DTYPE_OF(bool, boolean);
FP8_IO_DTYPE_OF(std::uint8_t, u8);
FP8_IO_DTYPE_OF(std::int8_t, i8);
FP8_IO_DTYPE_OF(e5m2_t, f8_e5m2);
FP8_IO_DTYPE_OF(e4m3_t, f8_e4m3);
FP8_IO_DTYPE_OF(E8M0, f8_e8m0);
FP8_IO_DTYPE_OF(e4m3fnuz_t, f8_e4m3fnuz);
FP8_IO_DTYPE_OF(e5m2fnuz_t, f8_e5m2fnuz);
FP8_IO_DTYPE_OF(std::int16_t, i16);
FP8_IO_DTYPE_OF(std::uint16_t, u16);
FP8_IO_DTYPE_OF(half, f16);
FP8_IO_DTYPE_OF(bfloat16, bf16);
FP8_IO_DTYPE_OF(std::int32_t, i32);
FP8_IO_DTYPE_OF(std::uint32_t, u32);
FP8_IO_DTYPE_OF(float, f32);
FP8_IO_DTYPE_OF(std::complex<float>, c64);
FP8_IO_DTYPE_OF(double, f64);
FP8_IO_DTYPE_OF(std::int64_t, i64);
FP8_IO_DTYPE_OF(std::uint64_t, u64);
#undef FP8_IO_DTYPE_OF

// The number of elements of `shape`, or nullopt when the product of its
// non-zero dimensions overflows 64 bits. (Zero dimensions are left out of
// the overflow test so that the answer does not depend on their position:
// [0, 2^40, 2^40] and [2^40, 2^40, 0] are both rejected.)
inline std::optional<std::uint64_t> element_count(const shape_type& shape) noexcept {
  std::uint64_t nonzero = 1;
  bool empty = false;
  for (const std::uint64_t d : shape) {
    if (d == 0) {
      empty = true;
    } else {
      if (nonzero > UINT64_MAX / d) return std::nullopt;
      nonzero *= d;
    }
  }
  return empty ? 0 : nonzero;
}

// The bytes of a `t` tensor of `shape`, or nullopt when the count above
// overflows or, times the element size, does not fit std::size_t (the same
// non-zero-dimension rule).
inline std::optional<std::size_t> byte_count(dtype t, const shape_type& shape) noexcept {
  std::uint64_t nonzero = 1;
  bool empty = false;
  for (const std::uint64_t d : shape) {
    if (d == 0) {
      empty = true;
    } else {
      if (nonzero > UINT64_MAX / d) return std::nullopt;
      nonzero *= d;
    }
  }
  const std::uint64_t size = dtype_size(t);
  if (size == 0 || nonzero > UINT64_MAX / size || nonzero * size > SIZE_MAX) return std::nullopt;
  return empty ? std::size_t{0} : static_cast<std::size_t>(nonzero * size);
}

// A tensor whose bytes live elsewhere (a file read into memory, a caller's
// array). `size` is the byte count, dtype_size(type) times the elements.
struct tensor_view {
  dtype type = dtype::u8;
  shape_type shape{0};
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;
};

namespace detail {

#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
constexpr bool host_little_endian = false;
#else
constexpr bool host_little_endian = true;
#endif

// The n-byte little-endian unsigned integer at p (n <= 8).
inline std::uint64_t load_le(const std::uint8_t* p, std::size_t n) noexcept {
  std::uint64_t v = 0;
  for (std::size_t i = n; i-- > 0;) v = (v << 8) | p[i];
  return v;
}

// The unit whose bytes a change of byte order reverses: the element, except
// for C64, two floats.
constexpr std::size_t swap_unit(dtype t) noexcept { return t == dtype::c64 ? 4 : dtype_size(t); }

// Reverses the bytes of each `unit`-byte group of [p, p + bytes).
inline void reverse_units(std::uint8_t* p, std::size_t bytes, std::size_t unit) noexcept {
  if (unit < 2) return;
  for (std::size_t i = 0; i + unit <= bytes; i += unit)
    for (std::size_t a = i, b = i + unit - 1; a < b; ++a, --b) std::swap(p[a], p[b]);
}

// Throws fp8::invalid_argument unless `v` describes a tensor consistently:
// an enumerator dtype, at most max_rank dimensions, `size` equal to the
// byte count of the shape, and data non-null when size is not 0. `which`
// (e.g. "[2] 'w' ") goes before the reason when the argument is a list.
inline void check_view(const char* function, const char* argument, const tensor_view& v, const std::string& which = "") {
  auto fail = [&](const std::string& why) { ::fp8::detail::fail_argument(function, argument, which + why); };
  if (!is_dtype(v.type)) fail("has type " + std::to_string(static_cast<unsigned>(v.type)) + ", not an fp8::io::dtype");
  if (v.shape.size() > max_rank)
    fail("has " + std::to_string(v.shape.size()) + " dimensions, more than " + std::to_string(max_rank));
  const auto bytes = byte_count(v.type, v.shape);
  if (!bytes) fail("has a shape whose byte count overflows size_t");
  if (*bytes != v.size)
    fail("has size " + std::to_string(v.size) + " but its shape and dtype need " + std::to_string(*bytes) + " bytes");
  if (v.size != 0 && v.data == nullptr) fail("has null data with a non-zero size");
}

template <class T>
void check_element_type(const char* function, const tensor_view& v) {
  if (dtype_of<T>::value != v.type)
    ::fp8::detail::fail_argument(function, "view",
                  std::string("holds ") + dtype_name(v.type) + " elements, not " + dtype_name(dtype_of<T>::value));
}

}  // namespace detail

// Copies the elements of `v` into out[0, count), converting from
// little-endian; T must be the element type of v's dtype (dtype_of<T>) and
// count its element count, else fp8::invalid_argument.
template <class T>
void copy_values(const tensor_view& v, T* out, std::size_t count) {
  static_assert(std::is_trivially_copyable<T>::value, "elements are copied bytewise");
  detail::check_view("fp8::io::copy_values", "view", v);
  detail::check_element_type<T>("fp8::io::copy_values", v);
  FP8_REQUIRE_ARG(count == v.size / sizeof(T), "fp8::io::copy_values", "count",
                  "must be the tensor's element count, " + std::to_string(v.size / sizeof(T)));
  FP8_REQUIRE_ARG(out != nullptr || count == 0, "fp8::io::copy_values", "out", "is null with a non-zero count");
  if (count == 0) return;
  if constexpr (std::is_same<T, bool>::value) {
    // A BOOL byte other than 0 or 1 is not a valid bool object; map it.
    for (std::size_t i = 0; i < count; ++i) out[i] = v.data[i] != 0;
  } else {
    std::memcpy(static_cast<void*>(out), v.data, v.size);
    if (!detail::host_little_endian)
      detail::reverse_units(reinterpret_cast<std::uint8_t*>(out), v.size, detail::swap_unit(v.type));
  }
}

template <class T>
std::vector<T> to_vector(const tensor_view& v) {
  detail::check_view("fp8::io::to_vector", "view", v);
  detail::check_element_type<T>("fp8::io::to_vector", v);
  if constexpr (std::is_same<T, bool>::value) {
    // vector<bool> has no data(): map the bytes one by one.
    std::vector<bool> out(v.size);
    for (std::size_t i = 0; i < v.size; ++i) out[i] = v.data[i] != 0;
    return out;
  } else {
    std::vector<T> out(v.size / sizeof(T));
    copy_values(v, out.data(), out.size());
    return out;
  }
}

// Same dtype, shape and bytes.
inline bool equal(const tensor_view& a, const tensor_view& b) noexcept {
  return a.type == b.type && a.shape == b.shape && a.size == b.size &&
         (a.size == 0 || std::memcmp(a.data, b.data, a.size) == 0);
}

// A tensor that owns its bytes.
class tensor {
 public:
  // An empty U8 tensor of shape [0].
  tensor() = default;
  // Zero bytes (0 of every integer and float type; +0 of every FP8 format
  // but E8M0, whose code 0 is 2^-127).
  tensor(dtype type, shape_type shape) : type_(type), shape_(std::move(shape)) {
    bytes_.resize(checked_bytes("fp8::io::tensor", type_, shape_));
  }
  tensor(dtype type, shape_type shape, std::vector<std::uint8_t> bytes)
      : type_(type), shape_(std::move(shape)), bytes_(std::move(bytes)) {
    const std::size_t need = checked_bytes("fp8::io::tensor", type_, shape_);
    FP8_REQUIRE_ARG(bytes_.size() == need, "fp8::io::tensor", "bytes",
                    "holds " + std::to_string(bytes_.size()) + " bytes, the shape needs " + std::to_string(need));
  }
  // A copy of a view's bytes.
  explicit tensor(const tensor_view& v) : type_(v.type), shape_(v.shape) {
    detail::check_view("fp8::io::tensor", "view", v);
    if (v.size != 0) bytes_.assign(v.data, v.data + v.size);
  }

  // A tensor of dtype_of<T> holding values[0, count) (stored little-endian);
  // count must be the shape's element count.
  template <class T>
  static tensor from_values(shape_type shape, const T* values, std::size_t count) {
    static_assert(std::is_trivially_copyable<T>::value, "elements are copied bytewise");
    tensor t(dtype_of<T>::value, std::move(shape));
    FP8_REQUIRE_ARG(count == t.bytes_.size() / sizeof(T), "fp8::io::tensor::from_values", "count",
                    "is " + std::to_string(count) + ", the shape has " + std::to_string(t.bytes_.size() / sizeof(T)) +
                        " elements");
    FP8_REQUIRE_ARG(values != nullptr || count == 0, "fp8::io::tensor::from_values", "values",
                    "is null with a non-zero count");
    if (count == 0) return t;
    if constexpr (std::is_same<T, bool>::value) {
      for (std::size_t i = 0; i < count; ++i) t.bytes_[i] = values[i] ? 1 : 0;
    } else {
      std::memcpy(t.bytes_.data(), static_cast<const void*>(values), t.bytes_.size());
      if (!detail::host_little_endian) detail::reverse_units(t.bytes_.data(), t.bytes_.size(), detail::swap_unit(t.type_));
    }
    return t;
  }
  template <class T>
  static tensor from_values(shape_type shape, const std::vector<T>& values) {
    if constexpr (std::is_same<T, bool>::value) {
      // vector<bool> has no data(): go through a plain array.
      std::unique_ptr<bool[]> copy(new bool[values.size()]);
      for (std::size_t i = 0; i < values.size(); ++i) copy[i] = values[i];
      return from_values(std::move(shape), copy.get(), values.size());
    } else {
      return from_values(std::move(shape), values.data(), values.size());
    }
  }

  dtype type() const noexcept { return type_; }
  const shape_type& shape() const noexcept { return shape_; }
  std::uint64_t elements() const noexcept { return bytes_.size() / dtype_size(type_); }
  // Bytes.
  std::size_t size() const noexcept { return bytes_.size(); }
  const std::uint8_t* data() const noexcept { return bytes_.data(); }
  std::uint8_t* data() noexcept { return bytes_.data(); }
  const std::vector<std::uint8_t>& bytes() const noexcept { return bytes_; }
  tensor_view view() const { return tensor_view{type_, shape_, bytes_.data(), bytes_.size()}; }

  template <class T>
  std::vector<T> to_vector() const {
    return io::to_vector<T>(view());
  }

  friend bool operator==(const tensor& a, const tensor& b) noexcept {
    return a.type_ == b.type_ && a.shape_ == b.shape_ && a.bytes_ == b.bytes_;
  }
  friend bool operator!=(const tensor& a, const tensor& b) noexcept { return !(a == b); }

 private:
  static std::size_t checked_bytes(const char* function, dtype type, const shape_type& shape) {
    if (!is_dtype(type))
      ::fp8::detail::fail_argument(function, "type", "is " + std::to_string(static_cast<unsigned>(type)) + ", not an fp8::io::dtype");
    FP8_REQUIRE_ARG(shape.size() <= max_rank, function, "shape",
                    "has " + std::to_string(shape.size()) + " dimensions, more than " + std::to_string(max_rank));
    const auto bytes = byte_count(type, shape);
    FP8_REQUIRE_ARG(bytes.has_value(), function, "shape", "has a byte count that overflows size_t");
    return *bytes;
  }

  dtype type_ = dtype::u8;
  shape_type shape_{0};
  std::vector<std::uint8_t> bytes_;
};

}  // namespace io
FP8_END_NAMESPACE
