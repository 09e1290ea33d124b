// SPDX-License-Identifier: Apache-2.0
// The value type fp8<F>: one byte holding a code of format F, with exact
// conversions through the scalar codec (codec/scalar.hpp, where the rounding
// and special-value rules are written out), IEEE comparisons, arithmetic
// through float, std::hash, operator<< (types/value_ops.hpp, as for half and
// bfloat16) and std::numeric_limits derived from format_traits<F>. Needs
// only the standard library.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <limits>
#include <type_traits>

#include "../codec/scalar.hpp"
#include "../config.hpp"
#include "format.hpp"
#include "limits.hpp"
#include "value_ops.hpp"

FP8_BEGIN_NAMESPACE

template <class Format>
class fp8 {
 public:
  using format = Format;
  using traits = format_traits<Format>;

  // +0.
  FP8_HOST_DEVICE constexpr fp8() noexcept : bits_(0) {}
  // = from_float(x): nearest, ties to even, saturating.
  FP8_HOST_DEVICE FP8_BIT_CAST_CONSTEXPR explicit fp8(float x) noexcept : bits_(scalar::encode<Format>(x)) {}

  FP8_HOST_DEVICE static FP8_BIT_CAST_CONSTEXPR fp8 from_float(float x, overflow o = overflow::saturate) noexcept {
    return from_bits(scalar::encode<Format>(x, o));
  }
  // One rounding from the double's exact value, not through float.
  FP8_HOST_DEVICE static FP8_BIT_CAST_CONSTEXPR fp8 from_double(double x, overflow o = overflow::saturate) noexcept {
    return from_bits(scalar::encode<Format>(x, o));
  }
  FP8_HOST_DEVICE static constexpr fp8 from_bits(std::uint8_t b) noexcept {
    fp8 r;
    r.bits_ = b;
    return r;
  }
  FP8_HOST_DEVICE constexpr std::uint8_t bits() const noexcept { return bits_; }

  // Exact.
  FP8_HOST_DEVICE FP8_BIT_CAST_CONSTEXPR explicit operator float() const noexcept {
    return scalar::decode<Format>(bits_);
  }
  FP8_HOST_DEVICE FP8_BIT_CAST_CONSTEXPR explicit operator double() const noexcept {
    return static_cast<double>(scalar::decode<Format>(bits_));
  }

  FP8_HOST_DEVICE constexpr bool is_nan() const noexcept { return traits::is_nan_code(bits_); }
  FP8_HOST_DEVICE constexpr bool is_inf() const noexcept { return traits::is_infinity_code(bits_); }
  FP8_HOST_DEVICE constexpr bool is_zero() const noexcept { return (bits_ & traits::magnitude_mask) == 0 && !is_nan(); }

  // Negation flips the sign bit; zero and NaN of the fnuz formats have no
  // sign to flip and stay as they are.
  FP8_HOST_DEVICE constexpr fp8 operator-() const noexcept {
    if (!traits::has_negative_zero && (bits_ & traits::magnitude_mask) == 0) return *this;
    return from_bits(static_cast<std::uint8_t>(bits_ ^ traits::sign_mask));
  }
  FP8_HOST_DEVICE constexpr fp8 operator+() const noexcept { return *this; }

 private:
  std::uint8_t bits_;
};

using e4m3_t = fp8<E4M3>;
using e5m2_t = fp8<E5M2>;
using e4m3fnuz_t = fp8<E4M3FNUZ>;
using e5m2fnuz_t = fp8<E5M2FNUZ>;

// The codes of format F in a byte buffer (a weight file's tensor, a
// framework's uint8 storage), as the fp8<F> array every entry takes:
// fp8::gemm(..., fp8::codes<fp8::E4M3>(bytes), ...). fp8<F> is one byte
// with no padding and alignment 1, an implicit-lifetime type, so the bytes
// are its codes; the library's entries read them as bytes.
template <class F>
FP8_HOST_DEVICE inline const fp8<F>* codes(const std::uint8_t* p) noexcept {
  return reinterpret_cast<const fp8<F>*>(p);
}
template <class F>
FP8_HOST_DEVICE inline fp8<F>* codes(std::uint8_t* p) noexcept {
  return reinterpret_cast<fp8<F>*>(p);
}
template <class F>
FP8_HOST_DEVICE inline const fp8<F>* codes(const std::byte* p) noexcept {
  return reinterpret_cast<const fp8<F>*>(p);
}
template <class F>
FP8_HOST_DEVICE inline fp8<F>* codes(std::byte* p) noexcept {
  return reinterpret_cast<fp8<F>*>(p);
}

template <class T>
struct is_fp8 : std::false_type {};
template <class F>
struct is_fp8<fp8<F>> : std::true_type {};

// Comparisons, isnan, isinf, isfinite, signbit, abs and operator<<:
// types/value_ops.hpp, shared with half and bfloat16.
namespace detail {
template <class F>
struct is_value_type<fp8<F>> : std::true_type {};
}  // namespace detail

// Arithmetic computes in float and rounds once to F with the default
// (saturating) policy, as fp8(float) does. The float result of +, -, *, / on
// two FP8 values, rounded again to FP8, equals the correctly rounded FP8
// result: float carries 24 bits, at least 2p + 2 for FP8's p <= 4, which makes
// the double rounding innocuous (Figueroa, "When is double rounding
// innocuous?", SIGNUM 1995). Overflow therefore saturates, NaN propagates.
#define FP8_DEFINE_ARITHMETIC(op)                                                               \
  template <class F>                                                                            \
  FP8_HOST_DEVICE FP8_BIT_CAST_CONSTEXPR fp8<F> operator op(fp8<F> a, fp8<F> b) noexcept {      \
    return fp8<F>(static_cast<float>(a) op static_cast<float>(b));                              \
  }                                                                                             \
  template <class F>                                                                            \
  FP8_HOST_DEVICE FP8_BIT_CAST_CONSTEXPR fp8<F>& operator op##=(fp8<F>& a, fp8<F> b) noexcept { \
    return a = a op b;                                                                          \
  }
FP8_DEFINE_ARITHMETIC(+)
FP8_DEFINE_ARITHMETIC(-)
FP8_DEFINE_ARITHMETIC(*)
FP8_DEFINE_ARITHMETIC(/)
#undef FP8_DEFINE_ARITHMETIC

static_assert(sizeof(e4m3_t) == 1 && sizeof(e5m2_t) == 1 && alignof(e4m3_t) == 1,
              "fp8 is one byte, alignment 1 (codes())");
static_assert(std::is_trivially_copyable<e4m3_t>::value, "fp8 is trivially copyable");
static_assert(std::is_standard_layout<e4m3_t>::value, "fp8 is standard layout");

FP8_END_NAMESPACE

// Equal values hash equally: -0 hashes as +0 (types/value_ops.hpp).
template <class F>
struct std::hash<::fp8::fp8<F>> : ::fp8::detail::value_hash<::fp8::fp8<F>> {};

// numeric_limits from format_traits<F> (limits.hpp).
template <class F>
class std::numeric_limits<::fp8::fp8<F>> : public ::fp8::detail::float_limits<::fp8::fp8<F>, F> {};
