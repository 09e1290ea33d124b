// SPDX-License-Identifier: Apache-2.0
// 16-bit storage types: fp8::half (IEEE 754 binary16) and fp8::bfloat16, for
// engines whose activations are 16-bit. Widening to float is exact; narrowing
// from float or double rounds once to nearest, ties to even, and overflows to
// +-Inf as IEEE 754 does (the codec's overflow::non_saturating row). NaN
// narrows to the canonical quiet NaN with the input's sign (0x7E00 / 0x7FC0).
// Numbers, not arithmetic: IEEE comparisons of the exact values,
// classification (isnan, isinf, isfinite, signbit, abs), operator<<,
// std::hash and std::numeric_limits, as fp8<F> has them; compute in float.
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
class storage16 {
 public:
  using format = Format;
  using traits = format_traits<Format>;
  static_assert(traits::bits == 16, "a 16-bit format");

  FP8_HOST_DEVICE constexpr storage16() noexcept : bits_(0) {}
  FP8_HOST_DEVICE FP8_BIT_CAST_CONSTEXPR explicit storage16(float x) noexcept
      : bits_(scalar::encode<Format>(x, overflow::non_saturating)) {}
  FP8_HOST_DEVICE static FP8_BIT_CAST_CONSTEXPR storage16 from_float(float x) noexcept { return storage16(x); }
  FP8_HOST_DEVICE static FP8_BIT_CAST_CONSTEXPR storage16 from_double(double x) noexcept {
    return from_bits(scalar::encode<Format>(x, overflow::non_saturating));
  }
  FP8_HOST_DEVICE static constexpr storage16 from_bits(std::uint16_t b) noexcept {
    storage16 r;
    r.bits_ = b;
    return r;
  }
  FP8_HOST_DEVICE constexpr std::uint16_t bits() const noexcept { return bits_; }
  FP8_HOST_DEVICE FP8_BIT_CAST_CONSTEXPR explicit operator float() const noexcept {
    return scalar::decode<Format>(bits_);
  }
  // Exact.
  FP8_HOST_DEVICE FP8_BIT_CAST_CONSTEXPR explicit operator double() const noexcept {
    return static_cast<double>(scalar::decode<Format>(bits_));
  }

  FP8_HOST_DEVICE constexpr bool is_nan() const noexcept { return traits::is_nan_code(bits_); }
  FP8_HOST_DEVICE constexpr bool is_inf() const noexcept { return traits::is_infinity_code(bits_); }
  FP8_HOST_DEVICE constexpr bool is_zero() const noexcept { return (bits_ & traits::magnitude_mask) == 0; }
  // Negation flips the sign bit (NaN included, as IEEE 754's negate).
  FP8_HOST_DEVICE constexpr storage16 operator-() const noexcept {
    return from_bits(static_cast<std::uint16_t>(bits_ ^ traits::sign_mask));
  }
  FP8_HOST_DEVICE constexpr storage16 operator+() const noexcept { return *this; }

 private:
  std::uint16_t bits_;
};

using half = storage16<F16>;
using bfloat16 = storage16<BF16>;

// Comparisons, isnan, isinf, isfinite, signbit, abs and operator<<:
// types/value_ops.hpp, shared with fp8<F>.
namespace detail {
template <class F>
struct is_value_type<storage16<F>> : std::true_type {};
}  // namespace detail

static_assert(sizeof(half) == 2 && std::is_trivially_copyable<half>::value, "half is two bytes");
static_assert(sizeof(bfloat16) == 2 && std::is_trivially_copyable<bfloat16>::value, "bfloat16 is two bytes");

FP8_END_NAMESPACE

// Equal values hash equally: -0 hashes as +0 (types/value_ops.hpp).
template <class F>
struct std::hash<::fp8::storage16<F>> : ::fp8::detail::value_hash<::fp8::storage16<F>> {};

// numeric_limits from format_traits<F> (limits.hpp).
template <class F>
class std::numeric_limits<::fp8::storage16<F>> : public ::fp8::detail::float_limits<::fp8::storage16<F>, F> {};
