// SPDX-License-Identifier: Apache-2.0
// fp8::amax: the largest magnitude max |x[i]| of an array of float, bfloat16
// or half, the statistic every scale is chosen from (per-tensor scales in
// quant/scale.hpp, MX block scales in quant/mx.hpp, OCP MX v1.0 §6.3).
//
// Semantics:
//   * n == 0 gives +0; -0 counts as 0; infinities count (amax can be +Inf).
//   * NaN in, NaN out: if any element is NaN the result is a quiet NaN
//     (0x7FC00000). A NaN silently dropped would give a scale that hides it.
//   * The result is exact (it is one of the |x[i]|), so the order of the
//     reduction does not matter and SIMD equals the scalar loop bit for bit.
//
// How: the magnitude bits of an IEEE float, read as an integer, order the
// values the same way (the exponent field sits above the mantissa), and every
// NaN's magnitude bits exceed +Inf's 0x7F800000. So an integer maximum of
// (bits & 0x7FFFFFFF) is the float maximum of |x| with NaN propagation built
// in, and needs no float compare (whose NaN rules differ between ISAs). The
// same holds for the 16-bit formats with 0x7FFF.
//
// The first entry with run-time dispatch (detail/dispatch.hpp): portable
// and SSE2 (xsimd) code, and AVX2 and AVX-512 code in intrinsics compiled
// by target attribute, the tier chosen once per call.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../config.hpp"
#include "../detail/arguments.hpp"
#include "../detail/bit.hpp"
#include "../detail/dispatch.hpp"
#include "../detail/isa.hpp"
#include "../detail/simd_avx512.hpp"
#include "../detail/simd_xsimd.hpp"
#include "../error.hpp"
#include "../types/float16.hpp"
#include "common.hpp"

FP8_BEGIN_NAMESPACE
namespace detail {
FP8_BEGIN_TU_NAMESPACE

// Largest magnitude bits of n floats: the definition, element by element.
inline std::uint32_t amax_bits(const float* x, std::size_t n, isa::portable) noexcept {
  std::uint32_t m = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t a = bit_cast<std::uint32_t>(x[i]) & 0x7FFFFFFFu;
    m = a > m ? a : m;
  }
  return m;
}
template <class Format>
inline std::uint32_t amax_bits(const storage16<Format>* x, std::size_t n, isa::portable) noexcept {
  std::uint32_t m = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t a = x[i].bits() & 0x7FFFu;
    m = a > m ? a : m;
  }
  return m;
}

#if FP8_ISA_SSE2
// The baseline tier, on xsimd. Four independent accumulators hide the
// latency of the max; the loop is then bound by loads.
inline std::uint32_t amax_bits(const float* x, std::size_t n, isa::sse2 tag) noexcept {
  using I = vi<isa::sse2>;
  using Fl = vf<isa::sse2>;
  constexpr std::size_t W = I::size;
  const I mask(0x7FFFFFFF);
  I m0(0), m1(0), m2(0), m3(0);
  std::size_t i = 0;
  for (; i + 4 * W <= n; i += 4 * W) {
    m0 = xsimd::max(m0, xsimd::bitwise_cast<I>(Fl::load_unaligned(x + i)) & mask);
    m1 = xsimd::max(m1, xsimd::bitwise_cast<I>(Fl::load_unaligned(x + i + W)) & mask);
    m2 = xsimd::max(m2, xsimd::bitwise_cast<I>(Fl::load_unaligned(x + i + 2 * W)) & mask);
    m3 = xsimd::max(m3, xsimd::bitwise_cast<I>(Fl::load_unaligned(x + i + 3 * W)) & mask);
  }
  for (; i + W <= n; i += W) m0 = xsimd::max(m0, xsimd::bitwise_cast<I>(Fl::load_unaligned(x + i)) & mask);
  const I m = all_lanes_max(xsimd::max(xsimd::max(m0, m1), xsimd::max(m2, m3)), tag);
  const std::uint32_t head = static_cast<std::uint32_t>(first_lane(m));
  const std::uint32_t tail = amax_bits(x + i, n - i, isa::portable{});
  return head > tail ? head : tail;
}

