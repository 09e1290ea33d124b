// SPDX-License-Identifier: Apache-2.0
// FP8 decoding through byte tables on AVX-512 VBMI (vpermi2b), 64 codes per
// step. Every FP8 value is exact in bfloat16 and in half, so decoding is a
// lookup of the 16-bit pattern of each magnitude code (128 entries: the low
// 7 bits) split into a low-byte and a high-byte table of 128 bytes, i.e. two
// zmm registers each, which is exactly what one vpermi2b indexes. The sign
// bit is ORed into the high byte; fnuz's 0x80 (NaN, not -0) is patched. A
// float is a bfloat16 with two zero bytes below it: one zero-masking vpermi2b
// per 16 floats places (0, 0, lo, hi).
// The tables are computed at compile time from the scalar codec, so they
// cannot disagree with it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "../config.hpp"
#include "../detail/dispatch.hpp"
#include "../detail/simd_avx512.hpp"
#include "../detail/isa.hpp"
#include "../types/float16.hpp"
#include "../types/format.hpp"
#include "scalar.hpp"

// Compiled when the flags enable VBMI or when the avx512bf16 tier is reached
// by run-time dispatch (then inside that tier's target region).
#if FP8_ISA_AVX512VBMI || FP8_TIER_AVX512BF16
#define FP8_HAVE_DECODE_VBMI 1
#include <immintrin.h>

