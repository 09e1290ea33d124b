// SPDX-License-Identifier: Apache-2.0
// The lane operations of each tier, what the bodies written once for every
// tier (the `-inl.hpp` files: the vector epilogue, the small-m path) are
// compiled over:
//
//   kernel::lanes_avx512::ops  __m512, 16 lanes, masked loads and stores
//                              (avx512 and avx512bf16: AVX-512F code may be
//                              inlined into the avx512bf16 region)
//   kernel::lanes_avx2::ops    __m256, 8 lanes, whole vectors only
//   kernel::lanes_xsimd::ops   xsimd's widest float batch of the build's
//                              flags, whole vectors only (the sse2 tier)
//   kernel::lanes_scalar::ops  one float (the portable tier)
//
// Each is defined in its tier's target region (detail/dispatch.hpp); a
// header that includes a body opens the same region and namespace again
// and includes the body there, so the body's templates are compiled for the
// tier and inline its operations. Every operation is the one instruction
// of its name (fma is fused where `fused` says so: xsimd's only when the
// flags have FMA), and max / min return their second operand when the first is NaN
// (the bound, as std::fmax / std::fmin give it).
#pragma once

#include <cmath>
#include <cstddef>

#include "../config.hpp"
#include "../detail/dispatch.hpp"
#include "../detail/isa.hpp"
#include "../detail/simd_avx512.hpp"

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
  static constexpr bool fused = true;  // fma rounds once
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
  static constexpr bool fused = true;
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
#if defined(__FMA__)
  static constexpr bool fused = true;
#else
  static constexpr bool fused = false;  // xsimd::fma is a multiply and an add, two roundings
#endif
  static constexpr mask all{};
  static vec set1(float x) noexcept { return vec(x); }
  static vec zero() noexcept { return vec(0.0f); }
  static vec load(const float* p, mask) noexcept { return vec::load_unaligned(p); }
  static void store(float* p, vec v, mask) noexcept { v.store_unaligned(p); }
  static vec mul(vec a, vec b) noexcept { return a * b; }
  static vec add(vec a, vec b) noexcept { return a + b; }
  static vec fma(vec a, vec b, vec c) noexcept { return xsimd::fma(a, b, c); }  // fused only when `fused`
  static vec max(vec a, vec b) noexcept { return xsimd::select(a > b, a, b); }  // NaN a gives b
  static vec min(vec a, vec b) noexcept { return xsimd::select(a < b, a, b); }
};
}  // namespace lanes_xsimd
FP8_END_TU_NAMESPACE
}  // namespace kernel
FP8_END_NAMESPACE
#endif  // FP8_ISA_SSE2

FP8_BEGIN_NAMESPACE
namespace kernel {
FP8_BEGIN_TU_NAMESPACE
namespace lanes_scalar {
struct ops {
  using vec = float;
  struct mask {};
  static constexpr std::size_t lanes = 1;
  static constexpr bool fused = true;
  static constexpr mask all{};
  static vec set1(float x) noexcept { return x; }
  static vec zero() noexcept { return 0.0f; }
  static vec load(const float* p, mask) noexcept { return *p; }
  static void store(float* p, vec v, mask) noexcept { *p = v; }
  static vec mul(vec a, vec b) noexcept { return a * b; }
  static vec add(vec a, vec b) noexcept { return a + b; }
  static vec fma(vec a, vec b, vec c) noexcept { return std::fma(a, b, c); }
  static vec max(vec a, vec b) noexcept { return a > b ? a : b; }
  static vec min(vec a, vec b) noexcept { return a < b ? a : b; }
};
}  // namespace lanes_scalar
FP8_END_TU_NAMESPACE
}  // namespace kernel
FP8_END_NAMESPACE
