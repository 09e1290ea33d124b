// SPDX-License-Identifier: Apache-2.0
// AVX-512 operations for code compiled in the avx512 and avx512bf16 tiers'
// target regions (detail/dispatch.hpp), in the forms that compile cleanly in a
// consumer's build: GCC 12's unmasked forms of these intrinsics start from
// an undefined register, which its -Wall reports as (maybe-)uninitialized
// in the code that includes us. The zero-masking form with a full mask is
// the same instruction (GCC emits it unmasked).
#pragma once

#include "dispatch.hpp"

#if FP8_TIER_AVX512
#include <immintrin.h>

FP8_BEGIN_TARGET_AVX512
FP8_BEGIN_NAMESPACE
namespace detail {
FP8_BEGIN_TU_NAMESPACE
namespace zmm {

inline __m512 max(__m512 a, __m512 b) noexcept { return _mm512_maskz_max_ps(0xFFFF, a, b); }
inline __m512 min(__m512 a, __m512 b) noexcept { return _mm512_maskz_min_ps(0xFFFF, a, b); }
inline __m512i unpacklo32(__m512i a, __m512i b) noexcept { return _mm512_maskz_unpacklo_epi32(0xFFFF, a, b); }
inline __m512i unpackhi32(__m512i a, __m512i b) noexcept { return _mm512_maskz_unpackhi_epi32(0xFFFF, a, b); }
inline __m512i unpacklo64(__m512i a, __m512i b) noexcept { return _mm512_maskz_unpacklo_epi64(0xFF, a, b); }
inline __m512i unpackhi64(__m512i a, __m512i b) noexcept { return _mm512_maskz_unpackhi_epi64(0xFF, a, b); }
template <int Imm>
inline __m512i shuffle_i32x4(__m512i a, __m512i b) noexcept {
  return _mm512_maskz_shuffle_i32x4(0xFFFF, a, b, Imm);
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
