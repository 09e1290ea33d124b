// SPDX-License-Identifier: Apache-2.0
// Lane primitives over xsimd batches: the sse2 tier's vector types (and those
// of the tiers the unit's flags enable, for code written once over xsimd,
// e.g. dyadic/linear.hpp), plus the few operations xsimd 8.1 lacks or
// implements slowly: a blend that compiles at -O0 on AVX-512BW, a horizontal
// maximum left in every lane, lane 0 as a scalar, a 32-bit multiply for SSE2,
// a logical right shift and an unsigned compare of int32 lanes. Not for
// users. The intrinsic tiers have their own: detail/simd_avx2.hpp and
// detail/simd_avx512.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

#include "../config.hpp"
#include "dispatch.hpp"
#include "isa.hpp"

#if FP8_ISA_SSE2
#include <immintrin.h>

#include <xsimd/xsimd.hpp>
#endif

// Fully unrolls the short constant-trip loops over the vectors of a step
// (4 vectors per byte store, 32 / W per MX block). GCC 12 at -O2 keeps them as
// loops with the vectors in a stack array, a store and reload each; unrolled,
// they stay in registers. Clang accepts the GCC spelling.
#ifndef FP8_UNROLL_VECTORS
#if defined(__GNUC__)
#define FP8_UNROLL_VECTORS _Pragma("GCC unroll 16")
#else
#define FP8_UNROLL_VECTORS
#endif
#endif