FP8_BEGIN_TARGET_AVX512BF16
FP8_BEGIN_NAMESPACE
namespace detail {
FP8_BEGIN_TU_NAMESPACE

// lo[c], hi[c]: the bytes of the 16-bit pattern (format D16: BF16 or F16) of
// the FP8 magnitude code c; entries 0..127, 64-byte aligned for zmm loads.
template <class F, class D16>
struct vbmi_tables {
  struct bytes {
    alignas(64) std::uint8_t lo[128];
    alignas(64) std::uint8_t hi[128];
  };
  static constexpr bytes make() noexcept {
    bytes t{};
    for (unsigned c = 0; c < 128; ++c) {
      const std::uint16_t v = scalar::encode<D16>(scalar::decode<F>(static_cast<std::uint8_t>(c)), overflow::non_saturating);
      t.lo[c] = static_cast<std::uint8_t>(v & 0xFF);
      t.hi[c] = static_cast<std::uint8_t>(v >> 8);
    }
    return t;
  }
  static constexpr bytes value = make();
};

// Byte orders for vpermb. The unpack instructions interleave within each
// 128-bit lane, so the codes are first permuted (one cross-lane vpermb) into
// the order that makes the unpacked results come out in memory order:
// - 16-bit outputs: W0 = unpacklo_epi8(lo, hi) must hold codes 0..31, W1 =
//   unpackhi codes 32..63, so lane L bytes 0..7 are codes 8L..8L+7 and bytes
//   8..15 are codes 32+8L..32+8L+7;
// Float outputs are placed by one zero-masking vpermi2b per 16 floats
// (bit 6 of an index picks hi), measured faster here than a second round of
// 16-bit unpacks.
struct vbmi_orders {
  alignas(64) std::uint8_t words[64];
  alignas(64) std::uint8_t floats[4][64];  // vpermi2b(lo, idx, hi) indices: (_, _, lo[j], hi[j])
};
constexpr vbmi_orders make_vbmi_orders() noexcept {
  vbmi_orders x{};
  for (unsigned lane = 0; lane < 4; ++lane)
    for (unsigned j = 0; j < 8; ++j) {
      x.words[16 * lane + j] = static_cast<std::uint8_t>(8 * lane + j);
      x.words[16 * lane + 8 + j] = static_cast<std::uint8_t>(32 + 8 * lane + j);
    }
  for (unsigned q = 0; q < 4; ++q)
    for (unsigned j = 0; j < 16; ++j) {
      x.floats[q][4 * j + 2] = static_cast<std::uint8_t>(16 * q + j);
      x.floats[q][4 * j + 3] = static_cast<std::uint8_t>(64 + 16 * q + j);
    }
  return x;
}
inline constexpr vbmi_orders vbmi_order = make_vbmi_orders();

// 64 codes -> the low and high bytes of their 16-bit patterns.
template <class F, class D16>
inline void vbmi_lookup(__m512i codes, __m512i& lo, __m512i& hi) noexcept {
  using T = vbmi_tables<F, D16>;
  lo = _mm512_permutex2var_epi8(_mm512_load_si512(T::value.lo), codes, _mm512_load_si512(T::value.lo + 64));
  hi = _mm512_permutex2var_epi8(_mm512_load_si512(T::value.hi), codes, _mm512_load_si512(T::value.hi + 64));
  // hi | (codes & 0x80): ternary-logic truth table 0xF8 for A | (B & C).
  hi = _mm512_ternarylogic_epi32(hi, codes, _mm512_set1_epi8(static_cast<char>(0x80)), 0xF8);
  if (format_traits<F>::special_values == specials::fnuz) {  // 0x80 is NaN: the canonical quiet NaN
    constexpr std::uint16_t qnan = format_traits<D16>::nan_code;
    const __mmask64 nan = _mm512_cmpeq_epi8_mask(codes, _mm512_set1_epi8(static_cast<char>(0x80)));
    lo = _mm512_mask_mov_epi8(lo, nan, _mm512_set1_epi8(static_cast<char>(qnan & 0xFF)));
    hi = _mm512_mask_mov_epi8(hi, nan, _mm512_set1_epi8(static_cast<char>(qnan >> 8)));
  }
}

// Scaled is a template argument: GCC 12 does not hoist a run-time test out
// of the loop, which cost a third of the decode rate once the loop became a
// call of its own (run-time dispatch).
template <class F, bool Scaled>
std::size_t decode_vbmi_loop(const std::uint8_t* src, float* dst, std::size_t n, float scale) noexcept {
  constexpr __mmask64 top_two_bytes = 0xCCCCCCCCCCCCCCCCull;
  const __m512 factor = _mm512_set1_ps(scale);
  std::size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    __m512i lo, hi;
    vbmi_lookup<F, BF16>(_mm512_loadu_si512(src + i), lo, hi);
    for (unsigned q = 0; q < 4; ++q) {
      const __m512i place = _mm512_load_si512(vbmi_order.floats[q]);
      __m512 f = _mm512_castsi512_ps(_mm512_maskz_permutex2var_epi8(top_two_bytes, lo, place, hi));
      if (Scaled) f = _mm512_mul_ps(f, factor);
      _mm512_storeu_ps(dst + i + 16 * q, f);
    }
  }
  return i;
}
template <class F>
std::size_t decode_vbmi(const std::uint8_t* src, float* dst, std::size_t n, float scale) noexcept {
  return scale != 1.0f ? decode_vbmi_loop<F, true>(src, dst, n, scale) : decode_vbmi_loop<F, false>(src, dst, n, scale);
}

// Scale 1 only: the 16-bit pattern is the exact value.
template <class F, class Dst>
std::size_t decode16_vbmi(const std::uint8_t* src, Dst* dst, std::size_t n) noexcept {
  const __m512i order = _mm512_load_si512(vbmi_order.words);
  std::size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    __m512i lo, hi;
    vbmi_lookup<F, typename Dst::format>(zmm::permute_bytes(order, _mm512_loadu_si512(src + i)), lo, hi);
    _mm512_storeu_si512(dst + i, _mm512_unpacklo_epi8(lo, hi));
    _mm512_storeu_si512(dst + i + 32, _mm512_unpackhi_epi8(lo, hi));
  }
  return i;
}

FP8_END_TU_NAMESPACE
}  // namespace detail
FP8_END_NAMESPACE
FP8_END_TARGET_AVX512BF16

#else
#define FP8_HAVE_DECODE_VBMI 0
#endif
