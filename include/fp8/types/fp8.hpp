// SPDX-License-Identifier: Apache-2.0
// The value type fp8<F>: one byte holding a code of format F, with exact
// conversions through the scalar codec (codec/scalar.hpp, where the rounding
// and special-value rules are written out), IEEE comparisons, arithmetic
// through float, std::hash, operator<< and std::numeric_limits derived from
// format_traits<F>. Needs only the standard library.
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

template <class T>
struct is_fp8 : std::false_type {};
template <class F>
struct is_fp8<fp8<F>> : std::true_type {};

// Comparisons compare the exact values: NaN is unordered, -0 == +0.
template <class F>
FP8_HOST_DEVICE FP8_BIT_CAST_CONSTEXPR bool operator==(fp8<F> a, fp8<F> b) noexcept {
  return static_cast<float>(a) == static_cast<float>(b);
}
template <class F>
FP8_HOST_DEVICE FP8_BIT_CAST_CONSTEXPR bool operator!=(fp8<F> a, fp8<F> b) noexcept {
  return static_cast<float>(a) != static_cast<float>(b);
}
template <class F>
FP8_HOST_DEVICE FP8_BIT_CAST_CONSTEXPR bool operator<(fp8<F> a, fp8<F> b) noexcept {
  return static_cast<float>(a) < static_cast<float>(b);
}
template <class F>
FP8_HOST_DEVICE FP8_BIT_CAST_CONSTEXPR bool operator<=(fp8<F> a, fp8<F> b) noexcept {
  return static_cast<float>(a) <= static_cast<float>(b);
}
template <class F>
FP8_HOST_DEVICE FP8_BIT_CAST_CONSTEXPR bool operator>(fp8<F> a, fp8<F> b) noexcept {
  return static_cast<float>(a) > static_cast<float>(b);
}
template <class F>
FP8_HOST_DEVICE FP8_BIT_CAST_CONSTEXPR bool operator>=(fp8<F> a, fp8<F> b) noexcept {
  return static_cast<float>(a) >= static_cast<float>(b);
}

// Arithmetic computes in float and rounds once to F with the default
// (saturating) policy, as fp8(float) does. The float result of +, -, *, / on
// two FP8 values, rounded again to FP8, equals the correctly rounded FP8
// result: float carries 24 bits, at least 2p + 2 for FP8's p <= 4, which makes
// the double rounding innocuous (Figueroa, "When is double rounding
// innocuous?", SIGNUM 1995). Overflow therefore saturates, NaN propagates.
#define FP8_DEFINE_ARITHMETIC(op)                                                             \
  template <class F>                                                                          \
  FP8_HOST_DEVICE FP8_BIT_CAST_CONSTEXPR fp8<F> operator op(fp8<F> a, fp8<F> b) noexcept {    \
    return fp8<F>(static_cast<float>(a) op static_cast<float>(b));                            \
  }                                                                                           \
  template <class F>                                                                          \
  FP8_HOST_DEVICE FP8_BIT_CAST_CONSTEXPR fp8<F>& operator op##=(fp8<F>& a, fp8<F> b) noexcept { \
    return a = a op b;                                                                        \
  }
FP8_DEFINE_ARITHMETIC(+)
FP8_DEFINE_ARITHMETIC(-)
FP8_DEFINE_ARITHMETIC(*)
FP8_DEFINE_ARITHMETIC(/)
#undef FP8_DEFINE_ARITHMETIC

template <class F>
FP8_HOST_DEVICE constexpr bool isnan(fp8<F> x) noexcept {
  return x.is_nan();
}
template <class F>
FP8_HOST_DEVICE constexpr bool isinf(fp8<F> x) noexcept {
  return x.is_inf();
}
template <class F>
FP8_HOST_DEVICE constexpr bool isfinite(fp8<F> x) noexcept {
  return !x.is_nan() && !x.is_inf();
}
template <class F>
FP8_HOST_DEVICE constexpr bool signbit(fp8<F> x) noexcept {
  return (x.bits() & 0x80u) != 0 && !(format_traits<F>::special_values == specials::fnuz && x.is_nan());
}
template <class F>
FP8_HOST_DEVICE constexpr fp8<F> abs(fp8<F> x) noexcept {
  return signbit(x) ? -x : x;
}

// Writes the exact value as a float (the stream's own float formatting).
// <iosfwd> suffices: the body is instantiated where the caller's stream is.
template <class CharT, class Traits, class F>
std::basic_ostream<CharT, Traits>& operator<<(std::basic_ostream<CharT, Traits>& os, fp8<F> x) {
  return os << static_cast<float>(x);
}

static_assert(sizeof(e4m3_t) == 1 && sizeof(e5m2_t) == 1, "fp8 is one byte");
static_assert(std::is_trivially_copyable<e4m3_t>::value, "fp8 is trivially copyable");
static_assert(std::is_standard_layout<e4m3_t>::value, "fp8 is standard layout");

FP8_END_NAMESPACE

// Equal values hash equally: -0 hashes as +0.
template <class F>
struct std::hash<::fp8::fp8<F>> {
  std::size_t operator()(::fp8::fp8<F> x) const noexcept {
    return std::hash<unsigned>{}(x.is_zero() ? 0u : x.bits());
  }
};

// numeric_limits from format_traits<F>: nothing is written per format.
template <class F>
class std::numeric_limits<::fp8::fp8<F>> {
  using T = ::fp8::format_traits<F>;
  using V = ::fp8::fp8<F>;
  // floor(k * log10(2)) for the small k of FP8, in integers (log10 2 ~ 0.30103).
  static constexpr int floor_log10_pow2(int k) noexcept {
    const long v = static_cast<long>(k) * 30103L;
    return static_cast<int>(v / 100000L);  // k >= 0 here
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
  static constexpr bool is_iec559 = false;
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
  static constexpr int min_exponent10 = floor_log10(::fp8::scalar::decode<F>(T::min_normal_code)) + 1;
  static constexpr int max_exponent10 = floor_log10(::fp8::scalar::decode<F>(T::max_finite_code));
  static constexpr bool traps = false;
  static constexpr bool tinyness_before = false;

  static constexpr V min() noexcept { return V::from_bits(T::min_normal_code); }
  static constexpr V max() noexcept { return V::from_bits(T::max_finite_code); }
  static constexpr V lowest() noexcept { return V::from_bits(T::max_finite_code | 0x80u); }
  static constexpr V epsilon() noexcept {  // 2^-M: the code with exponent field = bias - M, mantissa 0
    return V::from_bits(static_cast<std::uint8_t>((T::exponent_bias - T::mantissa_bits) << T::mantissa_bits));
  }
  static constexpr V round_error() noexcept {  // 0.5
    return V::from_bits(static_cast<std::uint8_t>((T::exponent_bias - 1) << T::mantissa_bits));
  }
  // Formats without infinity return what an infinite input encodes to without
  // saturation, their NaN.
  static constexpr V infinity() noexcept {
    return V::from_bits(T::has_infinity ? T::infinity_code : T::nan_code);
  }
  static constexpr V quiet_NaN() noexcept { return V::from_bits(T::nan_code); }
  static constexpr V signaling_NaN() noexcept { return V::from_bits(T::nan_code); }
  static constexpr V denorm_min() noexcept { return V::from_bits(T::min_subnormal_code); }
};