#if FP8_ISA_SSE2
FP8_BEGIN_NAMESPACE
namespace detail {
// Everything here depends on the unit's flags (the xsimd architectures it
// has), so it lives in the flags-named namespace (detail/dispatch.hpp).
FP8_BEGIN_TU_NAMESPACE

template <class Tag>
struct xsimd_arch;
template <>
struct xsimd_arch<isa::sse2> {
  using type = xsimd::sse2;
};
#if FP8_ISA_AVX2
template <>
struct xsimd_arch<isa::avx2> {
  using type = xsimd::avx2;
};
#endif
#if FP8_ISA_AVX512
template <>
struct xsimd_arch<isa::avx512> {
  using type = xsimd::avx512bw;
};
#endif
template <class Tag>
using vi = xsimd::batch<std::int32_t, typename xsimd_arch<Tag>::type>;
template <class Tag>
using vf = xsimd::batch<float, typename xsimd_arch<Tag>::type>;

// xsimd::select, except on 32-bit integer lanes of AVX-512BW: xsimd 8.1
// compiles the 8- and 16-bit blends for every integer type there, and GCC's
// headers spell those as macros with C casts when not optimizing, so a
// -O0 build (a consumer's Debug build) would not compile. The 32-bit blend
// is what xsimd's own avx512dq fallback runs.
template <class T, class A>
inline xsimd::batch<T, A> select(const xsimd::batch_bool<T, A>& m, const xsimd::batch<T, A>& a,
                                 const xsimd::batch<T, A>& b) noexcept {
  return xsimd::select(m, a, b);
}
#if FP8_ISA_AVX512
inline vi<isa::avx512> select(const xsimd::batch_bool<std::int32_t, xsimd::avx512bw>& m, const vi<isa::avx512>& a,
                              const vi<isa::avx512>& b) noexcept {
  return _mm512_mask_blend_epi32(static_cast<__mmask16>(m), b, a);
}
#endif

// ------------------------------------------------------------ horizontal max
// The maximum of the lanes, broadcast to every lane: a butterfly of
// max(v, permute(v)) steps, each halving the distance between the lanes it
// combines, so no scalar round trip is needed before the result is used as
// a vector. Signed compare: callers pass non-negative values.
inline vi<isa::sse2> all_lanes_max(vi<isa::sse2> v, isa::sse2) noexcept {
  using I = vi<isa::sse2>;
  v = xsimd::max(v, I(_mm_shuffle_epi32(v, _MM_SHUFFLE(1, 0, 3, 2))));  // lanes 0,1 <-> 2,3
  return xsimd::max(v, I(_mm_shuffle_epi32(v, _MM_SHUFFLE(2, 3, 0, 1))));  // lane 0 <-> 1, 2 <-> 3
}
#if FP8_ISA_AVX2
inline vi<isa::avx2> all_lanes_max(vi<isa::avx2> v, isa::avx2) noexcept {
  using I = vi<isa::avx2>;
  v = xsimd::max(v, I(_mm256_permute2x128_si256(v, v, 0x01)));  // swap the 128-bit halves
  v = xsimd::max(v, I(_mm256_shuffle_epi32(v, _MM_SHUFFLE(1, 0, 3, 2))));
  return xsimd::max(v, I(_mm256_shuffle_epi32(v, _MM_SHUFFLE(2, 3, 0, 1))));
}
#endif
#if FP8_ISA_AVX512
inline vi<isa::avx512> all_lanes_max(vi<isa::avx512> v, isa::avx512) noexcept {
  using I = vi<isa::avx512>;
  v = xsimd::max(v, I(_mm512_shuffle_i32x4(v, v, _MM_SHUFFLE(1, 0, 3, 2))));  // 256-bit halves
  v = xsimd::max(v, I(_mm512_shuffle_i32x4(v, v, _MM_SHUFFLE(2, 3, 0, 1))));  // 128-bit quarters
  v = xsimd::max(v, I(_mm512_shuffle_epi32(v, static_cast<_MM_PERM_ENUM>(_MM_SHUFFLE(1, 0, 3, 2)))));
  return xsimd::max(v, I(_mm512_shuffle_epi32(v, static_cast<_MM_PERM_ENUM>(_MM_SHUFFLE(2, 3, 0, 1)))));
}
#endif

// Lane 0 as a scalar, without the store and reload of xsimd's batch::get.
inline std::int32_t first_lane(vi<isa::sse2> v) noexcept { return _mm_cvtsi128_si32(v); }
#if FP8_ISA_AVX2
inline std::int32_t first_lane(vi<isa::avx2> v) noexcept { return _mm_cvtsi128_si32(_mm256_castsi256_si128(v)); }
#endif
#if FP8_ISA_AVX512
inline std::int32_t first_lane(vi<isa::avx512> v) noexcept { return _mm_cvtsi128_si32(_mm512_castsi512_si128(v)); }
#endif

// ------------------------------------------------------------ 32-bit multiply
// The low 32 bits of a * b per lane. SSE2 has no pmulld (SSE4.1), and
// xsimd's SSE2 fallback multiplies lane by lane in scalar code, so two
// pmuludq (even and odd lanes, 32 x 32 -> 64) are recombined instead.
inline vi<isa::sse2> mullo32(vi<isa::sse2> a, vi<isa::sse2> b, isa::sse2) noexcept {
#if FP8_ISA_SSE41
  return _mm_mullo_epi32(a, b);
#else
  const __m128i even = _mm_mul_epu32(a, b);
  const __m128i odd = _mm_mul_epu32(_mm_srli_epi64(a, 32), _mm_srli_epi64(b, 32));
  return _mm_unpacklo_epi32(_mm_shuffle_epi32(even, _MM_SHUFFLE(0, 0, 2, 0)),
                            _mm_shuffle_epi32(odd, _MM_SHUFFLE(0, 0, 2, 0)));
#endif
}
#if FP8_ISA_AVX2
inline vi<isa::avx2> mullo32(vi<isa::avx2> a, vi<isa::avx2> b, isa::avx2) noexcept { return a * b; }
#endif
#if FP8_ISA_AVX512
inline vi<isa::avx512> mullo32(vi<isa::avx512> a, vi<isa::avx512> b, isa::avx512) noexcept { return a * b; }
#endif

// Logical right shift of int32 lanes (xsimd's >> on signed lanes is arithmetic).
template <int K, class Tag>
inline vi<Tag> srl32(vi<Tag> v) noexcept {
  static_assert(K > 0 && K < 32, "shift in 1..31");
  return (v >> K) & vi<Tag>(static_cast<std::int32_t>(0xFFFFFFFFu >> K));
}

// Unsigned a < b per lane: flipping the sign bit maps unsigned order onto
// signed order.
template <class Tag>
inline auto less_unsigned(vi<Tag> a, vi<Tag> b) noexcept {
  const vi<Tag> flip(std::numeric_limits<std::int32_t>::min());
  return (a ^ flip) < (b ^ flip);
}

FP8_END_TU_NAMESPACE
}  // namespace detail
FP8_END_NAMESPACE
#endif  // FP8_ISA_SSE2
