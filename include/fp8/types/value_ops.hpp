// SPDX-License-Identifier: Apache-2.0
// The free functions of the library's value types (fp8<F>, half, bfloat16),
// written once for all of them: IEEE comparisons of the exact values,
// classification (isnan, isinf, isfinite, signbit, abs), operator<< and the
// std::hash body. A value type V has `format`, bits(), is_nan(), is_inf(),
// is_zero(), unary minus and an exact explicit conversion to float; its
// header opts in by specialising detail::is_value_type<V>.
#pragma once

#include <cstddef>
#include <functional>
#include <iosfwd>
#include <type_traits>

#include "../config.hpp"
#include "format.hpp"

FP8_BEGIN_NAMESPACE
namespace detail {

template <class V>
struct is_value_type : std::false_type {};
template <class V>
using if_value_type = std::enable_if_t<is_value_type<V>::value, int>;

// Equal values hash equally: -0 hashes as +0.
template <class V>
struct value_hash {
  std::size_t operator()(V x) const noexcept { return std::hash<unsigned>{}(x.is_zero() ? 0u : x.bits()); }
};

}  // namespace detail

// Comparisons compare the exact values: NaN is unordered, -0 == +0.
#define FP8_DEFINE_COMPARISON(op)                                              \
  template <class V, detail::if_value_type<V> = 0>                             \
  FP8_HOST_DEVICE FP8_BIT_CAST_CONSTEXPR bool operator op(V a, V b) noexcept { \
    return static_cast<float>(a) op static_cast<float>(b);                     \
  }
FP8_DEFINE_COMPARISON(==)
FP8_DEFINE_COMPARISON(!=)
FP8_DEFINE_COMPARISON(<)
FP8_DEFINE_COMPARISON(<=)
FP8_DEFINE_COMPARISON(>)
FP8_DEFINE_COMPARISON(>=)
#undef FP8_DEFINE_COMPARISON

template <class V, detail::if_value_type<V> = 0>
FP8_HOST_DEVICE constexpr bool isnan(V x) noexcept {
  return x.is_nan();
}
template <class V, detail::if_value_type<V> = 0>
FP8_HOST_DEVICE constexpr bool isinf(V x) noexcept {
  return x.is_inf();
}
template <class V, detail::if_value_type<V> = 0>
FP8_HOST_DEVICE constexpr bool isfinite(V x) noexcept {
  return !x.is_nan() && !x.is_inf();
}
// The sign bit, except the fnuz formats' NaN (the code a negative zero
// would have), which has no sign.
template <class V, detail::if_value_type<V> = 0>
FP8_HOST_DEVICE constexpr bool signbit(V x) noexcept {
  using T = format_traits<typename V::format>;
  return (x.bits() & T::sign_mask) != 0 && !(T::special_values == specials::fnuz && x.is_nan());
}
template <class V, detail::if_value_type<V> = 0>
FP8_HOST_DEVICE constexpr V abs(V x) noexcept {
  return signbit(x) ? -x : x;
}

// Writes the exact value as a float (the stream's own float formatting).
// <iosfwd> suffices: the body is instantiated where the caller's stream is.
template <class CharT, class Traits, class V, detail::if_value_type<V> = 0>
std::basic_ostream<CharT, Traits>& operator<<(std::basic_ostream<CharT, Traits>& os, V x) {
  return os << static_cast<float>(x);
}

FP8_END_NAMESPACE
