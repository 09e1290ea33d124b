// SPDX-License-Identifier: Apache-2.0
// The building blocks of the argument contract (README, "Arguments"): every
// entry point checks its arguments with these before it reads or writes any
// buffer, so that one rule reads the same everywhere: an enum argument is
// one of its enumerators; two buffers overlap when their byte ranges
// intersect (an empty range intersects nothing); an array of scales holds
// positive finite floats only; and a product of scales that the kernels
// form in float stays in the normal float range [2^-126, FLT_MAX], so that
// no intermediate product of scales overflows or loses bits to a subnormal
// where the mathematical result would not.
#pragma once

#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <type_traits>

#include "../config.hpp"
#include "../error.hpp"
#include "enum.hpp"

FP8_BEGIN_NAMESPACE
namespace detail {

// Throws unless e is an enumerator of E: "argument 'o' is 7, not an
// fp8::overflow".
template <class E>
void require_enumerator(const char* function, const char* argument, E e) {
  if (is_enumerator(e)) return;
  using U = typename std::underlying_type<E>::type;
  fail_argument(function, argument,
                "is " + std::to_string(static_cast<long long>(static_cast<U>(e))) + ", not an " +
                    enum_info<E>::name);
}

// True when [p, p + p_bytes) and [q, q + q_bytes) intersect; empty ranges
// intersect nothing. Addresses are compared as integers (the ranges may
// belong to different allocations).
inline bool overlap(const void* p, std::size_t p_bytes, const void* q, std::size_t q_bytes) noexcept {
  if (p == nullptr || q == nullptr || p_bytes == 0 || q_bytes == 0) return false;
  const auto a = reinterpret_cast<std::uintptr_t>(p), b = reinterpret_cast<std::uintptr_t>(q);
  return a < b + q_bytes && b < a + p_bytes;
}

// `count` elements of `size` bytes, or false when that overflows size_t.
inline bool bytes_of(std::size_t count, std::size_t size, std::size_t& out) noexcept {
  if (size != 0 && count > SIZE_MAX / size) return false;
  out = count * size;
  return true;
}

// True when `count` elements of `size` bytes at p fit size_t and end inside
// the address space: what a real buffer satisfies (a count that does not
// cannot describe one, and would wrap the overlap checks' arithmetic).
inline bool span_fits(const void* p, std::size_t count, std::size_t size) noexcept {
  std::size_t bytes = 0;
  return bytes_of(count, size, bytes) && reinterpret_cast<std::uintptr_t>(p) <= UINTPTR_MAX - bytes;
}

inline std::string float_text(double x) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.9g", x);
  return buffer;
}

// The least and greatest value of an array of scales (both 1 when the array
// is absent: an absent scale is 1). Double, so that products of a few of
// them never overflow or underflow (float's range cubed is inside double's).
struct scale_range {
  double lo = 1.0, hi = 1.0;
};
inline scale_range operator*(scale_range a, scale_range b) noexcept { return {a.lo * b.lo, a.hi * b.hi}; }

// Throws unless each of the count floats at p is positive and finite
// ("argument 'options.col_scale' [3] = 0 is not a positive finite float");
// returns their range. p may be null (no scales: {1, 1}). The scan is one
// branch-free pass; the element is named by a second pass only on failure.
inline scale_range check_scales(const char* function, const char* argument, const float* p, std::size_t count) {
  if (p == nullptr || count == 0) return {};
  float lo = p[0], hi = p[0];
  bool ok = true;
  for (std::size_t i = 0; i < count; ++i) {
    const float x = p[i];
    ok &= (x > 0.0f) & (x <= FLT_MAX);  // false for NaN
    lo = x < lo ? x : lo;
    hi = x > hi ? x : hi;
  }
  if (!ok)
    for (std::size_t i = 0; i < count; ++i)
      if (!(p[i] > 0.0f && p[i] <= FLT_MAX))
        fail_argument(function, argument,
                      "[" + std::to_string(i) + "] = " + float_text(p[i]) + " is not a positive finite float");
  return {lo, hi};
}

// Throws unless every value in [r.lo, r.hi] (a product of scales, formed
// in float by the kernels) lies in the normal float range [2^-126, FLT_MAX].
inline void check_scale_product(const char* function, const char* argument, const char* what, scale_range r) {
  if (r.lo >= 0x1p-126 && r.hi <= FLT_MAX) return;
  fail_argument(function, argument,
                std::string(what) + " ranges over [" + float_text(r.lo) + ", " + float_text(r.hi) +
                    "], outside the normal float range [2^-126, FLT_MAX]");
}

}  // namespace detail
FP8_END_NAMESPACE
