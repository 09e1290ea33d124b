// SPDX-License-Identifier: Apache-2.0
// AVX2 operations for code compiled in the avx2 tier's target region
// (detail/dispatch.hpp) that AVX2 lacks as one instruction or that every
// avx2 kernel spells the same way: blends on whole-lane masks, a horizontal
// maximum left in every lane, an unsigned compare and an unsigned float
// conversion of int32 lanes. AVX2's intrinsics have no undefined-register
// forms, so nothing here is about warnings (compare detail/simd_avx512.hpp).
#pragma once

#include <cstdint>
#include <limits>

#include "dispatch.hpp"

#if FP8_TIER_AVX2
#include <immintrin.h>

FP8_BEGIN_TARGET_AVX2
FP8_BEGIN_NAMESPACE
namespace detail {
FP8_BEGIN_TU_NAMESPACE
namespace ymm {

inline __m256i set1(std::int32_t v) noexcept { return _mm256_set1_epi32(v); }
// vpblendvb on whole-lane masks (all ones or all zeros per int32).
inline __m256i select(__m256i mask, __m256i yes, __m256i no) noexcept { return _mm256_blendv_epi8(no, yes, mask); }

// The maximum of the int32 lanes, left in every lane (butterfly, as
// detail/simd_xsimd.hpp's all_lanes_max). Signed: callers pass values >= 0.
inline __m256i all_lanes_max_i32(__m256i v) noexcept {
  v = _mm256_max_epi32(v, _mm256_permute2x128_si256(v, v, 0x01));  // 128-bit halves
  v = _mm256_max_epi32(v, _mm256_shuffle_epi32(v, 0x4E));           // 64-bit pairs
  return _mm256_max_epi32(v, _mm256_shuffle_epi32(v, 0xB1));        // neighbours
}
inline std::int32_t first_lane(__m256i v) noexcept { return _mm_cvtsi128_si32(_mm256_castsi256_si128(v)); }

// Unsigned a < b per lane, as a whole-lane mask: flipping the sign bit maps
// unsigned order onto signed order.
inline __m256i less_u32(__m256i a, __m256i b) noexcept {
  const __m256i flip = set1(std::numeric_limits<std::int32_t>::min());
  return _mm256_cmpgt_epi32(_mm256_xor_si256(b, flip), _mm256_xor_si256(a, flip));
}

// Truncation of float lanes in [0, 2^32) to uint32 (AVX-512's vcvttps2udq):
// lanes from 2^31 up convert x - 2^31 (exact: such a float is a multiple of
// 2^8) and set the top bit back.
inline __m256i cvtt_f32_u32(__m256 x) noexcept {
  const __m256 two31 = _mm256_set1_ps(2147483648.0f);
  const __m256i big = _mm256_castps_si256(_mm256_cmp_ps(x, two31, _CMP_GE_OQ));
  const __m256i low = _mm256_cvttps_epi32(x);
  const __m256i high = _mm256_xor_si256(_mm256_cvttps_epi32(_mm256_sub_ps(x, two31)), set1(std::numeric_limits<std::int32_t>::min()));
  return select(big, high, low);
}

}  // namespace ymm
FP8_END_TU_NAMESPACE
}  // namespace detail
FP8_END_NAMESPACE
FP8_END_TARGET_AVX2
#endif  // FP8_TIER_AVX2
