// SPDX-License-Identifier: Apache-2.0
// std::numeric_limits of the library's value types (fp8<F>, half, bfloat16),
// derived from format_traits<F> once: nothing is written per format. V is
// the value type (from_bits of a code), F its format.
#pragma once

#include <limits>
#include <type_traits>

#include "../codec/scalar.hpp"
#include "../config.hpp"
#include "format.hpp"

FP8_BEGIN_NAMESPACE
namespace detail {

template <class V, class F>
class float_limits {
  using T = format_traits<F>;
  using code = typename T::storage;
  // floor(k * log10(2)) for 0 <= k < 2^15, in integers (log10 2 ~ 0.30103).
  static constexpr int floor_log10_pow2(int k) noexcept {
    const long v = static_cast<long>(k) * 30103L;
    return static_cast<int>(v / 100000L);
  }
  static constexpr int floor_log10(double v) noexcept {
    int p = 0;
    for (; v >= 10.0; v /= 10.0) ++p;
    for (; v < 1.0; v *= 10.0) --p;
    return p;
  }

 public:
  static constexpr bool is_specialized = true;
  static constexpr bool is_signed = true;
  static constexpr bool is_integer = false;
  static constexpr bool is_exact = false;
  static constexpr bool has_infinity = T::has_infinity;
  static constexpr bool has_quiet_NaN = true;
  static constexpr bool has_signaling_NaN = false;
  static constexpr std::float_denorm_style has_denorm = std::denorm_present;
  static constexpr bool has_denorm_loss = false;
  static constexpr std::float_round_style round_style = std::round_to_nearest;
  // IEEE 754 defines binary16 and its operations; the FP8 formats and
  // bfloat16 are outside it.
  static constexpr bool is_iec559 = std::is_same<F, F16>::value;
  static constexpr bool is_bounded = true;
  static constexpr bool is_modulo = false;
  static constexpr int digits = T::mantissa_bits + 1;
  static constexpr int digits10 = floor_log10_pow2(digits - 1);
  static constexpr int max_digits10 = floor_log10_pow2(digits) + 2;  // ceil(1 + digits * log10 2)
  static constexpr int radix = 2;
  static constexpr int min_exponent = T::min_normal_exponent + 1;
  static constexpr int max_exponent = T::max_exponent + 1;
  // ceil(log10(min normal)) and floor(log10(max)); 2^k is never a power of
  // ten for k != 0, so the ceiling is the floor plus one.
  static constexpr int min_exponent10 = floor_log10(scalar::decode<F>(T::min_normal_code)) + 1;
  static constexpr int max_exponent10 = floor_log10(scalar::decode<F>(T::max_finite_code));
  static constexpr bool traps = false;
  static constexpr bool tinyness_before = false;

  static constexpr V min() noexcept { return V::from_bits(T::min_normal_code); }
  static constexpr V max() noexcept { return V::from_bits(T::max_finite_code); }
  static constexpr V lowest() noexcept { return V::from_bits(static_cast<code>(T::max_finite_code | T::sign_mask)); }
  static constexpr V epsilon() noexcept {  // 2^-M: the code with exponent field = bias - M, mantissa 0
    return V::from_bits(static_cast<code>((T::exponent_bias - T::mantissa_bits) << T::mantissa_bits));
  }
  static constexpr V round_error() noexcept {  // 0.5
    return V::from_bits(static_cast<code>((T::exponent_bias - 1) << T::mantissa_bits));
  }
  // Formats without infinity return what an infinite input encodes to without
  // saturation, their NaN.
  static constexpr V infinity() noexcept { return V::from_bits(T::has_infinity ? T::infinity_code : T::nan_code); }
  static constexpr V quiet_NaN() noexcept { return V::from_bits(T::nan_code); }
  static constexpr V signaling_NaN() noexcept { return V::from_bits(T::nan_code); }
  static constexpr V denorm_min() noexcept { return V::from_bits(T::min_subnormal_code); }
};

}  // namespace detail
FP8_END_NAMESPACE
