// SPDX-License-Identifier: Apache-2.0
// Per-tensor scale selection from a tensor's amax (quant/amax.hpp): the
// scale s that maps amax onto the largest finite value of format F, so that
// fp8::encode(src, dst, n, s) uses the whole range of F without clipping.
// The library's convention throughout: encode computes x / s, decode
// computes code * s.
//
//   scale_rounding::exact         s = amax / max_finite(F), one float division
//                                 (rounding can leave amax / s above max by a
//                                 relative 2^-24 at most; that still encodes
//                                 to max in both overflow modes, far below the
//                                 half step where overflow starts)
//   scale_rounding::power_of_two  s = 2^k, the smallest power of two with
//                                 amax <= max_finite(F) * 2^k (rounded UP, so
//                                 amax never saturates). k is PopRT's integer
//                                 `scale` parameter, also given directly by
//                                 scale_exponent_from_amax. A power-of-two
//                                 scale makes encode and decode exact
//                                 multiplications (codec/bulk.hpp).
//
// amax == 0 (an all-zero tensor) gives s = 1. Both results are clamped below
// at 2^-126 = FLT_MIN, the smallest normal float: below it the exact quotient
// would be a float subnormal or zero, and the tensor is all but zero anyway.
// amax must be a non-negative float that is not NaN and not infinite;
// otherwise fp8::invalid_argument names `amax`.
#pragma once

#include <cmath>

#include "../codec/scalar.hpp"
#include "../config.hpp"
#include "../detail/arguments.hpp"
#include "../error.hpp"
#include "../types/format.hpp"

FP8_BEGIN_NAMESPACE

enum class scale_rounding {
  exact,         // amax / max_finite, correctly rounded
  power_of_two,  // rounded up to 2^k
};
FP8_ENUM_RANGE(scale_rounding, power_of_two)

namespace detail {

constexpr int min_scale_exponent = -126;  // FLT_MIN = 2^-126, the smallest normal float

inline void check_amax(const char* function, float amax) {
  FP8_REQUIRE_ARG(std::isfinite(amax) && amax >= 0.0f, function, "amax", "must be a finite float >= 0");
}

template <class F>
float max_finite_value() noexcept {
  return scalar::decode<F>(format_traits<F>::max_finite_code);
}

}  // namespace detail

// k such that 2^k is scale_from_amax<F>(amax, scale_rounding::power_of_two):
// the smallest k >= -126 with amax <= max_finite(F) * 2^k (0 for amax == 0).
template <class F>
int scale_exponent_from_amax(float amax) {
  detail::check_amax("fp8::scale_exponent_from_amax", amax);
  if (amax == 0.0f) return 0;
  // With amax = a * 2^ea and max = m * 2^em (a, m in [1, 2)), the quotient is
  // (a / m) * 2^(ea - em) with a / m in (1/2, 2): k is ea - em, or one more
  // when a > m. The comparison is exact in double (both sides are floats
  // times a power of two).
  const double max = static_cast<double>(detail::max_finite_value<F>());
  int k = std::ilogb(amax) - std::ilogb(max);
  if (static_cast<double>(amax) > std::ldexp(max, k)) ++k;
  return k < detail::min_scale_exponent ? detail::min_scale_exponent : k;
}

// The per-tensor scale for a tensor whose largest magnitude is amax.
template <class F>
float scale_from_amax(float amax, scale_rounding r = scale_rounding::exact) {
  detail::check_amax("fp8::scale_from_amax", amax);
  detail::require_enumerator("fp8::scale_from_amax", "r", r);
  if (amax == 0.0f) return 1.0f;
  if (r == scale_rounding::power_of_two) return std::ldexp(1.0f, scale_exponent_from_amax<F>(amax));
  const float s = amax / detail::max_finite_value<F>();
  const float floor = std::ldexp(1.0f, detail::min_scale_exponent);
  return s < floor ? floor : s;
}

FP8_END_NAMESPACE
