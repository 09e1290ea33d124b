// SPDX-License-Identifier: Apache-2.0
// The scalar codec: constexpr encode (double/float -> code) and decode
// (code -> float) for every format of types/format.hpp (the FP8 formats, and
// binary16 and bfloat16 with the same rules). These functions ARE the
// definition of every conversion in the library; vector kernels are tested to
// equal them bit for bit.
//
// Semantics (OCP OFP8 rev 1.0 §4-5, ONNX Cast with `saturate`):
//
//   input                       | overflow::saturate | overflow::non_saturating
//   ----------------------------+--------------------+------------------------------------
//   finite, rounds to <= max    | nearest code, ties to even (exact for any double/float,
//                               | subnormals included; one rounding)
//   finite, rounds past max     | +-max              | E5M2: +-Inf, E4M3: NaN 0x7F|sign,
//   +-Inf                       | +-max              | FNUZ: 0x80
//   NaN                         | E4M3: 0x7F|sign, E5M2: 0x7E|sign, FNUZ: 0x80
//   -0.0, or a negative value   | 0x80 (negative zero), except FNUZ: every zero is 0x00
//   that rounds to zero         |
//
// "Rounds past max" is decided as IEEE 754 does: round with an unbounded
// exponent range, then compare with max. So a tie between max and the next
// (unrepresentable) step goes to the even one: E4M3 464 -> 448 (0x7E is even),
// anything above 464 overflows; E5M2 61440 overflows (0x7B is odd).
//
// binary16 and bfloat16 follow the ieee rows (E5M2's): NaN gives the quiet
// NaN 0x7E00|sign or 0x7FC0|sign (canonical, no payload kept).
//
// Decoding is exact: every FP8, binary16 and bfloat16 value is a float. NaN
// codes decode to a quiet NaN carrying the code's sign (fnuz: +NaN); Inf codes
// decode to +-Inf.
#pragma once

#include <cstdint>

#include "../config.hpp"
#include "../detail/bit.hpp"
#include "../types/format.hpp"

