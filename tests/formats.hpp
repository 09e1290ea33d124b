// SPDX-License-Identifier: Apache-2.0
// Pairs each format tag of the library with the reference description of the
// same format (reference.hpp), for TEMPLATE_TEST_CASE.
#pragma once

#include <cstring>

#include <fp8/types/format.hpp>

#include "reference.hpp"

template <class F>
const ref::format& spec_of();
template <>
inline const ref::format& spec_of<fp8::E4M3>() { return ref::e4m3; }
template <>
inline const ref::format& spec_of<fp8::E5M2>() { return ref::e5m2; }
template <>
inline const ref::format& spec_of<fp8::E4M3FNUZ>() { return ref::e4m3fnuz; }
template <>
inline const ref::format& spec_of<fp8::E5M2FNUZ>() { return ref::e5m2fnuz; }

// 1 under AddressSanitizer (about 10x slower), where long sweeps take
// larger steps.
#if defined(__SANITIZE_ADDRESS__)
#define FP8_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FP8_TEST_SANITIZED 1
#endif
#endif
#ifndef FP8_TEST_SANITIZED
#define FP8_TEST_SANITIZED 0
#endif

#define FP8_ALL_FORMATS fp8::E4M3, fp8::E5M2, fp8::E4M3FNUZ, fp8::E5M2FNUZ

inline std::uint32_t float_bits(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}
inline float float_from_bits(std::uint32_t u) {
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}
