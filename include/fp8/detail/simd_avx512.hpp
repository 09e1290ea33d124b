// SPDX-License-Identifier: Apache-2.0
// AVX-512 operations for code compiled in the avx512 and avx512bf16 tiers'
// target regions (detail/dispatch.hpp), in the forms that compile cleanly in a
// consumer's build: GCC 12's unmasked forms of these intrinsics start from
// an undefined register, which its -Wall reports as (maybe-)uninitialized
// in the code that includes us. The zero-masking form with a full mask is
// the same instruction (GCC emits it unmasked). Plain vector arithmetic
// (_mm512_add_epi32, _mm512_and_si512, _mm512_mul_ps, ...) and the compares
// into masks are written as vector expressions in GCC's headers and need no
// wrapper; every other intrinsic a region uses should come from here.
#pragma once

#include <cstdint>

#include "dispatch.hpp"

#if FP8_TIER_AVX512
#include <immintrin.h>

FP8_BEGIN_TARGET_AVX512
FP8_BEGIN_NAMESPACE
namespace detail {
FP8_BEGIN_TU_NAMESPACE
namespace zmm {

constexpr __mmask16 all16 = 0xFFFF;

inline __m512 max(__m512 a, __m512 b) noexcept { return _mm512_maskz_max_ps(all16, a, b); }
inline __m512 min(__m512 a, __m512 b) noexcept { return _mm512_maskz_min_ps(all16, a, b); }
inline __m512i max_i32(__m512i a, __m512i b) noexcept { return _mm512_maskz_max_epi32(all16, a, b); }  // vpmaxsd
inline __m512i min_i32(__m512i a, __m512i b) noexcept { return _mm512_maskz_min_epi32(all16, a, b); }  // vpminsd
inline __m512i max_i16(__m512i a, __m512i b) noexcept {  // vpmaxsw
  return _mm512_maskz_max_epi16(0xFFFFFFFFu, a, b);
}
// Logical shifts of int32 lanes (vpsrld, vpslld).
template <unsigned K>
inline __m512i srl32(__m512i v) noexcept {
  return _mm512_maskz_srli_epi32(all16, v, K);
}
template <unsigned K>
inline __m512i sll32(__m512i v) noexcept {
  return _mm512_maskz_slli_epi32(all16, v, K);
}
inline __m512 cvt_i32_f32(__m512i v) noexcept { return _mm512_maskz_cvtepi32_ps(all16, v); }      // vcvtdq2ps
inline __m512i cvtt_f32_i32(__m512 v) noexcept { return _mm512_maskz_cvttps_epi32(all16, v); }    // vcvttps2dq
inline __m512i cvtt_f32_u32(__m512 v) noexcept { return _mm512_maskz_cvttps_epu32(all16, v); }    // vcvttps2udq
inline __m512i zext_u8_i32(__m128i v) noexcept { return _mm512_maskz_cvtepu8_epi32(all16, v); }   // vpmovzxbd
inline __m512i zext_u16_i32(__m256i v) noexcept { return _mm512_maskz_cvtepu16_epi32(all16, v); } // vpmovzxwd
inline __m512 cvt_f16_f32(__m256i v) noexcept { return _mm512_maskz_cvtph_ps(all16, v); }         // vcvtph2ps: exact
// vcvtps2ph with explicit round to nearest even (not MXCSR's mode).
inline __m256i cvt_f32_f16(__m512 v) noexcept {
  return _mm512_maskz_cvtps_ph(all16, v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
// Makes the compiler hold v in a register: GCC otherwise folds the load of
// v into each instruction that uses it, as a memory operand (a line read
// twice while it came from DRAM cost 10-20% of a streaming encode; the
// depthwise loop loaded each input vector once per tap).
inline void keep_in_register(__m512& v) noexcept {
#if defined(__GNUC__)
  __asm__("" : "+v"(v));
#else
  (void)v;
#endif
}
inline __m512i max_u32(__m512i a, __m512i b) noexcept { return _mm512_maskz_max_epu32(all16, a, b); }  // vpmaxud
// vrangeps choosing the smaller magnitude, sign cleared: min(|a|, |b|); a NaN
// a gives a NaN.
inline __m512 min_magnitude(__m512 a, __m512 b) noexcept { return _mm512_maskz_range_ps(all16, a, b, 0x0A); }
// vaddps rounding to nearest even whatever MXCSR's mode (embedded rounding).
inline __m512 add_nearest(__m512 a, __m512 b) noexcept {
  return _mm512_maskz_add_round_ps(all16, a, b, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
inline __m256i trunc_i32_i16(__m512i v) noexcept { return _mm512_maskz_cvtepi32_epi16(all16, v); }  // vpmovdw
// vpermd: dword i of the result is a[idx[i] % 16].
inline __m512i permute32(__m512i idx, __m512i a) noexcept { return _mm512_maskz_permutexvar_epi32(all16, idx, a); }
template <int Imm>
inline __m512i shuffle32(__m512i a) noexcept {  // vpshufd within each 128-bit lane
  return _mm512_maskz_shuffle_epi32(all16, a, static_cast<_MM_PERM_ENUM>(Imm));
}
inline __m512i unpacklo32(__m512i a, __m512i b) noexcept { return _mm512_maskz_unpacklo_epi32(all16, a, b); }
inline __m512i unpackhi32(__m512i a, __m512i b) noexcept { return _mm512_maskz_unpackhi_epi32(all16, a, b); }
inline __m512i unpacklo64(__m512i a, __m512i b) noexcept { return _mm512_maskz_unpacklo_epi64(0xFF, a, b); }
inline __m512i unpackhi64(__m512i a, __m512i b) noexcept { return _mm512_maskz_unpackhi_epi64(0xFF, a, b); }
template <int Imm>
inline __m512i shuffle_i32x4(__m512i a, __m512i b) noexcept {
  return _mm512_maskz_shuffle_i32x4(all16, a, b, Imm);
}

// The maximum of the int32 lanes, left in every lane: a butterfly of
// max(v, permute(v)) steps, each halving the distance between the lanes it
// combines. Signed compare: callers pass non-negative values.
inline __m512i all_lanes_max_i32(__m512i v) noexcept {
  v = max_i32(v, shuffle_i32x4<0x4E>(v, v));      // 256-bit halves
  v = max_i32(v, shuffle_i32x4<0xB1>(v, v));      // 128-bit quarters
  v = max_i32(v, shuffle32<0x4E>(v));             // 64-bit pairs
  return max_i32(v, shuffle32<0xB1>(v));          // neighbours
}
// (_mm512_castsi512_si128 is one of the undefined-register forms in GCC 12.)
inline std::int32_t first_lane(__m512i v) noexcept {
  return _mm_cvtsi128_si32(_mm512_maskz_extracti32x4_epi32(0xF, v, 0));
}

}  // namespace zmm
FP8_END_TU_NAMESPACE
}  // namespace detail
FP8_END_NAMESPACE
FP8_END_TARGET_AVX512
#endif  // FP8_TIER_AVX512

#if FP8_TIER_AVX512BF16
FP8_BEGIN_TARGET_AVX512BF16
FP8_BEGIN_NAMESPACE
namespace detail {
FP8_BEGIN_TU_NAMESPACE
namespace zmm {

// vpermb (VBMI): byte i of the result is a[idx[i] % 64].
inline __m512i permute_bytes(__m512i idx, __m512i a) noexcept {
  return _mm512_maskz_permutexvar_epi8(~__mmask64{0}, idx, a);
}

}  // namespace zmm
FP8_END_TU_NAMESPACE
}  // namespace detail
FP8_END_NAMESPACE
FP8_END_TARGET_AVX512BF16
#endif  // FP8_TIER_AVX512BF16