FP8_BEGIN_NAMESPACE
namespace scalar {
namespace detail {

template <class F>
using code_t = typename format_traits<F>::storage;

// 2^k as a double, for k in the normal range [-1022, 1023].
FP8_HOST_DEVICE FP8_BIT_CAST_CONSTEXPR double pow2(int k) noexcept {
  return ::fp8::detail::bit_cast<double>(static_cast<std::uint64_t>(k + 1023) << 52);
}

template <class F>
FP8_HOST_DEVICE constexpr code_t<F> sign_bit(bool negative) noexcept {
  return negative ? format_traits<F>::sign_mask : code_t<F>{0};
}

template <class F>
FP8_HOST_DEVICE constexpr code_t<F> signed_zero(bool negative) noexcept {
  return format_traits<F>::has_negative_zero ? sign_bit<F>(negative) : code_t<F>{0};
}

// The NaN that encoding produces: fn and ieee keep the input's sign, fnuz has
// a single unsigned NaN.
template <class F>
FP8_HOST_DEVICE constexpr code_t<F> nan_result(bool negative) noexcept {
  using T = format_traits<F>;
  return T::special_values == specials::fnuz ? T::nan_code : static_cast<code_t<F>>(T::nan_code | sign_bit<F>(negative));
}

template <class F>
FP8_HOST_DEVICE constexpr code_t<F> overflow_result(bool negative, overflow o) noexcept {
  using T = format_traits<F>;
  if (o == overflow::saturate) return static_cast<code_t<F>>(T::max_finite_code | sign_bit<F>(negative));
  if (T::has_infinity) return static_cast<code_t<F>>(T::infinity_code | sign_bit<F>(negative));
  return nan_result<F>(negative);
}

}  // namespace detail

// Encodes a double into format F with one rounding (nearest, ties to even).
//
// The double is split into an integer significand and a power of two,
// x = sig * 2^e2. Its target exponent E is floor(log2 |x|), raised to the
// format's minimum normal exponent (below it the step stays 2^(emin - M), the
// subnormal step). Rounding sig * 2^e2 to a multiple of the step 2^(E - M)
// gives an integer n in [0, 2^(M+1)], and the magnitude code is then
//   ((E - emin) << M) + n
// which covers subnormals (E == emin, n < 2^M), normals (the implicit bit of n
// carries into the exponent field) and a rounding carry to the next binade
// (n == 2^(M+1)) with one formula.
template <class F>
FP8_HOST_DEVICE FP8_BIT_CAST_CONSTEXPR detail::code_t<F> encode(double x, overflow o = overflow::saturate) noexcept {
  using T = format_traits<F>;
  constexpr int M = T::mantissa_bits;
  constexpr int emin = T::min_normal_exponent;
  constexpr std::uint64_t exponent_mask = 0x7FF0000000000000ull;  // double: 1.11.52

  const std::uint64_t u = ::fp8::detail::bit_cast<std::uint64_t>(x);
  const bool negative = (u >> 63) != 0;
  const std::uint64_t a = u & ~(std::uint64_t{1} << 63);
  if (a > exponent_mask) return detail::nan_result<F>(negative);
  if (a == exponent_mask) return detail::overflow_result<F>(negative, o);
  if (a == 0) return detail::signed_zero<F>(negative);

  const int biased = static_cast<int>(a >> 52);
  const std::uint64_t fraction = a & ((std::uint64_t{1} << 52) - 1);
  const std::uint64_t sig = biased != 0 ? fraction | (std::uint64_t{1} << 52) : fraction;
  const int e2 = (biased != 0 ? biased : 1) - 1075;  // |x| = sig * 2^e2

  const int lead = 63 - ::fp8::detail::countl_zero64(sig) + e2;  // floor(log2 |x|)
  const int E = lead > emin ? lead : emin;
  const int shift = E - M - e2;  // >= 53 - 1 - M >= 42 for every double and M <= 10
  std::uint64_t n = 0;
  if (shift < 64) {
    n = sig >> shift;
    const std::uint64_t rest = sig & ((std::uint64_t{1} << shift) - 1);
    const std::uint64_t half = std::uint64_t{1} << (shift - 1);
    if (rest > half || (rest == half && (n & 1) != 0)) ++n;
  }  // else |x| < 2^(E - M - 1), half the smallest step: rounds to zero
  const std::int64_t magnitude = (static_cast<std::int64_t>(E - emin) << M) + static_cast<std::int64_t>(n);
  if (magnitude > T::max_finite_code) return detail::overflow_result<F>(negative, o);
  if (magnitude == 0) return detail::signed_zero<F>(negative);
  return static_cast<detail::code_t<F>>(static_cast<detail::code_t<F>>(magnitude) | detail::sign_bit<F>(negative));
}

// Encoding a float is encoding the same value as a double (widening is exact),
// so float and double inputs share one rounding rule.
template <class F>
FP8_HOST_DEVICE FP8_BIT_CAST_CONSTEXPR detail::code_t<F> encode(float x, overflow o = overflow::saturate) noexcept {
  return encode<F>(static_cast<double>(x), o);
}

// Decodes a code of format F exactly to float.
template <class F>
FP8_HOST_DEVICE FP8_BIT_CAST_CONSTEXPR float decode(detail::code_t<F> c) noexcept {
  using T = format_traits<F>;
  constexpr int M = T::mantissa_bits;
  const std::uint32_t sign = (c & T::sign_mask) != 0 ? 0x80000000u : 0u;
  if (T::is_nan_code(c)) {
    const std::uint32_t nan_sign = T::special_values == specials::fnuz ? 0u : sign;
    return ::fp8::detail::bit_cast<float>(nan_sign | 0x7FC00000u);
  }
  if (T::is_infinity_code(c)) return ::fp8::detail::bit_cast<float>(sign | 0x7F800000u);
  const int field = (c & T::magnitude_mask) >> M;
  const unsigned mantissa = c & T::mantissa_mask;
  // Subnormal: mantissa * 2^(emin - M); normal: (2^M + mantissa) * 2^(field - bias - M).
  const unsigned sig = field != 0 ? mantissa | (1u << M) : mantissa;
  const int exponent = field != 0 ? field - T::exponent_bias - M : T::subnormal_exponent;
  // Exact: sig < 2^(M+1) <= 2^11, and the product is a float (the value of a
  // format code, bfloat16 subnormals included).
  const float magnitude = static_cast<float>(static_cast<double>(sig) * detail::pow2(exponent));
  return ::fp8::detail::bit_cast<float>(::fp8::detail::bit_cast<std::uint32_t>(magnitude) | sign);
}

}  // namespace scalar
FP8_END_NAMESPACE