// 16-bit sources: the same over int16 lanes (all of them non-negative after
// the mask, so a signed max is right), twice as many per vector.
template <class Format>
std::uint32_t amax_bits(const storage16<Format>* x, std::size_t n, isa::sse2) noexcept {
  using H = xsimd::batch<std::int16_t, xsimd::sse2>;
  constexpr std::size_t W = H::size;
  const H mask(0x7FFF);
  H m0(0), m1(0);
  std::size_t i = 0;
  // storage16 is a standard-layout wrapper of one uint16_t; the vector load
  // reads its bytes through the intrinsics' may-alias vector types.
  const auto* p = reinterpret_cast<const std::int16_t*>(x);
  for (; i + 2 * W <= n; i += 2 * W) {
    m0 = xsimd::max(m0, H::load_unaligned(p + i) & mask);
    m1 = xsimd::max(m1, H::load_unaligned(p + i + W) & mask);
  }
  alignas(16) std::int16_t lanes[W];
  xsimd::max(m0, m1).store_aligned(lanes);
  std::uint32_t m = 0;
  for (std::size_t k = 0; k < W; ++k) {
    const auto a = static_cast<std::uint32_t>(lanes[k]);
    m = a > m ? a : m;
  }
  const std::uint32_t tail = amax_bits(x + i, n - i, isa::portable{});
  return m > tail ? m : tail;
}
#endif

#if FP8_TIER_AVX2 || FP8_TIER_AVX512
// The largest of the lanes a vector stored (each tier's last step: once per
// call, so plain code; the vector reductions of GCC's headers read an
// undefined register, which -Wall reports in every consumer's build).
template <class T, std::size_t N>
inline std::uint32_t max_of_lanes(const T (&lanes)[N]) noexcept {
  std::uint32_t m = 0;
  for (T a : lanes) m = static_cast<std::uint32_t>(a) > m ? static_cast<std::uint32_t>(a) : m;
  return m;
}
#endif

#if FP8_TIER_AVX2
// AVX2 (tiers above the baseline are written in intrinsics and compiled by
// target attribute: detail/dispatch.hpp; no lambdas inside, which would be
// compiled without the attribute).
FP8_TARGET_AVX2 inline std::uint32_t amax_bits(const float* x, std::size_t n, isa::avx2) noexcept {
  const __m256i mask = _mm256_set1_epi32(0x7FFFFFFF);
  __m256i m0 = _mm256_setzero_si256(), m1 = m0, m2 = m0, m3 = m0;
  const auto* p = reinterpret_cast<const __m256i*>(x);
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32, p += 4) {
    m0 = _mm256_max_epi32(m0, _mm256_and_si256(_mm256_loadu_si256(p), mask));
    m1 = _mm256_max_epi32(m1, _mm256_and_si256(_mm256_loadu_si256(p + 1), mask));
    m2 = _mm256_max_epi32(m2, _mm256_and_si256(_mm256_loadu_si256(p + 2), mask));
    m3 = _mm256_max_epi32(m3, _mm256_and_si256(_mm256_loadu_si256(p + 3), mask));
  }
  for (; i + 8 <= n; i += 8, ++p) m0 = _mm256_max_epi32(m0, _mm256_and_si256(_mm256_loadu_si256(p), mask));
  alignas(32) std::int32_t lanes[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes),
                     _mm256_max_epi32(_mm256_max_epi32(m0, m1), _mm256_max_epi32(m2, m3)));
  const std::uint32_t head = max_of_lanes(lanes), tail = amax_bits(x + i, n - i, isa::portable{});
  return head > tail ? head : tail;
}
template <class Format>
FP8_TARGET_AVX2 std::uint32_t amax_bits(const storage16<Format>* x, std::size_t n, isa::avx2) noexcept {
  const __m256i mask = _mm256_set1_epi16(0x7FFF);
  __m256i m0 = _mm256_setzero_si256(), m1 = m0;
  const auto* p = reinterpret_cast<const __m256i*>(x);
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32, p += 2) {
    m0 = _mm256_max_epi16(m0, _mm256_and_si256(_mm256_loadu_si256(p), mask));
    m1 = _mm256_max_epi16(m1, _mm256_and_si256(_mm256_loadu_si256(p + 1), mask));
  }
  alignas(32) std::int16_t lanes[16];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), _mm256_max_epi16(m0, m1));
  const std::uint32_t head = max_of_lanes(lanes), tail = amax_bits(x + i, n - i, isa::portable{});
  return head > tail ? head : tail;
}
#endif

