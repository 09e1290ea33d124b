// SPDX-License-Identifier: Apache-2.0
// The vector epilogue of every tier: epilogue_vector-inl.hpp, written once,
// compiled per tier over that tier's lane operations:
//
//   kernel::lanes_avx512  __m512, 16 lanes, masked loads and stores (the
//                         avx512 and avx512bf16 kernels: AVX-512F code may
//                         be inlined into the avx512bf16 region)
//   kernel::lanes_avx2    __m256, 8 lanes, whole vectors only
//   kernel::lanes_xsimd   xsimd's widest float batch of the build's flags,
//                         whole vectors only (the sse2 tier's kernels)
//
// Tiers without masks leave partial tiles to the scalar definition
// (epilogue_tile); xsimd without FMA also leaves beta to it (its fma would
// round twice).
#pragma once

#include <cstddef>

#include "../config.hpp"
#include "../detail/dispatch.hpp"
#include "../detail/isa.hpp"
#include "../detail/simd_avx512.hpp"
#include "epilogue.hpp"

#if FP8_TIER_AVX2 || FP8_TIER_AVX512
#include <immintrin.h>
#endif
#if FP8_ISA_SSE2
#include <xsimd/xsimd.hpp>
#endif

#if FP8_TIER_AVX512
FP8_BEGIN_TARGET_AVX512
FP8_BEGIN_NAMESPACE
namespace kernel {
FP8_BEGIN_TU_NAMESPACE
namespace lanes_avx512 {
struct ops {
  using vec = __m512;
  using mask = __mmask16;
  static constexpr std::size_t lanes = 16;
  static constexpr mask all = 0xFFFF;
  // The first n lanes (all of them from 16 on).
  static mask first(std::size_t n) noexcept { return n >= 16 ? all : static_cast<mask>((1u << n) - 1u); }
  static vec set1(float x) noexcept { return _mm512_set1_ps(x); }
  static vec zero() noexcept { return _mm512_setzero_ps(); }
  static vec load(const float* p, mask m) noexcept { return _mm512_maskz_loadu_ps(m, p); }
  static void store(float* p, vec v, mask m) noexcept { _mm512_mask_storeu_ps(p, m, v); }
  static vec mul(vec a, vec b) noexcept { return _mm512_mul_ps(a, b); }
  static vec add(vec a, vec b) noexcept { return _mm512_add_ps(a, b); }
  static vec fma(vec a, vec b, vec c) noexcept { return _mm512_fmadd_ps(a, b, c); }
  static vec max(vec a, vec b) noexcept { return ::fp8::detail::zmm::max(a, b); }
  static vec min(vec a, vec b) noexcept { return ::fp8::detail::zmm::min(a, b); }
};
#include "epilogue_vector-inl.hpp"
}  // namespace lanes_avx512
FP8_END_TU_NAMESPACE
}  // namespace kernel
FP8_END_NAMESPACE
FP8_END_TARGET_AVX512
#endif  // FP8_TIER_AVX512

#if FP8_TIER_AVX2
FP8_BEGIN_TARGET_AVX2
FP8_BEGIN_NAMESPACE
namespace kernel {
FP8_BEGIN_TU_NAMESPACE
namespace lanes_avx2 {
struct ops {
  using vec = __m256;
  struct mask {};  // whole vectors only
  static constexpr std::size_t lanes = 8;
  static constexpr mask all{};
  static vec set1(float x) noexcept { return _mm256_set1_ps(x); }
  static vec zero() noexcept { return _mm256_setzero_ps(); }
  static vec load(const float* p, mask) noexcept { return _mm256_loadu_ps(p); }
  static void store(float* p, vec v, mask) noexcept { _mm256_storeu_ps(p, v); }
  static vec mul(vec a, vec b) noexcept { return _mm256_mul_ps(a, b); }
  static vec add(vec a, vec b) noexcept { return _mm256_add_ps(a, b); }
  static vec fma(vec a, vec b, vec c) noexcept { return _mm256_fmadd_ps(a, b, c); }
  // vmaxps / vminps return the second operand when either is NaN.
  static vec max(vec a, vec b) noexcept { return _mm256_max_ps(a, b); }
  static vec min(vec a, vec b) noexcept { return _mm256_min_ps(a, b); }
};
#include "epilogue_vector-inl.hpp"
}  // namespace lanes_avx2
FP8_END_TU_NAMESPACE
}  // namespace kernel
FP8_END_NAMESPACE
FP8_END_TARGET_AVX2
#endif  // FP8_TIER_AVX2

#if FP8_ISA_SSE2
FP8_BEGIN_NAMESPACE
namespace kernel {
FP8_BEGIN_TU_NAMESPACE
namespace lanes_xsimd {
struct ops {
  using vec = xsimd::batch<float>;
  struct mask {};  // whole vectors only
  static constexpr std::size_t lanes = vec::size;
  static constexpr mask all{};
  static vec set1(float x) noexcept { return vec(x); }
  static vec zero() noexcept { return vec(0.0f); }
  static vec load(const float* p, mask) noexcept { return vec::load_unaligned(p); }
  static void store(float* p, vec v, mask) noexcept { v.store_unaligned(p); }
  static vec mul(vec a, vec b) noexcept { return a * b; }
  static vec add(vec a, vec b) noexcept { return a + b; }
  static vec fma(vec a, vec b, vec c) noexcept { return xsimd::fma(a, b, c); }  // fused only with FMA in the flags
  static vec max(vec a, vec b) noexcept { return xsimd::select(a > b, a, b); }  // NaN a gives b
  static vec min(vec a, vec b) noexcept { return xsimd::select(a < b, a, b); }
};
#include "epilogue_vector-inl.hpp"
}  // namespace lanes_xsimd
FP8_END_TU_NAMESPACE
}  // namespace kernel
FP8_END_NAMESPACE
#endif  // FP8_ISA_SSE2
