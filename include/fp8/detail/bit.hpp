// SPDX-License-Identifier: Apache-2.0
// Bit-level helpers for the scalar layer: a constexpr bit_cast and a portable
// count of leading zeros. Not part of the public API.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "../config.hpp"

FP8_BEGIN_NAMESPACE
namespace detail {

template <class To, class From>
FP8_HOST_DEVICE FP8_BIT_CAST_CONSTEXPR To bit_cast(const From& from) noexcept {
  static_assert(sizeof(To) == sizeof(From), "bit_cast needs types of one size");
  static_assert(std::is_trivially_copyable<To>::value && std::is_trivially_copyable<From>::value,
                "bit_cast needs trivially copyable types");
#if FP8_CONSTEXPR_BIT_CAST
  return __builtin_bit_cast(To, from);
#else
  To to;
  std::memcpy(&to, &from, sizeof(To));
  return to;
#endif
}

// Number of leading zero bits of a non-zero 64-bit value.
FP8_HOST_DEVICE constexpr int countl_zero64(std::uint64_t x) noexcept {
#if FP8_HAS_BUILTIN(__builtin_clzll) && !defined(__CUDA_ARCH__)
  return __builtin_clzll(x);
#else
  int n = 0;
  for (std::uint64_t probe = std::uint64_t{1} << 63; (x & probe) == 0; probe >>= 1) ++n;
  return n;
#endif
}

}  // namespace detail
FP8_END_NAMESPACE
