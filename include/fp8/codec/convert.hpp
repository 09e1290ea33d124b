// SPDX-License-Identifier: Apache-2.0
// Conversion between any two of the library's number types and float or
// double: fp8<F> (every format), half, bfloat16, float, double.
//
//   convert<To>(x)     = To's one rounding of the exact value of x, with
//   convert<To>(x, o)    To's overflow rule: saturate for fp8<F> (as
//                        fp8<F>(float)), IEEE's for half and bfloat16 (to
//                        +-Inf, as their constructors), or o when given
//                        (for an fp8<F>, half or bfloat16 To; float and
//                        double round as C++ converts double to float).
//
// Every source value is exact in double (and in float, but for double
// itself), so a conversion widens exactly and then rounds once: E5M2 ->
// E4M3 is the E4M3 code nearest to the E5M2 value, ties to even, never a
// rounding through an intermediate format. NaN converts to To's NaN (for
// an fnuz To, its one NaN; saturating or not, as encode does).
//
// Bulk: convert(src, dst, n[, o]) for arrays of any two of fp8<F>, half,
// bfloat16 and float (float to float aside), element by element the scalar
// convert with To's overflow rule or o: two FP8 formats are decoded to float
// in blocks by the bulk decoder, then encoded by the bulk encoder (both
// equal the scalar codec, and the decode is exact); FP8 from or to float,
// bfloat16 and half is the bulk encode / decode (codec/bulk.hpp) with scale
// 1 (and a saturating o's clamp of E5M2's infinities); the 16-bit types and float among themselves convert element by element
// (widening is exact; narrowing rounds once, in scalar code).
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "../config.hpp"
#include "../detail/arguments.hpp"
#include "../detail/dispatch.hpp"
#include "../types/float16.hpp"
#include "../types/fp8.hpp"
#include "bulk.hpp"
#include "kernels.hpp"
#include "scalar.hpp"

FP8_BEGIN_NAMESPACE
namespace detail {

template <class T>
struct is_convertible_number : std::false_type {};
template <>
struct is_convertible_number<float> : std::true_type {};
template <>
struct is_convertible_number<double> : std::true_type {};
template <class F>
struct is_convertible_number<fp8<F>> : std::true_type {};
template <class F>
struct is_convertible_number<storage16<F>> : std::true_type {};

// The element types of the bulk conversions other than fp8<F>.
template <class T>
struct is_wide_array : std::false_type {};
template <>
struct is_wide_array<float> : std::true_type {};
template <class F>
struct is_wide_array<storage16<F>> : std::true_type {};

// The target's own overflow rule.
template <class To>
struct default_overflow {
  static constexpr overflow value = overflow::saturate;
};
template <class F>
struct default_overflow<storage16<F>> {
  static constexpr overflow value = overflow::non_saturating;
};

// To from the exact value d.
template <class To>
struct narrow_to;
template <>
struct narrow_to<double> {
  FP8_HOST_DEVICE static constexpr double from(double d, overflow) noexcept { return d; }
};
template <>
struct narrow_to<float> {
  FP8_HOST_DEVICE static constexpr float from(double d, overflow) noexcept { return static_cast<float>(d); }
};
template <class F>
struct narrow_to<fp8<F>> {
  FP8_HOST_DEVICE static FP8_BIT_CAST_CONSTEXPR fp8<F> from(double d, overflow o) noexcept {
    return fp8<F>::from_double(d, o);
  }
};
template <class F>
struct narrow_to<storage16<F>> {
  FP8_HOST_DEVICE static FP8_BIT_CAST_CONSTEXPR storage16<F> from(double d, overflow o) noexcept {
    return storage16<F>::from_bits(scalar::encode<F>(d, o));
  }
};

}  // namespace detail

template <class To, class From>
FP8_HOST_DEVICE FP8_BIT_CAST_CONSTEXPR To convert(From x, overflow o) noexcept {
  static_assert(detail::is_convertible_number<To>::value && detail::is_convertible_number<From>::value,
                "convert between fp8<F>, half, bfloat16, float and double");
  return detail::narrow_to<To>::from(static_cast<double>(x), o);
}
template <class To, class From>
FP8_HOST_DEVICE FP8_BIT_CAST_CONSTEXPR To convert(From x) noexcept {
  return convert<To>(x, detail::default_overflow<To>::value);
}

// The bulk entry lives in the flags-named namespace (detail/dispatch.hpp).
FP8_BEGIN_TU_NAMESPACE

template <class FT, class FF>
void convert(const fp8<FF>* src, fp8<FT>* dst, std::size_t n, overflow o = overflow::saturate) {
  detail::check_bulk("fp8::convert", src, 1, dst, 1, n, 1.0f, o);
  const auto* s = reinterpret_cast<const std::uint8_t*>(src);
  auto* d = reinterpret_cast<std::uint8_t*>(dst);
  detail::dispatch([&](auto tier) {
    constexpr std::size_t block = 256;  // floats on the stack: 1 KiB, in L1
    alignas(64) float buf[block];
    for (std::size_t i = 0; i < n; i += block) {
      const std::size_t m = n - i < block ? n - i : block;
      kernel::decode<FF>(s + i, buf, m, 1.0f, tier);
      kernel::encode<FT>(buf, d + i, m, 1.0f, o, tier);
    }
  });
}

// float, half and bfloat16 arrays, any pair but float to float.
template <class To, class From,
          std::enable_if_t<detail::is_wide_array<To>::value && detail::is_wide_array<From>::value &&
                               !(std::is_same<To, float>::value && std::is_same<From, float>::value),
                           int> = 0>
void convert(const From* src, To* dst, std::size_t n, overflow o = detail::default_overflow<To>::value) {
  detail::check_bulk("fp8::convert", src, sizeof(From), dst, sizeof(To), n, 1.0f, o);
  for (std::size_t i = 0; i < n; ++i) dst[i] = convert<To>(src[i], o);
}
// FP8 to float, half or bfloat16: exact, the bulk decode with scale 1; a
// saturating o then clamps the infinities of an IEEE-style format (E5M2)
// to half's or bfloat16's largest finite value, as the scalar convert does
// (every finite FP8 value fits both; float keeps them, as C++ converts).
template <class To, class F, std::enable_if_t<detail::is_wide_array<To>::value, int> = 0>
void convert(const fp8<F>* src, To* dst, std::size_t n, overflow o = detail::default_overflow<To>::value) {
  detail::check_bulk("fp8::convert", src, 1, dst, sizeof(To), n, 1.0f, o);
  decode(src, dst, n);
  if constexpr (format_traits<F>::has_infinity && !std::is_same<To, float>::value) {
    if (o == overflow::saturate)
      for (std::size_t i = 0; i < n; ++i)
        if (format_traits<F>::is_infinity_code(src[i].bits())) dst[i] = convert<To>(src[i], o);
  }
}
// float, half or bfloat16 to FP8: the bulk encode with scale 1.
template <class F, class From, std::enable_if_t<detail::is_wide_array<From>::value, int> = 0>
void convert(const From* src, fp8<F>* dst, std::size_t n, overflow o = overflow::saturate) {
  detail::check_bulk("fp8::convert", src, sizeof(From), dst, 1, n, 1.0f, o);
  encode(src, dst, n, 1.0f, o);
}

FP8_END_TU_NAMESPACE
FP8_END_NAMESPACE