#if FP8_TIER_AVX512
// vpmaxsd / vpmaxsw: detail/simd_avx512.hpp's zero-masking forms (GCC 12's
// unmasked ones start from an undefined register, which its -Wall reports in
// the consumer's build).
using zmm::max_i16;
using zmm::max_i32;

// AVX-512 F/BW: the tail in one masked load.
FP8_TARGET_AVX512 inline std::uint32_t amax_bits(const float* x, std::size_t n, isa::avx512) noexcept {
  const __m512i mask = _mm512_set1_epi32(0x7FFFFFFF);
  __m512i m0 = _mm512_setzero_si512(), m1 = m0, m2 = m0, m3 = m0;
  std::size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    m0 = max_i32(m0, _mm512_and_si512(_mm512_loadu_si512(x + i), mask));
    m1 = max_i32(m1, _mm512_and_si512(_mm512_loadu_si512(x + i + 16), mask));
    m2 = max_i32(m2, _mm512_and_si512(_mm512_loadu_si512(x + i + 32), mask));
    m3 = max_i32(m3, _mm512_and_si512(_mm512_loadu_si512(x + i + 48), mask));
  }
  for (; i + 16 <= n; i += 16) m0 = max_i32(m0, _mm512_and_si512(_mm512_loadu_si512(x + i), mask));
  if (i < n) {
    const auto k = static_cast<__mmask16>((1u << (n - i)) - 1u);
    m1 = max_i32(m1, _mm512_and_si512(_mm512_maskz_loadu_epi32(k, x + i), mask));
  }
  alignas(64) std::int32_t lanes[16];
  _mm512_store_si512(lanes, max_i32(max_i32(m0, m1), max_i32(m2, m3)));
  return max_of_lanes(lanes);
}
template <class Format>
FP8_TARGET_AVX512 std::uint32_t amax_bits(const storage16<Format>* x, std::size_t n, isa::avx512) noexcept {
  const __m512i mask = _mm512_set1_epi16(0x7FFF);
  __m512i m0 = _mm512_setzero_si512(), m1 = m0;
  const auto* p = reinterpret_cast<const std::int16_t*>(x);
  std::size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    m0 = max_i16(m0, _mm512_and_si512(_mm512_loadu_si512(p + i), mask));
    m1 = max_i16(m1, _mm512_and_si512(_mm512_loadu_si512(p + i + 32), mask));
  }
  for (; i < n; i += 32) {
    const std::size_t left = n - i < 32 ? n - i : 32;
    const auto k = static_cast<__mmask32>(left == 32 ? ~0u : (1u << left) - 1u);
    m0 = max_i16(m0, _mm512_and_si512(_mm512_maskz_loadu_epi16(k, p + i), mask));
  }
  alignas(64) std::int16_t lanes[32];
  _mm512_store_si512(lanes, max_i16(m0, m1));
  return max_of_lanes(lanes);
}
#endif

template <class T>
inline void check_amax_span(const T* src, std::size_t n) {
  check_array("fp8::amax", "src", src, n, sizeof(T));
}

FP8_END_TU_NAMESPACE
}  // namespace detail

FP8_BEGIN_TU_NAMESPACE
// max |src[i]| over n floats; +0 for n == 0; a quiet NaN if any element is NaN.
inline float amax(const float* src, std::size_t n) {
  detail::check_amax_span(src, n);
  const std::uint32_t m = detail::dispatch([&](auto tier) { return detail::amax_bits(src, n, tier); });
  return detail::bit_cast<float>(m > 0x7F800000u ? 0x7FC00000u : m);
}
// The same for bfloat16 and half sources; the result is exact as a float.
inline float amax(const bfloat16* src, std::size_t n) {
  detail::check_amax_span(src, n);
  const std::uint32_t m = detail::dispatch([&](auto tier) { return detail::amax_bits(src, n, tier); });
  return detail::bit_cast<float>(m > 0x7F80u ? 0x7FC00000u : m << 16);
}
inline float amax(const half* src, std::size_t n) {
  detail::check_amax_span(src, n);
  const std::uint32_t m = detail::dispatch([&](auto tier) { return detail::amax_bits(src, n, tier); });
  return m > 0x7C00u ? detail::bit_cast<float>(0x7FC00000u)
                     : static_cast<float>(half::from_bits(static_cast<std::uint16_t>(m)));
}
FP8_END_TU_NAMESPACE

FP8_END_NAMESPACE
